import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { checkCallbackUrl } from "../../../lib/isc/callback-url.ts";
import { invocationFromEventBridgeEvent, invocationFromHttpBody } from "../../../lib/triggers/invocation.ts";
import type { EventBridgeTriggerEvent } from "../../../lib/triggers/schemas.ts";
import {
  ACCESS_REQUEST_INPUT,
  DYNAMIC_APPROVER,
  httpSubscription,
  POST_APPROVAL,
  PRE_APPROVAL,
  Subscriber,
  Tenant,
  VALID_PRE_APPROVAL_OUTPUT,
} from "./fixtures.ts";

let subscriber: Subscriber;
let tenant: Tenant | undefined;
beforeAll(async () => {
  subscriber = await new Subscriber().start();
});
afterEach(async () => {
  await tenant?.close();
  tenant = undefined;
  subscriber.received.length = 0;
  subscriber.reply = () => ({ status: 200, body: {} });
});
afterAll(() => subscriber.close());

async function startTenant(options: Parameters<typeof Tenant.start>[0] = {}): Promise<Tenant> {
  tenant = await Tenant.start(options);
  return tenant;
}

const ctx = (baseUrl: string) => ({ tenantBaseUrl: baseUrl, responseDeadlineMs: () => 3_600_000 });

describe("test invocations delivered to an HTTP subscriber", () => {
  it("answers 204 when nobody subscribes", async () => {
    const t = await startTenant();
    const result = await t.call("POST", "/beta/trigger-invocations/test", {
      triggerId: PRE_APPROVAL,
      contentJson: {},
    });
    expect(result.status).toBe(204);
    expect(result.body).toBeUndefined();
  });

  it("async: posts input + _metadata with Basic auth, waits for the callback, completes on 204", async () => {
    const t = await startTenant();
    await t.subscribe(
      httpSubscription(subscriber.url, {
        httpConfig: {
          url: subscriber.url,
          httpDispatchMode: "ASYNC",
          httpAuthenticationType: "BASIC_AUTH",
          basicAuthConfig: { userName: "isc-user", password: "p@ss:word" },
        },
      }),
    );
    const [created] = await t.testInvocation(PRE_APPROVAL, ACCESS_REQUEST_INPUT);
    expect(created).toMatchObject({ triggerId: PRE_APPROVAL, contentJson: {} });
    const [delivery] = await subscriber.waitFor(1);
    expect(delivery!.headers.authorization).toBe(
      `Basic ${Buffer.from("isc-user:p@ss:word").toString("base64")}`,
    );
    expect(delivery!.headers["content-type"]).toBe("application/json");
    const meta = delivery!.body._metadata;
    expect(meta).toEqual({
      triggerId: PRE_APPROVAL,
      triggerType: "requestResponse",
      responseMode: "async",
      callbackURL: `${t.sandbox.baseUrl}/beta/trigger-invocations/${created!.id}/complete`,
      secret: created!.secret,
    });
    expect(delivery!.body.accessRequestId).toBe(ACCESS_REQUEST_INPUT.accessRequestId);
    // The body is what the project's own parser and callbackURL guard accept.
    const parsed = invocationFromHttpBody(delivery!.body, ctx(t.sandbox.baseUrl));
    expect(parsed.invocationId).toBe(created!.id);
    expect(checkCallbackUrl(meta.callbackURL, t.sandbox.baseUrl).invocationId).toBe(created!.id);

    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(t.sandbox.state.invocations.get(created!.id)?.status).toBe("PENDING");
    const done = await t.complete(created!.id, {
      secret: created!.secret,
      output: VALID_PRE_APPROVAL_OUTPUT,
    });
    expect(done.status).toBe(204);
    const invocation = await t.sandbox.waitForInvocation(created!.id, 1_000);
    expect(invocation).toMatchObject({ status: "COMPLETED", output: VALID_PRE_APPROVAL_OUTPUT });
    expect(invocation.delivery).toMatchObject({ mode: "async", httpStatus: 200 });
    expect(invocation.completions).toEqual([
      expect.objectContaining({ httpStatus: 204, result: "COMPLETED" }),
    ]);
  });

  it("sync: a 200 with a valid output completes it, with Bearer auth and no callbackURL/secret", async () => {
    const t = await startTenant();
    await t.subscribe(
      httpSubscription(subscriber.url, {
        httpConfig: {
          url: subscriber.url,
          httpDispatchMode: "SYNC",
          httpAuthenticationType: "BEARER_TOKEN",
          bearerTokenAuthConfig: { bearerToken: "static-token-1" },
        },
      }),
    );
    subscriber.reply = () => ({ status: 200, body: VALID_PRE_APPROVAL_OUTPUT });
    const [created] = await t.testInvocation(PRE_APPROVAL);
    const invocation = await t.sandbox.waitForInvocation(created!.id, 5_000);
    expect(invocation).toMatchObject({ status: "COMPLETED", output: VALID_PRE_APPROVAL_OUTPUT });
    const [delivery] = subscriber.received;
    expect(delivery!.headers.authorization).toBe("Bearer static-token-1");
    expect(delivery!.body._metadata).toEqual({
      triggerId: PRE_APPROVAL,
      triggerType: "requestResponse",
      responseMode: "sync",
    });
    // The default input is the documented form: requestedFor as one object.
    expect(delivery!.body.requestedFor).toMatchObject({ type: "IDENTITY" });
  });

  it.each([
    ["an invalid output", { status: 200, body: { approved: "yes" } }],
    ["a non-200 status", { status: 500, body: {} }],
    ["a 202 (not allowed in sync)", { status: 202, body: {} }],
  ])("sync: %s fails the invocation", async (_name, answer) => {
    const t = await startTenant();
    await t.subscribe(httpSubscription(subscriber.url, {}, "SYNC"));
    subscriber.reply = () => answer;
    const [created] = await t.testInvocation(PRE_APPROVAL);
    const invocation = await t.sandbox.waitForInvocation(created!.id, 5_000);
    expect(invocation.status).toBe("FAILED");
    expect(invocation.error).toBeTruthy();
    expect(invocation.delivery.httpStatus).toBe(answer.status);
  });

  it("sync: no reply within the delivery window fails it", async () => {
    const t = await startTenant({ deliveryTimeoutMs: 100 });
    await t.subscribe(httpSubscription(subscriber.url, {}, "SYNC"));
    subscriber.reply = () => ({ status: 200, body: VALID_PRE_APPROVAL_OUTPUT, delayMs: 1_000 });
    const [created] = await t.testInvocation(PRE_APPROVAL);
    const invocation = await t.sandbox.waitForInvocation(created!.id, 5_000);
    expect(invocation.status).toBe("FAILED");
    expect(invocation.error).toMatch(/did not reply within 100 ms/);
  });

  it("async: anything but 200 fails it", async () => {
    const t = await startTenant();
    await t.subscribe(httpSubscription(subscriber.url));
    subscriber.reply = () => ({ status: 503 });
    const [created] = await t.testInvocation(PRE_APPROVAL);
    const invocation = await t.sandbox.waitForInvocation(created!.id, 5_000);
    expect(invocation).toMatchObject({ status: "FAILED", delivery: { httpStatus: 503 } });
  });

  it("dynamic: 200 with an output completes; 202 waits for the callback", async () => {
    const t = await startTenant();
    await t.subscribe(httpSubscription(subscriber.url, { triggerId: DYNAMIC_APPROVER }, "DYNAMIC"));
    const approver = { id: "2c91808b6ef1d43e016efba0ce470906", name: "Adam Adams", type: "IDENTITY" };
    subscriber.reply = () => ({ status: 200, body: approver });
    const [first] = await t.testInvocation(DYNAMIC_APPROVER);
    expect(await t.sandbox.waitForInvocation(first!.id, 5_000)).toMatchObject({
      status: "COMPLETED",
      output: approver,
    });
    expect(subscriber.received[0]!.body._metadata).toMatchObject({
      responseMode: "dynamic",
      secret: first!.secret,
    });

    subscriber.reply = () => ({ status: 202, body: {} });
    const [second] = await t.testInvocation(DYNAMIC_APPROVER);
    await subscriber.waitFor(2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(t.sandbox.state.invocations.get(second!.id)?.status).toBe("PENDING");
    // "No additional approver", both documented forms.
    expect((await t.complete(second!.id, { secret: second!.secret, output: {} })).status).toBe(204);
    expect(await t.sandbox.waitForInvocation(second!.id, 1_000)).toMatchObject({
      status: "COMPLETED",
      output: {},
    });
    const [third] = await t.testInvocation(DYNAMIC_APPROVER);
    await subscriber.waitFor(3);
    const none = { id: "", name: "", type: "" };
    expect((await t.complete(third!.id, { secret: third!.secret, output: none })).status).toBe(204);
    expect(await t.sandbox.waitForInvocation(third!.id, 1_000)).toMatchObject({
      status: "COMPLETED",
      output: none,
    });
  });

  it("honours the subscription filter and subscriptionIds", async () => {
    const t = await startTenant();
    const sub = await t.subscribe(
      httpSubscription(subscriber.url, { filter: `$[?($.requestedBy.name == "Rob Robertson")]` }),
    );
    expect((await t.testInvocation(PRE_APPROVAL, ACCESS_REQUEST_INPUT)).length).toBe(1);
    const other = { ...ACCESS_REQUEST_INPUT, requestedBy: { type: "IDENTITY", id: "x", name: "Someone" } };
    const filtered = await t.call("POST", "/beta/trigger-invocations/test", {
      triggerId: PRE_APPROVAL,
      input: other,
      contentJson: {},
    });
    expect(filtered.status).toBe(204);
    const notSelected = await t.call("POST", "/trigger-invocations/v1/test", {
      triggerId: PRE_APPROVAL,
      input: ACCESS_REQUEST_INPUT,
      contentJson: {},
      subscriptionIds: ["another"],
    });
    expect(notSelected.status).toBe(204);
    const selected = await t.call("POST", "/trigger-invocations/v1/test", {
      triggerId: PRE_APPROVAL,
      input: ACCESS_REQUEST_INPUT,
      contentJson: {},
      subscriptionIds: [sub.id],
    });
    expect(selected.status).toBe(200);
  });

  it("refuses test invocations with an unknown trigger, an invalid input or no contentJson", async () => {
    const t = await startTenant();
    await t.subscribe(httpSubscription(subscriber.url));
    for (const body of [
      { triggerId: "idn:nope", contentJson: {} },
      { triggerId: PRE_APPROVAL, contentJson: {}, input: { accessRequestId: "x" } },
      { triggerId: PRE_APPROVAL },
    ]) {
      const result = await t.call("POST", "/beta/trigger-invocations/test", body);
      expect(result.status, JSON.stringify(body)).toBe(400);
    }
    expect(t.sandbox.state.invocations.size).toBe(0);
  });

  it("delivers FIRE_AND_FORGET triggers with an invocationId and completes them on 2xx", async () => {
    const t = await startTenant();
    await t.subscribe(httpSubscription(subscriber.url, { triggerId: POST_APPROVAL }));
    const [created] = await t.testInvocation(POST_APPROVAL);
    const invocation = await t.sandbox.waitForInvocation(created!.id, 5_000);
    expect(invocation.status).toBe("COMPLETED");
    expect(subscriber.received[0]!.body._metadata).toEqual({
      triggerId: POST_APPROVAL,
      triggerType: "fireAndForget",
      invocationId: created!.id,
    });
    const late = await t.complete(created!.id, { secret: created!.secret, output: {} });
    expect(late.status).toBe(400);
  });
});

describe("EventBridge subscriptions", () => {
  it("hand the documented event to the sink", async () => {
    const events: EventBridgeTriggerEvent[] = [];
    const t = await startTenant({ eventBridgeSink: (event) => void events.push(event) });
    const sub = await t.subscribe({
      name: "Bus",
      triggerId: DYNAMIC_APPROVER,
      type: "EVENTBRIDGE",
      eventBridgeConfig: { awsAccount: "123456789012", awsRegion: "us-west-1" },
    });
    const [created] = await t.testInvocation(DYNAMIC_APPROVER, ACCESS_REQUEST_INPUT);
    for (let i = 0; i < 100 && events.length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(events).toHaveLength(1);
    const event = events[0]!;
    expect(event).toMatchObject({
      version: "0",
      "detail-type": DYNAMIC_APPROVER,
      source: `aws.partner/sailpoint.com/${sub.id}/idn/access-request-dynamic-approver`,
      account: "123456789012",
      region: "us-west-1",
      resources: [],
      detail: {
        accessRequestId: ACCESS_REQUEST_INPUT.accessRequestId,
        _metadata: {
          invocationId: created!.id,
          triggerId: DYNAMIC_APPROVER,
          triggerType: "requestResponse",
          callbackURL: `${t.sandbox.baseUrl}/beta/trigger-invocations/${created!.id}/complete`,
          secret: created!.secret,
        },
      },
    });
    expect(event.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(invocationFromEventBridgeEvent(event, ctx(t.sandbox.baseUrl)).invocationId).toBe(created!.id);
    expect(t.sandbox.state.invocations.get(created!.id)).toMatchObject({
      status: "PENDING",
      delivery: { mode: "eventbridge" },
    });
  });

  it("without a sink (or with a failing one) the event is lost and the invocation waits for its deadline", async () => {
    let now = 1_700_000_000_000;
    const t = await startTenant({
      now: () => now,
      eventBridgeSink: () => {
        throw new Error("PutPartnerEvents failed");
      },
    });
    await t.subscribe({
      name: "Bus",
      triggerId: PRE_APPROVAL,
      type: "EVENTBRIDGE",
      responseDeadline: "PT5M",
      eventBridgeConfig: { awsAccount: "123456789012", awsRegion: "us-east-1" },
    });
    const [created] = await t.testInvocation(PRE_APPROVAL);
    for (let i = 0; i < 100 && !t.sandbox.state.invocations.get(created!.id)?.delivery.error; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(t.sandbox.state.invocations.get(created!.id)?.delivery.error).toMatch(/sink failed/);
    now += 5 * 60_000 + 1;
    expect(await t.sandbox.waitForInvocation(created!.id, 2_000)).toMatchObject({
      status: "FAILED",
      error: "invocation timed out",
    });
  });
});

describe("completion", () => {
  async function pendingInvocation(options: Parameters<typeof Tenant.start>[0] = {}, deadline = "PT1H") {
    const t = await startTenant(options);
    await t.subscribe(httpSubscription(subscriber.url, { responseDeadline: deadline }));
    const [created] = await t.testInvocation(PRE_APPROVAL);
    await subscriber.waitFor(1);
    return { t, created: created! };
  }

  it("204 then 400 400.1.404 for a second completion", async () => {
    const { t, created } = await pendingInvocation();
    const body = { secret: created.secret, output: VALID_PRE_APPROVAL_OUTPUT };
    expect((await t.complete(created.id, body)).status).toBe(204);
    const second = await t.complete(created.id, body);
    expect(second.status).toBe(400);
    expect(second.body).toMatchObject({ detailCode: "400.1.404 Referenced object not found" });
    const invocation = t.sandbox.state.invocations.get(created.id)!;
    expect(invocation.status).toBe("COMPLETED");
    expect(invocation.completions.map((c) => c.result)).toEqual(["COMPLETED", "REJECTED"]);
  });

  it("an invalid output gets 204 but fails the invocation", async () => {
    const { t, created } = await pendingInvocation();
    const result = await t.complete(created.id, { secret: created.secret, output: { approved: true } });
    expect(result.status).toBe(204);
    const invocation = t.sandbox.state.invocations.get(created.id)!;
    expect(invocation.status).toBe("FAILED");
    expect(invocation.error).toMatch(/output does not match/);
  });

  it("an error fails the invocation with that error (204)", async () => {
    const { t, created } = await pendingInvocation();
    const result = await t.complete(created.id, {
      secret: created.secret,
      error: "Upstream risk engine unavailable",
      output: {},
    });
    expect(result.status).toBe(204);
    expect(t.sandbox.state.invocations.get(created.id)).toMatchObject({
      status: "FAILED",
      error: "Upstream risk engine unavailable",
    });
  });

  it("a wrong secret is refused (400 400.1) and changes nothing", async () => {
    const { t, created } = await pendingInvocation();
    const result = await t.complete(created.id, {
      secret: "not-the-secret",
      output: VALID_PRE_APPROVAL_OUTPUT,
    });
    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({ detailCode: "400.1 Bad Request Content" });
    expect(JSON.stringify(result.body)).not.toContain(created.secret);
    expect(t.sandbox.state.invocations.get(created.id)?.status).toBe("PENDING");
    expect(
      (await t.complete(created.id, { secret: created.secret, output: VALID_PRE_APPROVAL_OUTPUT })).status,
    ).toBe(204);
  });

  it("an unknown id gets 400 400.1.404; a malformed body gets 400 400.1", async () => {
    const { t, created } = await pendingInvocation();
    const unknown = await t.complete("0f11f2a4-7c94-4bf3-a2bd-742580fe3bde", { secret: "x", output: {} });
    expect(unknown.body).toMatchObject({ detailCode: "400.1.404 Referenced object not found" });
    for (const body of [
      { output: {} },
      { secret: created.secret },
      { secret: created.secret, output: [] },
      "not json",
    ]) {
      const result = await t.complete(created.id, body);
      expect(result.status).toBe(400);
      expect(result.body).toMatchObject({ detailCode: "400.1 Bad Request Content" });
    }
    expect(t.sandbox.state.invocations.get(created.id)?.status).toBe("PENDING");
  });

  it("after the deadline: FAILED 'invocation timed out' and a completion gets 400.1.404", async () => {
    let now = 1_700_000_000_000;
    const { t, created } = await pendingInvocation({ now: () => now }, "PT2M");
    now += 2 * 60_000 + 1;
    const late = await t.complete(created.id, { secret: created.secret, output: VALID_PRE_APPROVAL_OUTPUT });
    expect(late.status).toBe(400);
    expect(late.body).toMatchObject({ detailCode: "400.1.404 Referenced object not found" });
    expect(t.sandbox.state.invocations.get(created.id)).toMatchObject({
      status: "FAILED",
      error: "invocation timed out",
    });
  });

  it("the deadline fails a PENDING invocation without any call (sweeper)", async () => {
    let now = 1_700_000_000_000;
    const { t, created } = await pendingInvocation({ now: () => now }, "PT1M");
    now += 61_000;
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(t.sandbox.state.invocations.get(created.id)?.status).toBe("FAILED");
  });

  it("no version needs X-SailPoint-Experimental (ISC's current spec has none here)", async () => {
    for (const prefix of [
      "/beta/trigger-invocations",
      "/v2024/trigger-invocations",
      "/v2025/trigger-invocations",
    ]) {
      const { t, created } = await pendingInvocation();
      const body = { secret: created.secret, output: VALID_PRE_APPROVAL_OUTPUT };
      const without = await t.call("POST", `${prefix}/${created.id}/complete`, body, {
        token: null,
        headers: { "x-sailpoint-experimental": "false" },
      });
      expect(without.status).toBe(204);
      expect(t.sandbox.state.invocations.get(created.id)?.status).toBe("COMPLETED");
    }
  });

  it("a bearer token is optional, but one that is sent must be valid", async () => {
    const { t, created } = await pendingInvocation();
    const body = { secret: created.secret, output: VALID_PRE_APPROVAL_OUTPUT };
    const bad = await t.complete(created.id, body, { token: "expired-or-unknown" });
    expect(bad.status).toBe(401);
    expect(bad.body).toEqual({ error: "JWT validation failed: JWT is expired" });
    const good = await t.complete(created.id, body, { token: t.token });
    expect(good.status).toBe(204);
    expect(t.sandbox.state.invocations.get(created.id)?.completions.at(-1)?.withToken).toBe(true);
  });
});

describe("fireTrigger, waitForInvocation and the status list", () => {
  it("fireTrigger creates REAL_TIME invocations and delivers them", async () => {
    const t = await startTenant();
    await t.subscribe(httpSubscription(subscriber.url, {}, "SYNC"));
    subscriber.reply = () => ({ status: 200, body: VALID_PRE_APPROVAL_OUTPUT });
    const [invocation] = await t.sandbox.fireTrigger(PRE_APPROVAL, ACCESS_REQUEST_INPUT);
    expect(invocation).toMatchObject({ type: "REAL_TIME", status: "PENDING" });
    expect(await t.sandbox.waitForInvocation(invocation!.id)).toMatchObject({ status: "COMPLETED" });
    await expect(t.sandbox.fireTrigger(PRE_APPROVAL, { accessRequestId: "x" })).rejects.toThrow(
      /input schema/,
    );
    const skipped = await t.sandbox.fireTrigger(
      PRE_APPROVAL,
      { accessRequestId: "x" },
      { skipInputValidation: true },
    );
    expect(skipped).toHaveLength(1);
    await expect(t.sandbox.fireTrigger("idn:nope", {})).rejects.toThrow(/unknown trigger/);
  });

  it("waitForInvocation resolves with the PENDING invocation after timeoutMs, rejects unknown ids", async () => {
    const t = await startTenant();
    await t.subscribe(httpSubscription(subscriber.url));
    const [invocation] = await t.sandbox.fireTrigger(PRE_APPROVAL, ACCESS_REQUEST_INPUT);
    expect((await t.sandbox.waitForInvocation(invocation!.id, 50)).status).toBe("PENDING");
    await expect(t.sandbox.waitForInvocation("nope", 10)).rejects.toThrow(/unknown invocation/);
  });

  it("GET status lists invocations with their start and completion inputs", async () => {
    const t = await startTenant();
    await t.subscribe(httpSubscription(subscriber.url));
    const [a] = await t.testInvocation(PRE_APPROVAL, ACCESS_REQUEST_INPUT);
    const [b] = await t.sandbox.fireTrigger(PRE_APPROVAL, ACCESS_REQUEST_INPUT);
    await subscriber.waitFor(2);
    await t.complete(a!.id, { secret: a!.secret, output: VALID_PRE_APPROVAL_OUTPUT });
    await t.complete(b!.id, { secret: b!.secret, output: {}, error: "nope" });
    for (const path of ["/beta/trigger-invocations/status", "/trigger-invocations/v1/status"]) {
      const result = await t.call("GET", path);
      expect(result.status).toBe(200);
      const list = result.body as Record<string, unknown>[];
      expect(list).toHaveLength(2);
      expect(list[0]).toMatchObject({
        id: a!.id,
        type: "TEST",
        subscriptionName: "Responder",
        startInvocationInput: { triggerId: PRE_APPROVAL, input: ACCESS_REQUEST_INPUT, contentJson: {} },
        completeInvocationInput: { localizedError: null, output: VALID_PRE_APPROVAL_OUTPUT },
      });
      expect(list[1]).toMatchObject({
        id: b!.id,
        type: "REAL_TIME",
        completeInvocationInput: { localizedError: { locale: "en-US", message: "nope" } },
      });
      expect(JSON.stringify(list)).not.toContain(a!.secret);
    }
    const filtered = await t.call(
      "GET",
      `/beta/trigger-invocations/status?filters=${encodeURIComponent(`id eq "${b!.id}"`)}`,
    );
    expect((filtered.body as { id: string }[]).map((i) => i.id)).toEqual([b!.id]);
  });
});
