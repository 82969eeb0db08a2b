/**
 * respond() writes one decision record per terminal outcome that has a decision, none for a
 * duplicate, an in-progress or a retried delivery, and a failing or hanging records store never
 * changes the outcome nor holds the call past its end.
 */
import { describe, expect, it } from "vitest";
import { MemoryDecisionRecords } from "../../../lib/adapters/local/memory-decision-records.ts";
import { MemoryInvocationLedger } from "../../../lib/adapters/local/memory-ledger.ts";
import type { DecisionRecord } from "../../../lib/audit/record.ts";
import type { DecisionRecordSink } from "../../../lib/audit/types.ts";
import { IscApiError } from "../../../lib/isc/errors.ts";
import { PipelineMetric } from "../../../lib/responder/observability.ts";
import { COMPLETION_REPLY_LOST, type RespondDeps, respond } from "../../../lib/responder/respond.ts";
import type { ActionSpec } from "../../../lib/rules/types.ts";
import type { Invocation } from "../../../lib/triggers/invocation.ts";
import {
  asyncInvocation,
  FakeClient,
  fakeRules,
  fakeTime,
  goneError,
  HOUR,
  RecordingLogger,
  RecordingMetrics,
  SECRET,
  serverError,
  T0,
} from "./fixtures.ts";

function setup(
  options: { records?: DecisionRecordSink; actions?: ActionSpec[]; ledgerTimeoutMs?: number } = {},
) {
  const time = fakeTime();
  const client = new FakeClient();
  const store = new MemoryDecisionRecords({ clock: time.clock });
  const records = options.records ?? store;
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const ledger = new MemoryInvocationLedger({ now: time.clock });
  const deps = (workerId = "worker-1"): RespondDeps => ({
    rules: fakeRules(options.actions === undefined ? {} : { actions: options.actions }),
    client,
    ledger,
    logger,
    metrics,
    workerId,
    clock: time.clock,
    sleep: time.sleep,
    records,
    recordRetentionDays: 30,
    ...(options.ledgerTimeoutMs === undefined
      ? {}
      : { options: { ledgerTimeoutMs: options.ledgerTimeoutMs } }),
  });
  return { time, client, store, logger, metrics, ledger, deps };
}

const invocation = () => asyncInvocation();
const ID = invocation().invocationId as string;

function only(store: MemoryDecisionRecords): DecisionRecord {
  expect(store.all).toHaveLength(1);
  return store.all[0] as DecisionRecord;
}

describe("respond: decision records", () => {
  it("completed: the decision, the completion and the timeline; never the secret", async () => {
    const { store, deps } = setup({ actions: [{ type: "request-role-insights" }] });
    const outcome = await respond(invocation(), deps());
    expect(outcome.status).toBe("completed");
    const record = only(store);
    expect(record).toMatchObject({
      invocationId: ID,
      recordedBy: "worker",
      decision: { label: "approve", ruleId: "r-approve", fallback: false },
      answer: { by: "rules", label: "approve" },
      completion: { outcome: "completed", attempts: 1, actions: ["request-role-insights:ok"] },
      expiresAt: Math.floor(T0 / 1000) + 30 * 86_400,
    });
    expect(record.timings.completedAt).toBeDefined();
    expect(record.timeline?.map((step) => step.event)).toEqual([
      "received",
      "decided",
      "completion-attempt",
      "completed",
      "actions",
    ]);
    expect(JSON.stringify(record)).not.toContain(SECRET);
  });

  it("already-completed, and our own completion whose 204 was lost", async () => {
    const gone = setup();
    gone.client.completionBehaviours.push(goneError(ID));
    expect((await respond(invocation(), gone.deps())).status).toBe("already-completed");
    expect(only(gone.store).completion).toMatchObject({ outcome: "already-completed" });

    const lost = setup();
    lost.client.completionBehaviours.push(goneError(ID, true));
    expect((await respond(invocation(), lost.deps())).status).toBe("already-completed");
    expect(only(lost.store).completion).toMatchObject({
      outcome: "already-completed",
      reason: COMPLETION_REPLY_LOST,
    });
  });

  it("deadline passed after deciding, and failed after deciding", async () => {
    const late = setup();
    // The attempt outlasts the deadline and fails: ISC never got the decision.
    late.client.completionBehaviours.push(async () => {
      late.time.now = T0 + HOUR;
      throw serverError(503);
    });
    expect((await respond(invocation(), late.deps())).status).toBe("deadline-passed");
    expect(only(late.store).completion.outcome).toBe("deadline-passed");

    const refused = setup();
    refused.client.completionBehaviours.push(
      new IscApiError({
        status: 400,
        operation: "POST /beta/trigger-invocations/x/complete",
        detailCode: "400.1.0",
      }),
    );
    expect((await respond(invocation(), refused.deps())).status).toBe("failed");
    expect(only(refused.store).completion).toMatchObject({
      outcome: "failed",
      reason: expect.stringContaining("refused"),
    });
  });

  it("FIRE_AND_FORGET: an actions-only record", async () => {
    const { store, deps } = setup({ actions: [{ type: "complete-campaign", campaignId: "c-1" }] });
    const postApproval: Invocation = {
      triggerType: "fireAndForget",
      triggerId: "idn:access-request-post-approval",
      invocationId: "ff-1",
      mode: "eventbridge",
      receivedAt: T0,
      deadline: T0,
      input: { accessRequestId: "ar-1" },
      callbackUrl: undefined,
      secret: undefined,
    };
    expect((await respond(postApproval, deps())).status).toBe("completed");
    expect(only(store)).toMatchObject({
      invocationId: "ff-1",
      decision: { label: "actions", output: null },
      completion: { outcome: "actions-only", actions: ["complete-campaign:ok"] },
    });
  });

  it("a sync reply's actions write no second record (the http function recorded the answer)", async () => {
    const { store, deps, client } = setup({ actions: [{ type: "complete-campaign", campaignId: "c-2" }] });
    const sync = {
      ...invocation(),
      mode: "sync",
      invocationId: undefined,
      callbackUrl: undefined,
      secret: undefined,
    };
    await respond(sync as Invocation, deps());
    await respond(
      {
        ...sync,
        answered: { ruleId: "r-approve", rulesVersion: "sha256:0123456789abcdef", actions: [] },
      } as Invocation,
      deps(),
    );
    expect(client.campaigns).toHaveLength(1);
    expect(store.all).toEqual([]);
  });

  it("a duplicate, an in-progress or a retried delivery writes none", async () => {
    const { store, deps, client } = setup();
    client.completionBehaviours.push(serverError(503));
    expect((await respond(invocation(), deps())).status).toBe("retry");
    expect(store.all).toEqual([]);
    expect((await respond(invocation(), deps("w2"))).status).toBe("completed");
    expect(store.all).toHaveLength(1);
    const first = store.all[0];
    expect((await respond(invocation(), deps("w3"))).status).toBe("duplicate-skipped");
    expect(store.all).toEqual([first]);
    expect(first?.completion.attempts).toBe(2);
  });

  it("a failing store: same outcome, counted and logged without the record", async () => {
    const failing: DecisionRecordSink = {
      put: async () => {
        throw Object.assign(new Error(`table says ${SECRET}`), { name: "ValidationException" });
      },
    };
    const { deps, metrics, logger, client } = setup({ records: failing });
    const outcome = await respond(invocation(), deps());
    expect(outcome.status).toBe("completed");
    expect(client.completions).toHaveLength(1);
    expect(metrics.sum(PipelineMetric.decisionRecordFailures)).toBe(1);
    const line = logger.lines.find((l) => l.message.startsWith("decision record not written"));
    expect(line?.fields).toMatchObject({ invocationId: ID, error: "ValidationException" });
    expect(logger.text()).not.toContain(SECRET);
    expect(logger.text()).not.toContain("approved by rule");
  });

  it("a hanging store is abandoned at ledgerTimeoutMs, and at the call's end when that is sooner", async () => {
    const signals: AbortSignal[] = [];
    const hanging: DecisionRecordSink = {
      put: (_record, options) => {
        if (options?.signal !== undefined) signals.push(options.signal);
        return new Promise(() => {});
      },
    };
    const started = Date.now();
    const bounded = setup({ records: hanging, ledgerTimeoutMs: 40 });
    expect((await respond(invocation(), bounded.deps())).status).toBe("completed");
    expect(bounded.metrics.sum(PipelineMetric.decisionRecordFailures)).toBe(1);
    expect(signals[0]?.aborted).toBe(true);

    const ending = setup({ records: hanging });
    const endsAt = ending.time.now + 30;
    expect((await respond(invocation(), ending.deps(), { endsAt })).status).toBe("completed");
    expect(Date.now() - started).toBeLessThan(2_000);

    // No time left at all: the store is not even called.
    const over = setup({ records: hanging });
    const before = signals.length;
    over.client.completionBehaviours.push(async () => {
      over.time.now += 60_000;
    });
    expect((await respond(invocation(), over.deps(), { endsAt: over.time.now + 1_000 })).status).toBe(
      "completed",
    );
    expect(signals.length).toBe(before);
    expect(over.metrics.sum(PipelineMetric.decisionRecordFailures)).toBe(1);
  });
});
