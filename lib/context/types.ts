/**
 * The contract between the rules engine, the pipeline and the context readers.
 *
 * The rules engine (lib/rules) knows which context sources a rule set uses and evaluates over plain
 * `ContextData`; it never reads anything. A `ContextReader` (lib/context) turns an invocation's ids
 * into that data through a `ContextFetcher`: the ISC client in a deployment, a directory in memory for
 * `rules test`, `rules eval --context` and unit tests. Type-only imports here: nothing is bundled.
 */
import type {
  AccessProfile,
  AccessRequestStatus,
  Entitlement,
  Identity,
  Ref,
  Role,
  SodPolicy,
  Source,
  ViolationPrediction,
} from "../isc/context-schemas.ts";

/**
 * What a rule can read beyond the payload. Each is read only when a rule of the invocation's trigger
 * uses it; a source implies the ones it is built from (the reader resolves that).
 * - `identity`: each person in `requestedFor` (rule paths `identity.*`)
 * - `requester`: the identity of `requestedBy` (`requester.*`)
 * - `manager`: the manager of each person in `requestedFor` (`manager.*`; implies identity)
 * - `items`: each requested item's details by type (item paths `details.*`)
 * - `grants`: the entitlements each item grants and whether it is privileged (`entitlements`,
 *   `privileged`; implies items)
 * - `sources`: each item's source (`source.*`: owner, managementWorkgroup; implies items)
 * - `sod`: ISC's SoD prediction for each person with what the added items grant (`sod.*`; implies grants)
 * - `sodPolicies`: the violated policies' owners (`sod.violations.owner`, `.violationOwner`; implies sod)
 * - `accessRequests`: the people's other access requests (`accessRequests.*`)
 */
export const CONTEXT_SOURCES = [
  "identity",
  "requester",
  "manager",
  "items",
  "grants",
  "sources",
  "sod",
  "sodPolicies",
  "accessRequests",
] as const;
export type ContextSource = (typeof CONTEXT_SOURCES)[number];
export type ContextNeeds = ReadonlySet<ContextSource>;

/** A requested item's context, aligned with `requestedItems` by index. */
export interface ItemContext {
  /** The item's ISC object by its type (entitlement, access profile or role); `items`. */
  details?: Entitlement | AccessProfile | Role;
  /** Every entitlement the item grants (itself; an access profile's; a role's, direct and through its access profiles); `grants`. */
  entitlements?: Entitlement[];
  /** Any entitlement it grants is privileged; `grants`. */
  privileged?: boolean;
  /** The item's source (owner, managementWorkgroup), null when the item has none (roles); `sources`. */
  source?: Source | null;
}

/** One policy ISC predicts a person would violate with the added access. */
export interface SodViolation {
  /** The person (from `requestedFor`) the prediction is for. */
  identityId: string;
  policy: { id: string; name: string; type?: string | null | undefined };
  conflictingAccessCriteria?: unknown;
  /** `sodPolicies`: the policy's owner and its violation owner (null when it has none). */
  owner?: Ref | null;
  violationOwner?: Ref | null;
}

/** What the rules see beyond the payload. A key is present exactly when its source was read. */
export interface ContextData {
  /** `identity`: per person in requestedFor, in order. */
  identity?: Identity[];
  /** `requester`. */
  requester?: Identity;
  /** `manager`: per person in requestedFor, in order; null where the person has no manager. */
  manager?: Array<Identity | null>;
  /** `items` / `grants` / `sources`: per requested item, in order. */
  items?: ItemContext[];
  /** `sod`. */
  sod?: { violations: SodViolation[]; violated: boolean };
  /** `accessRequests`: the people's access requests as ISC lists them (newest first). */
  accessRequests?: AccessRequestStatus[];
  /** Where each object came from, keyed `kind:id` (explanations, logs). */
  provenance?: Record<string, ContextOrigin>;
}

export interface ContextOrigin {
  from: "api" | "cache";
  /** Latency of the read that brought it (0 for a cache hit). */
  ms: number;
}

/** The kinds of ISC object a reader fetches (one list call per kind per round). */
export type ContextKind =
  | "identities"
  | "entitlements"
  | "accessProfiles"
  | "roles"
  | "sources"
  | "sodPrediction"
  | "sodPolicy"
  | "accessRequestStatus";

/** One request to ISC (or a cache hit standing for one), for explanations, logs and metrics. */
export interface ContextRead {
  kind: ContextKind;
  /** Ids asked for in this request. */
  ids: number;
  from: "api" | "cache";
  ms: number;
  /** HTTP status of a failed request. */
  status?: number;
}

export interface ContextResult {
  data: ContextData;
  /** The API requests made (cache hits are counted in `cacheHits`, not listed). */
  reads: ContextRead[];
  cacheHits: number;
}

export interface ContextReadOptions {
  signal?: AbortSignal;
  /** Epoch ms: every read, retries and rate-limit waits included, ends by then. */
  deadline?: number;
}

/** Ids of an access request input the reader needs (requestedFor as one object or a list). */
export interface ContextSubject {
  requestedFor: ReadonlyArray<{ id: string }>;
  requestedBy: { id: string } | undefined;
  requestedItems: ReadonlyArray<{ id: string; type: string; operation?: string | undefined }>;
}

/**
 * Reads what `needs` asks for. Rejects with ContextReadError when anything needed cannot be read
 * (never partial data: the decision must fall back, not evaluate over a gap).
 */
export interface ContextReader {
  read(subject: ContextSubject, needs: ContextNeeds, options: ContextReadOptions): Promise<ContextResult>;
}

/**
 * Where a reader gets objects: the ISC client, or a directory in memory. List calls return the
 * objects found (missing ids are simply absent); ids are already checked as plain id characters.
 */
export interface ContextFetcher {
  identities(ids: readonly string[], options: ContextReadOptions): Promise<Identity[]>;
  entitlements(ids: readonly string[], options: ContextReadOptions): Promise<Entitlement[]>;
  accessProfiles(ids: readonly string[], options: ContextReadOptions): Promise<AccessProfile[]>;
  roles(ids: readonly string[], options: ContextReadOptions): Promise<Role[]>;
  sources(ids: readonly string[], options: ContextReadOptions): Promise<Source[]>;
  /** POST /v3/sod-violations/predict for one identity with ENTITLEMENT refs. */
  predictSod(
    identityId: string,
    entitlementIds: readonly string[],
    options: ContextReadOptions,
  ): Promise<ViolationPrediction>;
  /** GET /v3/sod-policies/{id}; rejects (404) when it does not exist. */
  sodPolicy(id: string, options: ContextReadOptions): Promise<SodPolicy>;
  /** GET /v3/access-request-status?requested-for={id} (newest first, at most `limit`). */
  accessRequestStatus(
    identityId: string,
    options: ContextReadOptions & { limit?: number },
  ): Promise<AccessRequestStatus[]>;
}

/** The OAuth scope each source needs (403 names it in logs and `rules eval`). */
export const SCOPE_OF_KIND: Readonly<Record<ContextKind, string>> = {
  identities: "idn:identity:read",
  entitlements: "idn:entitlement:read",
  accessProfiles: "idn:access-profile:read",
  roles: "idn:role-checked:read",
  sources: "idn:sources:read",
  sodPrediction: "idn:sod-violation:read",
  sodPolicy: "idn:sod-policy:read",
  accessRequestStatus: "idn:access-request-status:read",
};
