import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FaultInjector } from "../../../lib/sandbox/faults.ts";
import type { FaultKind } from "../../../lib/sandbox/index.ts";
import { httpSubscription, PRE_APPROVAL, Subscriber, Tenant, VALID_PRE_APPROVAL_OUTPUT } from "./fixtures.ts";

let subscriber: Subscriber;
let tenant: Tenant | undefined;
beforeAll(async () => {
  subscriber = await new Subscriber().start();
});
afterEach(async () => {
  await tenant?.close();
  tenant = undefined;
  subscriber.received.length = 0;
});
afterAll(() => subscriber.close());

/** A tenant with one pending async invocation, faults off. */
async function pending() {
  tenant = await Tenant.start();
  await tenant.subscribe(httpSubscription(subscriber.url));
  const [created] = await tenant.testInvocation(PRE_APPROVAL);
  await subscriber.waitFor(1);
  return { t: tenant, created: created! };
}

const only = (kind: FaultKind, extra: Record<string, unknown> = {}) => ({
  rate: 1,
  kinds: { [kind]: 1 },
  seed: 7,
  ...extra,
});

describe("fault injection", () => {
  it.each([
    ["status429", 429],
    ["status500", 500],
    ["status503", 503],
  ] as const)("%s answers %i and a faulted completion is not applied", async (kind, status) => {
    const { t, created } = await pending();
    t.sandbox.setFaults(only(kind, { retryAfterSeconds: 3 }));
    const body = { secret: created.secret, output: VALID_PRE_APPROVAL_OUTPUT };
    const result = await t.complete(created.id, body);
    expect(result.status).toBe(status);
    if (kind === "status429") {
      expect(result.headers.get("retry-after")).toBe("3");
      expect(result.body).toEqual({ message: " Rate Limit Exceeded " });
    } else {
      expect(result.body).toMatchObject({ messages: [expect.objectContaining({ locale: "en-US" })] });
      expect((result.body as { trackingId: string }).trackingId).toMatch(/^[0-9a-f]{32}$/);
    }
    expect(t.sandbox.state.faultsInjected[kind]).toBe(1);
    expect(t.sandbox.state.invocations.get(created.id)?.status).toBe("PENDING");
    expect(t.sandbox.state.invocations.get(created.id)?.completions).toHaveLength(0);

    t.sandbox.setFaults(undefined);
    expect((await t.complete(created.id, body)).status).toBe(204);
  });

  it("drop closes the connection without a reply and applies nothing", async () => {
    const { t, created } = await pending();
    t.sandbox.setFaults(only("drop"));
    await expect(
      t.complete(created.id, { secret: created.secret, output: VALID_PRE_APPROVAL_OUTPUT }),
    ).rejects.toThrow();
    expect(t.sandbox.state.faultsInjected.drop).toBe(1);
    expect(t.sandbox.state.invocations.get(created.id)?.status).toBe("PENDING");
    expect(t.sandbox.state.requests.at(-1)).toMatchObject({ status: 0, fault: "drop" });
  });

  it("slow delays the reply, then applies the request", async () => {
    const { t, created } = await pending();
    t.sandbox.setFaults(only("slow", { slowMs: 100 }));
    const result = await t.complete(created.id, {
      secret: created.secret,
      output: VALID_PRE_APPROVAL_OUTPUT,
    });
    expect(result.status).toBe(204);
    expect(t.sandbox.state.faultsInjected.slow).toBe(1);
    expect(t.sandbox.state.invocations.get(created.id)?.status).toBe("COMPLETED");
  });

  it("slow: a caller that gives up before the reply does not get its completion applied", async () => {
    const { t, created } = await pending();
    t.sandbox.setFaults(only("slow", { slowMs: 400 }));
    const aborted = fetch(`${t.sandbox.baseUrl}/beta/trigger-invocations/${created.id}/complete`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-sailpoint-experimental": "true" },
      body: JSON.stringify({ secret: created.secret, output: VALID_PRE_APPROVAL_OUTPUT }),
      signal: AbortSignal.timeout(50),
    });
    await expect(aborted).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(t.sandbox.state.invocations.get(created.id)?.status).toBe("PENDING");
  });

  it("tokenExpiry invalidates the caller's token: 401 now and on the next call", async () => {
    tenant = await Tenant.start({ faults: only("tokenExpiry") });
    const first = await tenant.call("GET", "/beta/trigger-subscriptions");
    expect(first.status).toBe(401);
    expect(first.body).toEqual({ error: "JWT validation failed: JWT is expired" });
    tenant.sandbox.setFaults(undefined);
    expect((await tenant.call("GET", "/beta/trigger-subscriptions")).status).toBe(401);
    tenant.token = await tenant.fetchToken();
    expect((await tenant.call("GET", "/beta/trigger-subscriptions")).status).toBe(200);
  });

  it("tokenExpiry never hits /oauth/token or token-less calls (no token to expire)", async () => {
    tenant = await Tenant.start();
    tenant.sandbox.setFaults(only("tokenExpiry"));
    await expect(tenant.fetchToken()).resolves.toBeTypeOf("string");
    const anonymous = await tenant.complete("unknown", { secret: "s", output: {} });
    expect(anonymous.status).toBe(400);
    expect(tenant.sandbox.state.faultsInjected.tokenExpiry).toBe(0);
  });

  it("hits /oauth/token too, and `paths` limits where faults happen", async () => {
    tenant = await Tenant.start();
    tenant.sandbox.setFaults(only("status503"));
    await expect(tenant.fetchToken()).rejects.toThrow(/503/);
    tenant.sandbox.setFaults(only("status503", { paths: /\/trigger-invocations\// }));
    await expect(tenant.fetchToken()).resolves.toBeTypeOf("string");
    expect((await tenant.call("GET", "/beta/triggers")).status).toBe(200);
    expect((await tenant.call("GET", "/beta/trigger-invocations/status")).status).toBe(503);
  });

  it("rate 0 never faults; a seed makes the sequence reproducible", () => {
    const never = new FaultInjector({ rate: 0 });
    for (let i = 0; i < 100; i++) expect(never.pick("/x", () => true)).toBeUndefined();
    const draw = (seed: number) => {
      const injector = new FaultInjector({ rate: 0.5, seed });
      return Array.from({ length: 50 }, () => injector.pick("/x", () => true) ?? "-");
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    const kinds = new Set(draw(42));
    expect(kinds.size).toBeGreaterThan(3);
  });

  it("refuses invalid fault options", () => {
    expect(() => new FaultInjector({ rate: 2 })).toThrow(RangeError);
    expect(() => new FaultInjector({ rate: 0.5, kinds: { nope: 1 } as never })).toThrow(RangeError);
  });

  it("under random faults the state stays consistent: every 204 completion is applied exactly once", async () => {
    const { t } = await pending();
    const targets = await t.testInvocation(PRE_APPROVAL);
    await subscriber.waitFor(2);
    const all = [...t.sandbox.state.invocations.values()];
    t.sandbox.setFaults({
      rate: 0.6,
      seed: 3,
      slowMs: 10,
      kinds: { status429: 1, status500: 1, status503: 1, drop: 1, slow: 1 },
    });
    for (const invocation of all) {
      for (let attempt = 0; attempt < 30; attempt++) {
        const result = await t
          .complete(invocation.id, { secret: invocation.secret, output: VALID_PRE_APPROVAL_OUTPUT })
          .catch(() => undefined);
        if (result?.status === 204) break;
        if (result?.status === 400) break;
      }
    }
    expect(targets).toHaveLength(1);
    for (const invocation of all) {
      expect(invocation.status).toBe("COMPLETED");
      expect(invocation.completions.filter((c) => c.result === "COMPLETED")).toHaveLength(1);
    }
    const injected = Object.values(t.sandbox.state.faultsInjected).reduce((a, b) => a + b, 0);
    expect(injected).toBeGreaterThan(0);
  });
});
