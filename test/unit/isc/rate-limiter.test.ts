import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseErrorResponse, parseRetryAfter } from "../../../lib/isc/http-errors.ts";
import {
  apiVersionOf,
  PerVersionLimiter,
  SlidingWindowLimiter,
  TOKEN_WINDOW,
} from "../../../lib/isc/rate-limiter.ts";

describe("SlidingWindowLimiter", () => {
  it("grants `requests` slots per window and queues the rest in call order", () => {
    let now = 1_000;
    const limiter = new SlidingWindowLimiter({ requests: 3, windowMs: 100 }, () => now);
    const waits = Array.from({ length: 7 }, () => limiter.reserve()?.waitMs);
    expect(waits).toEqual([0, 0, 0, 100, 100, 100, 200]);
    now += 150;
    // Slots at 1000 left the window; the next free start is when the 1100s leave it, at 1200.
    expect(limiter.reserve()?.waitMs).toBe(50);
  });

  it("never lets more than `requests` slots start inside any window", () => {
    let now = 0;
    const limiter = new SlidingWindowLimiter({ requests: 5, windowMs: 1_000 }, () => now);
    const starts: number[] = [];
    for (let i = 0; i < 40; i++) {
      now += Math.floor((i * 37) % 90);
      const reservation = limiter.reserve();
      starts.push(now + (reservation?.waitMs ?? 0));
    }
    for (const start of starts) {
      expect(starts.filter((s) => s >= start && s < start + 1_000).length).toBeLessThanOrEqual(5);
    }
  });

  it("reserves nothing when the slot would start after the deadline", () => {
    const limiter = new SlidingWindowLimiter({ requests: 1, windowMs: 1_000 }, () => 0);
    expect(limiter.reserve(10)?.waitMs).toBe(0);
    expect(limiter.reserve(10)).toBeUndefined();
    expect(limiter.pending).toBe(1);
    expect(limiter.reserve(1_000)?.waitMs).toBe(1_000);
  });

  it("a cancelled reservation gives its slot back", () => {
    const limiter = new SlidingWindowLimiter({ requests: 1, windowMs: 1_000 }, () => 0);
    limiter.reserve()?.cancel();
    expect(limiter.reserve()?.waitMs).toBe(0);
  });

  it("keeps every window under the limit after cancellations leave a queued future slot", () => {
    // A burst queues slots in the future, then some callers give up (deadline or abort) before theirs start.
    let now = 0;
    const limiter = new SlidingWindowLimiter({ requests: 2, windowMs: 10 }, () => now);
    const a = limiter.reserve();
    const b = limiter.reserve();
    expect(limiter.reserve()?.waitMs).toBe(10);
    a?.cancel();
    b?.cancel();
    const starts = [10];
    now = 1;
    const d = limiter.reserve();
    const e = limiter.reserve();
    const f = limiter.reserve();
    starts.push(now + (d?.waitMs ?? 0), now + (f?.waitMs ?? 0));
    now = 12;
    e?.cancel();
    const g = limiter.reserve();
    if (g !== undefined) starts.push(now + g.waitMs);
    starts.sort((x, y) => x - y);
    for (const start of starts) {
      expect(starts.filter((s) => s >= start && s < start + 10).length).toBeLessThanOrEqual(2);
    }
  });

  it("never exceeds the limit under random bursts, clock steps and cancellations", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 6 }) }),
            fc.record({ kind: fc.constant("cancel" as const), pick: fc.nat() }),
            fc.record({ kind: fc.constant("reserve" as const), deadlineIn: fc.option(fc.nat({ max: 15 })) }),
          ),
          { maxLength: 60 },
        ),
        (requests, operations) => {
          let now = 0;
          const windowMs = 10;
          const limiter = new SlidingWindowLimiter({ requests, windowMs }, () => now);
          const granted: { start: number; cancel: () => void; cancelled: boolean }[] = [];
          for (const operation of operations) {
            if (operation.kind === "tick") now += operation.ms;
            else if (operation.kind === "cancel") {
              // Only a reservation that has not started yet can be given back.
              const waiting = granted.filter((g) => !g.cancelled && g.start >= now);
              const chosen = waiting[operation.pick % Math.max(1, waiting.length)];
              if (chosen !== undefined) {
                chosen.cancel();
                chosen.cancelled = true;
              }
            } else {
              const deadline = operation.deadlineIn === null ? undefined : now + operation.deadlineIn;
              const reservation = limiter.reserve(deadline);
              if (reservation !== undefined)
                granted.push({
                  start: now + reservation.waitMs,
                  cancel: reservation.cancel,
                  cancelled: false,
                });
            }
          }
          const starts = granted
            .filter((g) => !g.cancelled)
            .map((g) => g.start)
            .sort((x, y) => x - y);
          for (let i = 0; i + requests < starts.length; i++) {
            expect((starts[i + requests] as number) - (starts[i] as number)).toBeGreaterThanOrEqual(windowMs);
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it("refuses nonsense settings", () => {
    expect(() => new SlidingWindowLimiter({ requests: 0, windowMs: 1 })).toThrow(RangeError);
    expect(() => new SlidingWindowLimiter({ requests: 1, windowMs: 0 })).toThrow(RangeError);
  });
});

describe("PerVersionLimiter", () => {
  it("keys each request by its API version; the token endpoint and v1 per-service paths too", () => {
    expect(apiVersionOf("/v3/roles")).toBe("v3");
    expect(apiVersionOf("/v2025/identities/abc?limit=1")).toBe("v2025");
    expect(apiVersionOf("/v2024/identities")).toBe("v2024");
    expect(apiVersionOf("/beta/trigger-invocations/x/complete")).toBe("beta");
    expect(apiVersionOf("https://acme.api.identitynow.com/beta/triggers")).toBe("beta");
    expect(apiVersionOf("/trigger-invocations/v1/x/complete")).toBe("v1");
    expect(apiVersionOf("/triggers/v1")).toBe("v1");
    expect(apiVersionOf("/oauth/token")).toBe(TOKEN_WINDOW);
    // Unknown shapes share one window: the set of windows stays bounded.
    expect(apiVersionOf("/cc/api/org")).toBe("other");
    expect(apiVersionOf("/")).toBe("other");
  });

  it("gives each version its own window with the configured limit", () => {
    let now = 0;
    const limiter = new PerVersionLimiter({ requests: 2, windowMs: 1_000 }, () => now);
    const wait = (path: string) => limiter.forPath(path).reserve()?.waitMs;
    expect([wait("/v3/roles"), wait("/v3/sources"), wait("/v3/roles/x")]).toEqual([0, 0, 1_000]);
    expect([wait("/v2025/identities"), wait("/beta/triggers"), wait("/oauth/token")]).toEqual([0, 0, 0]);
    expect(limiter.forPath("/v3/x")).toBe(limiter.window("v3"));
    expect(limiter.pendingByVersion).toEqual({ v3: 3, v2025: 1, beta: 1, [TOKEN_WINDOW]: 1 });
    now = 1_000;
    expect(wait("/v2025/identities")).toBe(0);
  });

  it("gives a version its own limit when asked (a container's share of beta completions)", () => {
    const limiter = new PerVersionLimiter({ requests: 1, windowMs: 1_000 }, () => 0, {
      beta: { requests: 3, windowMs: 1_000 },
    });
    const wait = (path: string) => limiter.forPath(path).reserve()?.waitMs;
    expect([wait("/beta/a"), wait("/beta/b"), wait("/beta/c"), wait("/beta/d")]).toEqual([0, 0, 0, 1_000]);
    expect([wait("/v3/roles"), wait("/v3/roles")]).toEqual([0, 1_000]);
    expect(
      () =>
        new PerVersionLimiter({ requests: 1, windowMs: 1 }, Date.now, { v3: { requests: 0, windowMs: 1 } }),
    ).toThrow(RangeError);
  });

  it("refuses nonsense settings at construction", () => {
    expect(() => new PerVersionLimiter({ requests: 0, windowMs: 1 })).toThrow(RangeError);
    expect(() => new PerVersionLimiter({ requests: 1, windowMs: -1 })).toThrow(RangeError);
  });
});

describe("ISC error replies", () => {
  const now = () => Date.parse("2026-01-01T00:00:00Z");

  it("reads Retry-After as seconds or an HTTP date", () => {
    expect(parseRetryAfter("7", now)).toBe(7_000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:02 GMT", now)).toBe(2_000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 23:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it("parses ErrorResponseDto, the 401 {error} and the 429 {message} forms", () => {
    const dto = parseErrorResponse(
      "GET /beta/triggers",
      400,
      JSON.stringify({
        detailCode: "400.1 Bad Request Content",
        trackingId: "abc",
        messages: [{ locale: "en-US", localeOrigin: "DEFAULT", text: "bad" }],
        causes: [{ locale: null, localeOrigin: null, text: "why" }],
      }),
      new Headers(),
      now,
    );
    expect(dto).toEqual({
      status: 400,
      operation: "GET /beta/triggers",
      detailCode: "400.1 Bad Request Content",
      trackingId: "abc",
      messages: ["bad"],
      causes: ["why"],
    });
    const expired = parseErrorResponse(
      "x",
      401,
      '{"error":"JWT validation failed: JWT is expired"}',
      new Headers(),
      now,
    );
    expect(expired.messages).toEqual(["JWT validation failed: JWT is expired"]);
    const limited = parseErrorResponse(
      "x",
      429,
      '{"message":" Rate Limit Exceeded "}',
      new Headers({ "Retry-After": "4" }),
      now,
    );
    expect(limited).toMatchObject({ messages: ["Rate Limit Exceeded"], retryAfterSeconds: 4 });
  });

  it("tolerates a body that is not JSON or not an object", () => {
    expect(parseErrorResponse("x", 502, "<html>bad gateway</html>", new Headers(), now)).toEqual({
      status: 502,
      operation: "x",
    });
    expect(parseErrorResponse("x", 500, "[1,2]", new Headers(), now)).toEqual({
      status: 500,
      operation: "x",
    });
  });
});
