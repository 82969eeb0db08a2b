import { describe, expect, it } from "vitest";
import {
  createCachedCredentialsProvider,
  isAuthorized,
  parseWebhookCredentials,
  WebhookCredentialsInvalidError,
} from "../../../lib/http/auth.ts";

describe("parseWebhookCredentials", () => {
  it("reads bearer (type optional) and basic shapes; empty previous counts as none", () => {
    expect(parseWebhookCredentials('{"current":"a"}')).toEqual({
      type: "bearer",
      current: "a",
      previous: undefined,
    });
    expect(parseWebhookCredentials('{"type":"bearer","current":"a","previous":""}').previous).toBeUndefined();
    expect(parseWebhookCredentials('{"type":"basic","username":"u","current":"p","previous":"q"}')).toEqual({
      type: "basic",
      username: "u",
      current: "p",
      previous: "q",
    });
  });

  it("refuses other shapes without quoting the secret", () => {
    for (const text of [
      "not json",
      "{}",
      '{"type":"basic","current":"s3cr3t"}',
      '{"type":"oauth","current":"s3cr3t"}',
    ]) {
      try {
        parseWebhookCredentials(text);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(WebhookCredentialsInvalidError);
        expect((error as Error).message).not.toContain("s3cr3t");
      }
    }
  });
});

describe("isAuthorized", () => {
  const bearer = { type: "bearer" as const, current: "now", previous: "before" };
  it("accepts current or previous, refuses the rest", () => {
    expect(isAuthorized("Bearer now", bearer)).toBe(true);
    expect(isAuthorized("BEARER before", bearer)).toBe(true);
    expect(isAuthorized("Bearer nowx", bearer)).toBe(false);
    expect(isAuthorized("Bearer", bearer)).toBe(false);
    expect(isAuthorized(undefined, bearer)).toBe(false);
    expect(isAuthorized(`Bearer ${"x".repeat(10_000)}`, bearer)).toBe(false);
    expect(isAuthorized("Bearer before", { type: "bearer", current: "now" })).toBe(false);
  });
  it("accepts previous only before previousExpiresAt; an unreadable expiry refuses previous only", () => {
    const expiring = parseWebhookCredentials(
      JSON.stringify({ current: "now", previous: "before", previousExpiresAt: "2025-01-01T00:15:00Z" }),
    );
    const expiresAt = Date.parse("2025-01-01T00:15:00Z");
    expect(expiring.previousExpiresAt).toBe(expiresAt);
    expect(isAuthorized("Bearer before", expiring, expiresAt - 1)).toBe(true);
    expect(isAuthorized("Bearer before", expiring, expiresAt)).toBe(false);
    expect(isAuthorized("Bearer now", expiring, expiresAt + 1)).toBe(true);
    const basic = parseWebhookCredentials(
      JSON.stringify({
        type: "basic",
        username: "u",
        current: "now",
        previous: "before",
        previousExpiresAt: "soon",
      }),
    );
    expect(isAuthorized(`Basic ${Buffer.from("u:before").toString("base64")}`, basic, 0)).toBe(false);
    expect(isAuthorized(`Basic ${Buffer.from("u:now").toString("base64")}`, basic, 0)).toBe(true);
  });
  it("splits Basic at the first colon (passwords may contain colons)", () => {
    const basic = { type: "basic" as const, username: "isc", current: "a:b" };
    expect(isAuthorized(`Basic ${Buffer.from("isc:a:b").toString("base64")}`, basic)).toBe(true);
    expect(isAuthorized(`Basic ${Buffer.from("isc:a").toString("base64")}`, basic)).toBe(false);
    expect(isAuthorized(`Basic ${Buffer.from("isca:b").toString("base64")}`, basic)).toBe(false);
  });
});

describe("createCachedCredentialsProvider", () => {
  it("caches for the TTL, shares concurrent reads, keeps a stale value when a refresh fails", async () => {
    let now = 0;
    let reads = 0;
    let fail = false;
    const provider = createCachedCredentialsProvider(
      async () => {
        reads++;
        if (fail) throw new Error("down");
        return '{"current":"t"}';
      },
      { ttlMs: 1000, minRefreshIntervalMs: 100, now: () => now },
    );
    await Promise.all([provider.get(), provider.get(), provider.get()]);
    expect(reads).toBe(1);
    now = 500;
    await provider.get();
    expect(reads).toBe(1);
    now = 1500;
    fail = true;
    expect((await provider.get()).current).toBe("t");
    expect(reads).toBe(2);
    // The failed refresh is retried only after minRefreshIntervalMs.
    await provider.get();
    expect(reads).toBe(2);
    now = 1600;
    await provider.get();
    expect(reads).toBe(3);
  });

  it("dates a value from the start of its read, so a read across a promotion does not delay the forced re-read", async () => {
    let now = 0;
    let reads = 0;
    const provider = createCachedCredentialsProvider(
      async () => {
        reads++;
        now += 3_000; // a slow read: it started before the promotion and returns the old token
        return '{"current":"t"}';
      },
      { ttlMs: 60_000, minRefreshIntervalMs: 10_000, now: () => now },
    );
    await provider.get();
    now = 10_000;
    await provider.get({ forceRefresh: true });
    expect(reads).toBe(2);
  });

  it("does not cache a failed first read", async () => {
    let reads = 0;
    const provider = createCachedCredentialsProvider(async () => {
      reads++;
      if (reads === 1) throw new Error("down");
      return '{"current":"t"}';
    });
    await expect(provider.get()).rejects.toThrow("down");
    expect((await provider.get()).current).toBe("t");
  });
});

describe("createJsonLineLogger", () => {
  it("writes JSON lines at or above the level, redacting credentials that slip into fields or messages", async () => {
    const { createJsonLineLogger } = await import("../../../lib/http/logger.ts");
    const lines: string[] = [];
    const logger = createJsonLineLogger("svc", "INFO", (_level, line) => lines.push(line));
    logger.debug("hidden");
    logger.info("seen Bearer abc.def", {
      invocationId: "i-1",
      authorization: "Bearer abc.def",
      nested: { secret: "s3" },
    });
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ level: "INFO", service: "svc", invocationId: "i-1" });
    expect(lines[0]).not.toContain("abc.def");
    expect(lines[0]).not.toContain("s3");
  });
});

describe("exceedsDepth", () => {
  it("measures arrays and objects alike, at the limit and one past it", async () => {
    const { exceedsDepth } = await import("../../../lib/http/body.ts");
    const nest = (depth: number): unknown => {
      let value: unknown = 1;
      for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { k: value };
      return value;
    };
    expect(exceedsDepth(nest(64), 64)).toBe(false);
    expect(exceedsDepth(nest(65), 64)).toBe(true);
    expect(exceedsDepth({ a: [1, { b: null }], c: "x" }, 3)).toBe(false);
    expect(exceedsDepth({ a: [1, { b: {} }] }, 3)).toBe(true);
    expect(exceedsDepth("text", 0)).toBe(false);
  });
});
