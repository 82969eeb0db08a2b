/**
 * One read's rounds and the ContextData they assemble (see reader.ts for the order of rounds).
 * Each step waits only on what it depends on; objects this read already asked for are reused, so
 * an id is asked at most once per read (a manager who is also the requester, an entitlement a role
 * grants directly and through an access profile).
 *
 * The rounds are steps (steps.ts) over a `Lookup`: through the loaders (cache, calls in flight, new
 * calls; run with runAsync), or the cache alone, which answers synchronously or throws (runNow), so
 * a read whose every object is cached costs no promise, timer or signal and assembles the very same
 * data in the same way.
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
import type { KindLoader, LoadRequest } from "./batch.ts";
import { ContextReadError } from "./errors.ts";
import { isPlainId } from "./ids.ts";
import type { CacheKeys } from "./keys.ts";
import { inParallel, type Step, waitFor } from "./steps.ts";
import type {
  ContextData,
  ContextKind,
  ContextSource,
  ContextSubject,
  ItemContext,
  SodViolation,
} from "./types.ts";

export type ItemKind = "entitlements" | "accessProfiles" | "roles";

/** What each list kind returns. */
interface ListValues {
  identities: Identity;
  entitlements: Entitlement;
  accessProfiles: AccessProfile;
  roles: Role;
  sources: Source;
}
type ListKind = keyof ListValues;

export interface SodArgs {
  identityId: string;
  entitlementIds: readonly string[];
}

/** Per kind: what a load request carries for the call, and what it finds. */
type KindTypes = { [K in ListKind]: { arg: string; value: ListValues[K] } } & {
  sodPrediction: { arg: SodArgs; value: ViolationPrediction };
  sodPolicy: { arg: string; value: SodPolicy };
  accessRequestStatus: { arg: string; value: AccessRequestStatus[] };
};
export type LoadKind = keyof KindTypes;

export type Loaders = { [K in LoadKind]: KindLoader<KindTypes[K]["arg"], KindTypes[K]["value"]> };

/**
 * Where a run gets objects: the value found for each of `requests` (distinct keys), in order,
 * undefined where not found. A promise through the loaders; at once from the cache alone (which
 * throws instead of answering a miss).
 */
export interface Lookup {
  /** The cache key of each id (`kind:id`), which is also its provenance entry. */
  readonly keys: CacheKeys;
  load<K extends LoadKind>(
    kind: K,
    requests: readonly LoadRequest<KindTypes[K]["arg"]>[],
  ): Found<KindTypes[K]["value"]> | Promise<Found<KindTypes[K]["value"]>>;
}

export type Found<V> = ReadonlyArray<V | undefined>;

type ItemDetails = Entitlement | AccessProfile | Role;

export class ReadRun {
  private readonly lookup: Lookup;
  private readonly subject: ContextSubject;
  private readonly needs: ReadonlySet<ContextSource>;
  private readonly itemKinds: readonly ItemKind[];
  /**
   * Per list kind: each id this read asked for, and what it found (undefined: not found), or the
   * promise of that until it settles.
   */
  private readonly asked = new Map<ListKind, Map<string, unknown>>();

  constructor(
    lookup: Lookup,
    subject: ContextSubject,
    needs: ReadonlySet<ContextSource>,
    itemKinds: readonly ItemKind[],
  ) {
    this.lookup = lookup;
    this.subject = subject;
    this.needs = needs;
    this.itemKinds = itemKinds;
  }

  /** Every round; the data without `provenance` (the caller's record holds it). */
  *run(): Step<ContextData> {
    const data: ContextData = {};
    yield* inParallel(
      this.needs.has("identity") || this.needs.has("requester") ? this.people(data) : undefined,
      this.needs.has("items") ? this.items(data) : undefined,
      this.needs.has("accessRequests") ? this.accessRequests(data) : undefined,
    );
    return data;
  }

  private *people(data: ContextData): Step<void> {
    const forIds = this.subject.requestedFor.map((person) => person.id);
    const requesterId = this.needs.has("requester") ? this.subject.requestedBy?.id : undefined;
    const withPeople = this.needs.has("identity");
    const ids = [...(withPeople ? forIds : []), ...(requesterId === undefined ? [] : [requesterId])];
    yield* this.list("identities", ids, "requestedFor / requestedBy");
    const identities = forIds.map((id) => this.object("identities", id));
    if (withPeople) data.identity = identities;
    if (requesterId !== undefined) data.requester = this.object("identities", requesterId);
    if (!this.needs.has("manager")) return;
    const managerIds = identities.map((identity) => refId(identity?.managerRef));
    yield* this.list("identities", managerIds.filter(isString), "a managerRef");
    data.manager = managerIds.map((id) => (id === null ? null : this.object("identities", id)));
  }

  private *items(data: ContextData): Step<void> {
    const items = this.subject.requestedItems;
    yield* inParallel(
      this.list("entitlements", this.itemIdsOf("entitlements"), "requestedItems"),
      this.list("accessProfiles", this.itemIdsOf("accessProfiles"), "requestedItems"),
      this.list("roles", this.itemIdsOf("roles"), "requestedItems"),
    );
    const details = items.map((item, i): ItemDetails => this.object(this.itemKinds[i]!, item.id));
    const contexts: ItemContext[] = details.map((detail) => ({ details: detail }));
    yield* inParallel(
      this.needs.has("sources") ? this.sources(details, contexts) : undefined,
      this.needs.has("grants") ? this.grants(data, details, contexts) : undefined,
    );
    data.items = contexts;
  }

  private itemIdsOf(kind: ItemKind): string[] {
    return this.subject.requestedItems.filter((_, i) => this.itemKinds[i] === kind).map((item) => item.id);
  }

  private *sources(details: readonly ItemDetails[], contexts: ItemContext[]): Step<void> {
    // Roles have no source; an entitlement or access profile may lack one.
    const sourceIds = details.map((detail, i) =>
      this.itemKinds[i] === "roles" ? null : refId((detail as Entitlement | AccessProfile).source),
    );
    yield* this.list("sources", sourceIds.filter(isString), "an item's source");
    sourceIds.forEach((id, i) => {
      contexts[i]!.source = id === null ? null : this.object("sources", id);
    });
  }

  private *grants(data: ContextData, details: readonly ItemDetails[], contexts: ItemContext[]): Step<void> {
    const direct: string[] = [];
    const roleProfiles: string[] = [];
    details.forEach((detail, i) => {
      const kind = this.itemKinds[i];
      if (kind === "accessProfiles") direct.push(...refIds((detail as AccessProfile).entitlements));
      if (kind === "roles") {
        const role = detail as Role;
        // A dimensional role grants access through its dimensions too, which no read here covers:
        // "privileged" and the SoD prediction would miss what they grant. Refuse (the decision falls back).
        if (
          role.dimensional === true ||
          (Array.isArray(role.dimensionRefs) && role.dimensionRefs.length > 0)
        ) {
          throw new ContextReadError({
            kind: "roles",
            reason: "unsupported",
            ids: [role.id],
            description: `dimensional role ${role.id} (what its dimensions grant)`,
          });
        }
        direct.push(...refIds(role.entitlements));
        roleProfiles.push(...refIds(role.accessProfiles));
      }
    });
    const [, granted = []] = yield* inParallel(
      this.list("entitlements", direct, "an item's entitlements"),
      this.throughRoleProfiles(data, details, roleProfiles),
    );
    granted.forEach((ids, i) => {
      const entitlements = ids.map((id) => this.object("entitlements", id));
      contexts[i]!.entitlements = entitlements;
      contexts[i]!.privileged = entitlements.some((entitlement) => entitlement.privileged === true);
    });
  }

  /**
   * Reads the roles' access profiles, then their entitlements and (with every grant known) the SoD
   * prediction; returns the entitlement ids each item grants.
   */
  private *throughRoleProfiles(
    data: ContextData,
    details: readonly ItemDetails[],
    roleProfiles: readonly string[],
  ): Step<string[][]> {
    yield* this.list("accessProfiles", roleProfiles, "a role's accessProfiles");
    const granted = details.map((detail, i) => this.grantedIds(this.itemKinds[i]!, detail));
    const throughRoles = flatMapped(unique(roleProfiles), (id) =>
      refIds(this.object("accessProfiles", id).entitlements),
    );
    yield* inParallel(
      this.list("entitlements", throughRoles, "an access profile's entitlements"),
      this.needs.has("sod") ? this.sod(data, this.addedGrants(granted)) : undefined,
    );
    return granted;
  }

  /** Entitlement ids an item grants, deduplicated (its access profiles are already read). */
  private grantedIds(kind: ItemKind, detail: ItemDetails): string[] {
    if (kind === "entitlements") return [detail.id];
    if (kind === "accessProfiles") return unique(refIds((detail as AccessProfile).entitlements));
    const role = detail as Role;
    const throughProfiles = flatMapped(refIds(role.accessProfiles), (id) =>
      refIds(this.object("accessProfiles", id).entitlements),
    );
    return unique([...refIds(role.entitlements), ...throughProfiles]);
  }

  /** What the added items (operation Add, or none) grant, sorted: the SoD prediction's input. */
  private addedGrants(granted: readonly string[][]): string[] {
    const added = flatMapped(this.subject.requestedItems, (item, i) =>
      isAdded(item.operation) ? granted[i]! : [],
    );
    return unique(added).sort();
  }

  private *sod(data: ContextData, entitlementIds: readonly string[]): Step<void> {
    if (!entitlementIds.every(isPlainId)) throw refused("sodPrediction", "an entitlement ref");
    const people = unique(this.subject.requestedFor.map((person) => person.id));
    const grants = entitlementIds.join(",");
    // Nothing added: no prediction to ask for (and no violation).
    const requests: LoadRequest<SodArgs>[] =
      entitlementIds.length === 0
        ? []
        : people.map((identityId) => ({
            id: identityId,
            key: this.lookup.keys.of("sodPrediction", `${identityId}|${grants}`),
            arg: { identityId, entitlementIds },
            origin: this.lookup.keys.of("sodPrediction", identityId),
          }));
    const predictions =
      requests.length === 0 ? [] : yield* waitFor(this.lookup.load("sodPrediction", requests));
    const violations: SodViolation[] = flatMapped(requests, (request, i) =>
      predictionOf(predictions[i], request.id).violationContexts.map((context) => ({
        identityId: request.id,
        policy: { id: context.policy.id, name: context.policy.name ?? "", type: context.policy.type },
        ...(context.conflictingAccessCriteria == null
          ? {}
          : { conflictingAccessCriteria: context.conflictingAccessCriteria }),
      })),
    );
    if (this.needs.has("sodPolicies")) yield* this.sodPolicies(violations);
    // A prediction without the policy's name still names it: by its policy's name, else its id.
    for (const violation of violations)
      if (violation.policy.name === "") violation.policy.name = violation.policy.id;
    data.sod = { violations, violated: violations.length > 0 };
  }

  private *sodPolicies(violations: SodViolation[]): Step<void> {
    const ids = unique(violations.map((violation) => violation.policy.id));
    if (!ids.every(isPlainId)) throw refused("sodPolicy", "a violation's policy id");
    const requests = ids.map((id) => ({ id, key: this.lookup.keys.of("sodPolicy", id), arg: id }));
    const found = ids.length === 0 ? [] : yield* waitFor(this.lookup.load("sodPolicy", requests));
    const missing = ids.filter((_, i) => found[i] === undefined);
    if (missing.length > 0)
      throw new ContextReadError({ kind: "sodPolicy", reason: "not-found", ids: missing });
    for (const violation of violations) {
      const policy = found[ids.indexOf(violation.policy.id)] as SodPolicy;
      violation.owner = policy.ownerRef ?? null;
      violation.violationOwner = policy.violationOwnerAssignmentConfig?.ownerRef ?? null;
      if (violation.policy.name === "" && typeof policy.name === "string")
        violation.policy.name = policy.name;
    }
  }

  private *accessRequests(data: ContextData): Step<void> {
    const people = unique(this.subject.requestedFor.map((person) => person.id));
    const requests = people.map((id) => ({
      id,
      key: this.lookup.keys.of("accessRequestStatus", id),
      arg: id,
    }));
    const found =
      requests.length === 0 ? [] : yield* waitFor(this.lookup.load("accessRequestStatus", requests));
    const lists = requests.map((request, i) => {
      const list = found[i];
      if (list === undefined) {
        throw new ContextReadError({ kind: "accessRequestStatus", reason: "not-found", ids: [request.id] });
      }
      return list;
    });
    data.accessRequests = newestFirst(lists.flat());
  }

  /**
   * Reads the objects of `ids` (then `object` has them), each asked at most once per read; rejects
   * when one is not a plain id (before any call) or is absent from the results (not found).
   */
  private *list(kind: ListKind, ids: readonly string[], role: string): Step<void> {
    if (ids.length === 0) return;
    const wanted = unique(ids);
    const asked = mapOf(this.asked, kind);
    const fresh = wanted.filter((id) => !asked.has(id));
    if (!fresh.every(isPlainId)) throw refused(kind, role === "requestedItems" ? "a requested item" : role);
    if (fresh.length > 0) this.ask(kind, fresh, asked);
    const pending = promisesOf(wanted, asked);
    // Settling replaces each promise in `asked` by what it found.
    if (pending !== undefined) yield* waitFor(Promise.all(pending));
    const missing = wanted.filter((id) => asked.get(id) === undefined);
    if (missing.length > 0) {
      throw new ContextReadError({
        kind,
        reason: "not-found",
        description: `${kind} [${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", ..." : ""}] (${role})`,
        ids: missing,
      });
    }
  }

  /**
   * Looks `fresh` up into `asked`: what each id found, or (through the loaders) its promise until it
   * settles, so a later step asking for the same id waits on the same call.
   */
  private ask(kind: ListKind, fresh: readonly string[], asked: Map<string, unknown>): void {
    const loading = this.lookup.load(
      kind,
      fresh.map((id) => ({ id, key: this.lookup.keys.of(kind, id), arg: id })),
    ) as Found<unknown> | Promise<Found<unknown>>;
    fresh.forEach((id, i) => {
      if (!(loading instanceof Promise)) {
        asked.set(id, loading[i]);
        return;
      }
      const one = loading.then((found) => void asked.set(id, found[i]));
      one.catch(() => {}); // awaited by list (or by a later step); never unhandled meanwhile
      asked.set(id, one);
    });
  }

  /** An object this read already got (the steps only look up what an earlier round returned). */
  private object<K extends ListKind>(kind: K, id: string): ListValues[K] {
    return this.asked.get(kind)?.get(id) as ListValues[K];
  }
}

function refused(kind: ContextKind, what: string): ContextReadError {
  return new ContextReadError({ kind, reason: "refused-id", description: `${what} read as ${kind}` });
}

function isAdded(operation: string | undefined): boolean {
  return operation === undefined || operation.toLowerCase() === "add";
}

function refId(ref: Ref | null | undefined): string | null {
  return typeof ref?.id === "string" && ref.id !== "" ? ref.id : null;
}

function refIds(refs: readonly Ref[] | null | undefined): string[] {
  return (refs ?? []).map(refId).filter(isString);
}

function isString(value: string | null): value is string {
  return value !== null;
}

/** The promises `asked` still holds for `ids`; undefined when every one has settled (always, from the cache). */
function promisesOf(ids: readonly string[], asked: ReadonlyMap<string, unknown>): unknown[] | undefined {
  let pending: unknown[] | undefined;
  for (const id of ids) {
    const value = asked.get(id);
    if (!(value instanceof Promise)) continue;
    if (pending === undefined) pending = [];
    pending.push(value);
  }
  return pending;
}

/** `values.flatMap(each)` as a loop: flatMap costs several times more on a read's hot path. */
function flatMapped<T, U>(values: readonly T[], each: (value: T, index: number) => readonly U[]): U[] {
  const out: U[] = [];
  values.forEach((value, index) => {
    for (const mapped of each(value, index)) out.push(mapped);
  });
  return out;
}

/** `values` without repeats, in first-seen order (a scan for the few ids of one request). */
function unique(values: readonly string[]): string[] {
  if (values.length > 8) return [...new Set(values)];
  const out: string[] = [];
  for (const value of values) if (!out.includes(value)) out.push(value);
  return out;
}

function mapOf<K, V>(maps: Map<K, Map<string, V>>, key: K): Map<string, V> {
  let map = maps.get(key);
  if (map === undefined) {
    map = new Map();
    maps.set(key, map);
  }
  return map;
}

/** Newest first by `created`; entries without a date go last, in their order. */
function newestFirst(statuses: AccessRequestStatus[]): AccessRequestStatus[] {
  const time = (status: AccessRequestStatus) => {
    const parsed = typeof status.created === "string" ? Date.parse(status.created) : Number.NaN;
    return Number.isNaN(parsed) ? Number.NEGATIVE_INFINITY : parsed;
  };
  return statuses
    .map((status, index) => ({ status, index, at: time(status) }))
    .sort((a, b) => (a.at === b.at ? a.index - b.index : b.at > a.at ? 1 : -1))
    .map((entry) => entry.status);
}

/** A prediction asked for and not returned is a failed read, never "no violation". */
function predictionOf(prediction: ViolationPrediction | undefined, identityId: string): ViolationPrediction {
  if (prediction === undefined) {
    throw new ContextReadError({ kind: "sodPrediction", reason: "not-found", ids: [identityId] });
  }
  return prediction;
}
