/**
 * An in-memory ContextFetcher for the reader's tests: a small directory, every call recorded, and
 * failures, latency or a call that never answers injectable per method.
 */

import type { ContextFetcher, ContextReadOptions } from "../../../lib/context/types.ts";
import type {
  AccessProfile,
  AccessRequestStatus,
  Entitlement,
  Identity,
  Role,
  SodPolicy,
  Source,
  ViolationPrediction,
} from "../../../lib/isc/context-schemas.ts";

export type FetcherMethod = keyof ContextFetcher;

export interface FakeCall {
  method: FetcherMethod;
  /** The ids asked (for predictSod: the identity then the entitlements). */
  ids: string[];
  options: ContextReadOptions;
}

export interface Directory {
  identities: Identity[];
  entitlements: Entitlement[];
  accessProfiles: AccessProfile[];
  roles: Role[];
  sources: Source[];
  sodPolicies: SodPolicy[];
  /** Pairs of entitlement ids that conflict, with the policy that forbids holding both. */
  conflicts: Array<{ policyId: string; policyName: string; left: string; right: string }>;
  accessRequests: Record<string, AccessRequestStatus[]>;
}

/** What a method does instead of answering from the directory. */
export type Behaviour =
  | { fail: unknown; gate?: Promise<void>; delayMs?: number }
  | { hang: true }
  | { delayMs: number }
  | { gate: Promise<void> }
  | { answer: unknown };

export class FakeFetcher implements ContextFetcher {
  readonly calls: FakeCall[] = [];
  readonly directory: Directory;
  private readonly behaviours = new Map<FetcherMethod, Behaviour>();

  constructor(directory: Directory = defaultDirectory()) {
    this.directory = directory;
  }

  /** Makes every later call of `method` behave so (until `reset`). */
  on(method: FetcherMethod, behaviour: Behaviour): this {
    this.behaviours.set(method, behaviour);
    return this;
  }

  reset(method?: FetcherMethod): void {
    if (method === undefined) this.behaviours.clear();
    else this.behaviours.delete(method);
  }

  count(method?: FetcherMethod): number {
    return method === undefined ? this.calls.length : this.calls.filter((c) => c.method === method).length;
  }

  callsOf(method: FetcherMethod): FakeCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  identities(ids: readonly string[], options: ContextReadOptions): Promise<Identity[]> {
    return this.answer("identities", [...ids], options, () => pick(this.directory.identities, ids));
  }

  entitlements(ids: readonly string[], options: ContextReadOptions): Promise<Entitlement[]> {
    return this.answer("entitlements", [...ids], options, () => pick(this.directory.entitlements, ids));
  }

  accessProfiles(ids: readonly string[], options: ContextReadOptions): Promise<AccessProfile[]> {
    return this.answer("accessProfiles", [...ids], options, () => pick(this.directory.accessProfiles, ids));
  }

  roles(ids: readonly string[], options: ContextReadOptions): Promise<Role[]> {
    return this.answer("roles", [...ids], options, () => pick(this.directory.roles, ids));
  }

  sources(ids: readonly string[], options: ContextReadOptions): Promise<Source[]> {
    return this.answer("sources", [...ids], options, () => pick(this.directory.sources, ids));
  }

  predictSod(
    identityId: string,
    entitlementIds: readonly string[],
    options: ContextReadOptions,
  ): Promise<ViolationPrediction> {
    return this.answer("predictSod", [identityId, ...entitlementIds], options, () => {
      const held = new Set(entitlementIds);
      const violationContexts = this.directory.conflicts
        .filter((c) => held.has(c.left) && held.has(c.right))
        .map((c) => ({
          policy: { type: "SOD_POLICY", id: c.policyId, name: c.policyName },
          conflictingAccessCriteria: { leftCriteria: { criteriaList: [{ id: c.left }] } },
        }));
      return { violationContexts };
    });
  }

  sodPolicy(id: string, options: ContextReadOptions): Promise<SodPolicy> {
    return this.answer("sodPolicy", [id], options, () => {
      const policy = this.directory.sodPolicies.find((p) => p.id === id);
      if (policy === undefined)
        throw Object.assign(new Error("not found"), { name: "IscApiError", status: 404 });
      return policy;
    });
  }

  accessRequestStatus(
    identityId: string,
    options: ContextReadOptions & { limit?: number },
  ): Promise<AccessRequestStatus[]> {
    return this.answer("accessRequestStatus", [identityId], options, () =>
      (this.directory.accessRequests[identityId] ?? []).slice(0, options.limit ?? 250),
    );
  }

  private async answer<T>(
    method: FetcherMethod,
    ids: string[],
    options: ContextReadOptions,
    compute: () => T,
  ): Promise<T> {
    this.calls.push({ method, ids, options });
    const behaviour = this.behaviours.get(method);
    if (behaviour === undefined) return structuredClone(compute());
    if ("hang" in behaviour) return new Promise<T>(() => {});
    if ("answer" in behaviour) return behaviour.answer as T;
    if ("gate" in behaviour && behaviour.gate !== undefined) await behaviour.gate;
    if ("delayMs" in behaviour && behaviour.delayMs !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
    }
    if ("fail" in behaviour) throw behaviour.fail;
    return structuredClone(compute());
  }
}

function pick<T extends { id: string }>(objects: readonly T[], ids: readonly string[]): T[] {
  const wanted = new Set(ids);
  return objects.filter((o) => wanted.has(o.id));
}

const ref = (type: string, id: string, name: string) => ({ type, id, name });

/**
 * alice → bob → carol (no manager); dave is terminated and has no managerRef; rob requests.
 * Entitlements on AD and SAP; ap-finance (SAP) and ap-dev (AD); role-eng = ent-x + ap-dev.
 * Holding ent-admin and ent-sap together violates pol-1.
 */
export function defaultDirectory(): Directory {
  return {
    identities: [
      identity("alice", { managerRef: ref("IDENTITY", "bob", "Bob") }),
      identity("bob", { managerRef: ref("IDENTITY", "carol", "Carol"), isManager: true }),
      identity("carol", { isManager: true }),
      identity("dave", { identityStatus: "TERMINATED", lifecycleState: { stateName: "terminated" } }),
      identity("rob", { managerRef: ref("IDENTITY", "carol", "Carol") }),
      identity("erin", { managerRef: ref("IDENTITY", "ghost", "Ghost") }),
    ],
    sources: [
      { id: "src-ad", name: "Active Directory", owner: ref("IDENTITY", "carol", "Carol") },
      { id: "src-sap", name: "SAP", owner: ref("IDENTITY", "bob", "Bob"), managementWorkgroup: null },
    ],
    entitlements: [
      entitlement("ent-admin", "src-ad", true),
      entitlement("ent-read", "src-ad", false),
      entitlement("ent-sap", "src-sap", false),
      entitlement("ent-x", "src-ad", false),
      { id: "ent-nosource", name: "No source", privileged: false },
    ],
    accessProfiles: [
      {
        id: "ap-finance",
        name: "Finance",
        owner: ref("IDENTITY", "bob", "Bob"),
        source: ref("SOURCE", "src-sap", "SAP"),
        entitlements: [ref("ENTITLEMENT", "ent-sap", "ent-sap"), ref("ENTITLEMENT", "ent-read", "ent-read")],
      },
      {
        id: "ap-dev",
        name: "Developers",
        owner: ref("IDENTITY", "carol", "Carol"),
        source: ref("SOURCE", "src-ad", "AD"),
        entitlements: [
          ref("ENTITLEMENT", "ent-admin", "ent-admin"),
          ref("ENTITLEMENT", "ent-read", "ent-read"),
        ],
      },
    ],
    roles: [
      {
        id: "role-eng",
        name: "Engineering",
        owner: ref("IDENTITY", "carol", "Carol"),
        entitlements: [ref("ENTITLEMENT", "ent-x", "ent-x"), ref("ENTITLEMENT", "ent-read", "ent-read")],
        accessProfiles: [ref("ACCESS_PROFILE", "ap-dev", "Developers")],
        privilegeLevel: "HIGH",
      },
      { id: "role-empty", name: "Empty", owner: null, entitlements: [], accessProfiles: [] },
    ],
    sodPolicies: [
      {
        id: "pol-1",
        name: "Admin vs SAP",
        ownerRef: ref("IDENTITY", "carol", "Carol"),
        violationOwnerAssignmentConfig: {
          assignmentRule: "SPECIFIC",
          ownerRef: ref("GOVERNANCE_GROUP", "gg-1", "SoD"),
        },
      },
      { id: "pol-2", name: "X vs SAP", ownerRef: ref("IDENTITY", "bob", "Bob") },
    ],
    conflicts: [
      { policyId: "pol-1", policyName: "Admin vs SAP", left: "ent-admin", right: "ent-sap" },
      { policyId: "pol-2", policyName: "X vs SAP", left: "ent-x", right: "ent-sap" },
    ],
    accessRequests: {
      alice: [
        { id: "ar-a1", name: "Old", created: "2026-01-01T00:00:00Z", state: "FINISHED" },
        { id: "ar-a2", name: "New", created: "2026-03-01T00:00:00Z", state: "EXECUTING" },
      ],
      bob: [{ id: "ar-b1", name: "Mid", created: "2026-02-01T00:00:00Z", state: "FINISHED" }],
    },
  };
}

function identity(id: string, extra: Partial<Identity> = {}): Identity {
  return {
    id,
    name: id,
    emailAddress: `${id}@example.com`,
    identityStatus: "ACTIVE",
    lifecycleState: { stateName: "active" },
    isManager: false,
    attributes: { department: "Engineering" },
    ...extra,
  };
}

function entitlement(id: string, sourceId: string, privileged: boolean): Entitlement {
  return { id, name: id, privileged, source: ref("SOURCE", sourceId, sourceId), owner: null };
}
