import type { SQSEvent, SQSRecord } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { MemoryInvocationLedger } from "../../../lib/adapters/local/memory-ledger.ts";
import { type QueuedInvocation, toQueuedInvocation } from "../../../lib/triggers/queued-invocation.ts";
import { createWorkerHandler, invocationFromMessage, WorkerMetric } from "../../../lib/worker/handler.ts";
import {
  asyncInvocation,
  FakeClient,
  fakeRules,
  fakeTime,
  HOUR,
  loadExample,
  RecordingLogger,
  RecordingMetrics,
  SECRET,
  serverError,
  T0,
  TENANT,
} from "../responder/fixtures.ts";

const EVENT_SECRET = "3a24d1e9-6d2d-484a-aece-7b760d7b9965";
const EVENT_ID = "37d6df15-0da2-4e8f-b73a-e644ca0385ef";
const EVENT_TIME = Date.parse("2021-12-03T17:50:46Z");

function record(body: string, messageId: string): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: String(T0),
      SenderId: "sender",
      ApproximateFirstReceiveTimestamp: String(T0),
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:invocations",
    awsRegion: "us-east-1",
  };
}

const batch = (...records: SQSRecord[]): SQSEvent => ({ Records: records });
const queued = (invocationId?: string) =>
  JSON.stringify(toQueuedInvocation(asyncInvocation(invocationId === undefined ? {} : { invocationId })));

/** The documented dynamic-approver event, as an EventBridge rule puts it on the queue. */
function eventBridgeEvent() {
  return loadExample("eventbridge-dynamic-approver.event.json");
}

/** A redelivery queue that records what the worker puts back (or refuses, while `failing`). */
function recordingRedelivery() {
  const sent: Array<{ message: QueuedInvocation; delaySeconds: number }> = [];
  const state = { failing: false };
  return {
    sent,
    state,
    async redeliverLater(message: QueuedInvocation, delaySeconds: number) {
      if (state.failing) throw new Error("SQS SendMessage throttled");
      sent.push({ message, delaySeconds });
    },
  };
}

function setup(start = T0, redelivery?: ReturnType<typeof recordingRedelivery>) {
  const time = fakeTime(start);
  const client = new FakeClient();
  const ledger = new MemoryInvocationLedger({ now: time.clock });
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const rules = fakeRules();
  const handler = createWorkerHandler({
    rules,
    client,
    ledger,
    logger,
    metrics,
    tenantBaseUrl: TENANT,
    responseDeadlineMs: () => HOUR,
    workerId: "test-worker",
    clock: time.clock,
    sleep: time.sleep,
    ...(redelivery === undefined ? {} : { redelivery }),
  });
  return { time, client, ledger, logger, metrics, rules, handler };
}

describe("worker: SQS batches", () => {
  it("completes a queued invocation and reports no failure", async () => {
    const { handler, client, ledger } = setup();
    const response = await handler(batch(record(queued(), "m1")));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(client.completions).toHaveLength(1);
    expect(client.completions[0]?.body.secret).toBe(SECRET);
    expect((await ledger.get("e9103ca9-02c4-bb0f-9441-94b3af012345"))?.state).toBe("completed");
  });

  it("reports retryable outcomes and poison messages; final outcomes succeed", async () => {
    const { handler, client } = setup();
    client.completionBehaviours.push("ok", serverError(503));
    const response = await handler(
      batch(
        record(queued("aaaaaaaa-0000-0000-0000-000000000001"), "ok"),
        record(queued("aaaaaaaa-0000-0000-0000-000000000002"), "retry"),
        record("{not json", "poison"),
      ),
    );
    expect(response?.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(["poison", "retry"]);
  });

  it("the same invocation delivered three times in one batch is completed once", async () => {
    const { handler, client } = setup();
    const body = queued();
    const response = await handler(batch(record(body, "d1"), record(body, "d2"), record(body, "d3")));
    expect(client.completions).toHaveLength(1);
    // The ones that found the lease taken come back later and then find it completed.
    const retried = response?.batchItemFailures ?? [];
    const again = await handler(batch(...retried.map((f) => record(body, f.itemIdentifier))));
    expect(again).toEqual({ batchItemFailures: [] });
    expect(client.completions).toHaveLength(1);
  });

  it("a past-deadline invocation is final: deleted, no call", async () => {
    const { handler, client, time } = setup();
    time.now = T0 + HOUR;
    expect(await handler(batch(record(queued(), "late")))).toEqual({ batchItemFailures: [] });
    expect(client.completions).toHaveLength(0);
  });
});

describe("worker: retries go back on the queue with a delay inside the deadline", () => {
  const ID = "e9103ca9-02c4-bb0f-9441-94b3af012345";

  it("a transient failure far from the deadline comes back in at most 5 minutes, not after the visibility timeout", async () => {
    const redelivery = recordingRedelivery();
    const { handler, client, metrics, logger } = setup(T0, redelivery);
    client.completionBehaviours.push(serverError(503));
    const body = queued();
    // Deleted (no failure reported): the copy put back replaces it, and SQS's receive count starts over.
    expect(await handler(batch(record(body, "m1")))).toEqual({ batchItemFailures: [] });
    // 1 h deadline, 5 s safety margin: an eighth of 3,595 s is 449 s, capped at 300 s.
    expect(redelivery.sent).toEqual([{ message: JSON.parse(body), delaySeconds: 300 }]);
    expect(metrics.sum(WorkerMetric.redeliveries, { outcome: "retry" })).toBe(1);
    expect(logger.text()).not.toContain(SECRET);
  });

  it("the delay shrinks with the time left, and the copy completes the invocation", async () => {
    const redelivery = recordingRedelivery();
    const { handler, client, time, ledger } = setup(T0, redelivery);
    time.now = T0 + HOUR - 10 * 60_000;
    client.completionBehaviours.push(serverError(500));
    await handler(batch(record(queued(), "m1")));
    expect(redelivery.sent[0]?.delaySeconds).toBe(74); // (600 s - 5 s) / 8
    time.now += 74_000;
    const copy = JSON.stringify(redelivery.sent[0]!.message);
    expect(await handler(batch(record(copy, "m2")))).toEqual({ batchItemFailures: [] });
    expect((await ledger.get(ID))?.state).toBe("completed");
    expect(client.completions).toHaveLength(2); // the failed attempt, then the copy's
  });

  it("an EventBridge event goes back as a queued invocation with its original receive time (its deadline does not move)", async () => {
    const redelivery = recordingRedelivery();
    const { handler, client } = setup(EVENT_TIME, redelivery);
    client.completionBehaviours.push(serverError(503));
    const event = eventBridgeEvent();
    delete event.time; // then the receive time is SQS's SentTimestamp, which a copy would not keep
    const sent = record(JSON.stringify(event), "eb");
    sent.attributes.SentTimestamp = String(EVENT_TIME);
    await handler(batch(sent));
    const [{ message } = { message: undefined }] = redelivery.sent;
    expect(message).toMatchObject({ kind: "isc-invocation", mode: "eventbridge", receivedAt: EVENT_TIME });
    expect(message?.deadline).toBe(EVENT_TIME + HOUR);
  });

  it("if the copy cannot be sent, the message is reported failed so SQS redelivers it", async () => {
    const redelivery = recordingRedelivery();
    redelivery.state.failing = true;
    const { handler, client, logger } = setup(T0, redelivery);
    client.completionBehaviours.push(serverError(503));
    expect(await handler(batch(record(queued(), "m1")))).toEqual({
      batchItemFailures: [{ itemIdentifier: "m1" }],
    });
    expect(logger.lines.some((l) => l.message.startsWith("could not put the invocation back"))).toBe(true);
  });

  it("two copies of one message (same message id) in a batch never share a lease: one completes, one comes back", async () => {
    const redelivery = recordingRedelivery();
    const { handler, client, metrics } = setup(T0, redelivery);
    const body = queued();
    expect(await handler(batch(record(body, "same"), record(body, "same")))).toEqual({
      batchItemFailures: [],
    });
    expect(client.completions).toHaveLength(1);
    // The other found the lease taken: back after the lease at most.
    expect(redelivery.sent).toEqual([{ message: JSON.parse(body), delaySeconds: 60 }]);
    expect(metrics.sum(WorkerMetric.redeliveries, { outcome: "in-progress" })).toBe(1);
  });

  it("with under 2 s before the deadline, or none, a retry is left to SQS (visibility timeout, then the DLQ)", async () => {
    const redelivery = recordingRedelivery();
    const { handler, client, time } = setup(T0, redelivery);
    time.now = T0 + HOUR - 5_000 - 1_500;
    client.completionBehaviours.push(serverError(503), serverError(503), serverError(503));
    const response = await handler(batch(record(queued(), "late")), {
      getRemainingTimeInMillis: () => 3_100,
    });
    expect(response?.batchItemFailures).toEqual([{ itemIdentifier: "late" }]);
    expect(redelivery.sent).toEqual([]);
  });

  it("a FIRE_AND_FORGET invocation (no deadline to bound retries) is left to SQS when its ledger fails", async () => {
    const redelivery = recordingRedelivery();
    const time = fakeTime(T0);
    const broken = new MemoryInvocationLedger({ now: time.clock });
    broken.recordReceived = async () => {
      throw Object.assign(new Error("throttled"), { name: "ProvisionedThroughputExceededException" });
    };
    const metrics = new RecordingMetrics();
    const handler = createWorkerHandler({
      rules: fakeRules(),
      client: new FakeClient(),
      ledger: broken,
      logger: new RecordingLogger(),
      metrics,
      tenantBaseUrl: TENANT,
      responseDeadlineMs: () => HOUR,
      clock: time.clock,
      sleep: time.sleep,
      redelivery,
    });
    const postApproval = JSON.stringify({
      kind: "isc-invocation",
      version: 1,
      invocationId: "ff-1",
      mode: "eventbridge",
      receivedAt: T0,
      deadline: T0,
      triggerType: "fireAndForget",
      triggerId: "idn:access-request-post-approval",
      input: { accessRequestId: "ar-1" },
    });
    const response = await handler(batch(record(postApproval, "ff")));
    expect(response?.batchItemFailures).toEqual([{ itemIdentifier: "ff" }]);
    expect(metrics.sum(WorkerMetric.poisonMessages)).toBe(0); // a retry, not a poison message
    expect(redelivery.sent).toEqual([]);
  });

  it("final outcomes and poison messages are not put back", async () => {
    const redelivery = recordingRedelivery();
    const { handler, time } = setup(T0, redelivery);
    time.now = T0 + HOUR;
    const response = await handler(batch(record(queued(), "late"), record("{not json", "poison")));
    expect(response?.batchItemFailures).toEqual([{ itemIdentifier: "poison" }]);
    expect(redelivery.sent).toEqual([]);
  });

  it("a queued message with a callbackURL but no invocationId is completed, not dropped as a sync one", async () => {
    const { handler, client, ledger } = setup();
    const message = JSON.parse(queued());
    delete message.invocationId;
    expect(await handler(batch(record(JSON.stringify(message), "no-id")))).toEqual({ batchItemFailures: [] });
    expect(client.completions).toHaveLength(1);
    expect((await ledger.get(ID))?.state).toBe("completed");
  });
});

describe("worker: poison messages", () => {
  it("a body that is not JSON is reported and logged without its text", async () => {
    const { handler, logger, metrics } = setup();
    const body = `{"secret": "${SECRET}", oops`;
    const response = await handler(batch(record(body, "bad-json")));
    expect(response?.batchItemFailures).toEqual([{ itemIdentifier: "bad-json" }]);
    expect(metrics.sum(WorkerMetric.poisonMessages)).toBe(1);
    const line = logger.lines.find((l) => l.message.startsWith("poison message"));
    expect(line?.fields).toMatchObject({
      messageId: "bad-json",
      reason: "body is not JSON",
      receiveCount: "1",
    });
    expect(logger.text()).not.toContain(SECRET);
  });

  it("a schema failure is logged with the issue paths only, never the secret", async () => {
    const { handler, logger, client } = setup();
    const message = JSON.parse(queued());
    delete message.input.requestedBy;
    message.input.requestedItems[0].type = `NOT-A-TYPE ${SECRET}`;
    const response = await handler(batch(record(JSON.stringify(message), "bad-schema")));
    expect(response?.batchItemFailures).toEqual([{ itemIdentifier: "bad-schema" }]);
    const line = logger.lines.find((l) => l.message.startsWith("poison message"));
    expect(line?.fields?.issuePaths).toEqual(
      expect.arrayContaining(["input.requestedBy", "input.requestedItems[0].type"]),
    );
    expect(logger.text()).not.toContain(SECRET);
    expect(client.completions).toHaveLength(0);
  });

  it("a queued message whose callbackURL points elsewhere is poison: the secret is never sent", async () => {
    const { handler, client, logger } = setup();
    const message = JSON.parse(queued());
    message.callbackUrl =
      "https://evil.example.com/beta/trigger-invocations/e9103ca9-02c4-bb0f-9441-94b3af012345/complete";
    const response = await handler(batch(record(JSON.stringify(message), "tampered")));
    expect(response?.batchItemFailures).toEqual([{ itemIdentifier: "tampered" }]);
    expect(client.completions).toHaveLength(0);
    expect(logger.lines.find((l) => l.message.startsWith("poison"))?.fields?.reason).toBe(
      "CALLBACK_URL_REFUSED",
    );
  });

  it("JSON that is neither a queued invocation nor an event is poison", () => {
    expect(() =>
      invocationFromMessage({ hello: "world" }, "m", {
        tenantBaseUrl: TENANT,
        responseDeadlineMs: () => HOUR,
      }),
    ).toThrow(/neither a queued invocation nor an EventBridge event/);
  });
});

describe("worker: EventBridge", () => {
  it("an EventBridge-shaped record is completed through its callbackURL; its deadline counts from the event time", async () => {
    const { handler, client, ledger } = setup(EVENT_TIME + 1_000);
    const response = await handler(batch(record(JSON.stringify(eventBridgeEvent()), "eb-1")));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(client.completions[0]?.target).toEqual({
      callbackUrl: `https://acme.api.identitynow.com/beta/trigger-invocations/${EVENT_ID}/complete`,
    });
    expect(client.completions[0]?.body.secret).toBe(EVENT_SECRET);
    const stored = await ledger.get(EVENT_ID);
    expect(stored?.receivedAt).toBe(EVENT_TIME);
    expect(stored?.deadline).toBe(EVENT_TIME + HOUR);
  });

  it("an EventBridge event past its deadline is not completed", async () => {
    const { handler, client } = setup(EVENT_TIME + HOUR);
    expect(await handler(batch(record(JSON.stringify(eventBridgeEvent()), "eb-late")))).toEqual({
      batchItemFailures: [],
    });
    expect(client.completions).toHaveLength(0);
  });

  it("accepts an event delivered directly (rule → Lambda) and throws when it must be retried", async () => {
    const { handler, client } = setup(EVENT_TIME + 1_000);
    client.completionBehaviours.push(serverError(503));
    await expect(handler(eventBridgeEvent())).rejects.toMatchObject({ code: "RETRY_LATER" });
    await expect(handler(eventBridgeEvent())).resolves.toBeUndefined();
    expect(client.completions).toHaveLength(2);
  });

  it("bounds the work by the Lambda's remaining time", async () => {
    const { handler, client, logger } = setup();
    client.completionBehaviours.push(async (call) => {
      expect(call.options?.signal?.aborted).toBe(false);
    });
    const response = await handler(batch(record(queued(), "m")), { getRemainingTimeInMillis: () => 30_000 });
    expect(response).toEqual({ batchItemFailures: [] });
    expect(logger.text()).not.toContain("unexpected");
    expect(client.completions).toHaveLength(1);
  });
});
