/**
 * The workload of the warm-latency and throughput runs: a 100-rule document (80 pre-approval,
 * 20 dynamic-approver rules, with lists, a lookup table, regexes and item counts, so evaluation walks
 * most rules before a match) and deterministic trigger inputs, some matching a rule, some falling to
 * the default. And the soak's: access requests drawn over a directory for rules/example.yaml, so
 * most decisions depend on live context (contextSoakInputs).
 */

import type { Directory, RequestableItem } from "../../lib/context/directory.ts";

const ITEM_TYPES = ["ACCESS_PROFILE", "ROLE", "ENTITLEMENT"] as const;

/** The rules document as a customer would write it (JSON form of the YAML). 100 rules in all. */
export function benchRulesDocument(): Record<string, unknown> {
  const preApprovalRules: Record<string, unknown>[] = [];
  for (let k = 0; k < 80; k++) {
    const id = `pre-${String(k).padStart(3, "0")}`;
    let when: Record<string, unknown>;
    switch (k % 4) {
      case 0:
        when = { anyItem: { field: "name", equals: `Item-${k}` } };
        break;
      case 1:
        when = {
          all: [
            { anyItem: { field: "name", startsWith: `Item-${k}` } },
            { field: "requestedBy.id", notIn: { list: "blockedRequesters" } },
          ],
        };
        break;
      case 2:
        when = {
          anyItem: {
            all: [
              { field: "type", equals: "ROLE" },
              { field: "name", matches: `^Item-${k}$` },
            ],
          },
        };
        break;
      default:
        when = {
          any: [
            { field: "requestedFor.name", equals: `Person ${k}` },
            { countItems: { where: { field: "name", endsWith: `-${k}` }, gte: 2 } },
          ],
        };
    }
    preApprovalRules.push({
      id,
      priority: 100 - k,
      when,
      // biome-ignore lint/suspicious/noThenProperty: `then` is the rules format's word for the decision.
      then:
        k % 3 === 0
          ? { decision: "deny", comment: `Denied by ${id} for {{requestedFor.name}}` }
          : { decision: "approve", comment: `Approved by ${id}` },
    });
  }
  const dynamicRules: Record<string, unknown>[] = [];
  for (let k = 0; k < 20; k++) {
    const id = `dyn-${String(k).padStart(3, "0")}`;
    dynamicRules.push({
      id,
      priority: 50 - k,
      when: {
        anyItem: {
          all: [
            { field: "type", equals: ITEM_TYPES[k % 3] },
            { field: "name", equals: `Item-${k * 5}` },
          ],
        },
      },
      // biome-ignore lint/suspicious/noThenProperty: `then` is the rules format's word for the decision.
      then:
        k % 2 === 0
          ? { approver: { lookup: "owners", by: "requestedItems.id", otherwise: "none" } }
          : {
              approver: {
                id: `gg${String(k).padStart(30, "0")}`,
                name: `Group ${k}`,
                type: "GOVERNANCE_GROUP",
              },
            },
    });
  }
  const owners: Record<string, unknown> = {};
  for (let k = 0; k < 50; k++) {
    owners[itemId(k)] = { id: `id${String(k).padStart(30, "0")}`, name: `Owner ${k}`, type: "IDENTITY" };
  }
  return {
    format: 1,
    name: "bench: 100 rules",
    approver: "bench.approver",
    lists: { blockedRequesters: ["blocked-0", "blocked-1", "blocked-2"] },
    tables: { owners },
    preApproval: { rules: preApprovalRules, default: { decision: "approve", comment: "No rule matched" } },
    dynamicApprover: { rules: dynamicRules, default: { approver: "none" } },
  };
}

function itemId(k: number): string {
  return `item${String(k).padStart(28, "0")}`;
}

/** mulberry32, so every run draws the same inputs for the same seed. */
export { mulberry32 as seededRandom } from "../../lib/sandbox/faults.ts";

/** A trigger input; item names range over Item-0..Item-159, so about half match some rule. */
export function benchInput(n: number, random: () => number): Record<string, unknown> {
  const pick = (max: number) => Math.floor(random() * max);
  const items = Array.from({ length: 1 + pick(3) }, () => {
    const k = pick(160);
    return {
      id: itemId(k % 60),
      name: `Item-${k}`,
      description: "bench item",
      type: ITEM_TYPES[pick(3)],
      operation: random() < 0.9 ? "Add" : "Remove",
      comment: "needed for work",
    };
  });
  return {
    accessRequestId: `ar${String(n).padStart(30, "0")}`,
    requestedFor: {
      type: "IDENTITY",
      id: `rf${String(pick(1000)).padStart(30, "0")}`,
      name: `Person ${pick(120)}`,
    },
    requestedItems: items,
    requestedBy: { type: "IDENTITY", id: `blocked-${pick(40)}`, name: "Requester" },
  };
}

// ---- the soak over live context: rules/example.yaml, inputs drawn over a directory ----

/** The soak's directory: big enough that reads spread over many people and items (reproducible). */
export const SOAK_DIRECTORY = { identities: 500, items: 200, seed: 16 } as const;

/** A justification the example policy accepts for privileged items (20+ characters). */
const JUSTIFIED = "On call for the billing database this quarter (CHG-1234).";
/** One it refuses (shorter than 20 characters once trimmed). */
const TOO_SHORT = "  need it  ";

interface SoakPerson {
  id: string;
  name: string;
  managerId: string | undefined;
}

/** What the soak's input generator drew, for its report. */
export interface SoakDraws {
  /** Requests for a person who is terminated or inactive. */
  inactivePeople: number;
  /** Requests that add the other side of an SoD policy to someone holding one side. */
  sodConflicts: number;
}

/** Ranks 0..n-1 with P(k) ∝ (k+1)^-s (a few people and items draw most requests, as in a tenant). */
export function zipfSampler(n: number, s: number, random: () => number): () => number {
  const cdf: number[] = [];
  let total = 0;
  for (let k = 0; k < n; k++) {
    total += (k + 1) ** -s;
    cdf.push(total);
  }
  return () => {
    const target = random() * total;
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((cdf[mid] as number) < target) low = mid + 1;
      else high = mid;
    }
    return low;
  };
}

/** Seeded shuffle: popularity must not follow the directory's order (managers come first). */
export function shuffled<T>(list: readonly T[], random: () => number): T[] {
  const copy = [...list];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

const INACTIVE_STATUSES = new Set(["TERMINATED", "DISABLED", "DEACTIVATED"]);
const INACTIVE_STATES = new Set(["inactive", "terminated"]);

/**
 * Access-request inputs over `directory` for rules/example.yaml, so most decisions depend on live
 * context: people and items by Zipf popularity (s = 1); 8 % for a terminated or inactive person;
 * 8 % adding the other side of an SoD policy for someone who holds one side; 1-3 items, each added
 * (90 %) or removed, with a justification (50 %), a too-short comment (30 %) or none; requested by
 * the person (60 %), their manager (30 %, so the source's owner approves) or someone else.
 */
export function contextSoakInputs(
  directory: Directory,
  random: () => number,
): { input(n: number): Record<string, unknown>; draws: SoakDraws } {
  const everyone = directory.identities();
  const people: SoakPerson[] = shuffled(everyone, random).map((identity) => ({
    id: identity.id,
    name: identity.name,
    managerId: identity.managerRef?.id ?? undefined,
  }));
  const byId = new Map(people.map((person) => [person.id, person]));
  const inactive = everyone
    .filter(
      (identity) =>
        INACTIVE_STATUSES.has(String(identity.identityStatus ?? "")) ||
        INACTIVE_STATES.has(String(identity.lifecycleState?.stateName ?? "").toLowerCase()),
    )
    .map((identity) => byId.get(identity.id) as SoakPerson);
  const items = shuffled(directory.requestableItems(), random);
  const itemById = new Map(items.map((item) => [item.id, item]));
  // Each enforced policy with the people who hold its left side today.
  const conflicts = (directory.file.sodPolicies ?? [])
    .filter((policy) => (policy.state ?? "ENFORCED") === "ENFORCED")
    .map((policy) => ({
      add: policy.right.entitlements[0] as string,
      holders: people.filter((person) =>
        (directory.currentAccess(person.id) ?? []).some((id) => policy.left.entitlements.includes(id)),
      ),
    }))
    .filter((conflict) => conflict.holders.length > 0 && itemById.has(conflict.add));
  const person = zipfSampler(people.length, 1, random);
  const item = zipfSampler(items.length, 1, random);
  const draws: SoakDraws = { inactivePeople: 0, sodConflicts: 0 };
  const pickFrom = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const ref = (who: { id: string; name: string }) => ({ type: "IDENTITY", id: who.id, name: who.name });

  function input(n: number): Record<string, unknown> {
    const roll = random();
    let forPerson = people[person()] as SoakPerson;
    const chosen = new Map<string, RequestableItem>();
    let sodItem: string | undefined;
    if (roll < 0.08 && inactive.length > 0) {
      forPerson = pickFrom(inactive);
      draws.inactivePeople++;
    } else if (roll < 0.16 && conflicts.length > 0) {
      const conflict = pickFrom(conflicts);
      forPerson = pickFrom(conflict.holders);
      sodItem = conflict.add;
      chosen.set(sodItem, itemById.get(sodItem) as RequestableItem);
      draws.sodConflicts++;
    }
    const count = 1 + Math.floor(random() * 3);
    for (let tries = 0; chosen.size < count && tries < 20; tries++) {
      const candidate = items[item()] as RequestableItem;
      chosen.set(candidate.id, candidate);
    }
    const requestedItems = [...chosen.values()].map((entry) => {
      const comment = random();
      return {
        id: entry.id,
        name: entry.name,
        description: `${entry.type.toLowerCase()} ${entry.name}`,
        type: entry.type,
        // The SoD item is always added (a removal cannot conflict).
        operation: entry.id === sodItem || random() < 0.9 ? "Add" : "Remove",
        ...(comment < 0.5 ? { comment: JUSTIFIED } : comment < 0.8 ? { comment: TOO_SHORT } : {}),
      };
    });
    const by = random();
    const manager = forPerson.managerId === undefined ? undefined : byId.get(forPerson.managerId);
    const requester =
      by < 0.6 ? forPerson : by < 0.9 && manager !== undefined ? manager : (people[person()] as SoakPerson);
    return {
      accessRequestId: `ar${String(n).padStart(30, "0")}`,
      requestedFor: ref(forPerson),
      requestedItems,
      requestedBy: ref(requester),
    };
  }
  return { input, draws };
}
