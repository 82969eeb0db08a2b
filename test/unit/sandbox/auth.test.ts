import { afterEach, describe, expect, it } from "vitest";
import { startSandbox } from "../../../lib/sandbox/index.ts";
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

function tokenRequest(baseUrl: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${baseUrl}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body,
  });
}

describe("sandbox OAuth", () => {
  it("issues an expiring opaque bearer token for the client credentials (form body)", async () => {
    const tenant = await start({ clientId: "my-client", clientSecret: "my-secret" });
    const response = await tokenRequest(
      tenant.sandbox.baseUrl,
      "grant_type=client_credentials&client_id=my-client&client_secret=my-secret",
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: "bearer", expires_in: 749 });
    expect(typeof body.access_token).toBe("string");
  });

  it("accepts the credentials in the query string (SailPoint SDK) and in Basic auth", async () => {
    const tenant = await start({ clientId: "c", clientSecret: "s" });
    const query = await fetch(
      `${tenant.sandbox.baseUrl}/oauth/token?grant_type=client_credentials&client_id=c&client_secret=s`,
      { method: "POST" },
    );
    expect(query.status).toBe(200);
    const basic = await tokenRequest(tenant.sandbox.baseUrl, "grant_type=client_credentials", {
      authorization: `Basic ${Buffer.from("c:s").toString("base64")}`,
    });
    expect(basic.status).toBe(200);
  });

  it("answers 401 to a wrong client and 400 to another grant type", async () => {
    const tenant = await start({ clientId: "c", clientSecret: "s" });
    const wrong = await tokenRequest(
      tenant.sandbox.baseUrl,
      "grant_type=client_credentials&client_id=c&client_secret=x",
    );
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: "unauthorized" });
    const grant = await tokenRequest(
      tenant.sandbox.baseUrl,
      "grant_type=password&client_id=c&client_secret=s",
    );
    expect(grant.status).toBe(400);
  });

  it("refuses missing, unknown and expired tokens with ISC's 401 body", async () => {
    let now = 1_700_000_000_000;
    const tenant = await start({ now: () => now, tokenTtlSeconds: 60 });
    expect((await tenant.call("GET", "/beta/triggers")).status).toBe(200);

    const missing = await tenant.call("GET", "/beta/triggers", undefined, { token: null });
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ error: "JWT validation failed: JWT is expired" });

    const unknown = await tenant.call("GET", "/beta/triggers", undefined, { token: "not-a-token" });
    expect(unknown.status).toBe(401);

    now += 60_000;
    const expired = await tenant.call("GET", "/beta/triggers");
    expect(expired.status).toBe(401);
    expect(expired.body).toEqual({ error: "JWT validation failed: JWT is expired" });

    tenant.token = await tenant.fetchToken();
    expect((await tenant.call("GET", "/beta/triggers")).status).toBe(200);
  });

  it("revokeTokens() invalidates every issued token", async () => {
    const tenant = await start();
    tenant.sandbox.revokeTokens();
    expect((await tenant.call("GET", "/beta/triggers")).status).toBe(401);
  });

  it("generates a client id and secret when none are given", async () => {
    const sandbox = await startSandbox();
    try {
      expect(sandbox.clientId).toMatch(/^sandbox-[0-9a-f]{16}$/);
      expect(sandbox.clientSecret.length).toBeGreaterThanOrEqual(32);
      expect(sandbox.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await sandbox.close();
    }
  });
});

describe("sandbox rate limit", () => {
  it("answers 429 with Retry-After and ISC's body once a client is over its limit, then recovers", async () => {
    let now = 1_700_000_000_000;
    const tenant = await start({ now: () => now, rateLimit: { requests: 3, windowMs: 10_000 } });
    // The token request has its own window: three calls fit.
    expect((await tenant.call("GET", "/beta/triggers")).status).toBe(200);
    expect((await tenant.call("GET", "/beta/triggers")).status).toBe(200);
    expect((await tenant.call("GET", "/beta/triggers")).status).toBe(200);
    const limited = await tenant.call("GET", "/beta/triggers");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("10");
    expect(limited.body).toEqual({ message: " Rate Limit Exceeded " });
    expect(tenant.sandbox.state.rateLimited).toBe(1);

    now += 10_001;
    expect((await tenant.call("GET", "/beta/triggers")).status).toBe(200);
  });

  it("counts clients separately: completions without a token do not use the client's budget", async () => {
    const tenant = await start({ rateLimit: { requests: 2, windowMs: 10_000 } });
    expect((await tenant.call("GET", "/beta/triggers")).status).toBe(200);
    expect((await tenant.call("GET", "/beta/triggers")).status).toBe(200);
    const anonymous = await tenant.complete("unknown", { secret: "s", output: {} });
    expect(anonymous.status).toBe(400);
    expect((await tenant.call("GET", "/beta/triggers")).status).toBe(429);
  });

  it("is off with rateLimit: false", async () => {
    const tenant = await start({ rateLimit: false });
    for (let i = 0; i < 120; i++) expect((await tenant.call("GET", "/beta/triggers")).status).toBe(200);
    // The token request plus the 120 calls.
    expect(tenant.sandbox.state.requestsTotal).toBe(121);
    expect(tenant.sandbox.state.requests).toHaveLength(121);
  });
});

describe("sandbox routing", () => {
  it("answers 404 ErrorResponseDto to unknown paths and 405 to wrong methods", async () => {
    const tenant = await start();
    const missing = await tenant.call("GET", "/beta/nothing-here");
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ detailCode: "404 Not found", causes: [] });
    expect((missing.body as { trackingId: string }).trackingId).toMatch(/^[0-9a-f]{32}$/);
    expect((await tenant.call("DELETE", "/beta/triggers")).status).toBe(405);
    expect((await tenant.call("GET", "/sandbox/health", undefined, { token: null })).status).toBe(200);
  });
});
