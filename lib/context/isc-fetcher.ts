/**
 * The ContextFetcher of a deployment: ISC's read APIs through the client (OAuth, per-version limiter,
 * retries, typed errors). A list of ids costs one call per 50 ids (`filters=id in (...)`, `limit` the
 * chunk's size, so URLs stay short and one page holds the answer), the chunks in parallel.
 *
 * Every id is checked as a plain id before any request of the call is sent. Errors are not caught
 * here: the reader above turns them into a fallback with its reason.
 */
import type { IscContextReads } from "../isc/context-reads.ts";
import type {
  AccessProfile,
  AccessRequestStatus,
  Entitlement,
  Identity,
  Role,
  SodPolicy,
  Source,
  ViolationPrediction,
} from "../isc/context-schemas.ts";
import type { CallOptions, ListQuery } from "../isc/types.ts";
import { checkPlainId, idFilter } from "./ids.ts";
import type { ContextFetcher, ContextReadOptions } from "./types.ts";

/** Ids per list call: a longer `id in (...)` risks URL length limits on the way to ISC. */
export const MAX_IDS_PER_CALL = 50;
export const DEFAULT_ACCESS_REQUEST_LIMIT = 100;
/** Ids a list call left out that are asked for one by one before they count as not found. */
export const MAX_LOOKUPS_BY_ID = 3;
/** ISC's largest page of `GET /v3/access-request-status`. */
export const MAX_ACCESS_REQUEST_LIMIT = 250;

export interface IscContextFetcherOptions {
  /** Ids per list call, 1 to MAX_IDS_PER_CALL (default). */
  idsPerCall?: number;
}

export class IscContextFetcher implements ContextFetcher {
  readonly #api: IscContextReads;
  readonly #idsPerCall: number;

  constructor(client: { readonly context: IscContextReads }, options: IscContextFetcherOptions = {}) {
    const idsPerCall = options.idsPerCall ?? MAX_IDS_PER_CALL;
    if (!Number.isInteger(idsPerCall) || idsPerCall < 1 || idsPerCall > MAX_IDS_PER_CALL) {
      throw new RangeError(`idsPerCall must be an integer from 1 to ${MAX_IDS_PER_CALL}`);
    }
    this.#api = client.context;
    this.#idsPerCall = idsPerCall;
  }

  identities(ids: readonly string[], options: ContextReadOptions): Promise<Identity[]> {
    // NONE: ISC's default filter would hide an uncorrelated identity that the request is about.
    return this.#byIds(
      ids,
      options,
      (query, call) => this.#api.listIdentities({ ...query, defaultFilter: "NONE" }, call),
      (id, call) => this.#api.getIdentity(id, call),
    );
  }

  entitlements(ids: readonly string[], options: ContextReadOptions): Promise<Entitlement[]> {
    return this.#byIds(
      ids,
      options,
      (query, call) => this.#api.listEntitlements(query, call),
      (id, call) => this.#api.getEntitlement(id, call),
    );
  }

  accessProfiles(ids: readonly string[], options: ContextReadOptions): Promise<AccessProfile[]> {
    return this.#byIds(
      ids,
      options,
      (query, call) => this.#api.listAccessProfiles(query, call),
      (id, call) => this.#api.getAccessProfile(id, call),
    );
  }

  roles(ids: readonly string[], options: ContextReadOptions): Promise<Role[]> {
    return this.#byIds(
      ids,
      options,
      (query, call) => this.#api.listRoles(query, call),
      (id, call) => this.#api.getRole(id, call),
    );
  }

  sources(ids: readonly string[], options: ContextReadOptions): Promise<Source[]> {
    return this.#byIds(
      ids,
      options,
      (query, call) => this.#api.listSources(query, call),
      (id, call) => this.#api.getSource(id, call),
    );
  }

  /** No entitlement → no violation, and no request. All refs go in one call: a conflict may be between two of them. */
  async predictSod(
    identityId: string,
    entitlementIds: readonly string[],
    options: ContextReadOptions,
  ): Promise<ViolationPrediction> {
    checkPlainId(identityId, "identity id");
    const ids = checkedUnique(entitlementIds, "entitlement id");
    if (ids.length === 0) return { violationContexts: [] };
    return this.#api.predictSodViolations(
      { identityId, accessRefs: ids.map((id) => ({ type: "ENTITLEMENT", id })) },
      callOptions(options),
    );
  }

  async sodPolicy(id: string, options: ContextReadOptions): Promise<SodPolicy> {
    return this.#api.getSodPolicy(checkPlainId(id, "SoD policy id"), callOptions(options));
  }

  /** Newest first (`sorters=-created`), `limit` DEFAULT_ACCESS_REQUEST_LIMIT, at most MAX_ACCESS_REQUEST_LIMIT. */
  async accessRequestStatus(
    identityId: string,
    options: ContextReadOptions & { limit?: number },
  ): Promise<AccessRequestStatus[]> {
    const limit = Math.min(
      MAX_ACCESS_REQUEST_LIMIT,
      Math.max(1, Math.trunc(options.limit ?? DEFAULT_ACCESS_REQUEST_LIMIT)),
    );
    return this.#api.listAccessRequestStatus(
      { requestedFor: checkPlainId(identityId, "identity id"), limit, sorters: "-created" },
      callOptions(options),
    );
  }

  /**
   * The objects of `ids`: listed in chunks; an id the list left out is asked for by id once (ISC's
   * `id in (...)` filter misses some objects, e.g. access profiles and entitlements whose name has a
   * `+`), and is absent only when that answers 404.
   */
  async #byIds<T extends { id: string }>(
    ids: readonly string[],
    options: ContextReadOptions,
    list: (query: ListQuery, call: CallOptions) => Promise<T[]>,
    get: (id: string, call: CallOptions) => Promise<T>,
  ): Promise<T[]> {
    const unique = checkedUnique(ids, "id");
    const call = callOptions(options);
    const chunks: string[][] = [];
    for (let start = 0; start < unique.length; start += this.#idsPerCall) {
      chunks.push(unique.slice(start, start + this.#idsPerCall));
    }
    const pages = await Promise.all(
      chunks.map(async (chunk) => {
        const found = await list({ filters: idFilter(chunk), limit: chunk.length }, call);
        // Only what was asked for: a filter the server ignored must not pass other objects off as these.
        const wanted = new Set(chunk);
        const kept = found.filter((object) => wanted.has(object.id));
        const seen = new Set(kept.map((object) => object.id));
        // At most MAX_LOOKUPS_BY_ID of them, one after another: stale refs must not spend the
        // container's share of the rate limit; the rest count as not found (the decision falls back).
        const missing = chunk.filter((id) => !seen.has(id)).slice(0, MAX_LOOKUPS_BY_ID);
        const fetched: Array<T | undefined> = [];
        for (const id of missing) fetched.push(await getUnlessNotFound(get, id, call));
        for (const object of fetched) if (object !== undefined) kept.push(object);
        return kept;
      }),
    );
    return pages.flat();
  }
}

/** The object, or undefined when ISC answers 404 (any other failure is the read's failure). */
async function getUnlessNotFound<T extends { id: string }>(
  get: (id: string, call: CallOptions) => Promise<T>,
  id: string,
  call: CallOptions,
): Promise<T | undefined> {
  try {
    const object = await get(id, call);
    return object.id === id ? object : undefined;
  } catch (error) {
    const status = (error as { status?: unknown }).status;
    if (status === 404 || (error as { name?: unknown }).name === "IscNotFoundError") return undefined;
    throw error;
  }
}

/** Every id checked (all of them before any request), duplicates dropped, order kept. */
function checkedUnique(ids: readonly string[], what: string): string[] {
  if (!Array.isArray(ids)) throw new TypeError("ids must be an array");
  return [...new Set(ids.map((id) => checkPlainId(id, what)))];
}

function callOptions(options: ContextReadOptions): CallOptions {
  return {
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
  };
}
