import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ContextCache, DEFAULT_TTL_MS } from "../../../lib/context/cache.ts";
import { CachedContextReader } from "../../../lib/context/reader.ts";
import type { ContextSource, ContextSubject } from "../../../lib/context/types.ts";
import { IscApiError } from "../../../lib/isc/errors.ts";
import { FakeFetcher } from "./fake-fetcher.ts";

const needs = (...sources: ContextSource[]) => new Set(sources);
const people = (...ids: string[]): ContextSubject => ({
  requestedFor: ids.map((id) => ({ id })),
  requestedBy: { id: "rob" },
  requestedItems: [{ id: "ent-admin", type: "ENTITLEMENT" }],
});

function fakeClock(start = 1_000_000) {
  const clock = {
    t: start,
    now: () => clock.t,
    advance: (ms: number) => {
      clock.t += ms;
    },
  };
  return clock;
}

function gate() {
  let open: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("ContextCache", () => {
  it("defaults: short for people, SoD and requests, long for the access model", () => {
    expect(DEFAULT_TTL_MS.identities).toBe(60_000);
    expect(DEFAULT_TTL_MS.sodPrediction).toBe(30_000);
    expect(DEFAULT_TTL_MS.accessRequestStatus).toBe(30_000);
    for (const kind of ["entitlements", "accessProfiles", "roles", "sources", "sodPolicy"] as const) {
      expect(DEFAULT_TTL_MS[kind]).toBe(600_000);
    }
    expect(new ContextCache().maxEntries).toBe(5_000);
  });

  it("expires an entry TTL after its request was sent", () => {
    const clock = fakeClock();
    const cache = new ContextCache({ now: clock.now, ttlMs: { identities: 1_000 } });
    const sentAt = clock.t;
    clock.advance(400); // the answer arrives 400 ms later
    cache.set("identities", "identities:a", { id: "a" }, sentAt);
    clock.advance(599);
    expect(cache.get("identities:a")).toEqual({ id: "a" });
    clock.advance(1);
    expect(cache.get("identities:a")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("does not store what is already stale, nor a kind with TTL 0", () => {
    const clock = fakeClock();
    const cache = new ContextCache({ now: clock.now, ttlMs: { identities: 1_000, roles: 0 } });
    cache.set("identities", "identities:a", {}, clock.t - 1_000);
    cache.set("roles", "roles:r", {}, clock.t);
    expect(cache.size).toBe(0);
  });

  it("is bounded: the least recently used goes first", () => {
    const cache = new ContextCache({ maxEntries: 3 });
    const now = Date.now();
    for (const key of ["a", "b", "c"]) cache.set("roles", key, key, now);
    expect(cache.get("a")).toBe("a"); // a is now the most recent
    cache.set("roles", "d", "d", now);
    expect(cache.size).toBe(3);
    expect(cache.get("b")).toBeUndefined();
    expect(["a", "c", "d"].map((key) => cache.get(key))).toEqual(["a", "c", "d"]);
  });
});

describe("ContextCache: a hit's cost", () => {
  it("moves an older entry to the young end, leaves one among the latest quarter of insertions put", () => {
    const cache = new ContextCache({ maxEntries: 8 }); // the latest 2 insertions count as recent
    const now = Date.now();
    const keys = ["a", "b", "c", "d", "e", "f", "g", "h"];
    for (const key of keys) cache.set("roles", key, key, now);
    expect(cache.get("a")).toBe("a"); // 7 insertions after it: moved to the young end
    cache.set("roles", "i", "i", now);
    expect(cache.size).toBe(8);
    expect(cache.get("b")).toBeUndefined(); // the least recent went first
    expect(cache.get("a")).toBe("a");
  });

  it("an entry left put is still kept for 3/4 of the bound's insertions after its hit", () => {
    const cache = new ContextCache({ maxEntries: 8 });
    const now = Date.now();
    for (const key of ["a", "b", "c", "d", "e", "f", "g", "h"]) cache.set("roles", key, key, now);
    expect(cache.get("g")).toBe("g"); // one insertion after it: recent, not moved
    for (const key of ["i", "j", "k", "l", "m", "n"]) cache.set("roles", key, key, now);
    expect(cache.get("g")).toBe("g"); // 6 = 8 - 8/4 insertions later, still there (and now moved)
    expect(["a", "b", "c", "d", "e", "f"].map((key) => cache.get(key))).toEqual(Array(6).fill(undefined));
  });

  it("whatever the gets and sets: never past its bound, never a stale or wrong value", () => {
    const ops = fc.array(
      fc.record({
        set: fc.boolean(),
        key: fc.integer({ min: 0, max: 30 }),
        advance: fc.integer({ min: 0, max: 400 }),
      }),
      { maxLength: 300 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 12 }), ops, (maxEntries, steps) => {
        const clock = fakeClock();
        const cache = new ContextCache({ maxEntries, now: clock.now, ttlMs: { roles: 1_000 } });
        const stored = new Map<string, { value: number; expiresAt: number }>();
        steps.forEach((step, n) => {
          clock.advance(step.advance);
          const key = `roles:${step.key}`;
          if (step.set) {
            cache.set("roles", key, n, clock.t);
            stored.set(key, { value: n, expiresAt: clock.t + 1_000 });
          } else {
            const got = cache.get(key);
            const last = stored.get(key);
            if (got !== undefined) {
              expect(got).toBe(last?.value);
              expect(clock.t).toBeLessThan(last?.expiresAt ?? Number.NEGATIVE_INFINITY);
            }
          }
          expect(cache.size).toBeLessThanOrEqual(maxEntries);
        });
      }),
      { numRuns: 300 },
    );
  });

  it("checks freshness at the instant it is given", () => {
    const clock = fakeClock();
    const cache = new ContextCache({ now: clock.now, ttlMs: { identities: 1_000 } });
    cache.set("identities", "identities:a", "a", clock.t);
    expect(cache.get("identities:a", clock.t + 999)).toBe("a");
    expect(cache.get("identities:a", clock.t + 1_000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});

describe("the reader's cache", () => {
  it("serves a second read from the cache, and reads again once the TTL has passed", async () => {
    const clock = fakeClock();
    const fetcher = new FakeFetcher();
    const reader = new CachedContextReader(fetcher, { now: clock.now });
    await reader.read(people("alice"), needs("identity", "items"), {});
    expect(fetcher.count()).toBe(2);

    clock.advance(59_999);
    const warm = await reader.read(people("alice"), needs("identity", "items"), {});
    expect(fetcher.count()).toBe(2);
    expect(warm.cacheHits).toBe(2);
    expect(warm.reads).toEqual([]);
    expect(warm.data.provenance).toEqual({
      "identities:alice": { from: "cache", ms: 0 },
      "entitlements:ent-admin": { from: "cache", ms: 0 },
    });

    clock.advance(1); // identities expire at 60 s, entitlements at 10 min
    const cooler = await reader.read(people("alice"), needs("identity", "items"), {});
    expect(fetcher.calls.map((c) => c.method)).toEqual(["identities", "entitlements", "identities"]);
    expect(cooler.cacheHits).toBe(1);

    clock.advance(600_000);
    await reader.read(people("alice"), needs("items"), {});
    expect(fetcher.count("entitlements")).toBe(2);
  });

  it("never serves past the TTL counted from when the request was sent", async () => {
    const clock = fakeClock();
    const slow = gate();
    const fetcher = new FakeFetcher().on("identities", { gate: slow.promise });
    const reader = new CachedContextReader(fetcher, { now: clock.now, ttlMs: { identities: 10_000 } });
    const first = reader.read(people("alice"), needs("identity"), {});
    await tick();
    clock.advance(4_000); // the answer takes 4 s
    slow.open();
    await first;
    fetcher.reset();
    clock.advance(5_999);
    await reader.read(people("alice"), needs("identity"), {});
    expect(fetcher.count()).toBe(1);
    clock.advance(1); // 10 s after sending, 6 s after the answer
    await reader.read(people("alice"), needs("identity"), {});
    expect(fetcher.count()).toBe(2);
  });

  it("SoD predictions are cached per person and set of entitlements", async () => {
    const fetcher = new FakeFetcher();
    const reader = new CachedContextReader(fetcher);
    const withItems = (...ids: string[]): ContextSubject => ({
      ...people("alice"),
      requestedItems: ids.map((id) => ({ id, type: "ENTITLEMENT", operation: "Add" })),
    });
    await reader.read(withItems("ent-admin", "ent-sap"), needs("sod"), {});
    const again = await reader.read(withItems("ent-sap", "ent-admin"), needs("sod"), {});
    expect(fetcher.count("predictSod")).toBe(1);
    expect(again.data.sod?.violated).toBe(true);
    expect(again.data.provenance?.["sodPrediction:alice"]).toEqual({ from: "cache", ms: 0 });
    await reader.read(withItems("ent-admin"), needs("sod"), {});
    expect(fetcher.count("predictSod")).toBe(2);
  });

  it("stays within its bound through the reader", async () => {
    const fetcher = new FakeFetcher();
    const reader = new CachedContextReader(fetcher, { maxEntries: 3 });
    await reader.read(people("alice", "bob", "carol", "dave", "rob"), needs("identity"), {});
    expect(reader.cache.size).toBe(3);
    await reader.read(people("dave"), needs("identity"), {});
    expect(fetcher.count()).toBe(1);
    await reader.read(people("alice"), needs("identity"), {});
    expect(fetcher.count()).toBe(2);
  });

  it("does not cache a failure", async () => {
    const fetcher = new FakeFetcher().on("identities", {
      fail: new IscApiError({ status: 503, operation: "GET /v2025/identities" }),
    });
    const reader = new CachedContextReader(fetcher);
    await expect(reader.read(people("alice"), needs("identity"), {})).rejects.toMatchObject({
      reason: "unavailable",
    });
    fetcher.reset();
    const result = await reader.read(people("alice"), needs("identity"), {});
    expect(result.data.identity?.[0]?.id).toBe("alice");
    expect(fetcher.count()).toBe(2);
  });

  it("does not cache an id that was not found", async () => {
    const fetcher = new FakeFetcher();
    const reader = new CachedContextReader(fetcher);
    await expect(reader.read(people("nobody"), needs("identity"), {})).rejects.toMatchObject({
      reason: "not-found",
    });
    fetcher.directory.identities.push({ id: "nobody", name: "Nobody" });
    await expect(reader.read(people("nobody"), needs("identity"), {})).resolves.toBeDefined();
    expect(fetcher.count()).toBe(2);
  });
});

describe("single-flight", () => {
  it("concurrent reads for one person share one call", async () => {
    const open = gate();
    const fetcher = new FakeFetcher().on("identities", { gate: open.promise });
    const reader = new CachedContextReader(fetcher);
    const reads = [1, 2, 3].map(() => reader.read(people("alice"), needs("identity"), {}));
    await tick();
    open.open();
    const results = await Promise.all(reads);
    expect(fetcher.count()).toBe(1);
    expect(results.map((r) => r.data.identity?.[0]?.id)).toEqual(["alice", "alice", "alice"]);
    expect(results.map((r) => r.cacheHits).sort()).toEqual([0, 1, 1]);
    expect(results.map((r) => r.reads.length).sort()).toEqual([0, 0, 1]);
    expect(reader.stats.snapshot()).toMatchObject({
      reads: 3,
      cacheHits: 2,
      cacheMisses: 1,
      calls: { identities: 1 },
    });
  });

  it("reads started in the same tick with overlapping ids go into one call", async () => {
    const fetcher = new FakeFetcher();
    const reader = new CachedContextReader(fetcher);
    const [a, b] = await Promise.all([
      reader.read(people("alice", "bob"), needs("identity"), {}),
      reader.read(people("bob", "carol"), needs("identity"), {}),
    ]);
    expect(fetcher.calls.map((c) => c.ids)).toEqual([["alice", "bob", "carol"]]);
    expect(a.reads).toEqual([{ kind: "identities", ids: 3, from: "api", ms: expect.any(Number) }]);
    expect(b.reads).toEqual([{ kind: "identities", ids: 3, from: "api", ms: expect.any(Number) }]);
    expect(a.cacheHits + b.cacheHits).toBe(1); // bob, asked by the second while the first had queued it
  });

  it("a read after a call is sent joins it for the ids it shares and asks only for the rest", async () => {
    const open = gate();
    const fetcher = new FakeFetcher().on("identities", { gate: open.promise });
    const reader = new CachedContextReader(fetcher);
    const first = reader.read(people("alice", "bob"), needs("identity"), {});
    await tick();
    expect(fetcher.count()).toBe(1);
    const second = reader.read(people("bob", "carol"), needs("identity"), {});
    await tick();
    open.open();
    const [, b] = await Promise.all([first, second]);
    expect(fetcher.calls.map((c) => c.ids)).toEqual([["alice", "bob"], ["carol"]]);
    expect(b.cacheHits).toBe(1);
    expect(b.data.provenance?.["identities:bob"]?.from).toBe("cache");
    expect(b.data.provenance?.["identities:carol"]?.from).toBe("api");
    expect(b.reads).toEqual([{ kind: "identities", ids: 1, from: "api", ms: expect.any(Number) }]);
  });

  it("a shared failure fails every caller, and the next read tries again", async () => {
    const open = gate();
    const failure = new IscApiError({ status: 500, operation: "GET /v3/roles" });
    const fetcher = new FakeFetcher().on("roles", { gate: open.promise, fail: failure });
    const reader = new CachedContextReader(fetcher);
    const subject = { ...people("alice"), requestedItems: [{ id: "role-eng", type: "ROLE" }] };
    const reads = [reader.read(subject, needs("items"), {}), reader.read(subject, needs("items"), {})];
    await tick();
    open.open();
    const outcomes = await Promise.allSettled(reads);
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
    expect(outcomes.map((o) => (o as PromiseRejectedResult).reason.status)).toEqual([500, 500]);
    expect(fetcher.count("roles")).toBe(1);
    fetcher.reset();
    await expect(reader.read(subject, needs("items"), {})).resolves.toBeDefined();
    expect(fetcher.count("roles")).toBe(2);
    expect(reader.stats.snapshot()).toMatchObject({
      callFailures: { unavailable: 1 },
      readFailures: { unavailable: 2 },
    });
  });
});
