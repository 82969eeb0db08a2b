/**
 * decideWithReadContext over the reader's cache-first path: context already cached is read with no
 * timer and no signal; a read that waits gets a deadline timer that is cleared once it settles, and
 * the caller's signal still stops it.
 */
import { getEventListeners } from "node:events";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CachedContextReader } from "../../../lib/context/reader.ts";
import type { ContextReader } from "../../../lib/context/types.ts";
import { decideWithReadContext } from "../../../lib/responder/context-decide.ts";
import { identityRules, ScriptedReader } from "../../helpers/context-doubles.ts";
import { asyncInvocation } from "../responder/fixtures.ts";
import { FakeFetcher } from "./fake-fetcher.ts";

const PERSON = "2c91808568c529c60168cca6f90c1313"; // requestedFor of the documented example
const identity = new Set(["identity"] as const);

function warmReader(status = "ACTIVE") {
  const fetcher = new FakeFetcher();
  fetcher.directory.identities.push({ id: PERSON, name: "William Wilson", identityStatus: status });
  return { fetcher, reader: new CachedContextReader(fetcher) };
}

function decide(reader: ContextReader, options: { deadlineMs?: number; signal?: AbortSignal } = {}) {
  return decideWithReadContext(asyncInvocation(), identityRules(), identity, {
    reader,
    deadline: Date.now() + (options.deadlineMs ?? 10_000),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("decideWithReadContext with cached context", () => {
  it("decides from the cache with no timer, no AbortSignal and no AbortController", async () => {
    const { fetcher, reader } = warmReader();
    await decide(reader); // fills the cache
    const calls = fetcher.count();
    const timers = vi.spyOn(globalThis, "setTimeout");
    const timeout = vi.spyOn(AbortSignal, "timeout");
    const any = vi.spyOn(AbortSignal, "any");
    const controllers = vi.spyOn(globalThis, "AbortController");
    const result = await decide(reader);
    expect(result.decision.output).toMatchObject({ approved: true });
    expect(result.context).toMatchObject({ reads: [], cacheHits: 1, needs: ["identity"] });
    expect(timers).not.toHaveBeenCalled();
    expect(timeout).not.toHaveBeenCalled();
    expect(any).not.toHaveBeenCalled();
    expect(controllers).not.toHaveBeenCalled();
    expect(fetcher.count()).toBe(calls);
  });

  it("a read that waits gets a deadline timer, cleared once it settles", async () => {
    const { reader } = warmReader("TERMINATED");
    const cleared = vi.spyOn(globalThis, "clearTimeout");
    const timers = vi.spyOn(globalThis, "setTimeout");
    const controllers = vi.spyOn(globalThis, "AbortController");
    const result = await decide(reader);
    expect(result.decision.output).toMatchObject({ approved: false });
    expect(result.context?.reads).toEqual([
      { kind: "identities", ids: 1, from: "api", ms: expect.any(Number) },
    ]);
    expect(controllers).toHaveBeenCalled();
    // The deadline timers (this decision's and the read's own): every one cleared.
    const deadlineTimers = timers.mock.calls
      .map((call, i) => ({ delay: Number(call[1]), timer: timers.mock.results[i]?.value }))
      .filter((timer) => timer.delay > 5_000);
    expect(deadlineTimers.length).toBeGreaterThan(0);
    for (const { timer } of deadlineTimers) expect(cleared).toHaveBeenCalledWith(timer);
  });

  it("a reader that ignores the deadline is still stopped at it", async () => {
    const started = Date.now();
    const result = await decide(new ScriptedReader([{ hang: true }]), { deadlineMs: 40 });
    expect(result.fallback).toBe(true);
    expect(result.context?.failure).toMatchObject({ reason: "timeout", transient: true });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("the caller's signal stops a read that waits, and its listener is removed afterwards", async () => {
    const caller = new AbortController();
    const reading = decide(new ScriptedReader([{ hang: true }]), { signal: caller.signal });
    setTimeout(() => caller.abort(), 5);
    const result = await reading;
    expect(result.fallback).toBe(true);
    expect(result.context?.failure?.reason).toBe("timeout");

    const other = new AbortController();
    const { reader } = warmReader();
    await decide(reader, { signal: other.signal });
    await decide(reader, { signal: other.signal });
    expect(getEventListeners(other.signal, "abort")).toHaveLength(0);
  });

  it("an aborted caller signal is honoured though everything is cached: the fallback, no call", async () => {
    const { fetcher, reader } = warmReader();
    await decide(reader);
    const calls = fetcher.count();
    const result = await decide(reader, { signal: AbortSignal.abort() });
    expect(result.fallback).toBe(true);
    expect(result.context?.failure?.reason).toBe("timeout");
    expect(fetcher.count()).toBe(calls);
  });
});
