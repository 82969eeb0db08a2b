/**
 * A generated directory of any size for benchmarks and soak runs: a management tree, departments,
 * a few terminated and inactive people, sources with and without owners, entitlements (some
 * privileged, some without an owner), access profiles and roles over them, SoD policies between
 * entitlements of one source, current access skewed towards popular entitlements, and recent access
 * requests. Reproducible: the same options give the same directory.
 */
import { mulberry32 } from "../sandbox/faults.ts";
import type {
  DirectoryAccessProfile,
  DirectoryAccessRequest,
  DirectoryEntitlement,
  DirectoryFile,
  DirectoryGovernanceGroup,
  DirectoryIdentity,
  DirectoryRole,
  DirectorySodPolicy,
  DirectorySource,
} from "./directory-file.ts";

export interface SyntheticDirectoryOptions {
  /** People (default 500). */
  identities?: number;
  /** Requestable items: entitlements, access profiles and roles together (default 200; at least 3). */
  items?: number;
  /** PRNG seed (default 1). */
  seed?: number;
}

const DEPARTMENTS = ["Engineering", "Finance", "Sales", "IT", "Human Resources", "Marketing", "Operations"];
const FIRST = [
  "Ada",
  "Ben",
  "Cleo",
  "Dev",
  "Eli",
  "Fay",
  "Gus",
  "Hana",
  "Ivo",
  "Jun",
  "Kai",
  "Lea",
  "Max",
  "Nia",
];
const LAST = [
  "Ames",
  "Baker",
  "Chen",
  "Diaz",
  "Evans",
  "Fox",
  "Gray",
  "Hill",
  "Ito",
  "Jones",
  "Khan",
  "Lopez",
];

/** The directory document (see syntheticDirectory in directory.ts for the built Directory). */
export function syntheticDirectoryFile(options: SyntheticDirectoryOptions = {}): DirectoryFile {
  const people = Math.max(1, Math.floor(options.identities ?? 500));
  const itemCount = Math.max(3, Math.floor(options.items ?? 200));
  const seed = (options.seed ?? 1) >>> 0;
  const random = mulberry32(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const chance = (p: number) => random() < p;
  const seedHex = seed.toString(16).padStart(8, "0");
  const idOf = (kind: number, n: number) =>
    `2c9180${kind.toString(16).padStart(2, "0")}${seedHex}${n.toString(16).padStart(16, "0")}`;
  // Skewed towards low indexes (popular first): log-uniform over [0, n), P(k) about 1/(k+1), like Zipf.
  const skewed = (n: number) => Math.min(n - 1, Math.floor(n ** random()) - 1);

  const identityIds = Array.from({ length: people }, (_, n) => idOf(1, n));
  const managerCount = Math.max(1, Math.ceil(people / 10));
  const groups: DirectoryGovernanceGroup[] = Array.from({ length: 5 }, (_, n) => ({
    id: idOf(2, n),
    name: `${DEPARTMENTS[n % DEPARTMENTS.length]} Approvers`,
    owner: identityIds[n % managerCount]!,
    members: Array.from({ length: 3 }, () => identityIds[Math.floor(random() * managerCount)]!),
  }));
  const sourceCount = Math.max(1, Math.min(10, Math.ceil(itemCount / 20)));
  const sources: DirectorySource[] = Array.from({ length: sourceCount }, (_, n) => ({
    id: idOf(3, n),
    name: `System ${n + 1}`,
    owner: chance(0.8) ? identityIds[Math.floor(random() * managerCount)]! : null,
    managementWorkgroup: chance(0.5) ? groups[n % groups.length]!.id : null,
  }));

  const profileCount = Math.max(1, Math.round(itemCount * 0.25));
  const roleCount = Math.max(1, itemCount - Math.max(1, Math.round(itemCount * 0.6)) - profileCount);
  const entitlementCount = itemCount - profileCount - roleCount;
  const entitlements: DirectoryEntitlement[] = Array.from({ length: entitlementCount }, (_, n) => {
    const source = sources[n % sourceCount]!;
    return {
      id: idOf(4, n),
      name: `${source.name}: group ${n + 1}`,
      source: source.id,
      owner: chance(0.6) ? pick(identityIds) : null,
      privileged: chance(0.1),
    };
  });
  const bySource = new Map<string, string[]>();
  for (const entitlement of entitlements) {
    bySource.set(entitlement.source, [...(bySource.get(entitlement.source) ?? []), entitlement.id]);
  }
  const accessProfiles: DirectoryAccessProfile[] = Array.from({ length: profileCount }, (_, n) => {
    const source = sources[n % sourceCount]!;
    const pool = bySource.get(source.id) ?? [entitlements[0]!.id];
    const size = 1 + Math.floor(random() * Math.min(4, pool.length));
    return {
      id: idOf(5, n),
      name: `${source.name} profile ${n + 1}`,
      owner: pick(identityIds),
      source: bySource.has(source.id) ? source.id : entitlements[0]!.source,
      entitlements: [...new Set(Array.from({ length: size }, () => pick(pool)))],
    };
  });
  const roles: DirectoryRole[] = Array.from({ length: roleCount }, (_, n) => ({
    id: idOf(6, n),
    name: `Business role ${n + 1}`,
    owner: pick(identityIds),
    accessProfiles: [
      ...new Set(Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(accessProfiles).id)),
    ],
    entitlements: chance(0.3) ? [pick(entitlements).id] : [],
    privilegeLevel: chance(0.15) ? "High" : null,
  }));

  const identities: DirectoryIdentity[] = identityIds.map((id, n) => {
    const name = `${FIRST[n % FIRST.length]} ${LAST[Math.floor(n / FIRST.length) % LAST.length]} ${n + 1}`;
    const roll = random();
    const access = new Set(
      Array.from({ length: 2 + Math.floor(random() * 6) }, () => entitlements[skewed(entitlementCount)]!.id),
    );
    return {
      id,
      name,
      ...(roll < 0.02 ? { identityStatus: "TERMINATED" as const, lifecycleState: "terminated" } : {}),
      ...(roll >= 0.02 && roll < 0.05 ? { lifecycleState: "inactive" } : {}),
      // The first person heads the company; managers report to an earlier manager, others to any manager.
      manager: n === 0 ? null : identityIds[Math.floor(random() * Math.min(n, managerCount))]!,
      attributes: {
        department: DEPARTMENTS[n % DEPARTMENTS.length],
        employeeType: chance(0.12) ? "contractor" : "employee",
      },
      access: [...access],
    };
  });

  const sodPolicies: DirectorySodPolicy[] = [];
  for (const [sourceId, pool] of bySource) {
    if (pool.length < 2 || sodPolicies.length >= 10) continue;
    sodPolicies.push({
      id: idOf(7, sodPolicies.length),
      name: `SoD ${sodPolicies.length + 1}: ${sourceId.slice(-4)} maker vs checker`,
      owner: pick(groups).id,
      violationOwner: chance(0.5)
        ? { assignmentRule: "MANAGER" }
        : { assignmentRule: "STATIC", owner: pick(groups).id },
      left: { entitlements: [pool[0]!] },
      right: { entitlements: [pool[1]!] },
    });
  }

  const items = [...entitlements, ...accessProfiles, ...roles].map((item) => item.id);
  const accessRequests: DirectoryAccessRequest[] = [];
  for (const [n, id] of identityIds.entries()) {
    const count = Math.floor(random() * 3);
    for (let k = 0; k < count; k++) {
      accessRequests.push({
        accessRequestId: idOf(8, accessRequests.length),
        requestedFor: id,
        item: items[skewed(items.length)]!,
        state: chance(0.3) ? "EXECUTING" : "REQUEST_COMPLETED",
        ago: `PT${1 + ((n * 7 + k * 13) % 240)}H`,
      });
    }
  }

  return {
    name: `synthetic directory (${people} identities, ${itemCount} items, seed ${seed})`,
    identities,
    sources,
    entitlements,
    accessProfiles,
    roles,
    governanceGroups: groups,
    sodPolicies,
    accessRequests,
  };
}
