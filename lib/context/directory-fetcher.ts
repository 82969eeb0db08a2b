/**
 * A ContextFetcher over a Directory in memory, for `rules test`, `rules eval --context` and unit tests:
 * the same objects the sandbox serves for the same ids, with the same list limits, and the errors the
 * ISC client raises (IscApiError 404 for an unknown SoD policy or identity, 400 for a limit ISC
 * refuses). It counts its calls per kind, can wait like a tenant (latencyMs) and can be told to fail.
 */
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
import { IscApiError, IscDeadlineError } from "../isc/errors.ts";
import { type Directory, DirectoryNotFoundError, defaultDirectory } from "./directory.ts";
import type { ContextFetcher, ContextKind, ContextReadOptions } from "./types.ts";

/** The most objects one list call returns (ISC's limits: 250, roles 50). */
export const LIST_LIMITS: Readonly<
  Record<"identities" | "entitlements" | "accessProfiles" | "roles" | "sources", number>
> = { identities: 250, entitlements: 250, accessProfiles: 250, roles: 50, sources: 250 };

const OPERATIONS: Readonly<Record<ContextKind, string>> = {
  identities: "GET /v2025/identities",
  entitlements: "GET /v2025/entitlements",
  accessProfiles: "GET /v3/access-profiles",
  roles: "GET /v3/roles",
  sources: "GET /v3/sources",
  sodPrediction: "POST /v3/sod-violations/predict",
  sodPolicy: "GET /v3/sod-policies/{id}",
  accessRequestStatus: "GET /v3/access-request-status",
};

export interface DirectoryFetcherOptions {
  /** Each call waits this long first (honouring the signal and the deadline), like a tenant's latency. */
  latencyMs?: number;
  /** Makes a call fail: return the error to reject with (an IscApiError 403, say), or undefined. */
  failWith?: (kind: ContextKind, ids: readonly string[]) => Error | undefined;
}

/** One call made to the fetcher. */
export interface DirectoryFetcherCall {
  kind: ContextKind;
  ids: string[];
}

function emptyCounts(): Record<ContextKind, number> {
  return {
    identities: 0,
    entitlements: 0,
    accessProfiles: 0,
    roles: 0,
    sources: 0,
    sodPrediction: 0,
    sodPolicy: 0,
    accessRequestStatus: 0,
  };
}

function notFound(kind: ContextKind, what: string, id: string): IscApiError {
  return new IscApiError({
    status: 404,
    operation: OPERATIONS[kind],
    detailCode: "404 Not found",
    messages: [`${what} ${id} was not found`],
  });
}

export class DirectoryFetcher implements ContextFetcher {
  readonly directory: Directory;
  /** Calls per kind (each one stands for one ISC request). */
  readonly calls: Record<ContextKind, number> = emptyCounts();
  /** Every call, in order. */
  readonly log: DirectoryFetcherCall[] = [];
  readonly #options: DirectoryFetcherOptions;

  constructor(directory: Directory = defaultDirectory(), options: DirectoryFetcherOptions = {}) {
    this.directory = directory;
    this.#options = options;
  }

  /** All calls together. */
  get totalCalls(): number {
    return Object.values(this.calls).reduce((sum, count) => sum + count, 0);
  }

  reset(): void {
    Object.assign(this.calls, emptyCounts());
    this.log.length = 0;
  }

  identities(ids: readonly string[], options: ContextReadOptions): Promise<Identity[]> {
    return this.#list("identities", ids, options, this.directory.identities());
  }

  entitlements(ids: readonly string[], options: ContextReadOptions): Promise<Entitlement[]> {
    return this.#list("entitlements", ids, options, this.directory.entitlements());
  }

  accessProfiles(ids: readonly string[], options: ContextReadOptions): Promise<AccessProfile[]> {
    return this.#list("accessProfiles", ids, options, this.directory.accessProfiles());
  }

  roles(ids: readonly string[], options: ContextReadOptions): Promise<Role[]> {
    return this.#list("roles", ids, options, this.directory.roles());
  }

  sources(ids: readonly string[], options: ContextReadOptions): Promise<Source[]> {
    return this.#list("sources", ids, options, this.directory.sources());
  }

  async predictSod(
    identityId: string,
    entitlementIds: readonly string[],
    options: ContextReadOptions,
  ): Promise<ViolationPrediction> {
    await this.#call("sodPrediction", [identityId, ...entitlementIds], options);
    try {
      return structuredClone(this.directory.predictSod(identityId, entitlementIds));
    } catch (error) {
      if (error instanceof DirectoryNotFoundError) throw notFound("sodPrediction", error.what, error.id);
      throw error;
    }
  }

  async sodPolicy(id: string, options: ContextReadOptions): Promise<SodPolicy> {
    await this.#call("sodPolicy", [id], options);
    const policy = this.directory.sodPolicy(id);
    if (policy === undefined) throw notFound("sodPolicy", "SoD policy", id);
    return structuredClone(policy);
  }

  async accessRequestStatus(
    identityId: string,
    options: ContextReadOptions & { limit?: number },
  ): Promise<AccessRequestStatus[]> {
    await this.#call("accessRequestStatus", [identityId], options);
    const limit = options.limit ?? 250;
    if (!Number.isInteger(limit) || limit < 0 || limit > 250) {
      throw new IscApiError({
        status: 400,
        operation: OPERATIONS.accessRequestStatus,
        detailCode: "400.1 Bad Request Content",
        messages: ["Query parameter limit must be an integer 0..250"],
      });
    }
    return structuredClone(this.directory.accessRequestStatus({ requestedFor: identityId }).slice(0, limit));
  }

  /** A list call with `filters=id in (...)`: the objects found, in the directory's order, at most ISC's limit. */
  async #list<T extends { id: string }>(
    kind: keyof typeof LIST_LIMITS,
    ids: readonly string[],
    options: ContextReadOptions,
    all: readonly T[],
  ): Promise<T[]> {
    await this.#call(kind, ids, options);
    const wanted = new Set(ids);
    return structuredClone(all.filter((item) => wanted.has(item.id)).slice(0, LIST_LIMITS[kind]));
  }

  async #call(kind: ContextKind, ids: readonly string[], options: ContextReadOptions): Promise<void> {
    this.calls[kind]++;
    this.log.push({ kind, ids: [...ids] });
    const operation = OPERATIONS[kind];
    const stop = (reason: "deadline" | "aborted") => new IscDeadlineError({ operation, reason, attempts: 0 });
    if (options.signal?.aborted) throw stop("aborted");
    const latency = this.#options.latencyMs ?? 0;
    if (options.deadline !== undefined && Date.now() + latency > options.deadline) throw stop("deadline");
    if (latency > 0) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          clearTimeout(timer);
          reject(stop("aborted"));
        };
        const timer = setTimeout(() => {
          options.signal?.removeEventListener("abort", onAbort);
          resolve();
        }, latency);
        options.signal?.addEventListener("abort", onAbort, { once: true });
      });
    }
    const failure = this.#options.failWith?.(kind, ids);
    if (failure !== undefined) throw failure;
  }
}
