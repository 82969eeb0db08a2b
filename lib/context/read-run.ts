/**
 * One read's rounds and the ContextData they assemble (see reader.ts for the order of rounds).
 * Each step waits only on what it depends on; objects this read already asked for are reused, so
 * an id is asked at most once per read (a manager who is also the requester, an entitlement a role
 * grants directly and through an access profile).
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
import type { KindLoader, LoadRequest, ReadScope } from "./batch.ts";
import { ContextReadError } from "./errors.ts";
import { isPlainId } from "./ids.ts";
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

export type Loaders = { [K in ListKind]: KindLoader<string, ListValues[K]> } & {
  sodPrediction: KindLoader<SodArgs, ViolationPrediction>;
  sodPolicy: KindLoader<string, SodPolicy>;
  accessRequestStatus: KindLoader<string, AccessRequestStatus[]>;
};

type ItemDetails = Entitlement | AccessProfile | Role;

export class ReadRun {
  private readonly loaders: Loaders;
  private readonly scope: ReadScope;
  private readonly subject: ContextSubject;
  private readonly needs: ReadonlySet<ContextSource>;
  private readonly itemKinds: readonly ItemKind[];
  /** Per list kind: each id this read asked for, settled or not. */
  private readonly asked = new Map<ListKind, Map<string, Promise<unknown>>>();
  /** Per list kind: each object this read got. */
  private readonly got = new Map<ListKind, Map<string, unknown>>();

  constructor(
    loaders: Loaders,
    scope: ReadScope,
    subject: ContextSubject,
    needs: ReadonlySet<ContextSource>,
    itemKinds: readonly ItemKind[],
  ) {
    this.loaders = loaders;
    this.scope = scope;
    this.subject = subject;
    this.needs = needs;
    this.itemKinds = itemKinds;
  }

  async run(): Promise<ContextData> {
    const data: ContextData = {};
    await Promise.all([
      this.needs.has("identity") || this.needs.has("requester") ? this.people(data) : undefined,
      this.needs.has("items") ? this.items(data) : undefined,
      this.needs.has("accessRequests") ? this.accessRequests(data) : undefined,
    ]);
    data.provenance = this.scope.provenance;
    return data;
  }

  private async people(data: ContextData): Promise<void> {
    const forIds = this.subject.requestedFor.map((person) => person.id);
    const requesterId = this.needs.has("requester") ? this.subject.requestedBy?.id : undefined;
    const withPeople = this.needs.has("identity");
    const ids = [...(withPeople ? forIds : []), ...(requesterId === undefined ? [] : [requesterId])];
    const found = await this.list("identities", ids, "requestedFor / requestedBy");
    const identities = forIds.map((id) => found.get(id));
    if (withPeople) data.identity = identities as Identity[];
    if (requesterId !== undefined) data.requester = found.get(requesterId) as Identity;
    if (!this.needs.has("manager")) return;
    const managerIds = identities.map((identity) => refId(identity?.managerRef));
    const managers = await this.list("identities", managerIds.filter(isString), "a managerRef");
    data.manager = managerIds.map((id) => (id === null ? null : (managers.get(id) as Identity)));
  }

  private async items(data: ContextData): Promise<void> {
    const items = this.subject.requestedItems;
    const idsOf = (kind: ItemKind) =>
      items.filter((_, i) => this.itemKinds[i] === kind).map((item) => item.id);
    await Promise.all([
      this.list("entitlements", idsOf("entitlements"), "requestedItems"),
      this.list("accessProfiles", idsOf("accessProfiles"), "requestedItems"),
      this.list("roles", idsOf("roles"), "requestedItems"),
    ]);
    const details = items.map((item, i) => this.object(this.itemKinds[i]!, item.id) as ItemDetails);
    const contexts: ItemContext[] = details.map((detail) => ({ details: detail }));
    await Promise.all([
      this.needs.has("sources") ? this.sources(details, contexts) : undefined,
      this.needs.has("grants") ? this.grants(data, details, contexts) : undefined,
    ]);
    data.items = contexts;
  }

  private async sources(details: readonly ItemDetails[], contexts: ItemContext[]): Promise<void> {
    // Roles have no source; an entitlement or access profile may lack one.
    const sourceIds = details.map((detail, i) =>
      this.itemKinds[i] === "roles" ? null : refId((detail as Entitlement | AccessProfile).source),
    );
    const found = await this.list("sources", sourceIds.filter(isString), "an item's source");
    sourceIds.forEach((id, i) => {
      contexts[i]!.source = id === null ? null : (found.get(id) as Source);
    });
  }

  private async grants(
    data: ContextData,
    details: readonly ItemDetails[],
    contexts: ItemContext[],
  ): Promise<void> {
    const direct: string[] = [];
    const roleProfiles: string[] = [];
    details.forEach((detail, i) => {
      const kind = this.itemKinds[i];
      if (kind === "accessProfiles") direct.push(...refIds((detail as AccessProfile).entitlements));
      if (kind === "roles") {
        direct.push(...refIds((detail as Role).entitlements));
        roleProfiles.push(...refIds((detail as Role).accessProfiles));
      }
    });
    let granted: string[][] = [];
    await Promise.all([
      this.list("entitlements", direct, "an item's entitlements"),
      (async () => {
        const profiles = await this.list("accessProfiles", roleProfiles, "a role's accessProfiles");
        granted = details.map((detail, i) => this.grantedIds(this.itemKinds[i]!, detail));
        const throughRoles = [...profiles.values()].flatMap((profile) => refIds(profile.entitlements));
        await Promise.all([
          this.list("entitlements", throughRoles, "an access profile's entitlements"),
          this.needs.has("sod") ? this.sod(data, this.addedGrants(granted)) : undefined,
        ]);
      })(),
    ]);
    granted.forEach((ids, i) => {
      const entitlements = ids.map((id) => this.object("entitlements", id) as Entitlement);
      contexts[i]!.entitlements = entitlements;
      contexts[i]!.privileged = entitlements.some((entitlement) => entitlement.privileged === true);
    });
  }

  /** Entitlement ids an item grants, deduplicated (its access profiles are already read). */
  private grantedIds(kind: ItemKind, detail: ItemDetails): string[] {
    if (kind === "entitlements") return [detail.id];
    if (kind === "accessProfiles") return unique(refIds((detail as AccessProfile).entitlements));
    const role = detail as Role;
    const throughProfiles = refIds(role.accessProfiles).flatMap((id) =>
      refIds((this.object("accessProfiles", id) as AccessProfile).entitlements),
    );
    return unique([...refIds(role.entitlements), ...throughProfiles]);
  }

  /** What the added items (operation Add, or none) grant, sorted: the SoD prediction's input. */
  private addedGrants(granted: readonly string[][]): string[] {
    const added = this.subject.requestedItems.flatMap((item, i) =>
      isAdded(item.operation) ? granted[i]! : [],
    );
    return unique(added).sort();
  }

  private async sod(data: ContextData, entitlementIds: readonly string[]): Promise<void> {
    if (!entitlementIds.every(isPlainId)) throw refused("sodPrediction", "an entitlement ref");
    const people = unique(this.subject.requestedFor.map((person) => person.id));
    // Nothing added: no prediction to ask for (and no violation).
    const requests: LoadRequest<SodArgs>[] =
      entitlementIds.length === 0
        ? []
        : people.map((identityId) => ({
            id: identityId,
            key: `sodPrediction:${identityId}|${entitlementIds.join(",")}`,
            arg: { identityId, entitlementIds },
          }));
    const predictions =
      requests.length === 0 ? new Map() : await this.loaders.sodPrediction.load(requests, this.scope);
    const violations: SodViolation[] = requests.flatMap((request) =>
      ((predictions.get(request.key) as ViolationPrediction | undefined)?.violationContexts ?? []).map(
        (context) => ({
          identityId: request.id,
          policy: { id: context.policy.id, name: context.policy.name ?? "", type: context.policy.type },
          ...(context.conflictingAccessCriteria == null
            ? {}
            : { conflictingAccessCriteria: context.conflictingAccessCriteria }),
        }),
      ),
    );
    if (this.needs.has("sodPolicies")) await this.sodPolicies(violations);
    // A prediction without the policy's name still names it: by its policy's name, else its id.
    for (const violation of violations)
      if (violation.policy.name === "") violation.policy.name = violation.policy.id;
    data.sod = { violations, violated: violations.length > 0 };
  }

  private async sodPolicies(violations: SodViolation[]): Promise<void> {
    const ids = unique(violations.map((violation) => violation.policy.id));
    if (!ids.every(isPlainId)) throw refused("sodPolicy", "a violation's policy id");
    const requests = ids.map((id) => ({ id, key: `sodPolicy:${id}`, arg: id }));
    const found = ids.length === 0 ? new Map() : await this.loaders.sodPolicy.load(requests, this.scope);
    const missing = requests.filter((request) => !found.has(request.key)).map((request) => request.id);
    if (missing.length > 0)
      throw new ContextReadError({ kind: "sodPolicy", reason: "not-found", ids: missing });
    for (const violation of violations) {
      const policy = found.get(`sodPolicy:${violation.policy.id}`) as SodPolicy;
      violation.owner = policy.ownerRef ?? null;
      violation.violationOwner = policy.violationOwnerAssignmentConfig?.ownerRef ?? null;
      if (violation.policy.name === "" && typeof policy.name === "string")
        violation.policy.name = policy.name;
    }
  }

  private async accessRequests(data: ContextData): Promise<void> {
    const people = unique(this.subject.requestedFor.map((person) => person.id));
    const requests = people.map((id) => ({ id, key: `accessRequestStatus:${id}`, arg: id }));
    const found =
      requests.length === 0 ? new Map() : await this.loaders.accessRequestStatus.load(requests, this.scope);
    const lists = requests.map((request) => {
      const list = found.get(request.key) as AccessRequestStatus[] | undefined;
      if (list === undefined) {
        throw new ContextReadError({ kind: "accessRequestStatus", reason: "not-found", ids: [request.id] });
      }
      return list;
    });
    data.accessRequests = newestFirst(lists.flat());
  }

  /**
   * The objects of `ids` (deduplicated), each asked at most once per read; rejects when one is not
   * a plain id (before any call) or is absent from the results (not found).
   */
  private async list<K extends ListKind>(
    kind: K,
    ids: readonly string[],
    role: string,
  ): Promise<Map<string, ListValues[K]>> {
    const wanted = unique(ids);
    const asked = mapOf(this.asked, kind);
    const fresh = wanted.filter((id) => !asked.has(id));
    if (!fresh.every(isPlainId)) throw refused(kind, role === "requestedItems" ? "a requested item" : role);
    if (fresh.length > 0) {
      const loader = this.loaders[kind] as KindLoader<string, unknown>;
      const loading = loader.load(
        fresh.map((id) => ({ id, key: `${kind}:${id}`, arg: id })),
        this.scope,
      );
      const got = mapOf(this.got, kind);
      for (const id of fresh) {
        const one = loading.then((found) => {
          const value = found.get(`${kind}:${id}`);
          if (value !== undefined) got.set(id, value);
          return value;
        });
        one.catch(() => {}); // awaited below (or by a later step); never unhandled meanwhile
        asked.set(id, one);
      }
    }
    const values = await Promise.all(wanted.map((id) => asked.get(id)));
    const found = new Map<string, ListValues[K]>();
    const missing: string[] = [];
    wanted.forEach((id, i) => {
      const value = values[i];
      if (value === undefined) missing.push(id);
      else found.set(id, value as ListValues[K]);
    });
    if (missing.length > 0) {
      throw new ContextReadError({
        kind,
        reason: "not-found",
        description: `${kind} [${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", ..." : ""}] (${role})`,
        ids: missing,
      });
    }
    return found;
  }

  /** An object this read already got (the steps only look up what an earlier round returned). */
  private object(kind: ListKind, id: string): unknown {
    return this.got.get(kind)?.get(id);
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

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
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
