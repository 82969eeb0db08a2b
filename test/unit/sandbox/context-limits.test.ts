/** Rate limits per client id per API version, and fault injection aimed at (or away from) context reads. */
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_DIRECTORY_IDS as ID } from "../../../lib/context/directory.ts";
import { apiVersionOf } from "../../../lib/sandbox/auth.ts";
import { CONTEXT_ROUTES } from "../../../lib/sandbox/context-routes.ts";
import { CONTEXT_READ_PATHS, type FaultKind } from "../../../lib/sandbox/index.ts";
import { Tenant } from "./fixtures.ts";

const tenants: Tenant[] = [];
afterEach(async () => {
  await Promise.all(tenants.splice(0).map((tenant) => tenant.close()));
});
async function start(options: Parameters<typeof Tenant.start>[0] = {}): Promise<Tenant> {
  const tenant = await Tenant.start(options);
  tenants.push(tenant);
  return tenant;
}

async function tokenFor(tenant: Tenant, clientId: string, clientSecret: string): Promise<string> {
  const response = await fetch(`${tenant.sandbox.baseUrl}/oauth/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: clientId,
      client_secret: clientSecret,
    }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

describe("rate limit per API version", () => {
  it("gives v3, v2025 and beta each their own window per client id (the token request its own)", async () => {
    let now = 1_700_000_000_000;
    const t = await start({ now: () => now, rateLimit: { requests: 2, windowMs: 10_000 } });
    // 2 in the v3 window (the token request is in the oauth window).
    expect((await t.call("GET", "/v3/roles")).status).toBe(200);
    expect((await t.call("GET", `/v3/sources/${ID.sap}`)).status).toBe(200);
    const limited = await t.call("GET", "/v3/access-profiles");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("10");
    expect(limited.body).toEqual({ message: " Rate Limit Exceeded " });
    // v2025 and beta are untouched by v3's full window.
    expect((await t.call("GET", `/v2025/identities/${ID.william}`)).status).toBe(200);
    expect((await t.call("GET", "/v2025/entitlements")).status).toBe(200);
    expect((await t.call("GET", "/v2025/identities")).status).toBe(429);
    expect((await t.call("GET", "/beta/triggers")).status).toBe(200);
    // The per-service v1 paths have their own window too.
    expect((await t.call("GET", "/triggers/v1")).status).toBe(200);
    expect(t.sandbox.state.rateLimited).toBe(2);
    // A 429 is still a context request the reader made.
    expect(t.sandbox.state.contextRequests.accessProfiles).toBe(1);

    now += 10_001;
    expect((await t.call("GET", "/v3/access-profiles")).status).toBe(200);
    expect((await t.call("GET", "/v2025/identities")).status).toBe(200);
  });

  it("Retry-After counts down to when the oldest hit leaves the window", async () => {
    let now = 1_700_000_000_000;
    const t = await start({ now: () => now, rateLimit: { requests: 2, windowMs: 10_000 } });
    expect((await t.call("GET", "/v3/roles")).status).toBe(200);
    now += 4_000;
    expect((await t.call("GET", "/v3/roles")).status).toBe(200);
    const limited = await t.call("GET", "/v3/roles");
    expect(limited.status).toBe(429);
    // The first call (at 0 s) is the oldest hit: it leaves the window at 10 s, 6 s from now.
    expect(limited.headers.get("retry-after")).toBe("6");
  });

  it("counts each client id separately", async () => {
    const t = await start({
      rateLimit: { requests: 2, windowMs: 10_000 },
      clients: [{ clientId: "second", clientSecret: "second-secret" }],
    });
    expect((await t.call("GET", "/v3/roles")).status).toBe(200);
    expect((await t.call("GET", "/v3/roles")).status).toBe(200);
    expect((await t.call("GET", "/v3/roles")).status).toBe(429);
    const other = await tokenFor(t, "second", "second-secret");
    expect((await t.call("GET", "/v3/roles", undefined, { token: other })).status).toBe(200);
    expect(t.sandbox.state.requests.at(-1)?.clientId).toBe("second");
  });

  it("an extra client can lack scopes of its own", async () => {
    const t = await start({
      clients: [{ clientId: "pat", clientSecret: "pat-secret", deniedScopes: ["idn:sources:read"] }],
    });
    const pat = await tokenFor(t, "pat", "pat-secret");
    expect((await t.call("GET", "/v3/sources", undefined, { token: pat })).status).toBe(403);
    expect((await t.call("GET", "/v3/sources")).status).toBe(200);
    t.sandbox.setDeniedScopes([], "pat");
    expect((await t.call("GET", "/v3/sources", undefined, { token: pat })).status).toBe(200);
  });

  it("names the version of every path", () => {
    expect(apiVersionOf("/v3/roles")).toBe("v3");
    expect(apiVersionOf("/v2025/identities/x")).toBe("v2025");
    expect(apiVersionOf("/beta/triggers")).toBe("beta");
    expect(apiVersionOf("/trigger-subscriptions/v1/abc")).toBe("v1");
    expect(apiVersionOf("/oauth/token")).toBe("other");
  });
});

describe("faults on context reads", () => {
  const only = (kind: FaultKind, target: "contextReads" | "otherRequests" = "contextReads") => ({
    rate: 1,
    kinds: { [kind]: 1 },
    seed: 3,
    target,
  });

  it.each([
    ["status429", 429],
    ["status500", 500],
    ["status503", 503],
  ] as const)("%s hits context reads only with target contextReads", async (kind, status) => {
    const t = await start();
    t.sandbox.setFaults(only(kind));
    const read = await t.call("GET", `/v2025/identities/${ID.william}`);
    expect(read.status).toBe(status);
    if (kind === "status429") expect(read.headers.get("retry-after")).toBe("1");
    expect(
      (await t.call("POST", "/v3/sod-violations/predict", { identityId: ID.paula, accessRefs: [] })).status,
    ).toBe(status);
    expect((await t.call("GET", "/beta/triggers")).status).toBe(200);
    expect(await t.fetchToken()).toBeTruthy();
    expect(t.sandbox.state.faultsInjected[kind]).toBe(2);
    expect(
      t.sandbox.state.requests.filter((record) => record.fault === kind).every((record) => record.kind),
    ).toBe(true);
  });

  it("target otherRequests spares context reads", async () => {
    const t = await start();
    t.sandbox.setFaults(only("status503", "otherRequests"));
    expect((await t.call("GET", "/v3/roles")).status).toBe(200);
    expect((await t.call("GET", "/beta/triggers")).status).toBe(503);
  });

  it("drop resets a context read's connection and is recorded with its kind", async () => {
    const t = await start();
    t.sandbox.setFaults(only("drop"));
    await expect(t.call("GET", "/v3/sources")).rejects.toThrow();
    expect(t.sandbox.state.requests.at(-1)).toMatchObject({ status: 0, fault: "drop", kind: "sources" });
    expect(t.sandbox.state.contextRequests.sources).toBe(1);
  });

  it("slow delays a context read, then answers it", async () => {
    const t = await start();
    t.sandbox.setFaults({ ...only("slow"), slowMs: 120 });
    const started = performance.now();
    const result = await t.call("GET", `/v3/sod-policies/${ID.apPaymentsPolicy}`);
    expect(result.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
  });

  it("tokenExpiry on a context read invalidates the token (401)", async () => {
    const t = await start();
    t.sandbox.setFaults(only("tokenExpiry"));
    expect((await t.call("GET", "/v2025/entitlements")).status).toBe(401);
    t.sandbox.setFaults(undefined);
    expect((await t.call("GET", "/v2025/entitlements")).status).toBe(401);
  });

  it("a partial rate is reproducible with a seed, and faults only some reads", async () => {
    const statuses = async () => {
      const t = await start();
      t.sandbox.setFaults({ rate: 0.5, kinds: { status503: 1 }, seed: 42, target: "contextReads" });
      const out: number[] = [];
      for (let i = 0; i < 20; i++) out.push((await t.call("GET", "/v3/roles")).status);
      return out;
    };
    const first = await statuses();
    expect(first).toEqual(await statuses());
    expect(first).toContain(200);
    expect(first).toContain(503);
  });

  it("CONTEXT_READ_PATHS matches every context route and nothing else (for faults.paths)", async () => {
    for (const route of CONTEXT_ROUTES) {
      const sample = route.pattern.source
        .replace(/^\^|\$$/g, "")
        .replace(/\(\?<\w+>\[\^\/\]\+\)/g, "x")
        .replaceAll("\\/", "/");
      expect(CONTEXT_READ_PATHS.test(sample), sample).toBe(true);
    }
    for (const path of [
      "/beta/triggers",
      "/v3/campaigns/x/complete",
      "/oauth/token",
      "/trigger-invocations/v1/status",
    ]) {
      expect(CONTEXT_READ_PATHS.test(path), path).toBe(false);
    }
    const t = await start();
    t.sandbox.setFaults({ rate: 1, kinds: { status500: 1 }, paths: CONTEXT_READ_PATHS });
    expect((await t.call("GET", "/v3/roles")).status).toBe(500);
    expect((await t.call("GET", "/beta/triggers")).status).toBe(200);
  });

  it("refuses an unknown target", async () => {
    const t = await start();
    expect(() => t.sandbox.setFaults({ rate: 1, target: "everything" as never })).toThrow(RangeError);
  });
});
