/** The http function records the answers it gives in the reply; a failing record never costs the answer. */
import { describe, expect, it } from "vitest";
import { MemoryDecisionRecords } from "../../../lib/adapters/local/memory-decision-records.ts";
import type { AnswerRecordSink } from "../../../lib/audit/answer-draft.ts";
import { queueRecordSink } from "../../../lib/audit/queue-sink.ts";
import { buildingAnswerSink, fromQueuedRecord } from "../../../lib/audit/queued-record.ts";
import type { DecisionRecord } from "../../../lib/audit/record.ts";
import { PipelineMetric } from "../../../lib/responder/observability.ts";
import { DYNAMIC_APPROVER } from "../../../lib/triggers/trigger-ids.ts";
import { RecordingMetrics } from "../responder/fixtures.ts";
import { body, event, FakeQueue, fakeRules, SECRET, setup, TOKEN } from "./fixtures.ts";

function syncBody(keepCallback = false) {
  const b = body("sync");
  if (!keepCallback) {
    delete b._metadata.callbackURL;
    delete b._metadata.secret;
  }
  return b;
}

describe("http handler: decision records", () => {
  it("sync: records the answer (outcome answered, recordedBy http) without secret, token or callbackURL", async () => {
    const records = new MemoryDecisionRecords();
    const { handler } = setup({ records: buildingAnswerSink(records), recordRetentionDays: 7 });
    const b = syncBody();
    const result = await handler(event(b));
    expect(result.statusCode).toBe(200);
    const [record] = records.all;
    expect(records.all).toHaveLength(1);
    expect(record).toMatchObject({
      mode: "sync",
      recordedBy: "http",
      accessRequestId: b.accessRequestId,
      decision: { label: "approve", ruleId: "r1" },
      completion: { outcome: "answered" },
    });
    expect(record?.invocationId).toMatch(new RegExp(`^sync:${b.accessRequestId}:`));
    expect(record?.timeline?.map((step) => step.event)).toEqual(["received", "decided", "answered"]);

    // A sync body may carry an id, callbackURL and secret: keyed by the id, neither of the others kept.
    const withCallback = syncBody(true);
    await handler(event(withCallback));
    const second = records.all[1];
    const json = JSON.stringify(second);
    expect(second?.invocationId).not.toMatch(/^sync:/);
    for (const forbidden of [SECRET, TOKEN, withCallback._metadata.callbackURL as string, "callbackURL"]) {
      expect(json).not.toContain(forbidden);
    }
  });

  it("dynamic answered in time: recorded; deferred to the worker, or async: not recorded here", async () => {
    const records = new MemoryDecisionRecords();
    const { handler } = setup({ records: buildingAnswerSink(records) });
    expect((await handler(event(body("dynamic", DYNAMIC_APPROVER)))).statusCode).toBe(200);
    expect(records.all.map((r) => [r.mode, r.completion.outcome, r.decision.label])).toEqual([
      ["dynamic", "answered", "approver"],
    ]);

    const later = new MemoryDecisionRecords();
    const slow = setup({
      records: buildingAnswerSink(later),
      rules: fakeRules({ slowMs: 30 }),
      dynamicBudgetMs: 10,
    });
    expect((await slow.handler(event(body("dynamic")))).statusCode).toBe(202);
    expect((await slow.handler(event(body("async")))).statusCode).toBe(200);
    expect(later.all).toEqual([]);
  });

  it("a failing records sink still answers, counted and logged without the record", async () => {
    const failing: AnswerRecordSink = {
      putAnswer: async () => {
        throw Object.assign(new Error("queue down"), { name: "QueueDown" });
      },
    };
    const metrics = new RecordingMetrics();
    const { handler, logger } = setup({ records: failing, metrics });
    const result = await handler(event(syncBody()));
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({ approved: true, comment: "ok", approver: "rules" });
    expect(metrics.sum(PipelineMetric.decisionRecordFailures)).toBe(1);
    const line = logger.lines.find((l) => l.includes("decision record not written"));
    expect(line).toContain("QueueDown");
    expect(line).not.toContain("approver");
  });

  it("a hanging records sink is cut at recordTimeoutMs: the reply still leaves", async () => {
    const hanging: AnswerRecordSink = { putAnswer: () => new Promise(() => {}) };
    const { handler } = setup({ records: hanging, recordTimeoutMs: 30 });
    const started = Date.now();
    expect((await handler(event(syncBody()))).statusCode).toBe(200);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("queueRecordSink hands the worker the record's draft: no secret, token or callbackURL; the worker's build equals the local one", async () => {
    const queue = new FakeQueue();
    const { handler } = setup({ queue, records: queueRecordSink(queue), recordRetentionDays: 9 });
    const withCallback = syncBody(true);
    await handler(event(withCallback));
    expect(queue.messages).toHaveLength(1);
    const message = queue.messages[0] as unknown as { kind: string; version: number };
    expect(message).toMatchObject({ kind: "decision-record", version: 2 });
    const json = JSON.stringify(message);
    for (const forbidden of [SECRET, TOKEN, withCallback._metadata.callbackURL as string, "callbackUrl"]) {
      expect(json).not.toContain(forbidden);
    }
    const built = fromQueuedRecord(JSON.parse(json));
    expect(built).toMatchObject({ recordedBy: "http", completion: { outcome: "answered" }, mode: "sync" });
    expect(built.timeline?.map((step) => step.event)).toEqual(["received", "decided", "answered"]);
    expect(built.expiresAt - Math.floor(Date.parse(built.timings.decidedAt) / 1000)).toBe(9 * 86_400);

    // The same request through the local (building) sink gives the same record.
    const local = new MemoryDecisionRecords();
    const direct = setup({ records: buildingAnswerSink(local), recordRetentionDays: 9 });
    await direct.handler(event(withCallback));
    const timeless = (record: DecisionRecord | undefined) => {
      const { timings: _t, timeline: _l, expiresAt: _e, ...rest } = record as DecisionRecord;
      return rest;
    };
    expect(timeless(local.all[0])).toEqual(timeless(built));
  });
});
