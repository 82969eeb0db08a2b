/**
 * The front's origin check: with ORIGIN_VERIFY_SECRET_ID set, a request without CloudFront's
 * `x-origin-verify` value is refused 403 before its credentials are read, and nothing of the header is logged.
 */
import { describe, expect, it } from "vitest";
import { HttpMetric } from "../../../lib/http/handler.ts";
import {
  createOriginVerifyProvider,
  originVerified,
  parseOriginVerifySecret,
} from "../../../lib/http/origin-check.ts";
import { RecordingMetrics } from "../responder/fixtures.ts";
import { body, event, setup } from "./fixtures.ts";

const VALUE = "Kq3fP8vT2mXw9LrB7sN4cY6hJ1dG5aZ0eUoVi";
const NEW_VALUE = "Wn5tR2yH8kLp3vQx7mCs1bZf9gDj4aEo6uIe";

function withFront(secret: { value: string; previous?: string } | (() => Promise<string>)) {
  let secretReads = 0;
  let credentialReads = 0;
  let clock = 1_000_000;
  let current = typeof secret === "function" ? undefined : JSON.stringify(secret);
  const originVerify = createOriginVerifyProvider(
    async () => {
      secretReads += 1;
      if (typeof secret === "function") return secret();
      return current as string;
    },
    { now: () => clock },
  );
  const metrics = new RecordingMetrics();
  const base = setup({ metrics, originVerify });
  const credentials = base.deps.credentials;
  const counted = setup({
    metrics,
    originVerify,
    credentials: {
      get: (options) => {
        credentialReads += 1;
        return credentials.get(options);
      },
    },
  });
  return {
    ...counted,
    metrics,
    reads: () => ({ secret: secretReads, credentials: credentialReads }),
    advance: (ms: number) => {
      clock += ms;
    },
    setSecret: (value: { value: string; previous?: string }) => {
      current = JSON.stringify(value);
    },
  };
}

const refusedOutcome = { outcome: "origin_refused" };

describe("http handler: the front's origin check", () => {
  it("without a configured origin secret: no check (a request without the header is authenticated)", async () => {
    const { handler } = setup();
    expect((await handler(event(body("async")))).statusCode).toBe(200);
  });

  it("a missing header: 403 before the credentials are read, counted as origin_refused, no re-read", async () => {
    const front = withFront({ value: VALUE });
    const result = await front.handler(event(body("async")));
    expect(result.statusCode).toBe(403);
    expect(JSON.parse(result.body).error.code).toBe("FORBIDDEN");
    expect(front.reads()).toEqual({ secret: 1, credentials: 0 });
    expect(front.metrics.sum(HttpMetric.requests, refusedOutcome)).toBe(1);
    expect(front.queue.messages).toEqual([]);
    const line = front.logger.lines.find((l) => l.includes("not through the front"));
    expect(JSON.parse(line ?? "{}")).toMatchObject({ originHeaderPresent: false });
  });

  it("a wrong header: 403, its value never logged; the secret is re-read at most once per 10 s", async () => {
    const front = withFront({ value: VALUE });
    const wrong = "attacker-guess-0123456789";
    const send = () => front.handler(event(body("async"), { headers: { "x-origin-verify": wrong } }));
    expect((await send()).statusCode).toBe(403);
    expect((await send()).statusCode).toBe(403);
    expect(front.reads()).toEqual({ secret: 1, credentials: 0 });
    front.advance(10_000);
    expect((await send()).statusCode).toBe(403);
    expect(front.reads().secret).toBe(2);
    expect(front.metrics.sum(HttpMetric.requests, refusedOutcome)).toBe(3);
    const logged = front.logger.lines.join("\n");
    expect(logged).not.toContain(wrong);
    expect(logged).not.toContain(VALUE);
  });

  it("the right header (any case of its name) goes on to authentication", async () => {
    const front = withFront({ value: VALUE });
    const ok = await front.handler(event(body("async"), { headers: { "X-Origin-Verify": VALUE } }));
    expect(ok.statusCode).toBe(200);
    const noToken = await front.handler(
      event(body("async"), { authorization: null, headers: { "x-origin-verify": VALUE } }),
    );
    expect(noToken.statusCode).toBe(401);
    expect(front.metrics.sum(HttpMetric.requests, refusedOutcome)).toBe(0);
  });

  it("a changed value is picked up by the re-read, and `previous` is accepted meanwhile", async () => {
    const front = withFront({ value: VALUE });
    const send = (value: string) =>
      front.handler(event(body("async"), { headers: { "x-origin-verify": value } }));
    expect((await send(VALUE)).statusCode).toBe(200);
    front.setSecret({ value: NEW_VALUE, previous: VALUE });
    front.advance(10_000);
    // The distribution already sends the new value: the mismatch re-reads the secret.
    expect((await send(NEW_VALUE)).statusCode).toBe(200);
    // Containers and edges still on the old value: accepted while it is `previous`.
    expect((await send(VALUE)).statusCode).toBe(200);
    expect(front.reads().secret).toBe(2);
  });

  it("an unreadable or malformed secret: 503, nothing of it logged", async () => {
    const down = withFront(async () => {
      throw new Error("secrets manager unavailable");
    });
    const result = await down.handler(event(body("async"), { headers: { "x-origin-verify": VALUE } }));
    expect(result.statusCode).toBe(503);
    expect(down.reads().credentials).toBe(0);
    const malformed = withFront(async () => JSON.stringify({ value: "" }));
    expect((await malformed.handler(event(body("async")))).statusCode).toBe(503);
  });
});

describe("origin verify secret", () => {
  it("parses {value, previous?} and refuses anything else without quoting it", () => {
    const values = parseOriginVerifySecret(JSON.stringify({ value: VALUE }));
    expect(originVerified(VALUE, values)).toBe(true);
    expect(originVerified(`${VALUE}x`, values)).toBe(false);
    expect(originVerified(undefined, values)).toBe(false);
    expect(originVerified("", values)).toBe(false);
    expect(originVerified("x".repeat(5_000), values)).toBe(false);
    for (const bad of ["not json", "{}", '{"value": 3}', `"${VALUE}"`]) {
      expect(() => parseOriginVerifySecret(bad)).toThrow(/origin verify secret/);
      try {
        parseOriginVerifySecret(bad);
      } catch (error) {
        expect(String(error)).not.toContain(VALUE);
      }
    }
  });
});
