import { describe, expect, it } from "vitest";
import { parseErrorResponse, parseRetryAfter } from "../../../lib/isc/http-errors.ts";
import { SlidingWindowLimiter } from "../../../lib/isc/rate-limiter.ts";

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

  it("refuses nonsense settings", () => {
    expect(() => new SlidingWindowLimiter({ requests: 0, windowMs: 1 })).toThrow(RangeError);
    expect(() => new SlidingWindowLimiter({ requests: 1, windowMs: 0 })).toThrow(RangeError);
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
