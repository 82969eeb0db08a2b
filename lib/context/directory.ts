/**
 * A directory of identities, access items, sources, governance groups, SoD policies and access-request
 * history, served as the ISC objects of the context read APIs. One model for the sandbox tenant (its
 * HTTP routes) and for offline tools and tests (DirectoryFetcher), so both answer the same objects for
 * the same ids. Built from a DirectoryFile (directory-file.ts): references between objects are
 * checked here, so a directory that loads has no dangling id.
 *
 * Objects are built once and deeply frozen; callers that keep or change one take a copy.
 */

import { ResponderError, ValidationError, type ValidationIssue } from "../errors.ts";
import type {
  AccessProfile,
  AccessRequestStatus,
  Entitlement,
  Identity,
  Role,
  SodPolicy,
  Source,
  ViolationPrediction,
  Workgroup,
  WorkgroupMember,
} from "../isc/context-schemas.ts";
import { parseIsoDuration } from "../triggers/duration.ts";
import { defaultDirectoryFile } from "./default-directory.ts";
import type { DirectoryFile, DirectorySodPolicy } from "./directory-file.ts";
import { parseDirectoryFile, readDirectoryFile } from "./directory-file.ts";
import {
  accessProfileView,
  accessRequestView,
  entitlementView,
  identityView,
  type Refs,
  roleView,
  sodPolicyView,
  sourceView,
  workgroupMembersView,
  workgroupView,
} from "./directory-views.ts";
import { type SyntheticDirectoryOptions, syntheticDirectoryFile } from "./synthetic-directory.ts";

export { DEFAULT_DIRECTORY_IDS } from "./default-directory.ts";
export type { DirectoryFile } from "./directory-file.ts";
export { DirectoryFileSchema, PLAIN_ID, parseDirectoryFile, parseDirectoryText } from "./directory-file.ts";
export type { SyntheticDirectoryOptions } from "./synthetic-directory.ts";

/** The type of a requestable item, as requestedItems and access-request status name it. */
export type ItemType = "ENTITLEMENT" | "ACCESS_PROFILE" | "ROLE";

export interface RequestableItem {
  id: string;
  name: string;
  type: ItemType;
}

/** An id the directory does not hold (the sandbox answers 404, DirectoryFetcher rejects with a 404). */
export class DirectoryNotFoundError extends ResponderError {
  readonly what: string;
  readonly id: string;
  constructor(what: string, id: string) {
    super("DIRECTORY_NOT_FOUND", `${what} ${id} was not found`, { httpStatus: 404 });
    this.what = what;
    this.id = id;
  }
}

/** One approver of a pending access request (GET /v2025/access-request-approvals/{id}/approvers). */
export interface AccessRequestApprover {
  id: string;
  email: string;
  name: string;
  approvalId: string;
  type: "Identity";
}

export interface DirectoryOptions {
  /** Epoch ms that access-request `ago` durations count back from (default: now). */
  now?: number;
  /** For messages: where the directory came from. */
  source?: string;
}

/** Collects reference problems with their paths, so a file lists every one at once. */
class ReferenceChecker {
  readonly issues: ValidationIssue[] = [];
  check(ok: boolean, path: string, message: string): void {
    if (!ok) this.issues.push({ path, message });
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function indexById<T extends { id: string }>(
  section: string,
  list: readonly T[],
  check: ReferenceChecker,
): Map<string, T> {
  const map = new Map<string, T>();
  list.forEach((entry, index) => {
    check.check(!map.has(entry.id), `${section}[${index}].id`, `duplicate id ${entry.id}`);
    map.set(entry.id, entry);
  });
  return map;
}

export class Directory {
  /** Where it came from, for messages: `directory file <path>`, or the document's name. */
  readonly origin: string;
  /** The validated document it was built from (frozen). */
  readonly file: Readonly<DirectoryFile>;
  readonly #identities = new Map<string, Identity>();
  readonly #entitlements = new Map<string, Entitlement>();
  readonly #accessProfiles = new Map<string, AccessProfile>();
  readonly #roles = new Map<string, Role>();
  readonly #sources = new Map<string, Source>();
  readonly #workgroups = new Map<string, Workgroup>();
  readonly #members = new Map<string, WorkgroupMember[]>();
  readonly #sodPolicies = new Map<string, SodPolicy>();
  readonly #sodEntries: readonly DirectorySodPolicy[];
  readonly #access = new Map<string, ReadonlySet<string>>();
  readonly #grants = new Map<string, readonly string[]>();
  readonly #itemTypes = new Map<string, ItemType>();
  readonly #requests: AccessRequestStatus[] = [];

  /** Throws ValidationError (code INVALID_DIRECTORY) listing every dangling or duplicate id. */
  constructor(document: DirectoryFile, options: DirectoryOptions = {}) {
    const file = deepFreeze(structuredClone(document));
    this.file = file;
    this.origin = options.source ?? file.name ?? "directory";
    this.#sodEntries = file.sodPolicies ?? [];
    const check = new ReferenceChecker();
    const people = indexById("identities", file.identities ?? [], check);
    const entitlements = indexById("entitlements", file.entitlements ?? [], check);
    const profiles = indexById("accessProfiles", file.accessProfiles ?? [], check);
    const roles = indexById("roles", file.roles ?? [], check);
    const sources = indexById("sources", file.sources ?? [], check);
    const groups = indexById("governanceGroups", file.governanceGroups ?? [], check);
    indexById("sodPolicies", this.#sodEntries, check);
    for (const id of groups.keys()) {
      check.check(!people.has(id), "governanceGroups", `${id} is both an identity and a governance group id`);
    }
    const items: Array<[string, ReadonlyMap<string, unknown>]> = [
      ["entitlements", entitlements],
      ["accessProfiles", profiles],
      ["roles", roles],
    ];
    for (const [i, [section, map]] of items.entries()) {
      for (const [other, otherMap] of items.slice(i + 1)) {
        for (const id of map.keys()) {
          check.check(!otherMap.has(id), section, `id ${id} is used in both ${section} and ${other}`);
        }
      }
    }

    const nameOr = (map: ReadonlyMap<string, { name: string }>, id: string) => map.get(id)?.name ?? id;
    const refs: Refs = {
      identity: (id) => ({ type: "IDENTITY", id, name: nameOr(people, id) }),
      group: (id) => ({ type: "GOVERNANCE_GROUP", id, name: nameOr(groups, id) }),
      owner: (id) => (groups.has(id) ? refs.group(id) : refs.identity(id)),
      entitlement: (id) => ({ type: "ENTITLEMENT", id, name: nameOr(entitlements, id) }),
      accessProfile: (id) => ({ id, type: "ACCESS_PROFILE", name: nameOr(profiles, id) }),
      source: (id) => ({ id, type: "SOURCE", name: nameOr(sources, id) }),
      email: (id) => this.#identities.get(id)?.emailAddress ?? "",
    };
    const need = (
      map: ReadonlyMap<string, unknown>,
      what: string,
      id: string | null | undefined,
      path: string,
    ) => {
      if (id != null) check.check(map.has(id), path, `no ${what} has the id ${id}`);
    };
    const needAll = (
      map: ReadonlyMap<string, unknown>,
      what: string,
      ids: readonly string[] | undefined,
      path: string,
    ) => {
      for (const [i, id] of (ids ?? []).entries()) need(map, what, id, `${path}[${i}]`);
    };
    const needOwner = (id: string, path: string) =>
      check.check(people.has(id) || groups.has(id), path, `no identity or governance group has the id ${id}`);

    const managers = new Set((file.identities ?? []).map((person) => person.manager));
    (file.identities ?? []).forEach((person, i) => {
      need(people, "identity", person.manager, `identities[${i}].manager`);
      check.check(
        person.manager !== person.id,
        `identities[${i}].manager`,
        "a person cannot manage themself",
      );
      needAll(entitlements, "entitlement", person.access, `identities[${i}].access`);
      this.#identities.set(person.id, identityView(person, managers.has(person.id), refs));
      this.#access.set(person.id, new Set(person.access ?? []));
    });
    (file.sources ?? []).forEach((source, i) => {
      need(people, "identity", source.owner, `sources[${i}].owner`);
      need(groups, "governance group", source.managementWorkgroup, `sources[${i}].managementWorkgroup`);
      this.#sources.set(source.id, sourceView(source, refs));
    });
    (file.entitlements ?? []).forEach((entry, i) => {
      need(sources, "source", entry.source, `entitlements[${i}].source`);
      need(people, "identity", entry.owner, `entitlements[${i}].owner`);
      this.#entitlements.set(entry.id, entitlementView(entry, refs));
      this.#grants.set(entry.id, [entry.id]);
      this.#itemTypes.set(entry.id, "ENTITLEMENT");
    });
    (file.accessProfiles ?? []).forEach((entry, i) => {
      need(sources, "source", entry.source, `accessProfiles[${i}].source`);
      need(people, "identity", entry.owner, `accessProfiles[${i}].owner`);
      needAll(entitlements, "entitlement", entry.entitlements, `accessProfiles[${i}].entitlements`);
      this.#accessProfiles.set(entry.id, accessProfileView(entry, refs));
      this.#grants.set(entry.id, [...new Set(entry.entitlements)]);
      this.#itemTypes.set(entry.id, "ACCESS_PROFILE");
    });
    (file.roles ?? []).forEach((entry, i) => {
      need(people, "identity", entry.owner, `roles[${i}].owner`);
      needAll(entitlements, "entitlement", entry.entitlements, `roles[${i}].entitlements`);
      needAll(profiles, "access profile", entry.accessProfiles, `roles[${i}].accessProfiles`);
      this.#roles.set(entry.id, roleView(entry, refs));
      const throughProfiles = (entry.accessProfiles ?? []).flatMap(
        (id) => profiles.get(id)?.entitlements ?? [],
      );
      this.#grants.set(entry.id, [...new Set([...(entry.entitlements ?? []), ...throughProfiles])]);
      this.#itemTypes.set(entry.id, "ROLE");
    });
    (file.governanceGroups ?? []).forEach((group, i) => {
      need(people, "identity", group.owner, `governanceGroups[${i}].owner`);
      needAll(people, "identity", group.members, `governanceGroups[${i}].members`);
      this.#workgroups.set(group.id, workgroupView(group, refs));
      this.#members.set(group.id, workgroupMembersView(group, refs));
    });
    this.#sodEntries.forEach((policy, i) => {
      const path = `sodPolicies[${i}]`;
      needOwner(policy.owner, `${path}.owner`);
      if (policy.violationOwner?.assignmentRule === "STATIC") {
        needOwner(policy.violationOwner.owner, `${path}.violationOwner.owner`);
      }
      for (const side of ["left", "right"] as const) {
        needAll(entitlements, "entitlement", policy[side].entitlements, `${path}.${side}.entitlements`);
        check.check(
          policy[side].entitlements.length > 0,
          `${path}.${side}.entitlements`,
          "lists no entitlement",
        );
      }
      this.#sodPolicies.set(policy.id, sodPolicyView(policy, refs));
    });
    this.#loadRequests(file, options.now ?? Date.now(), check, refs, people);

    if (check.issues.length > 0) throw new ValidationError(this.origin, check.issues, "INVALID_DIRECTORY");
    for (const map of [
      this.#identities,
      this.#entitlements,
      this.#accessProfiles,
      this.#roles,
      this.#sources,
    ]) {
      for (const value of map.values()) deepFreeze(value);
    }
    for (const map of [this.#workgroups, this.#members, this.#sodPolicies]) {
      for (const value of map.values()) deepFreeze(value);
    }
    deepFreeze(this.#requests);
  }

  #loadRequests(
    file: DirectoryFile,
    now: number,
    check: ReferenceChecker,
    refs: Refs,
    people: ReadonlyMap<string, unknown>,
  ): void {
    (file.accessRequests ?? []).forEach((request, i) => {
      const path = `accessRequests[${i}]`;
      for (const field of ["requestedFor", "requester"] as const) {
        const id = request[field];
        if (id !== undefined) check.check(people.has(id), `${path}.${field}`, `no identity has the id ${id}`);
      }
      const type = this.#itemTypes.get(request.item);
      check.check(
        type !== undefined,
        `${path}.item`,
        `no entitlement, access profile or role has the id ${request.item}`,
      );
      check.check(
        (request.created === undefined) !== (request.ago === undefined),
        path,
        "give exactly one of created (a date-time) and ago (a duration before now)",
      );
      let created = request.created === undefined ? undefined : new Date(request.created).toISOString();
      if (request.ago !== undefined) {
        try {
          created = new Date(now - parseIsoDuration(request.ago)).toISOString();
        } catch (error) {
          check.check(false, `${path}.ago`, (error as Error).message);
        }
      }
      if (type === undefined || created === undefined) return;
      const item = this.#itemView(type, request.item)!;
      const privilegeLevel = type === "ROLE" ? ((item as Role).privilegeLevel ?? null) : null;
      this.#requests.push(
        accessRequestView(request, i, { type, name: String(item.name), privilegeLevel, created }, refs),
      );
    });
    // Newest first, as ISC lists them; equal times keep file order (sort is stable).
    this.#requests.sort((a, b) => String(b.created).localeCompare(String(a.created)));
  }

  #itemView(type: ItemType, itemId: string): Entitlement | AccessProfile | Role | undefined {
    if (type === "ENTITLEMENT") return this.#entitlements.get(itemId);
    if (type === "ACCESS_PROFILE") return this.#accessProfiles.get(itemId);
    return this.#roles.get(itemId);
  }

  // ---------- lookups (frozen objects; undefined when absent) ----------

  identity(id: string): Identity | undefined {
    return this.#identities.get(id);
  }
  entitlement(id: string): Entitlement | undefined {
    return this.#entitlements.get(id);
  }
  accessProfile(id: string): AccessProfile | undefined {
    return this.#accessProfiles.get(id);
  }
  role(id: string): Role | undefined {
    return this.#roles.get(id);
  }
  source(id: string): Source | undefined {
    return this.#sources.get(id);
  }
  workgroup(id: string): Workgroup | undefined {
    return this.#workgroups.get(id);
  }
  workgroupMembers(id: string): readonly WorkgroupMember[] | undefined {
    return this.#members.get(id);
  }
  sodPolicy(id: string): SodPolicy | undefined {
    return this.#sodPolicies.get(id);
  }

  /** Every object of a kind, in file order (what a list call filters and pages). */
  identities(): Identity[] {
    return [...this.#identities.values()];
  }
  entitlements(): Entitlement[] {
    return [...this.#entitlements.values()];
  }
  accessProfiles(): AccessProfile[] {
    return [...this.#accessProfiles.values()];
  }
  roles(): Role[] {
    return [...this.#roles.values()];
  }
  sources(): Source[] {
    return [...this.#sources.values()];
  }
  workgroups(): Workgroup[] {
    return [...this.#workgroups.values()];
  }

  /** The type of a requestable item id, or undefined. */
  itemType(id: string): ItemType | undefined {
    return this.#itemTypes.get(id);
  }

  /** Every entitlement, access profile and role, as requestedItems would name them (benchmarks, samples). */
  requestableItems(): RequestableItem[] {
    return [...this.#itemTypes].map(([itemId, type]) => ({
      id: itemId,
      name: String(this.#itemView(type, itemId)?.name ?? itemId),
      type,
    }));
  }

  /** The entitlement ids an item grants: itself, an access profile's, a role's (direct and through its access profiles). */
  grantedEntitlements(itemId: string): readonly string[] | undefined {
    return this.#grants.get(itemId);
  }

  /** The entitlement ids a person holds today. */
  currentAccess(identityId: string): readonly string[] | undefined {
    const access = this.#access.get(identityId);
    return access === undefined ? undefined : [...access];
  }

  /**
   * What POST /v3/sod-violations/predict answers: every enforced policy the person would violate with
   * their current access plus `entitlementIds` (at least one entitlement of each side), provided a
   * requested entitlement takes part in the conflict (a conflict the person already has, untouched by
   * the request, is not this request's). Throws DirectoryNotFoundError for an unknown identity or
   * entitlement.
   */
  predictSod(identityId: string, entitlementIds: readonly string[]): ViolationPrediction {
    const current = this.#access.get(identityId);
    if (current === undefined) throw new DirectoryNotFoundError("Identity", identityId);
    for (const entitlementId of entitlementIds) {
      if (!this.#entitlements.has(entitlementId))
        throw new DirectoryNotFoundError("Entitlement", entitlementId);
    }
    const requested = new Set(entitlementIds);
    const holds = (entitlementId: string) => current.has(entitlementId) || requested.has(entitlementId);
    const violationContexts: unknown[] = [];
    for (const policy of this.#sodEntries) {
      if ((policy.state ?? "ENFORCED") !== "ENFORCED") continue;
      const left = policy.left.entitlements.filter(holds);
      const right = policy.right.entitlements.filter(holds);
      if (left.length === 0 || right.length === 0) continue;
      if (![...left, ...right].some((entitlementId) => !current.has(entitlementId))) continue;
      const criteria = (list: string[]) => ({
        criteriaList: list.map((entitlementId) => ({
          type: "ENTITLEMENT",
          id: entitlementId,
          name: String(this.#entitlements.get(entitlementId)?.name ?? entitlementId),
          existing: current.has(entitlementId),
        })),
      });
      violationContexts.push({
        policy: { type: "SOD_POLICY", id: policy.id, name: policy.name },
        conflictingAccessCriteria: { leftCriteria: criteria(left), rightCriteria: criteria(right) },
      });
    }
    // ISC's schema requires a requestId; the prediction is synchronous, so it only identifies the answer.
    return { requestId: `predict-${identityId}`, violationContexts } as ViolationPrediction;
  }

  /** Access-request status records, newest first, for the people given (any of the filters). */
  accessRequestStatus(filter: {
    requestedFor?: string;
    requestedBy?: string;
    regardingIdentity?: string;
  }): AccessRequestStatus[] {
    return this.#requests.filter((record) => {
      const forId = record.requestedFor?.id;
      const byId = record.requester?.id;
      if (filter.requestedFor !== undefined && forId !== filter.requestedFor) return false;
      if (filter.requestedBy !== undefined && byId !== filter.requestedBy) return false;
      if (
        filter.regardingIdentity !== undefined &&
        forId !== filter.regardingIdentity &&
        byId !== filter.regardingIdentity
      )
        return false;
      return true;
    });
  }

  /** The approvers of an access request's pending items (the manager of the person it is for), or undefined. */
  accessRequestApprovers(accessRequestId: string): AccessRequestApprover[] | undefined {
    const records = this.#requests.filter((record) => record.accessRequestId === accessRequestId);
    if (records.length === 0) return undefined;
    const approvers = new Map<string, AccessRequestApprover>();
    for (const record of records) {
      if (record.state !== "EXECUTING") continue;
      const manager = this.#identities.get(String(record.requestedFor?.id))?.managerRef;
      const person = manager?.id == null ? undefined : this.#identities.get(manager.id);
      if (person === undefined || approvers.has(person.id)) continue;
      approvers.set(person.id, {
        id: person.id,
        email: person.emailAddress ?? "",
        name: person.name,
        approvalId: `${accessRequestId}-${person.id}`.slice(0, 64),
        type: "Identity",
      });
    }
    return [...approvers.values()];
  }
}

/** The sandbox's realistic default directory (see default-directory.ts and DEFAULT_DIRECTORY_IDS). */
export function defaultDirectory(options: { now?: number } = {}): Directory {
  return new Directory(defaultDirectoryFile(), options);
}

/** A generated directory of any size with skewed access, for benchmarks (reproducible per seed). */
export function syntheticDirectory(options: SyntheticDirectoryOptions = {}): Directory {
  return new Directory(syntheticDirectoryFile(options));
}

/** Validates a directory document (parsed JSON or YAML) and builds it; throws ValidationError. */
export function directoryFrom(value: unknown, options: DirectoryOptions = {}): Directory {
  const source = options.source ?? "directory";
  return new Directory(parseDirectoryFile(value, source), { ...options, source });
}

/** Reads and builds a directory file (JSON or YAML); errors name the file, the paths and the lines. */
export async function loadDirectoryFile(path: string, options: { now?: number } = {}): Promise<Directory> {
  return new Directory(await readDirectoryFile(path), { source: `directory file ${path}`, ...options });
}
