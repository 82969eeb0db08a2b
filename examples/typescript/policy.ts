// biome-ignore-all lint/suspicious/noThenProperty: `then` is the rules format's word for a rule's decision (data, never a function).
/**
 * The TypeScript route (docs/rules.md "TypeScript"): the rules format, typed, where any condition may
 * be a function, async ones included, and a decision's `custom` may compute the output.
 *
 *   npx isc-responder rules check examples/typescript/policy.ts
 *   npx isc-responder rules eval examples/typescript/policy.ts --input @payload.json --trigger preApproval
 *   npm start -- --rules examples/typescript/policy.ts
 *   npx vitest run test/unit/rules/typescript-example.test.ts      # its tests
 *   "rulesFile": "examples/typescript/policy.ts" in responder.config.json: the stack bundles it
 */
import type { Identity } from "../../lib/isc/context-schemas.ts";
import { defineRules } from "../../lib/rules/typescript-api.ts";
import { riskScore } from "./risk.ts";

export const APPROVER = "svc-isc-responder";
export const ACCESS_GOVERNANCE = {
  id: "2c9180867a0f1e2d017a0f1e2d3c0501",
  name: "Access Governance",
  type: "GOVERNANCE_GROUP",
} as const;

/** Terminated, disabled or inactive in ISC (status or lifecycle state, in any case). */
export function isInactive(person: Identity): boolean {
  const status = person.identityStatus?.toUpperCase();
  const state = person.lifecycleState?.stateName?.toLowerCase();
  return status === "TERMINATED" || status === "DISABLED" || state === "inactive" || state === "terminated";
}

export default defineRules({
  name: "Acme access request policy (TypeScript)",
  approver: APPROVER,
  preApproval: {
    rules: [
      {
        id: "approve-removals",
        priority: 100,
        when: { everyItem: { field: "operation", equals: "Remove" } },
        then: {
          decision: "approve",
          comment: "Removal of {{requestedItems[0].name}} approved automatically.",
        },
      },
      {
        id: "deny-inactive-person",
        priority: 90,
        // The predicate reads identity context: declared, so it is read before the rule runs.
        needs: ["identity"],
        when: (view) => (view.identity ?? []).some(isInactive),
        then: {
          decision: "deny",
          comment: "{{requestedFor.name}} is not active in ISC: access cannot be granted.",
        },
      },
      {
        id: "deny-high-risk",
        priority: 80,
        // Async, with the decision's deadline as an AbortSignal: a service that fails or is too slow
        // makes the decision the fallback (deny), with the reason recorded.
        when: {
          anyItem: async (item, { signal }) =>
            item.operation === "Add" && (await riskScore(item.id, signal)) >= 80,
        },
        then: {
          decision: "deny",
          comment: "{{item.name}} is rated high risk: ask the Security team for an exception.",
        },
      },
    ],
    default: {
      custom: (view) => ({
        approved: true,
        comment: `Passed the automatic checks (${view.requestedItems.length} item(s)); the usual approvals follow.`,
        approver: APPROVER,
      }),
    },
    fallback: {
      decision: "deny",
      comment: "This request could not be checked automatically, so it was denied for safety.",
    },
  },
  dynamicApprover: {
    rules: [
      {
        id: "no-extra-approver-for-removals",
        priority: 100,
        when: { everyItem: { field: "operation", equals: "Remove" } },
        then: { approver: "none" },
      },
    ],
    // The person's manager; without one (or when the requester is that manager), Access Governance.
    default: { approver: { from: "manager", otherwise: ACCESS_GOVERNANCE } },
    fallback: { approver: ACCESS_GOVERNANCE },
  },
});
