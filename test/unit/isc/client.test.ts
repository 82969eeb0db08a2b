import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CallbackUrlRefusedError } from "../../../lib/isc/callback-url.ts";
import { IscClient, type IscClientOptions } from "../../../lib/isc/client.ts";
import {
  ConfigError,
  InvocationGoneError,
  IscApiError,
  IscDeadlineError,
  IscNetworkError,
  IscNotFoundError,
  IscRequestRefusedError,
  IscResponseError,
} from "../../../lib/isc/errors.ts";
import type { RetryEvent } from "../../../lib/isc/http.ts";
import { rejection } from "../../helpers/rejection.ts";
import { errorDto, type FakeTenant, fakeTime, startFakeTenant } from "./fake-tenant.ts";

const INVOCATION_ID = "0f11f2a4-7c94-4bf3-a2bd-742580fe3bde";
const SECRET = "invocation-secret-0f979022-08be-44f2";
const CLIENT_SECRET = "client-secret-value-never-shown";

let tenant: FakeTenant;

beforeAll(async () => {
  tenant = await startFakeTenant();
});
afterEach(() => {
  tenant.requests.length = 0;
  tenant.tokenRequests.length = 0;
  tenant.all.length = 0;
  tenant.handle(() => ({ status: 204 }));
  tenant.handleToken((_request, index) => ({
    status: 200,
    body: { access_token: `token-${index + 1}`, expires_in: 749 },
  }));
});
afterAll(async () => {
  await tenant.close();
});

function client(options: Partial<IscClientOptions> = {}): IscClient {
  return new IscClient({
    baseUrl: tenant.baseUrl,
    clientId: "client-id",
    clientSecret: CLIENT_SECRET,
    rateLimit: false,
    random: () => 0.5,
    ...options,
  });
}

function expectNoSecrets(error: Error): void {
  const shown = `${error.message} ${JSON.stringify(error)} ${String(error.stack)}`;
  expect(shown).not.toContain(SECRET);
  expect(shown).not.toContain(CLIENT_SECRET);
  expect(shown).not.toMatch(/token-\d/);
}

describe("completeInvocation", () => {
  it("POSTs {secret, output} with the bearer token and the experimental header; 204 resolves", async () => {
    const time = fakeTime();
    await client(time).completeInvocation(
      { invocationId: INVOCATION_ID },
      { secret: SECRET, output: { approved: true, comment: "ok", approver: "system" } },
    );
    expect(tenant.tokenRequests).toHaveLength(1);
    const token = tenant.tokenRequests[0]!;
    expect(token.method).toBe("POST");
    expect(token.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(Object.fromEntries(new URLSearchParams(token.text))).toEqual({
      grant_type: "client_credentials",
      client_id: "client-id",
      client_secret: CLIENT_SECRET,
    });
    const [request] = tenant.requests;
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe(`/beta/trigger-invocations/${INVOCATION_ID}/complete`);
    expect(request?.headers.authorization).toBe("Bearer token-1");
    expect(request?.headers["x-sailpoint-experimental"]).toBe("true");
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.headers.accept).toBe("application/json");
    expect(request?.json).toEqual({
      secret: SECRET,
      output: { approved: true, comment: "ok", approver: "system" },
    });
  });

  it("sends {secret, output: {}, error} to fail an invocation on purpose, via an accepted callbackURL", async () => {
    const callbackUrl = `${tenant.baseUrl}/beta/trigger-invocations/${INVOCATION_ID}/complete`;
    await client().completeInvocation(
      { callbackUrl },
      { secret: SECRET, output: {}, error: "no rule matched" },
    );
    expect(tenant.requests[0]?.json).toEqual({ secret: SECRET, output: {}, error: "no rule matched" });
    expect(tenant.requests[0]?.path).toBe(`/beta/trigger-invocations/${INVOCATION_ID}/complete`);
  });

  it("accepts the v1 callbackURL form", async () => {
    const callbackUrl = `${tenant.baseUrl}/trigger-invocations/v1/${INVOCATION_ID}/complete`;
    await client().completeInvocation({ callbackUrl }, { secret: SECRET, output: {} });
    expect(tenant.requests[0]?.path).toBe(`/trigger-invocations/v1/${INVOCATION_ID}/complete`);
  });

  const port = () => new URL(tenant.baseUrl).port;
  it.each([
    ["another host", () => `http://evil.example.com/beta/trigger-invocations/${INVOCATION_ID}/complete`],
    ["another port", () => `http://127.0.0.1:1/beta/trigger-invocations/${INVOCATION_ID}/complete`],
    [
      "https instead of http",
      () => `https://127.0.0.1:${port()}/beta/trigger-invocations/${INVOCATION_ID}/complete`,
    ],
    [
      "localhost alias",
      () => `http://localhost:${port()}/beta/trigger-invocations/${INVOCATION_ID}/complete`,
    ],
    ["userinfo", () => `http://user@127.0.0.1:${port()}/beta/trigger-invocations/${INVOCATION_ID}/complete`],
    ["another path", () => `${tenant.baseUrl}/beta/trigger-subscriptions`],
    ["dot segments", () => `${tenant.baseUrl}/beta/x/../trigger-invocations/${INVOCATION_ID}/complete`],
    ["a query", () => `${tenant.baseUrl}/beta/trigger-invocations/${INVOCATION_ID}/complete?x=1`],
    ["not a URL", () => "javascript:alert(1)"],
  ])(
    "refuses a callbackURL with %s before sending anything (no token request either)",
    async (_name, url) => {
      const error = await rejection(
        client().completeInvocation({ callbackUrl: url() }, { secret: SECRET, output: {} }),
      );
      expect(error).toBeInstanceOf(CallbackUrlRefusedError);
      expectNoSecrets(error);
      expect(tenant.all).toHaveLength(0);
    },
  );

  it("refuses a malformed invocation id without sending", async () => {
    const error = await rejection(
      client().completeInvocation({ invocationId: "../../oauth/token" }, { secret: SECRET, output: {} }),
    );
    expect(error).toBeInstanceOf(IscRequestRefusedError);
    expect(tenant.all).toHaveLength(0);
  });

  it("a second completion is InvocationGoneError, final (no retry)", async () => {
    const completed = new Set<string>();
    tenant.handle((request) => {
      if (completed.has(request.path)) {
        return {
          status: 400,
          body: errorDto("400.1.404 Referenced object not found", "Invocation not found"),
        };
      }
      completed.add(request.path);
      return { status: 204 };
    });
    const c = client(fakeTime());
    await c.completeInvocation({ invocationId: INVOCATION_ID }, { secret: SECRET, output: {} });
    const error = await rejection(
      c.completeInvocation({ invocationId: INVOCATION_ID }, { secret: SECRET, output: {} }),
    );
    expect(error).toBeInstanceOf(InvocationGoneError);
    expect(error).toBeInstanceOf(IscApiError);
    const gone = error as InvocationGoneError;
    expect(gone.status).toBe(400);
    expect(gone.detailCode).toBe("400.1.404 Referenced object not found");
    expect(gone.trackingId).toBe("0123456789abcdef0123456789abcdef");
    expect(gone.invocationId).toBe(INVOCATION_ID);
    expect(gone.uncertainEarlierAttempt).toBe(false);
    expect(gone.message).toContain("was not found, is already completed, or has expired");
    expect(tenant.requests).toHaveLength(2);
    expectNoSecrets(gone);
  });

  it("marks InvocationGoneError uncertain when an earlier attempt of the same call got a 5xx", async () => {
    tenant.handle((_request, index) =>
      index === 0
        ? { status: 502, body: errorDto("502 Bad Gateway", "upstream") }
        : { status: 400, body: errorDto("400.1.404 Referenced object not found", "gone") },
    );
    const error = await rejection(
      client(fakeTime()).completeInvocation({ invocationId: INVOCATION_ID }, { secret: SECRET, output: {} }),
    );
    expect(error).toBeInstanceOf(InvocationGoneError);
    expect((error as InvocationGoneError).uncertainEarlierAttempt).toBe(true);
  });
});

describe("retries", () => {
  it("429 honours Retry-After (seconds), then succeeds", async () => {
    tenant.handle((_request, index) =>
      index === 0
        ? { status: 429, body: { message: " Rate Limit Exceeded " }, headers: { "retry-after": "3" } }
        : { status: 204 },
    );
    const time = fakeTime();
    const events: RetryEvent[] = [];
    await client({ ...time, onRetry: (event) => events.push(event) }).completeInvocation(
      { invocationId: INVOCATION_ID },
      { secret: SECRET, output: {} },
    );
    expect(tenant.requests).toHaveLength(2);
    expect(time.sleeps).toEqual([3000]);
    expect(events).toEqual([
      expect.objectContaining({ reason: "rate-limited", status: 429, delayMs: 3000, attempt: 1 }),
    ]);
  });

  it("429 honours Retry-After as an HTTP date", async () => {
    const time = fakeTime(Date.parse("2026-01-01T00:00:00Z"));
    tenant.handle((_request, index) =>
      index === 0
        ? {
            status: 429,
            body: { message: " Rate Limit Exceeded " },
            headers: { "retry-after": "Thu, 01 Jan 2026 00:00:05 GMT" },
          }
        : { status: 200, body: [] },
    );
    await client(time).listTriggers();
    expect(time.sleeps).toEqual([5000]);
  });

  it("fails at once with IscDeadlineError (last status 429) when Retry-After would pass the deadline", async () => {
    tenant.handle(() => ({
      status: 429,
      body: { message: " Rate Limit Exceeded " },
      headers: { "retry-after": "30" },
    }));
    const time = fakeTime();
    const error = await rejection(client(time).listTriggers({}, { deadline: time.now() + 10_000 }));
    expect(error).toBeInstanceOf(IscDeadlineError);
    expect((error as IscDeadlineError).lastStatus).toBe(429);
    expect((error as IscDeadlineError).reason).toBe("deadline");
    expect(time.sleeps).toEqual([]);
    expect(tenant.requests).toHaveLength(1);
  });

  it("5xx retries with growing jittered backoff and succeeds within the deadline", async () => {
    tenant.handle((_request, index) =>
      index < 2
        ? { status: 500, body: errorDto("500.0 Internal Fault", "An internal fault occurred.") }
        : { status: 204 },
    );
    const time = fakeTime();
    await client({ ...time, retry: { baseDelayMs: 100 } }).completeInvocation(
      { invocationId: INVOCATION_ID },
      { secret: SECRET, output: {} },
      { deadline: time.now() + 5_000 },
    );
    expect(tenant.requests).toHaveLength(3);
    // Equal jitter with random() = 0.5: 3/4 of 100, then 3/4 of 200.
    expect(time.sleeps).toEqual([75, 150]);
  });

  it("5xx until the deadline: gives up with IscDeadlineError carrying the last status, never waiting past it", async () => {
    tenant.handle(() => ({
      status: 503,
      body: errorDto("503 Service Unavailable", "try later", "track-503"),
    }));
    const time = fakeTime();
    const deadline = time.now() + 1_000;
    const error = await rejection(
      client({ ...time, retry: { baseDelayMs: 200, maxAttempts: 50 } }).completeInvocation(
        { invocationId: INVOCATION_ID },
        { secret: SECRET, output: {} },
        { deadline },
      ),
    );
    expect(error).toBeInstanceOf(IscDeadlineError);
    const deadlineError = error as IscDeadlineError;
    expect(deadlineError.lastStatus).toBe(503);
    expect(deadlineError.trackingId).toBe("track-503");
    expect(deadlineError.attempts).toBe(tenant.requests.length);
    expect(time.now()).toBeLessThanOrEqual(deadline);
    expect(tenant.requests.length).toBeGreaterThan(1);
    expectNoSecrets(deadlineError);
  });

  it("5xx until maxAttempts: the last IscApiError is thrown", async () => {
    tenant.handle(() => ({
      status: 500,
      body: errorDto("500.0 Internal Fault", "An internal fault occurred."),
    }));
    const error = await rejection(client({ ...fakeTime(), retry: { maxAttempts: 3 } }).listTriggers());
    expect(error).toBeInstanceOf(IscApiError);
    expect((error as IscApiError).status).toBe(500);
    expect((error as IscApiError).messages).toEqual(["An internal fault occurred."]);
    expect(tenant.requests).toHaveLength(3);
  });

  it("a per-attempt timeout is retried", async () => {
    tenant.handle((_request, index) =>
      index === 0 ? { status: 200, hang: true } : { status: 200, body: [] },
    );
    const triggers = await client({ retry: { attemptTimeoutMs: 150, baseDelayMs: 1 } }).listTriggers();
    expect(triggers).toEqual([]);
    expect(tenant.requests).toHaveLength(2);
  });

  it("an aborted signal stops the call with IscDeadlineError(reason aborted)", async () => {
    tenant.handle(() => ({ status: 200, hang: true }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await rejection(client().listTriggers({}, { signal: controller.signal }));
    expect(error).toBeInstanceOf(IscDeadlineError);
    expect((error as IscDeadlineError).reason).toBe("aborted");
  });

  it("network errors are retried, then IscNetworkError names the cause", async () => {
    const closed = await startFakeTenant();
    const baseUrl = closed.baseUrl;
    await closed.close();
    const time = fakeTime();
    const error = await rejection(
      new IscClient({
        baseUrl,
        clientId: "id",
        clientSecret: CLIENT_SECRET,
        ...time,
        retry: { maxAttempts: 3 },
      }).listTriggers(),
    );
    expect(error).toBeInstanceOf(IscNetworkError);
    expect(error.message).toContain("ECONNREFUSED");
    expect(time.sleeps).toHaveLength(2);
    expectNoSecrets(error);
  });

  it("non-idempotent creates are not retried after a 500 (no duplicate subscription)", async () => {
    tenant.handle(() => ({ status: 500, body: errorDto("500.0 Internal Fault", "fault") }));
    const error = await rejection(
      client(fakeTime()).createSubscription({
        name: "x",
        triggerId: "idn:access-request-pre-approval",
        type: "HTTP",
        httpConfig: { url: "https://example.com", httpDispatchMode: "SYNC" },
      }),
    );
    expect((error as IscApiError).status).toBe(500);
    expect(tenant.requests).toHaveLength(1);
  });
});

describe("tokens", () => {
  it("401 drops the token, fetches one new token and retries once", async () => {
    tenant.handle((request) =>
      request.headers.authorization === "Bearer token-1"
        ? { status: 401, body: { error: "JWT validation failed: JWT is expired" } }
        : { status: 200, body: [] },
    );
    const c = client();
    await c.listTriggers();
    expect(tenant.tokenRequests).toHaveLength(2);
    expect(tenant.requests.map((r) => r.headers.authorization)).toEqual(["Bearer token-1", "Bearer token-2"]);
    // The new token is cached for later calls.
    await c.listTriggers();
    expect(c.tokenRequests).toBe(2);
  });

  it("a second 401 is final, with ISC's message", async () => {
    tenant.handle(() => ({ status: 401, body: { error: "JWT validation failed: JWT is expired" } }));
    const error = await rejection(client().listTriggers());
    expect(error).toBeInstanceOf(IscApiError);
    expect((error as IscApiError).status).toBe(401);
    expect((error as IscApiError).messages).toEqual(["JWT validation failed: JWT is expired"]);
    expect(tenant.requests).toHaveLength(2);
    expect(tenant.tokenRequests).toHaveLength(2);
    expectNoSecrets(error);
  });

  it("concurrent callers share one in-flight token request", async () => {
    tenant.handleToken(() => ({
      status: 200,
      body: { access_token: "token-1", expires_in: 749 },
      delayMs: 50,
    }));
    tenant.handle(() => ({ status: 200, body: [] }));
    const c = client();
    await Promise.all(Array.from({ length: 10 }, () => c.listTriggers()));
    expect(tenant.tokenRequests).toHaveLength(1);
    expect(tenant.requests).toHaveLength(10);
  });

  it("the token is reused until shortly before expires_in, then refreshed", async () => {
    tenant.handleToken((_request, index) => ({
      status: 200,
      body: { access_token: `token-${index + 1}`, expires_in: 100 },
    }));
    tenant.handle(() => ({ status: 200, body: [] }));
    const time = fakeTime();
    const c = client(time);
    await c.listTriggers();
    time.advance(85_000);
    await c.listTriggers();
    expect(c.tokenRequests).toBe(1);
    time.advance(6_000); // 91 s: inside the 10 % margin
    await c.listTriggers();
    expect(c.tokenRequests).toBe(2);
  });

  it("a failed refresh inside the margin keeps using the still-valid token, never an expired one", async () => {
    tenant.handleToken((_request, index) =>
      index === 0
        ? { status: 200, body: { access_token: "token-1", expires_in: 100 } }
        : { status: 503, body: errorDto("503 Service Unavailable", "oauth is down") },
    );
    tenant.handle(() => ({ status: 200, body: [] }));
    const time = fakeTime();
    const c = client({ ...time, retry: { maxAttempts: 1 } });
    await c.listTriggers();
    time.advance(91_000); // refresh due (10 % margin) but token-1 is valid until 100 s
    await c.listTriggers();
    expect(tenant.requests.map((r) => r.headers.authorization)).toEqual(["Bearer token-1", "Bearer token-1"]);
    expect(c.tokenRequests).toBe(2);
    time.advance(9_000); // 100 s: expired, a failed refresh now fails the call
    const error = await rejection(c.listTriggers());
    expect((error as IscApiError).status).toBe(503);
    expect(tenant.requests).toHaveLength(2);
  });

  it("refused client credentials are final, name the variables and never show the secret", async () => {
    tenant.handleToken(() => ({
      status: 401,
      body: { error: "invalid_client", error_description: "Bad credentials" },
    }));
    const error = await rejection(client().listTriggers());
    expect(error).toBeInstanceOf(IscApiError);
    expect((error as IscApiError).code).toBe("ISC_AUTH_FAILED");
    expect(error.message).toContain("SAIL_CLIENT_SECRET");
    expect(tenant.requests).toHaveLength(0);
    expect(tenant.tokenRequests).toHaveLength(1);
    expectNoSecrets(error);
  });
});

describe("errors and responses", () => {
  it("a 400 ErrorResponseDto is final and parsed", async () => {
    tenant.handle(() => ({
      status: 400,
      body: {
        ...errorDto(
          "400.1 Bad Request Content",
          "The request was syntactically correct but its content is semantically invalid.",
        ),
        causes: [{ locale: "en-US", localeOrigin: "DEFAULT", text: "name is required" }],
      },
    }));
    const error = await rejection(client().validateFilter({ input: {}, filter: "$" }));
    expect(error).toBeInstanceOf(IscApiError);
    const api = error as IscApiError;
    expect(api.status).toBe(400);
    expect(api.detailCode).toBe("400.1 Bad Request Content");
    expect(api.messages).toEqual([
      "The request was syntactically correct but its content is semantically invalid.",
    ]);
    expect(api.causes).toEqual(["name is required"]);
    expect(api.message).toContain("POST /beta/trigger-subscriptions/validate-filter failed with status 400");
    expect(tenant.requests).toHaveLength(1);
  });

  it("a 403 is final", async () => {
    tenant.handle(() => ({ status: 403, body: errorDto("403 Forbidden", "refuses to authorize it") }));
    const error = await rejection(client().listSubscriptions());
    expect((error as IscApiError).status).toBe(403);
    expect(tenant.requests).toHaveLength(1);
  });

  it("a redirect is not followed (the token must not travel elsewhere)", async () => {
    const other = await startFakeTenant(() => ({ status: 200, body: [] }));
    tenant.handle(() => ({ status: 307, headers: { location: `${other.baseUrl}/beta/triggers` } }));
    const error = await rejection(client().listTriggers());
    expect((error as IscApiError).status).toBe(307);
    expect(other.all).toHaveLength(0);
    await other.close();
  });

  it("a 2xx body of the wrong shape is IscResponseError", async () => {
    tenant.handle(() => ({ status: 200, body: [{ id: "x" }] }));
    const error = await rejection(client().listTriggers());
    expect(error).toBeInstanceOf(IscResponseError);
    expect((error as IscResponseError).issues[0]?.path).toMatch(/^\[0\]\./);
  });
});

describe("limiter", () => {
  it("queues a burst instead of earning 429s", async () => {
    // The tenant allows 3 requests per 150 ms (checked with slack for loopback latency).
    const seen: number[] = [];
    tenant.handle(() => {
      const now = performance.now();
      seen.push(now);
      const recent = seen.filter((t) => t > now - 120);
      return recent.length > 3
        ? { status: 429, body: { message: " Rate Limit Exceeded " } }
        : { status: 200, body: [] };
    });
    const events: RetryEvent[] = [];
    const c = client({ rateLimit: { requests: 3, windowMs: 150 }, onRetry: (event) => events.push(event) });
    await Promise.all(Array.from({ length: 7 }, () => c.listTriggers()));
    expect(tenant.requests).toHaveLength(7);
    expect(events).toEqual([]);
  });

  it("refuses to queue past the deadline: IscDeadlineError without sending", async () => {
    tenant.handle(() => ({ status: 200, body: [] }));
    const time = fakeTime();
    const c = client({ ...time, rateLimit: { requests: 1, windowMs: 10_000 } });
    await c.listTriggers();
    const error = await rejection(c.listTriggers({}, { deadline: time.now() + 1_000 }));
    expect(error).toBeInstanceOf(IscDeadlineError);
    expect(tenant.requests).toHaveLength(1);
  });
});

describe("subscriptions", () => {
  const subscription = {
    id: "sub-1",
    name: "pre-approval",
    triggerId: "idn:access-request-pre-approval",
    triggerName: "Access Request Submitted",
    type: "HTTP",
    responseDeadline: "PT1H",
    httpConfig: {
      url: "https://example.com/hook",
      httpDispatchMode: "ASYNC",
      httpAuthenticationType: "BEARER_TOKEN",
      bearerTokenAuthConfig: { bearerToken: null },
    },
    enabled: true,
  };

  it("getSubscription lists with an id filter and picks the match; absent → IscNotFoundError", async () => {
    tenant.handle((request) => ({
      status: 200,
      body: request.query.get("filters") === 'id eq "sub-1"' ? [subscription] : [],
    }));
    expect((await client().getSubscription("sub-1")).triggerName).toBe("Access Request Submitted");
    const error = await rejection(client().getSubscription("sub-2"));
    expect(error).toBeInstanceOf(IscNotFoundError);
  });

  it("updateSubscription refuses a changed triggerId before sending the PUT", async () => {
    tenant.handle(() => ({ status: 200, body: [subscription] }));
    const error = await rejection(
      client().updateSubscription("sub-1", {
        name: "x",
        type: "HTTP",
        triggerId: "idn:access-request-dynamic-approver",
      }),
    );
    expect(error).toBeInstanceOf(IscRequestRefusedError);
    expect(tenant.requests.map((r) => r.method)).toEqual(["GET"]);
  });

  it("updateSubscription refuses a different id without any request", async () => {
    const error = await rejection(
      client().updateSubscription("sub-1", { id: "sub-2", name: "x", type: "HTTP" }),
    );
    expect(error).toBeInstanceOf(IscRequestRefusedError);
    expect(tenant.all).toHaveLength(0);
  });

  it("updateSubscription PUTs the body without id/triggerId when they match", async () => {
    tenant.handle((request) =>
      request.method === "GET" ? { status: 200, body: [subscription] } : { status: 200, body: subscription },
    );
    await client().updateSubscription("sub-1", {
      id: "sub-1",
      triggerId: "idn:access-request-pre-approval",
      name: "pre-approval",
      type: "HTTP",
      enabled: true,
    });
    const put = tenant.requests.find((r) => r.method === "PUT");
    expect(put?.path).toBe("/beta/trigger-subscriptions/sub-1");
    expect(put?.json).toEqual({ name: "pre-approval", type: "HTTP", enabled: true });
  });

  it("patchSubscription sends application/json-patch+json", async () => {
    tenant.handle(() => ({ status: 200, body: subscription }));
    await client().patchSubscription("sub-1", [{ op: "replace", path: "/enabled", value: false }]);
    expect(tenant.requests[0]?.headers["content-type"]).toBe("application/json-patch+json");
    expect(tenant.requests[0]?.method).toBe("PATCH");
  });

  it("ids with characters an id cannot have are refused", async () => {
    const error = await rejection(client().deleteSubscription('x" or id ne "y'));
    expect(error).toBeInstanceOf(IscRequestRefusedError);
    expect(tenant.all).toHaveLength(0);
  });
});

describe("configuration", () => {
  it("fromEnv names every missing variable", () => {
    let error: unknown;
    try {
      IscClient.fromEnv({ SAIL_BASE_URL: "https://acme.api.identitynow.com" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variables).toEqual(["SAIL_CLIENT_ID", "SAIL_CLIENT_SECRET"]);
    expect((error as Error).message).toContain("SAIL_CLIENT_ID, SAIL_CLIENT_SECRET");
  });

  it("fromEnv builds a client on the tenant origin", () => {
    const c = IscClient.fromEnv({
      SAIL_BASE_URL: "https://acme.api.identitynow.com/",
      SAIL_CLIENT_ID: "id",
      SAIL_CLIENT_SECRET: "secret",
    });
    expect(c.baseUrl).toBe("https://acme.api.identitynow.com");
  });

  it.each([
    "http://acme.api.identitynow.com",
    "https://acme.api.identitynow.com/beta",
    "https://user:pass@acme.api.identitynow.com",
    "not a url",
  ])("refuses SAIL_BASE_URL %s", (baseUrl) => {
    expect(() => new IscClient({ baseUrl, clientId: "id", clientSecret: "s" })).toThrow(ConfigError);
  });
});
