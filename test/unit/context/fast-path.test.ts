/**
 * The reader's cache-first path (readCached, and read() answering from it): for any subject and
 * needs it returns exactly what the loaders' path returns for the same cache state, or nothing, and
 * then read() behaves as the loaders' path does (never a mix of the two).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ContextCache } from "../../../lib/context/cache.ts";
import { CachedContextReader } from "../../../lib/context/reader.ts";
import {
  CONTEXT_SOURCES,
  type ContextResult,
  type ContextSource,
  type ContextSubject,
} from "../../../lib/context/types.ts";
import { defaultDirectory, FakeFetcher } from "./fake-fetcher.ts";

const needs = (...sources: ContextSource[]) => new Set(sources);

function fakeClock(start = 1_000_000) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

/** Two readers over one fetcher and one cache: one never answers from the cache alone. */
function pair() {
  const clock = fakeClock();
  const fetcher = new FakeFetcher();
  const cache = new ContextCache({ now: clock.now });
  const loaders = new CachedContextReader(fetcher, { cache, cacheFirst: false });
  const fast = new CachedContextReader(fetcher, { cache });
  return { clock, fetcher, cache, loaders, fast };
}

/** One reader with its own fetcher, cache and clock. */
function single(cacheFirst: boolean) {
  const clock = fakeClock();
  const fetcher = new FakeFetcher();
  const reader = new CachedContextReader(fetcher, { now: clock.now, cacheFirst });
  return { clock, fetcher, reader };
}

type Outcome = { ok: true; result: ContextResult } | { ok: false; reason: unknown; kind: unknown };

async function outcome(reading: Promise<ContextResult>): Promise<Outcome> {
  try {
    return { ok: true, result: await reading };
  } catch (error) {
    const e = error as { reason?: unknown; kind?: unknown };
    return { ok: false, reason: e.reason, kind: e.kind };
  }
}

/** Latencies vary from run to run; everything else must not. */
function withoutLatency(value: Outcome): Outcome {
  if (!value.ok) return value;
  const { data, reads, cacheHits } = value.result;
  const provenance = Object.fromEntries(
    Object.entries(data.provenance ?? {}).map(([key, origin]) => [key, { ...origin, ms: 0 }]),
  );
  return {
    ok: true,
    result: { data: { ...data, provenance }, reads: reads.map((read) => ({ ...read, ms: 0 })), cacheHits },
  };
}

const directory = defaultDirectory();
const personIds = [...directory.identities.map((identity) => identity.id), "nobody"];
const items = [
  ...directory.entitlements.map((e) => ({ id: e.id, type: "ENTITLEMENT" })),
  ...directory.accessProfiles.map((p) => ({ id: p.id, type: "ACCESS_PROFILE" })),
  ...directory.roles.map((r) => ({ id: r.id, type: "ROLE" })),
  { id: "ent-missing", type: "ENTITLEMENT" },
];

const subjects: fc.Arbitrary<ContextSubject> = fc.record({
  requestedFor: fc.array(
    fc.constantFrom(...personIds).map((id) => ({ id })),
    { minLength: 0, maxLength: 3 },
  ),
  requestedBy: fc.option(
    fc.constantFrom(...personIds).map((id) => ({ id })),
    { nil: undefined },
  ),
  requestedItems: fc
    .array(
      fc.record({
        item: fc.constantFrom(...items),
        lowerCase: fc.boolean(),
        operation: fc.constantFrom("Add", "Remove", "add", undefined),
      }),
      { minLength: 0, maxLength: 4 },
    )
    .map((picked) =>
      picked.map(({ item, lowerCase, operation }) => ({
        id: item.id,
        type: lowerCase ? item.type.toLowerCase() : item.type,
        operation,
      })),
    ),
});
const needsSets = fc.subarray([...CONTEXT_SOURCES]).map((sources) => new Set(sources));

describe("cache-first reads: the same result as the loaders' path", () => {
  it("for any subject and needs, once everything is cached: same data, provenance, hits and stats, no call", async () => {
    let served = 0;
    await fc.assert(
      fc.asyncProperty(subjects, needsSets, async (subject, wanted) => {
        const { fetcher, loaders, fast } = pair();
        const warm = await outcome(loaders.read(subject, wanted, {}));
        if (!warm.ok) {
          // Nothing to answer from: the cache-first reader fails exactly as the loaders' path does.
          expect(fast.readCached(subject, wanted, {})).toBeUndefined();
          const again = await outcome(loaders.read(subject, wanted, {}));
          expect(await outcome(fast.read(subject, wanted, {}))).toEqual(again);
          return;
        }
        const calls = fetcher.count();
        const before = loaders.stats.snapshot();
        const cached = fast.readCached(subject, wanted, {});
        if (cached !== undefined) served += 1;
        const throughLoaders = await loaders.read(subject, wanted, {});
        expect(throughLoaders.reads).toEqual([]);
        expect(cached).toStrictEqual(throughLoaders);
        expect(await fast.read(subject, wanted, {})).toStrictEqual(throughLoaders);
        expect(fetcher.count()).toBe(calls);
        // Two cache-first reads count what one read through the loaders counts, twice.
        const after = loaders.stats.snapshot();
        const once = {
          reads: after.reads - before.reads,
          cacheHits: after.cacheHits - before.cacheHits,
          cacheMisses: after.cacheMisses - before.cacheMisses,
        };
        expect(once.cacheMisses).toBe(0);
        expect(fast.stats.snapshot()).toMatchObject({
          reads: 2 * once.reads,
          cacheHits: 2 * once.cacheHits,
          cacheMisses: 0,
          calls: {},
        });
      }),
      { numRuns: 300 },
    );
    expect(served).toBeGreaterThan(100); // most runs read something that exists
  });

  it("as entries expire (a TTL per kind), the same results, calls and stats as a reader without it", async () => {
    const deltas = fc.constantFrom(0, 29_999, 30_000, 59_999, 60_000, 599_999, 600_000, 700_000);
    await fc.assert(
      fc.asyncProperty(subjects, needsSets, deltas, async (subject, wanted, delta) => {
        const plain = single(false);
        const first = single(true);
        const warmPlain = withoutLatency(await outcome(plain.reader.read(subject, wanted, {})));
        const warmFirst = withoutLatency(await outcome(first.reader.read(subject, wanted, {})));
        expect(warmFirst).toStrictEqual(warmPlain);
        plain.clock.t += delta;
        first.clock.t += delta;
        const callsBefore = first.fetcher.count();
        // A probe on the same cache (its own stats) tells whether the cache alone could answer.
        const probe = new CachedContextReader(first.fetcher, { cache: first.reader.cache });
        const servedAtOnce = probe.readCached(subject, wanted, {});
        const later = withoutLatency(await outcome(first.reader.read(subject, wanted, {})));
        expect(later).toStrictEqual(withoutLatency(await outcome(plain.reader.read(subject, wanted, {}))));
        expect(first.fetcher.calls.map((c) => [c.method, c.ids])).toEqual(
          plain.fetcher.calls.map((c) => [c.method, c.ids]),
        );
        // Answered at once exactly when nothing had to be read again.
        expect(servedAtOnce !== undefined).toBe(first.fetcher.count() === callsBefore && later.ok);
        const { reads: _r, ...firstStats } = first.reader.stats.snapshot();
        const { reads: _p, ...plainStats } = plain.reader.stats.snapshot();
        expect(firstStats).toEqual(plainStats);
      }),
      { numRuns: 300 },
    );
  });
});

const subject: ContextSubject = {
  requestedFor: [{ id: "alice" }],
  requestedBy: { id: "rob" },
  requestedItems: [
    { id: "role-eng", type: "ROLE", operation: "Add" },
    { id: "ent-sap", type: "ENTITLEMENT", operation: "Add" },
  ],
};
const everything = needs("manager", "requester", "sources", "sodPolicies", "accessRequests");

describe("cache-first reads", () => {
  it("serves a warm read at once, every object marked from the cache", async () => {
    const { fetcher, fast } = pair();
    const first = await fast.read(subject, everything, {});
    expect(first.reads.length).toBeGreaterThan(0);
    const calls = fetcher.count();
    const cached = fast.readCached(subject, everything, {});
    expect(cached?.reads).toEqual([]);
    expect(cached?.cacheHits).toBe(Object.keys(first.data.provenance ?? {}).length);
    expect(Object.values(cached?.data.provenance ?? {}).every((o) => o.from === "cache" && o.ms === 0)).toBe(
      true,
    );
    expect(cached?.data.sod?.violations.map((v) => [v.policy.name, v.owner?.id])).toEqual([
      ["Admin vs SAP", "carol"],
      ["X vs SAP", "bob"],
    ]);
    expect(fetcher.count()).toBe(calls);
  });

  it("does not serve an expired entry: one kind past its TTL sends the whole read through the loaders", async () => {
    const { clock, fetcher, fast } = pair();
    await fast.read(subject, needs("identity", "items"), {});
    clock.t += 60_000; // identities expire; the role and the entitlement (10 min) do not
    expect(fast.readCached(subject, needs("identity", "items"), {})).toBeUndefined();
    const again = await fast.read(subject, needs("identity", "items"), {});
    expect(fetcher.calls.map((c) => c.method)).toEqual(["identities", "entitlements", "roles", "identities"]);
    expect(again.data.provenance).toEqual({
      "identities:alice": { from: "api", ms: expect.any(Number) },
      "roles:role-eng": { from: "cache", ms: 0 },
      "entitlements:ent-sap": { from: "cache", ms: 0 },
    });
    expect(again.cacheHits).toBe(2);
    expect(fast.readCached(subject, needs("identity", "items"), {})?.cacheHits).toBe(3);
  });

  it("refuses a hostile id before anything, warm cache or not, with no call", async () => {
    const { fetcher, fast } = pair();
    await fast.read(subject, everything, {});
    const calls = fetcher.count();
    const hostile = { ...subject, requestedFor: [{ id: "alice" }, { id: "../bob" }] };
    expect(fast.readCached(hostile, everything, {})).toBeUndefined();
    await expect(fast.read(hostile, everything, {})).rejects.toMatchObject({
      reason: "refused-id",
      kind: "identities",
    });
    const badItem = { ...subject, requestedItems: [{ id: "role-eng?x=1", type: "ROLE" }] };
    await expect(fast.read(badItem, needs("items"), {})).rejects.toMatchObject({ reason: "refused-id" });
    expect(fetcher.count()).toBe(calls);
    expect(fast.stats.snapshot().readFailures).toEqual({ "refused-id": 2 });
  });

  it("a hostile ref inside cached data is refused as before, with no call", async () => {
    const fetcher = new FakeFetcher();
    fetcher.directory.roles.push({
      id: "role-bad",
      name: "Bad",
      entitlements: [],
      accessProfiles: [{ type: "ACCESS_PROFILE", id: "ap dev/../x", name: "x" }],
    });
    const reader = new CachedContextReader(fetcher);
    const badRole = { ...subject, requestedItems: [{ id: "role-bad", type: "ROLE" }] };
    await expect(reader.read(badRole, needs("grants"), {})).rejects.toMatchObject({ reason: "refused-id" });
    expect(fetcher.calls.map((c) => c.method)).toEqual(["roles"]); // the role is cached, its ref never asked
    expect(reader.readCached(badRole, needs("grants"), {})).toBeUndefined();
    await expect(reader.read(badRole, needs("grants"), {})).rejects.toMatchObject({
      reason: "refused-id",
      kind: "accessProfiles",
    });
    expect(fetcher.count()).toBe(1);
  });

  it("honours an aborted signal and a passed deadline though everything is cached", async () => {
    const { fetcher, fast } = pair();
    await fast.read(subject, everything, {});
    const calls = fetcher.count();
    const aborted = AbortSignal.abort();
    expect(fast.readCached(subject, everything, { signal: aborted })).toBeUndefined();
    await expect(fast.read(subject, everything, { signal: aborted })).rejects.toMatchObject({
      reason: "timeout",
    });
    const passed = { deadline: Date.now() - 1 };
    expect(fast.readCached(subject, everything, passed)).toBeUndefined();
    await expect(fast.read(subject, everything, passed)).rejects.toMatchObject({ reason: "timeout" });
    expect(fast.readCached(subject, everything, { deadline: Date.now() + 60_000 })).toBeDefined();
    expect(fetcher.count()).toBe(calls);
  });

  it("a miss counts nothing for the attempt: stats as if only the loaders had read", async () => {
    const { fast } = pair();
    await fast.read(subject, needs("identity"), {});
    await fast.read(subject, needs("identity", "items"), {}); // alice cached, the items not
    expect(fast.stats.snapshot()).toMatchObject({ reads: 2, cacheHits: 1, cacheMisses: 3 });
  });

  it("an empty set of needs is answered at once, with nothing read", () => {
    const { fetcher, fast } = pair();
    expect(fast.readCached(subject, needs(), {})).toEqual({
      data: { provenance: {} },
      reads: [],
      cacheHits: 0,
    });
    expect(fetcher.count()).toBe(0);
  });
});
