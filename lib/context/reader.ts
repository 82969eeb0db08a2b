/**
 * `CachedContextReader`: reads what a rule set needs for one invocation through any ContextFetcher,
 * batched (one call per kind per round), cached per container, single-flight, inside the read's
 * deadline, and never partial: anything asked for that cannot be read rejects the whole read.
 *
 * Rounds (each starts as soon as what it depends on is known, so no read waits longer than it must):
 * 1. identities of requestedFor and requestedBy; the items by type; access-request status;
 * 2. managers; roles' access profiles; entitlements referenced by items; sources;
 * 3. entitlements of the access profiles reached through roles; SoD predictions (need every grant);
 * 4. SoD policies.
 *
 * A read whose every object is cached and fresh is answered at once (`readCached`): the same rounds
 * run synchronously against the cache alone, with no scope, timer or promise per id. The first
 * object that is not cached (or anything else that goes wrong) drops that attempt entirely, and the
 * read goes through the loaders from the start: never a mix of the two.
 */
import * as z from "zod/mini";
import {
  AccessProfileListSchema,
  AccessRequestStatusListSchema,
  EntitlementListSchema,
  IdentityListSchema,
  RoleListSchema,
  SodPolicySchema,
  SourceListSchema,
  ViolationPredictionSchema,
} from "../isc/context-schemas.ts";
import { type KindFetch, KindLoader, type LoadRequest } from "./batch.ts";
import { ContextCache, type ContextCacheOptions } from "./cache.ts";
import { ContextReadError, contextReadErrorFrom } from "./errors.ts";
import { isPlainId } from "./ids.ts";
import { CacheKeys } from "./keys.ts";
import {
  type Found,
  type ItemKind,
  type Loaders,
  type LoadKind,
  type Lookup,
  ReadRun,
  type SodArgs,
} from "./read-run.ts";
import { ReadRecord, ReadScope } from "./scope.ts";
import { ContextReadStats } from "./stats.ts";
import { runAsync, runNow } from "./steps.ts";
import type {
  ContextData,
  ContextFetcher,
  ContextKind,
  ContextNeeds,
  ContextReader,
  ContextReadOptions,
  ContextResult,
  ContextSource,
  ContextSubject,
} from "./types.ts";

export interface CachedContextReaderOptions extends ContextCacheOptions {
  /** A cache to use instead of one built from ttlMs / maxEntries / now (e.g. shared by two readers). */
  cache?: ContextCache;
  stats?: ContextReadStats;
  /** `limit` of each access-request-status call (ISC allows at most 250). */
  accessRequestLimit?: number;
  /** When a batch window closes (default: setImmediate, so every read of this tick joins it). */
  schedule?: (run: () => void) => void;
  /**
   * Answer a read whose every object is cached at once, without going through the loaders (default
   * true). False always takes the loaders' path (tests compare the two).
   */
  cacheFirst?: boolean;
}

/** A reader that can answer from its cache alone, synchronously (decideWithReadContext uses it). */
export interface CachedReads {
  /** The read's result when everything it needs is cached and fresh; undefined otherwise. */
  readCached(
    subject: ContextSubject,
    needs: ContextNeeds,
    options: ContextReadOptions,
  ): ContextResult | undefined;
}

export const DEFAULT_ACCESS_REQUEST_LIMIT = 250;

/** A source implies the ones it is built from. */
const IMPLIES: ReadonlyArray<readonly [ContextSource, ContextSource]> = [
  ["sodPolicies", "sod"],
  ["sod", "grants"],
  ["grants", "items"],
  ["sources", "items"],
  ["manager", "identity"],
];

/** `needs` with every implied source added. */
export function expandNeeds(needs: ContextNeeds): Set<ContextSource> {
  const expanded = new Set(needs);
  for (const [source, implied] of IMPLIES) if (expanded.has(source)) expanded.add(implied);
  return expanded;
}

const ITEM_KIND_OF_TYPE: Readonly<Record<string, ItemKind>> = {
  ENTITLEMENT: "entitlements",
  ACCESS_PROFILE: "accessProfiles",
  ROLE: "roles",
};

/** The kind an item's `type` is read as, undefined for a type the reader does not know. */
export function itemKindOf(type: string): ItemKind | undefined {
  return typeof type === "string" ? ITEM_KIND_OF_TYPE[type.toUpperCase()] : undefined;
}

export class CachedContextReader implements ContextReader, CachedReads {
  readonly cache: ContextCache;
  readonly stats: ContextReadStats;
  private readonly loaders: Loaders;
  private readonly keys: CacheKeys;
  private readonly cacheFirst: boolean;

  constructor(fetcher: ContextFetcher, options: CachedContextReaderOptions = {}) {
    this.cache = options.cache ?? new ContextCache(options);
    this.stats = options.stats ?? new ContextReadStats();
    this.loaders = buildLoaders(fetcher, this.cache, this.stats, options);
    this.cacheFirst = options.cacheFirst ?? true;
    // Room for every key the cache holds and as many again of the ones it dropped or never stored.
    this.keys = new CacheKeys(2 * Math.max(this.cache.maxEntries, 1_000));
  }

  read(subject: ContextSubject, needs: ContextNeeds, options: ContextReadOptions): Promise<ContextResult> {
    const cached = this.cacheFirst ? this.readCached(subject, needs, options) : undefined;
    return cached === undefined ? this.readThroughLoaders(subject, needs, options) : Promise.resolve(cached);
  }

  /**
   * What `read` returns (the same data, provenance and cacheHits, no reads) when the read is live
   * and every object it needs is cached and fresh, counted in the stats as `read` counts it.
   * Undefined, with nothing counted, otherwise: a miss, a refused id, an aborted signal, a passed
   * deadline, any failure. `read` then refuses, times out or reads as it always does.
   */
  readCached(
    subject: ContextSubject,
    needs: ContextNeeds,
    options: ContextReadOptions,
  ): ContextResult | undefined {
    if (options.signal?.aborted === true) return undefined;
    if (options.deadline !== undefined && Date.now() >= options.deadline) return undefined;
    const record = new ReadRecord();
    let data: ContextData;
    try {
      const expanded = expandNeeds(needs);
      if (expanded.size === 0) data = {};
      else {
        const itemKinds = checkSubject(subject, expanded);
        data = runNow(
          new ReadRun(
            new CacheOnlyLookup(this.keys, this.loaders, record),
            subject,
            expanded,
            itemKinds,
          ).run(),
        );
      }
    } catch {
      return undefined;
    }
    data.provenance = record.provenance;
    this.stats.recordRead();
    if (record.cacheHits > 0) this.stats.recordHits(record.cacheHits);
    return { data, reads: record.reads, cacheHits: record.cacheHits };
  }

  private async readThroughLoaders(
    subject: ContextSubject,
    needs: ContextNeeds,
    options: ContextReadOptions,
  ): Promise<ContextResult> {
    this.stats.recordRead();
    const expanded = expandNeeds(needs);
    if (expanded.size === 0) return { data: { provenance: {} }, reads: [], cacheHits: 0 };
    const scope = new ReadScope(options);
    try {
      const itemKinds = checkSubject(subject, expanded);
      if (!scope.live)
        throw new ContextReadError({ kind: firstKind(expanded, itemKinds), reason: "timeout" });
      const run = new ReadRun(new LoaderLookup(this.keys, this.loaders, scope), subject, expanded, itemKinds);
      const data = await runAsync(run.run());
      data.provenance = scope.provenance;
      return { data, reads: scope.reads, cacheHits: scope.cacheHits };
    } catch (cause) {
      const error = cause instanceof ContextReadError ? cause : contextReadErrorFrom(null, [], cause);
      this.stats.recordReadFailure(error.reason);
      throw error.withReads([...scope.reads]);
    } finally {
      // Leaves whatever this read still waits on (a failed read must not keep calls going for nobody).
      scope.end("done");
    }
  }
}

/** Stops a run from the cache alone at its first miss (thrown, never seen outside readCached). */
const NOT_CACHED = new Error("not cached");

/** Every object from the cache alone, at once, recorded in `record`; throws NOT_CACHED on a miss. */
class CacheOnlyLookup implements Lookup {
  readonly keys: CacheKeys;
  private readonly loaders: Loaders;
  private readonly record: ReadRecord;
  constructor(keys: CacheKeys, loaders: Loaders, record: ReadRecord) {
    this.keys = keys;
    this.loaders = loaders;
    this.record = record;
  }

  load(kind: LoadKind, requests: readonly LoadRequest<unknown>[]): Found<never> {
    const found = (this.loaders[kind] as KindLoader<unknown, unknown>).cached(requests, this.record);
    if (found === undefined) throw NOT_CACHED;
    return found as Found<never>;
  }
}

/** Every object through the loaders (cache, calls in flight, new calls) for `scope`. */
class LoaderLookup implements Lookup {
  readonly keys: CacheKeys;
  private readonly loaders: Loaders;
  private readonly scope: ReadScope;
  constructor(keys: CacheKeys, loaders: Loaders, scope: ReadScope) {
    this.keys = keys;
    this.loaders = loaders;
    this.scope = scope;
  }

  async load(kind: LoadKind, requests: readonly LoadRequest<unknown>[]): Promise<Found<never>> {
    const found = await (this.loaders[kind] as KindLoader<unknown, unknown>).load(requests, this.scope);
    return requests.map((request) => found.get(request.key)) as Found<never>;
  }
}

/**
 * Refuses, before any request, an id that is not plain and an item type the reader does not know;
 * returns the kind of each requested item (when items are needed).
 */
function checkSubject(subject: ContextSubject, needs: ReadonlySet<ContextSource>): ItemKind[] {
  const people = needs.has("identity") || needs.has("sod") || needs.has("accessRequests");
  if (people) {
    subject.requestedFor.forEach((person, index) => {
      if (!isPlainId(person.id)) throw refusedAt("identities", `requestedFor[${index}].id`);
    });
  }
  if (needs.has("requester") && subject.requestedBy !== undefined && !isPlainId(subject.requestedBy.id)) {
    throw refusedAt("identities", "requestedBy.id");
  }
  if (!needs.has("items")) return [];
  return subject.requestedItems.map((item, index) => {
    const kind = itemKindOf(item.type);
    if (kind === undefined) {
      const id = isPlainId(item.id) ? ` (id ${item.id})` : "";
      throw new ContextReadError({
        kind: null,
        reason: "unsupported",
        description: `the type of requestedItems[${index}]${id}`,
      });
    }
    if (!isPlainId(item.id)) throw refusedAt(kind, `requestedItems[${index}].id`);
    return kind;
  });
}

function refusedAt(kind: ContextKind, where: string): ContextReadError {
  return new ContextReadError({ kind, reason: "refused-id", description: where });
}

function firstKind(needs: ReadonlySet<ContextSource>, itemKinds: readonly ItemKind[]): ContextKind {
  if (needs.has("identity") || needs.has("requester")) return "identities";
  if (needs.has("items")) return itemKinds[0] ?? "entitlements";
  return "accessRequestStatus";
}

function keyOf(kind: ContextKind, id: string): string {
  return `${kind}:${id}`;
}

/**
 * The response checked against its schema and frozen deep: it is cached and shared by every later
 * invocation of the container, so code that changes what it reads (a custom predicate "normalising"
 * a status) must fail (and fall back), not rewrite context for everyone after it.
 */
function validated<T>(kind: ContextKind, ids: readonly string[], schema: z.ZodMiniType<T>, raw: unknown): T {
  const parsed = z.safeParse(schema, raw);
  if (!parsed.success) throw new ContextReadError({ kind, reason: "invalid-response", ids });
  return deepFreeze(parsed.data);
}

function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  return value;
}

/** A list kind: one call for every id of the window, results keyed by their own id. */
function listFetch<V extends { id: string }>(
  kind: ContextKind,
  schema: z.ZodMiniType<V[]>,
  call: (ids: readonly string[], options: ContextReadOptions) => Promise<unknown>,
): KindFetch<string, V> {
  return {
    kind,
    batched: true,
    async call(requests, options) {
      const ids = requests.map((request) => request.arg);
      const values = validated(kind, ids, schema, await call(ids, options));
      return new Map(values.map((value) => [keyOf(kind, value.id), value]));
    },
  };
}

/** A kind read one key per call. */
function singleFetch<A, V>(
  kind: ContextKind,
  schema: z.ZodMiniType<V>,
  call: (arg: A, options: ContextReadOptions) => Promise<unknown>,
): KindFetch<A, V> {
  return {
    kind,
    batched: false,
    async call(requests: readonly LoadRequest<A>[], options) {
      const found = new Map<string, V>();
      for (const request of requests) {
        found.set(request.key, validated(kind, [request.id], schema, await call(request.arg, options)));
      }
      return found;
    },
  };
}

function buildLoaders(
  fetcher: ContextFetcher,
  cache: ContextCache,
  stats: ContextReadStats,
  options: CachedContextReaderOptions,
): Loaders {
  const loader = <A, V>(fetch: KindFetch<A, V>) => new KindLoader(fetch, cache, stats, options.schedule);
  const limit = options.accessRequestLimit ?? DEFAULT_ACCESS_REQUEST_LIMIT;
  return {
    identities: loader(listFetch("identities", IdentityListSchema, (ids, o) => fetcher.identities(ids, o))),
    entitlements: loader(
      listFetch("entitlements", EntitlementListSchema, (ids, o) => fetcher.entitlements(ids, o)),
    ),
    accessProfiles: loader(
      listFetch("accessProfiles", AccessProfileListSchema, (ids, o) => fetcher.accessProfiles(ids, o)),
    ),
    roles: loader(listFetch("roles", RoleListSchema, (ids, o) => fetcher.roles(ids, o))),
    sources: loader(listFetch("sources", SourceListSchema, (ids, o) => fetcher.sources(ids, o))),
    sodPrediction: loader(
      singleFetch("sodPrediction", ViolationPredictionSchema, (args: SodArgs, o) =>
        fetcher.predictSod(args.identityId, args.entitlementIds, o),
      ),
    ),
    sodPolicy: loader(singleFetch("sodPolicy", SodPolicySchema, (id: string, o) => fetcher.sodPolicy(id, o))),
    accessRequestStatus: loader(
      singleFetch("accessRequestStatus", AccessRequestStatusListSchema, (id: string, o) =>
        fetcher.accessRequestStatus(id, { ...o, limit }),
      ),
    ),
  };
}
