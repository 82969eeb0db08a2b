/**
 * The live-context bench's workload: access requests over a synthetic directory with Zipf-skewed
 * popularity of people and items (a few people and items account for most requests, as in a real
 * tenant), both triggers mixed; and two rules documents with the same rules, one over live context
 * (the policy of issue 16 section 5) and its twin over the payload and exported tables.
 */
import type { Directory, RequestableItem } from "../../lib/context/directory.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../../lib/triggers/trigger-ids.ts";
import { seededRandom, shuffled, zipfSampler } from "./workload.ts";

export { zipfSampler };

export type ContextTrigger = typeof PRE_APPROVAL | typeof DYNAMIC_APPROVER;

export interface ContextRequest {
  n: number;
  triggerId: ContextTrigger;
  input: AccessRequestPayload;
}

export interface AccessRequestPayload {
  accessRequestId: string;
  requestedFor: { type: "IDENTITY"; id: string; name: string };
  requestedItems: Array<{
    id: string;
    name: string;
    description: string;
    type: RequestableItem["type"];
    operation: "Add" | "Remove";
    comment?: string;
  }>;
  requestedBy: { type: "IDENTITY"; id: string; name: string };
}

export interface ContextWorkloadOptions {
  requests: number;
  seed: number;
  /** Zipf exponent of people's and items' popularity (default 1.1). */
  zipfS?: number;
  /** Share of pre-approval invocations, the rest dynamic approver (default 0.55). */
  preApprovalShare?: number;
}

const JUSTIFIED = "On call for the billing database this quarter (CHG-1234).";
const SHORT = "need it";
export const GOVERNANCE_GROUP = {
  id: "2c9180867a0f1e2d017a0f1e2d3c0501",
  name: "Access Governance",
  type: "GOVERNANCE_GROUP",
} as const;

/**
 * `requests` access requests: one person (Zipf), 1–3 distinct items (Zipf), each added (90 %) or
 * removed, with a justification, a short comment or none; requested by the person (60 %), their
 * manager (30 %) or someone else (Zipf).
 */
export function contextWorkload(directory: Directory, options: ContextWorkloadOptions): ContextRequest[] {
  const random = seededRandom(options.seed);
  const s = options.zipfS ?? 1.1;
  const people = shuffled(directory.identities(), random);
  const items = shuffled(directory.requestableItems(), random);
  const person = zipfSampler(people.length, s, random);
  const item = zipfSampler(items.length, s, random);
  const preShare = options.preApprovalShare ?? 0.55;
  const ref = (identity: { id: string; name: string }) =>
    ({ type: "IDENTITY", id: identity.id, name: identity.name }) as const;
  const requests: ContextRequest[] = [];
  for (let n = 0; n < options.requests; n++) {
    const forPerson = people[person()]!;
    const roll = random();
    const managerId = forPerson.managerRef?.id;
    const manager = managerId == null ? undefined : directory.identity(managerId);
    const by = roll < 0.6 ? forPerson : roll < 0.9 && manager !== undefined ? manager : people[person()]!;
    const count = 1 + Math.floor(random() * 3);
    const chosen = new Map<string, RequestableItem>();
    for (let tries = 0; chosen.size < count && tries < 20; tries++) {
      const candidate = items[item()]!;
      chosen.set(candidate.id, candidate);
    }
    const requestedItems = [...chosen.values()].map((entry) => {
      const commentRoll = random();
      return {
        id: entry.id,
        name: entry.name,
        description: `${entry.type.toLowerCase()} ${entry.name}`,
        type: entry.type,
        operation: random() < 0.9 ? ("Add" as const) : ("Remove" as const),
        ...(commentRoll < 0.5 ? { comment: JUSTIFIED } : commentRoll < 0.8 ? { comment: SHORT } : {}),
      };
    });
    requests.push({
      n,
      triggerId: random() < preShare ? PRE_APPROVAL : DYNAMIC_APPROVER,
      input: {
        accessRequestId: `2c9180${(options.seed >>> 0).toString(16).padStart(8, "0")}${n.toString(16).padStart(18, "0")}`,
        requestedFor: ref(forPerson),
        requestedItems,
        requestedBy: ref(by),
      },
    });
  }
  return requests;
}

/** True when some item is added (a request that only removes is decided from the payload). */
export function addsAccess(request: ContextRequest): boolean {
  return request.input.requestedItems.some((entry) => entry.operation === "Add");
}

const ADDED = { field: "operation", equals: "Add" };
const PRIVILEGED = { field: "privileged", equals: true };
/** At least 20 characters once trimmed. */
const JUSTIFICATION = "^\\s*\\S[\\s\\S]{18,}\\S";
const INACTIVE = "{{requestedFor.name}} is not active: access cannot be requested for them.";
const UNJUSTIFIED = "Privileged access needs a justification of at least 20 characters.";

/**
 * The example policy's intent over live context (rules/example.yaml, issue 16 section 5): deny
 * inactive people, SoD violations, privileged items without a 20-character comment, else approve;
 * approver: the first added privileged item's owner, its source's owner, else the manager (unless
 * they are the requester), else the first added item's source owner, else a governance group.
 */
export function contextRulesDocument(): Record<string, unknown> {
  return {
    format: 1,
    name: "bench: live context policy",
    approver: "svc-isc-responder",
    lists: {
      inactiveStatuses: ["TERMINATED", "DISABLED", "DEACTIVATED"],
      inactiveLifecycleStates: ["inactive", "terminated"],
    },
    preApproval: {
      rules: [
        approveRemovals(),
        rule(
          "deny-inactive-person",
          90,
          {
            any: [
              { field: "identity.identityStatus", in: { list: "inactiveStatuses" } },
              {
                field: "identity.lifecycleState.stateName",
                in: { list: "inactiveLifecycleStates" },
                ignoreCase: true,
              },
            ],
          },
          deny(INACTIVE),
        ),
        rule(
          "deny-sod-violation",
          80,
          { field: "sod.violated", equals: true },
          deny('This request would violate the SoD policy "{{sod.violations.policy.name}}".'),
        ),
        rule(
          "deny-privileged-without-justification",
          70,
          { anyItem: { all: [ADDED, PRIVILEGED, { not: { field: "comment", matches: JUSTIFICATION } }] } },
          deny(UNJUSTIFIED),
        ),
      ],
      default: { decision: "approve", comment: "Passed the automatic pre-approval checks." },
      fallback: { decision: "deny", comment: "This request could not be checked automatically." },
    },
    dynamicApprover: {
      rules: [
        noApproverForRemovals(),
        rule(
          "privileged-item-owner",
          90,
          { anyItem: { all: [ADDED, PRIVILEGED] } },
          {
            approver: {
              from: "itemOwner",
              where: { all: [ADDED, PRIVILEGED] },
              otherwise: {
                from: "sourceOwner",
                where: { all: [ADDED, PRIVILEGED] },
                otherwise: GOVERNANCE_GROUP,
              },
            },
          },
        ),
      ],
      default: {
        approver: { from: "manager", otherwise: { from: "sourceOwner", otherwise: GOVERNANCE_GROUP } },
      },
      fallback: { approver: GOVERNANCE_GROUP },
    },
  };
}

/**
 * The same rules over the payload alone: what a policy had to say before live context, with the
 * people's states, the SoD-sensitive and privileged items and the owners and managers exported
 * into lists and tables (as large as the directory, so the lookups cost what they would).
 */
export function payloadRulesDocument(directory: Directory): Record<string, unknown> {
  const identities = directory.identities();
  const items = directory.requestableItems();
  const inactive = identities
    .filter((person) => person.identityStatus !== "ACTIVE" || person.lifecycleState?.stateName !== "active")
    .map((person) => person.id);
  const privileged = items
    .filter((entry) =>
      (directory.grantedEntitlements(entry.id) ?? []).some(
        (id) => directory.entitlement(id)?.privileged === true,
      ),
    )
    .map((entry) => entry.id);
  const sodSensitive = directory.file.sodPolicies?.flatMap((policy) => policy.right.entitlements) ?? [];
  const itemOwners: Record<string, unknown> = {};
  for (const entry of items) {
    const details =
      directory.entitlement(entry.id) ?? directory.accessProfile(entry.id) ?? directory.role(entry.id);
    const owner = details?.owner;
    if (owner?.id != null && (owner.type === "IDENTITY" || owner.type === "GOVERNANCE_GROUP")) {
      itemOwners[entry.id] = { id: owner.id, name: owner.name ?? owner.id, type: owner.type };
    }
  }
  const managers: Record<string, unknown> = {};
  for (const person of identities) {
    const manager = person.managerRef;
    if (manager?.id != null)
      managers[person.id] = { id: manager.id, name: manager.name ?? "", type: "IDENTITY" };
  }
  return {
    format: 1,
    name: "bench: the same policy over the payload and exported tables",
    approver: "svc-isc-responder",
    lists: { inactivePeople: inactive, privilegedItems: privileged, sodSensitiveItems: sodSensitive },
    tables: { itemOwners, managers },
    preApproval: {
      rules: [
        approveRemovals(),
        rule(
          "deny-inactive-person",
          90,
          { field: "requestedFor.id", in: { list: "inactivePeople" } },
          deny(INACTIVE),
        ),
        rule(
          "deny-sod-violation",
          80,
          { anyItem: { all: [ADDED, { field: "id", in: { list: "sodSensitiveItems" } }] } },
          deny("This request would violate an SoD policy."),
        ),
        rule(
          "deny-privileged-without-justification",
          70,
          {
            anyItem: {
              all: [
                ADDED,
                { field: "id", in: { list: "privilegedItems" } },
                { not: { field: "comment", matches: JUSTIFICATION } },
              ],
            },
          },
          deny(UNJUSTIFIED),
        ),
      ],
      default: { decision: "approve", comment: "Passed the automatic pre-approval checks." },
      fallback: { decision: "deny", comment: "This request could not be checked automatically." },
    },
    dynamicApprover: {
      rules: [
        noApproverForRemovals(),
        rule(
          "privileged-item-owner",
          90,
          { anyItem: { all: [ADDED, { field: "id", in: { list: "privilegedItems" } }] } },
          { approver: { lookup: "itemOwners", by: "requestedItems.id", otherwise: GOVERNANCE_GROUP } },
        ),
      ],
      default: { approver: { lookup: "managers", by: "requestedFor.id", otherwise: GOVERNANCE_GROUP } },
      fallback: { approver: GOVERNANCE_GROUP },
    },
  };
}

/** A rule of the rules format: `then` is its word for the outcome. */
function rule(id: string, priority: number, when: unknown, outcome: unknown): Record<string, unknown> {
  // biome-ignore lint/suspicious/noThenProperty: `then` is the rules format's word for the decision.
  return { id, priority, when, then: outcome };
}

const ONLY_REMOVALS = { everyItem: { field: "operation", equals: "Remove" } };

function approveRemovals(): Record<string, unknown> {
  return rule("approve-removals", 100, ONLY_REMOVALS, {
    decision: "approve",
    comment: "Removal of {{requestedItems[0].name}} approved automatically.",
  });
}

function noApproverForRemovals(): Record<string, unknown> {
  return rule("no-approver-for-removals", 100, ONLY_REMOVALS, { approver: "none" });
}

function deny(comment: string): Record<string, unknown> {
  return { decision: "deny", comment };
}
