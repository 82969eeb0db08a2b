/**
 * The client against the ISC sandbox over real loopback HTTP: completion round trip, refused
 * callbackURLs, gone invocations, 401 refresh, 429/5xx faults, deadlines and the limiter.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CallbackUrlRefusedError } from "../../../lib/isc/callback-url.ts";
import { IscClient, type IscClientOptions } from "../../../lib/isc/client.ts";
import { InvocationGoneError, IscApiError, IscDeadlineError } from "../../../lib/isc/errors.ts";
import type { RetryEvent } from "../../../lib/isc/http.ts";
import { type Sandbox, startSandbox } from "../../../lib/sandbox/index.ts";
import { exampleAccessRequestInput } from "../../../lib/triggers/examples.ts";
import { rejection } from "../../helpers/rejection.ts";

const PRE_APPROVAL = "idn:access-request-pre-approval";
const INPUT = exampleAccessRequestInput();

interface Delivery {
  _metadata?: { callbackURL?: string; secret?: string };
}

let sandbox: Sandbox;
let subscriber: Server;
let subscriberUrl: string;
const deliveries: Delivery[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, rateLimit: false });
  subscriber = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    deliveries.push(JSON.parse(Buffer.concat(chunks).toString("utf8")) as Delivery);
    res.writeHead(200, { "content-type": "application/json" });
    res.end("{}");
  });
  await new Promise<void>((resolve) => subscriber.listen(0, "127.0.0.1", resolve));
  subscriberUrl = `http://127.0.0.1:${(subscriber.address() as AddressInfo).port}/hook`;
});

afterAll(async () => {
  await sandbox.close();
  subscriber.closeAllConnections();
  await new Promise<void>((resolve) => subscriber.close(() => resolve()));
});

function client(options: Partial<IscClientOptions> = {}): IscClient {
  return new IscClient({
    baseUrl: sandbox.baseUrl,
    clientId: sandbox.clientId,
    clientSecret: sandbox.clientSecret,
    rateLimit: false,
    ...options,
  });
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("client against the sandbox", () => {
  it("subscribes, receives a test invocation, completes it by callbackURL; a second completion is gone", async () => {
    const c = client();
    for (const existing of await c.listSubscriptions({ filters: `triggerId eq "${PRE_APPROVAL}"` })) {
      await c.deleteSubscription(existing.id);
    }
    const subscription = await c.createSubscription({
      name: "client test",
      triggerId: PRE_APPROVAL,
      type: "HTTP",
      responseDeadline: "PT1H",
      httpConfig: { url: subscriberUrl, httpDispatchMode: "ASYNC", httpAuthenticationType: "NO_AUTH" },
      enabled: true,
    });
    expect((await c.getSubscription(subscription.id)).name).toBe("client test");

    const before = deliveries.length;
    const [invocation] = await c.testInvocation({
      triggerId: PRE_APPROVAL,
      input: INPUT,
      subscriptionIds: [subscription.id],
    });
    expect(invocation?.triggerId).toBe(PRE_APPROVAL);
    const delivery = await waitFor(() => deliveries[before]);
    const callbackUrl = delivery._metadata?.callbackURL as string;
    const secret = delivery._metadata?.secret as string;
    expect(callbackUrl.startsWith(sandbox.baseUrl)).toBe(true);

    await c.completeInvocation(
      { callbackUrl },
      { secret, output: { approved: true, comment: "ok", approver: "system" } },
    );
    expect(sandbox.state.invocations.get(invocation!.id)?.status).toBe("COMPLETED");

    const error = await rejection(
      c.completeInvocation(
        { callbackUrl },
        { secret, output: { approved: true, comment: "ok", approver: "system" } },
      ),
    );
    expect(error).toBeInstanceOf(InvocationGoneError);
    expect((error as InvocationGoneError).detailCode).toMatch(/^400\.1\.404/);

    const statuses = await c.listInvocationStatus({ filters: `triggerId eq "${PRE_APPROVAL}"` });
    expect(statuses.some((status) => status.id === invocation!.id)).toBe(true);
    await c.deleteSubscription(subscription.id);
  });

  it("refuses a callbackURL of another origin: the sandbox receives no request at all", async () => {
    const c = client();
    const before = sandbox.state.requests.length;
    const other = sandbox.baseUrl.replace("127.0.0.1", "localhost");
    const error = await rejection(
      c.completeInvocation(
        { callbackUrl: `${other}/beta/trigger-invocations/0f11f2a4-7c94-4bf3-a2bd-742580fe3bde/complete` },
        { secret: "s", output: {} },
      ),
    );
    expect(error).toBeInstanceOf(CallbackUrlRefusedError);
    expect(sandbox.state.requests.length).toBe(before);
    expect(c.tokenRequests).toBe(0);
  });

  it("401 after the tokens are revoked: one refresh, then success", async () => {
    const c = client();
    await c.listTriggers();
    sandbox.revokeTokens();
    const triggers = await c.listTriggers();
    expect(triggers.some((trigger) => trigger.id === PRE_APPROVAL)).toBe(true);
    expect(c.tokenRequests).toBe(2);
  });

  it("concurrent callers share one token request", async () => {
    const c = client();
    await Promise.all(Array.from({ length: 8 }, () => c.listTriggers()));
    expect(c.tokenRequests).toBe(1);
  });

  it("injected 429s are waited out (Retry-After), then the call succeeds", async () => {
    const sleeps: number[] = [];
    const events: RetryEvent[] = [];
    // The wait itself lifts the fault, so the retry after it gets through.
    const c = client({
      sleep: async (ms) => {
        sleeps.push(ms);
        sandbox.setFaults(undefined);
      },
      onRetry: (event) => events.push(event),
    });
    await c.listTriggers(); // token first, outside the faults
    sandbox.setFaults({ rate: 1, kinds: { status429: 1 }, retryAfterSeconds: 2, paths: /^\/beta\/triggers/ });
    await c.listTriggers();
    expect(sleeps).toEqual([2000]);
    expect(events).toEqual([expect.objectContaining({ reason: "rate-limited", status: 429, delayMs: 2000 })]);
  });

  it("injected 500s until the deadline: IscDeadlineError with last status 500", async () => {
    sandbox.setFaults({ rate: 1, kinds: { status500: 1 }, paths: /^\/beta\/triggers/ });
    try {
      const error = await rejection(
        client({ retry: { baseDelayMs: 20, maxAttempts: 100 } }).listTriggers(
          {},
          { deadline: Date.now() + 300 },
        ),
      );
      expect(error).toBeInstanceOf(IscDeadlineError);
      expect((error as IscDeadlineError).lastStatus).toBe(500);
    } finally {
      sandbox.setFaults(undefined);
    }
  });

  it("a final 4xx from the sandbox is an IscApiError with detailCode and trackingId", async () => {
    const error = await rejection(client().deleteSubscription("0000000000000000000000000000dead"));
    expect(error).toBeInstanceOf(IscApiError);
    expect((error as IscApiError).status).toBe(404);
    expect((error as IscApiError).trackingId).toBeTypeOf("string");
  });

  it("clears a pending task, completes a past-due campaign, generates role insights", async () => {
    const c = client();
    const taskId = sandbox.state.seeded.taskIds[0] as string;
    const task = await c.clearPendingTask(taskId, { completionStatus: "SUCCESS" });
    expect(task.completionStatus).toBe("SUCCESS");
    expect((await c.getTaskStatus(taskId)).completed).toBeTruthy();
    await c.completeCampaign(
      sandbox.state.seeded.pastDueCampaignId,
      { autoCompleteAction: "REVOKE" },
      { apiVersion: "v3" },
    );
    expect(sandbox.state.campaigns.get(sandbox.state.seeded.pastDueCampaignId)?.status).toBe("COMPLETED");
    const request = await c.createRoleInsightsRequest();
    expect(request.status).toBe("CREATED");
    expect((await c.getRoleInsightsRequest(request.id)).id).toBe(request.id);
  });
});

describe("limiter against the sandbox's rate limit", () => {
  it("a burst queues on the client instead of earning 429s", async () => {
    const limited = await startSandbox({ port: 0, rateLimit: { requests: 4, windowMs: 400 } });
    try {
      const events: RetryEvent[] = [];
      const c = new IscClient({
        baseUrl: limited.baseUrl,
        clientId: limited.clientId,
        clientSecret: limited.clientSecret,
        // A little wider than the tenant's window: loopback latency must not let a slot slip in early.
        rateLimit: { requests: 4, windowMs: 450 },
        onRetry: (event) => events.push(event),
      });
      // The token request has its own window on both sides (the OAuth endpoint belongs to no API version).
      await Promise.all(Array.from({ length: 10 }, () => c.listTriggers()));
      expect(events).toEqual([]);
      expect(limited.state.rateLimited).toBe(0);
    } finally {
      await limited.close();
    }
  });
});
