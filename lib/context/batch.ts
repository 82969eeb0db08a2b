/**
 * Batching and single-flight of fetcher calls, across the concurrent reads of one container.
 *
 * A `KindLoader` serves keys of one kind from the cache, from a call already in flight (any caller's),
 * or from a new call. For list kinds, every key asked in the same tick goes into one call (a
 * DataLoader-style window), so one read's round is one call per kind and concurrent reads share it.
 * A call is shared by every scope (scope.ts) waiting on it; one scope giving up leaves it running for
 * the others, and only when every scope has left is it aborted (and forgotten, so later reads start
 * afresh).
 * `KindLoader.cached` is the same cache lookup alone, synchronous, for a read whose every object is
 * cached: no scope (timer, signal listener), no promise.
 */
import type { ContextCache } from "./cache.ts";
import { ContextReadError, contextReadErrorFrom } from "./errors.ts";
import { type ReadRecord, type ReadScope, type Shared, timeoutError } from "./scope.ts";
import type { ContextReadStats } from "./stats.ts";
import type { ContextKind, ContextOrigin, ContextRead, ContextReadOptions } from "./types.ts";

/** The origin of every object served straight from the cache (shared: it never changes). */
const FROM_CACHE: ContextOrigin = Object.freeze({ from: "cache", ms: 0 });

/** One key to load: `id` (a plain id, for messages), `key` in the cache, `arg` for the call. */
export interface LoadRequest<A> {
  id: string;
  /** `kind:id`, also the object's provenance entry, unless the key says more (a SoD prediction's). */
  key: string;
  arg: A;
  /** The provenance entry, `kind:id`, when `key` is not. */
  origin?: string;
}

/** How one kind is fetched. `batched`: many keys per call (list kinds); else one call per key. */
export interface KindFetch<A, V> {
  kind: ContextKind;
  batched: boolean;
  /** The values found, by cache key; absent keys were not found. */
  call(requests: readonly LoadRequest<A>[], options: ContextReadOptions): Promise<Map<string, V>>;
}

/** A fetcher call, queued (collecting keys for this tick) or sent, shared by every scope waiting on it. */
class Flight<A, V> implements Shared {
  readonly requests: LoadRequest<A>[] = [];
  readonly keys = new Set<string>();
  readonly callers = new Set<ReadScope>();
  readonly originators = new Set<ReadScope>();
  readonly controller = new AbortController();
  state: "queued" | "sent" | "settled" = "queued";
  /** Latency of the call once it settled. */
  ms = 0;
  readonly result: Promise<Map<string, V>>;
  resolve: (found: Map<string, V>) => void = () => {};
  reject: (error: ContextReadError) => void = () => {};
  private readonly onDeserted: (flight: Flight<A, V>) => void;

  constructor(onDeserted: (flight: Flight<A, V>) => void) {
    this.onDeserted = onDeserted;
    this.result = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Every waiter handles the outcome; a call nobody waits on any more must not surface as unhandled.
    this.result.catch(() => {});
  }

  add(request: LoadRequest<A>, scope: ReadScope): void {
    this.requests.push(request);
    this.keys.add(request.key);
    this.originators.add(scope);
  }

  join(scope: ReadScope): void {
    this.callers.add(scope);
    scope.enter(this);
  }

  leave(scope: ReadScope): void {
    this.callers.delete(scope);
    scope.exit(this);
    if (this.callers.size === 0 && this.state !== "settled") {
      this.controller.abort();
      this.onDeserted(this);
    }
  }

  /** The latest deadline of the scopes waiting (none when one has none): the call serves them all. */
  deadline(): number | undefined {
    let latest = Number.NEGATIVE_INFINITY;
    for (const scope of this.callers) {
      if (scope.deadline === undefined) return undefined;
      latest = Math.max(latest, scope.deadline);
    }
    return Number.isFinite(latest) ? latest : undefined;
  }
}

export class KindLoader<A, V> {
  private readonly fetch: KindFetch<A, V>;
  private readonly cache: ContextCache;
  private readonly stats: ContextReadStats;
  private readonly schedule: (run: () => void) => void;
  private readonly inFlight = new Map<string, Flight<A, V>>();
  private queued: Flight<A, V> | undefined;

  constructor(
    fetch: KindFetch<A, V>,
    cache: ContextCache,
    stats: ContextReadStats,
    schedule: (run: () => void) => void = setImmediate,
  ) {
    this.fetch = fetch;
    this.cache = cache;
    this.stats = stats;
    this.schedule = schedule;
  }

  /** The values of `requests` found (absent: not found), for `scope`. Rejects with ContextReadError. */
  async load(
    requests: readonly LoadRequest<A>[],
    scope: ReadScope,
    retryShared = true,
  ): Promise<Map<string, V>> {
    const kind = this.fetch.kind;
    if (!scope.live) {
      throw timeoutError(
        kind,
        requests.map((request) => request.id),
      );
    }
    const found = new Map<string, V>();
    const own = new Map<Flight<A, V>, LoadRequest<A>[]>();
    const shared = new Map<Flight<A, V>, LoadRequest<A>[]>();
    const fresh: Flight<A, V>[] = [];
    for (const request of uniqueByKey(requests)) {
      const cached = this.cache.get(request.key) as V | undefined;
      if (cached !== undefined) {
        found.set(request.key, cached);
        this.hit(scope, request, 0);
        this.stats.recordHits(1);
        continue;
      }
      const flying = this.inFlight.get(request.key);
      if (flying !== undefined) {
        pushTo(flying.originators.has(scope) ? own : shared, flying, request);
        continue;
      }
      const flight = this.fetch.batched ? this.queuedFlight(fresh) : this.newFlight(fresh);
      flight.add(request, scope);
      this.inFlight.set(request.key, flight);
      pushTo(own, flight, request);
    }
    const misses = [...own.values()].reduce((n, list) => n + list.length, 0);
    if (misses > 0) this.stats.recordMisses(misses);
    for (const flight of [...own.keys(), ...shared.keys()]) flight.join(scope);
    for (const flight of fresh) {
      if (this.fetch.batched) this.schedule(() => void this.send(flight));
      else void this.send(flight);
    }

    const started = performance.now();
    const waits: Promise<void>[] = [];
    for (const [flight, list] of own) {
      waits.push(
        this.wait(flight, list, scope).then((values) => {
          for (const request of list) {
            const value = values.get(request.key);
            if (value === undefined) continue;
            found.set(request.key, value);
            scope.provenance[request.origin ?? request.key] = { from: "api", ms: flight.ms };
          }
        }),
      );
    }
    for (const [flight, list] of shared) {
      waits.push(
        this.wait(flight, list, scope).then(
          (values) => {
            const waited = Math.round(performance.now() - started);
            for (const request of list) {
              const value = values.get(request.key);
              if (value === undefined) continue;
              found.set(request.key, value);
              this.hit(scope, request, waited);
              this.stats.recordHits(1);
            }
          },
          async (error: unknown) => {
            // Another caller's call ran out of *its* time: this read still has some, so it asks again (once).
            if (!(retryShared && isTimeout(error) && scope.live)) throw error;
            const again = await this.load(list, scope, false);
            for (const [key, value] of again) found.set(key, value);
          },
        ),
      );
    }
    await Promise.all(waits);
    return found;
  }

  /**
   * The value of each of `requests` (distinct keys), in order, when every one is cached and fresh,
   * recorded as hits in `record` as `load` records them (stats aside: the caller counts a read that
   * succeeds); undefined at the first that is not (the caller drops `record`).
   */
  cached(requests: readonly LoadRequest<A>[], record: ReadRecord): V[] | undefined {
    const values: V[] = [];
    const now = this.cache.now();
    for (const request of requests) {
      const value = this.cache.get(request.key, now) as V | undefined;
      if (value === undefined) return undefined;
      values.push(value);
      this.hit(record, request, 0);
    }
    return values;
  }

  private wait(flight: Flight<A, V>, list: LoadRequest<A>[], scope: ReadScope): Promise<Map<string, V>> {
    return scope.race(
      flight.result,
      this.fetch.kind,
      list.map((r) => r.id),
    );
  }

  private hit(record: ReadRecord, request: LoadRequest<A>, ms: number): void {
    record.cacheHits += 1;
    record.provenance[request.origin ?? request.key] = ms === 0 ? FROM_CACHE : { from: "cache", ms };
  }

  private queuedFlight(fresh: Flight<A, V>[]): Flight<A, V> {
    if (this.queued !== undefined && this.queued.state === "queued") return this.queued;
    const flight = this.newFlight(fresh);
    this.queued = flight;
    return flight;
  }

  private newFlight(fresh: Flight<A, V>[]): Flight<A, V> {
    const flight = new Flight<A, V>((deserted) => this.forget(deserted));
    fresh.push(flight);
    return flight;
  }

  private forget(flight: Flight<A, V>): void {
    for (const key of flight.keys) if (this.inFlight.get(key) === flight) this.inFlight.delete(key);
    if (this.queued === flight) this.queued = undefined;
  }

  private async send(flight: Flight<A, V>): Promise<void> {
    if (flight.state !== "queued") return;
    flight.state = "sent";
    if (this.queued === flight) this.queued = undefined;
    const kind = this.fetch.kind;
    const ids = flight.requests.map((r) => r.id);
    if (flight.callers.size === 0) {
      // Everyone gave up before the window closed: no call at all.
      this.settle(flight);
      flight.reject(timeoutError(kind, ids));
      return;
    }
    const deadline = flight.deadline();
    const options: ContextReadOptions = {
      signal: flight.controller.signal,
      ...(deadline === undefined ? {} : { deadline }),
    };
    const sentAt = this.cache.now();
    const started = performance.now();
    this.stats.recordCall(kind, ids.length);
    let values: Map<string, V>;
    try {
      values = await this.fetch.call(flight.requests, options);
    } catch (cause) {
      const error = contextReadErrorFrom(kind, ids, cause);
      flight.ms = Math.round(performance.now() - started);
      this.stats.recordCallFailure(error.reason);
      this.record(flight, error.status);
      this.settle(flight);
      flight.reject(error);
      return;
    }
    flight.ms = Math.round(performance.now() - started);
    for (const [key, value] of values) {
      if (flight.keys.has(key)) this.cache.set(kind, key, value, sentAt);
    }
    this.record(flight, undefined);
    this.settle(flight);
    flight.resolve(values);
  }

  private record(flight: Flight<A, V>, status: number | undefined): void {
    const read: ContextRead = {
      kind: this.fetch.kind,
      ids: flight.requests.length,
      from: "api",
      ms: flight.ms,
      ...(status === undefined ? {} : { status }),
    };
    for (const scope of flight.originators) scope.reads.push({ ...read });
  }

  private settle(flight: Flight<A, V>): void {
    flight.state = "settled";
    this.forget(flight);
    for (const scope of flight.callers) scope.exit(flight);
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof ContextReadError && error.reason === "timeout";
}

function pushTo<K, T>(map: Map<K, T[]>, key: K, value: T): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

function uniqueByKey<A>(requests: readonly LoadRequest<A>[]): LoadRequest<A>[] {
  const byKey = new Map<string, LoadRequest<A>>();
  for (const request of requests) if (!byKey.has(request.key)) byKey.set(request.key, request);
  return [...byKey.values()];
}
