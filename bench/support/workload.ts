/**
 * The workload of the warm-latency, throughput and soak runs: a 100-rule document (80 pre-approval,
 * 20 dynamic-approver rules, with lists, a lookup table, regexes and item counts, so evaluation walks
 * most rules before a match) and deterministic trigger inputs, some matching a rule, some falling to
 * the default.
 */

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
