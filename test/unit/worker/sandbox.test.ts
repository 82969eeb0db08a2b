/**
 * The worker with the real pieces: the local ISC sandbox (over loopback), the IscClient, the memory
 * ledger and the example rules. EventBridge subscriptions deliver to a sink; the events become SQS
 * records as an EventBridge rule → SQS target would put them.
 */
import type { SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryInvocationLedger } from "../../../lib/adapters/local/memory-ledger.ts";
import { IscClient } from "../../../lib/isc/client.ts";
import { loadRulesFile } from "../../../lib/rules/load-file.ts";
import type { CompiledRules } from "../../../lib/rules/types.ts";
import { type Sandbox, startSandbox } from "../../../lib/sandbox/index.ts";
import { exampleAccessRequestInput } from "../../../lib/triggers/examples.ts";
import type { EventBridgeTriggerEvent } from "../../../lib/triggers/schemas.ts";
import { createWorkerHandler } from "../../../lib/worker/handler.ts";
import { RecordingLogger, RecordingMetrics } from "../responder/fixtures.ts";

const PRE_APPROVAL = "idn:access-request-pre-approval";
const INPUT = exampleAccessRequestInput();

let sandbox: Sandbox;
let rules: CompiledRules;
const events: EventBridgeTriggerEvent[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({
    port: 0,
    rateLimit: false,
    eventBridgeSink: (event) => void events.push(event),
  });
  rules = (await loadRulesFile(new URL("../../../rules/example.yaml", import.meta.url).pathname)).compiled;
  const token = await fetch(`${sandbox.baseUrl}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: sandbox.clientId,
      client_secret: sandbox.clientSecret,
    }),
  }).then(async (r) => ((await r.json()) as { access_token: string }).access_token);
  const subscribed = await fetch(`${sandbox.baseUrl}/beta/trigger-subscriptions`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({
      name: "bus",
      triggerId: PRE_APPROVAL,
      type: "EVENTBRIDGE",
      eventBridgeConfig: { awsAccount: "123456789012", awsRegion: "us-east-1" },
    }),
  });
  if (subscribed.status !== 201) throw new Error(`subscribe: ${subscribed.status}`);
});

afterAll(async () => {
  await sandbox?.close();
});

async function fire(): Promise<{ id: string; event: EventBridgeTriggerEvent }> {
  const before = events.length;
  const [invocation] = await sandbox.fireTrigger(PRE_APPROVAL, INPUT);
  if (invocation === undefined) throw new Error("no invocation");
  for (let i = 0; i < 200 && events.length === before; i++) await new Promise((r) => setTimeout(r, 5));
  const event = events.at(-1);
  if (event === undefined) throw new Error("no event delivered");
  return { id: invocation.id, event };
}

function records(body: string, ...messageIds: string[]): SQSEvent {
  return {
    Records: messageIds.map((messageId) => ({
      messageId,
      receiptHandle: messageId,
      body,
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: String(Date.now()),
        SenderId: "events",
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:q",
      awsRegion: "us-east-1",
    })),
  };
}

function worker(options: { clock?: () => number } = {}) {
  const ledger = new MemoryInvocationLedger();
  const logger = new RecordingLogger();
  const client = new IscClient({
    baseUrl: sandbox.baseUrl,
    clientId: sandbox.clientId,
    clientSecret: sandbox.clientSecret,
    rateLimit: false,
    retry: { maxAttempts: 1 },
  });
  const handler = createWorkerHandler({
    rules,
    client,
    ledger,
    logger,
    metrics: new RecordingMetrics(),
    tenantBaseUrl: sandbox.baseUrl,
    responseDeadlineMs: () => 3_600_000,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  return { ledger, logger, handler, client };
}

describe("worker against the sandbox", () => {
  it("the same event delivered three times (concurrently) completes the invocation once", async () => {
    const { id, event } = await fire();
    const { handler, ledger, logger } = worker();
    const body = JSON.stringify(event);
    const first = await handler(records(body, "a", "b", "c"));
    const retried = first?.batchItemFailures.map((f) => f.itemIdentifier) ?? [];
    if (retried.length > 0)
      expect(await handler(records(body, ...retried))).toEqual({ batchItemFailures: [] });

    const invocation = await sandbox.waitForInvocation(id, 2_000);
    expect(invocation.status).toBe("COMPLETED");
    expect(invocation.completions).toHaveLength(1);
    const record = await ledger.get(id);
    expect(record?.state).toBe("completed");
    expect(invocation.output).toEqual(record?.decision?.output);
    expect(logger.text()).not.toContain(String(event.detail._metadata.secret));
  });

  it("a 503 from the completion endpoint is retried by redelivery and completes once", async () => {
    const { id, event } = await fire();
    const { handler, ledger } = worker();
    sandbox.setFaults({ rate: 1, kinds: { status503: 1 }, paths: /\/complete$/ });
    const first = await handler(records(JSON.stringify(event), "m1"));
    expect(first?.batchItemFailures).toEqual([{ itemIdentifier: "m1" }]);
    expect((await ledger.get(id))?.state).toBe("decided");
    sandbox.setFaults(undefined);
    expect(await handler(records(JSON.stringify(event), "m1"))).toEqual({ batchItemFailures: [] });
    const invocation = await sandbox.waitForInvocation(id, 2_000);
    expect(invocation.status).toBe("COMPLETED");
    expect((await ledger.get(id))?.state).toBe("completed");
  });

  it("an invocation already completed elsewhere (400.1.404) is final", async () => {
    const { id, event } = await fire();
    const { handler, ledger, client } = worker();
    await client.completeInvocation(
      { invocationId: id },
      {
        secret: String(event.detail._metadata.secret),
        output: { approved: true, comment: "x", approver: "y" },
      },
    );
    expect(await handler(records(JSON.stringify(event), "m"))).toEqual({ batchItemFailures: [] });
    const record = await ledger.get(id);
    expect(record?.state).toBe("completed");
    expect(record?.outcome).toBe("already completed or expired");
  });

  it("past the deadline, nothing is sent to ISC", async () => {
    const { id, event } = await fire();
    const { handler, ledger } = worker({ clock: () => Date.now() + 3_600_000 });
    expect(await handler(records(JSON.stringify(event), "m"))).toEqual({ batchItemFailures: [] });
    expect((await ledger.get(id))?.state).toBe("failed");
    const invocation = sandbox.state.invocations.get(id);
    expect(invocation?.completions ?? []).toHaveLength(0);
  });
});
