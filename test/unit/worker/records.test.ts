/** The worker writes the decision records the http function queues, and its own. */
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { MemoryDecisionRecords } from "../../../lib/adapters/local/memory-decision-records.ts";
import { MemoryInvocationLedger } from "../../../lib/adapters/local/memory-ledger.ts";
import { answerDraft, MAX_RECORD_CONTEXT_DATA_BYTES } from "../../../lib/audit/answer-draft.ts";
import { toQueuedRecord } from "../../../lib/audit/queued-record.ts";
import type { DecisionRecordSink } from "../../../lib/audit/types.ts";
import type { ContextDecideResult } from "../../../lib/responder/context-decide.ts";
import { PipelineMetric } from "../../../lib/responder/observability.ts";
import { toQueuedInvocation } from "../../../lib/triggers/queued-invocation.ts";
import { PRE_APPROVAL } from "../../../lib/triggers/trigger-ids.ts";
import { createWorkerHandler, WorkerMetric } from "../../../lib/worker/handler.ts";
import { NOW, sampleRecord } from "../audit/record-fixture.ts";
import {
  asyncInvocation,
  explanation,
  FakeClient,
  fakeRules,
  HOUR,
  RecordingLogger,
  RecordingMetrics,
  SECRET,
  TENANT,
} from "../responder/fixtures.ts";

function sqsRecord(body: string, messageId: string): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: String(NOW),
      SenderId: "sender",
      ApproximateFirstReceiveTimestamp: String(NOW),
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:invocations",
    awsRegion: "us-east-1",
  };
}
const batch = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

function setup(records?: DecisionRecordSink) {
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const client = new FakeClient();
  const handler = createWorkerHandler({
    rules: fakeRules(),
    client,
    ledger: new MemoryInvocationLedger(),
    logger,
    metrics,
    tenantBaseUrl: TENANT,
    responseDeadlineMs: () => HOUR,
    ...(records === undefined ? {} : { records }),
  });
  return { handler, logger, metrics, client };
}

/** A version 2 message: the draft of an answer the http function gave (async invocation, its secret set). */
function draftMessage(result: Partial<ContextDecideResult> = {}) {
  const invocation = asyncInvocation({ receivedAt: NOW });
  const decided: ContextDecideResult = {
    decision: {
      triggerId: PRE_APPROVAL,
      output: { approved: true, comment: "ok", approver: "rules" },
      explanation: explanation("r1"),
      actions: [],
    },
    fallback: false,
    ...result,
  };
  const draft = answerDraft({
    invocation,
    result: decided,
    decidedAt: NOW + 5,
    answeredAt: NOW + 6,
    timeline: [{ at: new Date(NOW).toISOString(), event: "received" }],
    retentionDays: 30,
  });
  return { kind: "decision-record", version: 2, draft };
}

describe("worker: decision records", () => {
  it("builds and writes the record of a queued draft (version 2): recordedBy http, no secret", async () => {
    const store = new MemoryDecisionRecords();
    const { handler } = setup(store);
    const message = draftMessage();
    expect(JSON.stringify(message)).not.toContain(SECRET);
    const response = await handler(batch(sqsRecord(JSON.stringify(message), "d1")));
    expect(response?.batchItemFailures).toEqual([]);
    expect(store.all).toHaveLength(1);
    expect(store.all[0]).toMatchObject({
      invocationId: message.draft.invocation.invocationId,
      recordedBy: "http",
      completion: { outcome: "answered" },
      decision: { label: "approve", ruleId: "r1" },
      timings: { decidedAt: new Date(NOW + 5).toISOString(), completedAt: new Date(NOW + 6).toISOString() },
      expiresAt: Math.floor((NOW + 5) / 1000) + 30 * 86_400,
    });
    expect(JSON.stringify(store.all)).not.toContain(SECRET);
  });

  it("context data too large for a record travels as its size: the record says it was left out", async () => {
    const store = new MemoryDecisionRecords();
    const { handler } = setup(store);
    const big = "x".repeat(MAX_RECORD_CONTEXT_DATA_BYTES);
    const message = draftMessage({
      context: { needs: ["identity"], reads: [], cacheHits: 0, ms: 3 },
      contextData: { identity: { big } } as unknown as ContextDecideResult["contextData"],
    });
    expect(JSON.stringify(message)).not.toContain(big);
    await handler(batch(sqsRecord(JSON.stringify(message), "d2")));
    expect(store.all[0]?.context?.dataOmitted).toMatch(/above the record's bound/);
    expect(store.all[0]?.context?.data).toBeUndefined();
  });

  it("refuses a bad draft, or one carrying a secret or callbackURL, as poison without their values", async () => {
    const store = new MemoryDecisionRecords();
    const { handler, logger, metrics } = setup(store);
    const bad = draftMessage();
    (bad.draft as unknown as { decidedAt: unknown }).decidedAt = SECRET;
    const smuggled = draftMessage();
    Object.assign(smuggled.draft.invocation, { secret: SECRET });
    const response = await handler(
      batch(sqsRecord(JSON.stringify(bad), "d3"), sqsRecord(JSON.stringify(smuggled), "d4")),
    );
    expect(response?.batchItemFailures).toEqual([{ itemIdentifier: "d3" }, { itemIdentifier: "d4" }]);
    expect(store.all).toEqual([]);
    expect(metrics.sum(WorkerMetric.poisonMessages)).toBe(2);
    const paths = logger.lines
      .filter((l) => l.message.startsWith("poison message"))
      .map((l) => (l.fields as { issuePaths?: string[] }).issuePaths);
    expect(paths).toEqual([["draft.decidedAt"], ["draft.invocation.secret"]]);
    expect(logger.text()).not.toContain(SECRET);
  });

  it("writes a queued decision record", async () => {
    const store = new MemoryDecisionRecords({ clock: () => NOW });
    const { handler } = setup(store);
    const response = await handler(batch(sqsRecord(JSON.stringify(toQueuedRecord(sampleRecord())), "m1")));
    expect(response?.batchItemFailures).toEqual([]);
    expect(store.all).toEqual([sampleRecord()]);
  });

  it("refuses a bad one as poison (DLQ), naming the fields at fault, not their values", async () => {
    const store = new MemoryDecisionRecords();
    const { handler, logger, metrics } = setup(store);
    const bad = { ...toQueuedRecord(sampleRecord()), record: { ...sampleRecord(), mode: SECRET } };
    const response = await handler(batch(sqsRecord(JSON.stringify(bad), "m2")));
    expect(response?.batchItemFailures).toEqual([{ itemIdentifier: "m2" }]);
    expect(store.all).toEqual([]);
    expect(metrics.sum(WorkerMetric.poisonMessages)).toBe(1);
    const line = logger.lines.find((l) => l.message.startsWith("poison message"));
    expect(line?.fields).toMatchObject({
      reason: "decision record failed its schema",
      issuePaths: ["record.mode"],
    });
    expect(logger.text()).not.toContain(SECRET);
  });

  it("a failing store → batch item failure (SQS redelivers), counted", async () => {
    const failing: DecisionRecordSink = {
      put: async () => {
        throw Object.assign(new Error("throttled"), { name: "ProvisionedThroughputExceededException" });
      },
    };
    const { handler, metrics, logger } = setup(failing);
    const response = await handler(batch(sqsRecord(JSON.stringify(toQueuedRecord(sampleRecord())), "m3")));
    expect(response?.batchItemFailures).toEqual([{ itemIdentifier: "m3" }]);
    expect(metrics.sum(PipelineMetric.decisionRecordFailures)).toBe(1);
    expect(logger.lines.filter((l) => l.level === "error")).toEqual([]);
  });

  it("no records store configured: the message is dropped with a warning", async () => {
    const { handler, logger } = setup();
    const response = await handler(batch(sqsRecord(JSON.stringify(toQueuedRecord(sampleRecord())), "m4")));
    expect(response?.batchItemFailures).toEqual([]);
    expect(
      logger.lines.some((l) => l.level === "warn" && l.message.includes("decision record dropped")),
    ).toBe(true);
  });

  it("records the invocations it completes itself (recordedBy worker)", async () => {
    const store = new MemoryDecisionRecords();
    const { handler, client } = setup(store);
    const invocation = asyncInvocation({ receivedAt: Date.now() });
    await handler(batch(sqsRecord(JSON.stringify(toQueuedInvocation(invocation)), "m5")));
    expect(client.completions).toHaveLength(1);
    expect(store.all.map((r) => [r.invocationId, r.recordedBy, r.completion.outcome])).toEqual([
      [invocation.invocationId, "worker", "completed"],
    ]);
  });
});
