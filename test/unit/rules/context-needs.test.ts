// biome-ignore-all lint/suspicious/noThenProperty: `then` is the rules format's key for a decision (never callable).
import { describe, expect, it } from "vitest";
import { defineRules } from "../../../lib/rules/typescript-api.ts";
import { compile } from "./helpers.ts";

const sorted = (set: ReadonlySet<string>) => [...set].sort();

/** The needs of a pre-approval section with one rule whose `when` is given (JSON) and a plain default. */
function needsOfWhen(when: unknown): string[] {
  return needsOfPre({ when, then: { decision: "deny", comment: "x" } });
}

function needsOfPre(
  rule: Record<string, unknown>,
  defaults: unknown = { decision: "approve", comment: "ok" },
) {
  const rules = compile(
    JSON.stringify({ approver: "svc", preApproval: { rules: [{ id: "r", ...rule }], default: defaults } }),
  );
  return sorted(rules.contextNeeds("idn:access-request-pre-approval"));
}

describe("context needs: each source from a condition", () => {
  it.each([
    [{ field: "identity.identityStatus", equals: "ACTIVE" }, ["identity"]],
    [{ field: "identity[0].attributes.department", equals: "X" }, ["identity"]],
    [{ field: "requester.isManager", equals: true }, ["requester"]],
    [{ field: "manager.id", exists: true }, ["manager"]],
    [{ field: "sod.violated", equals: true }, ["sod"]],
    [{ field: "sod.violations.policy.name", equals: "P" }, ["sod"]],
    [{ field: "sod.violations.owner.id", exists: true }, ["sod", "sodPolicies"]],
    [{ field: "sod.violations[0].violationOwner.id", exists: true }, ["sod", "sodPolicies"]],
    [{ field: "accessRequests.state", equals: "EXECUTING" }, ["accessRequests"]],
    [{ anyItem: { field: "details.privileged", equals: true } }, ["items"]],
    [{ anyItem: { field: "entitlements.privileged", equals: true } }, ["grants"]],
    [{ everyItem: { field: "privileged", equals: false } }, ["grants"]],
    [{ countItems: { where: { field: "source.owner.id", exists: true }, gte: 1 } }, ["sources"]],
    [{ field: "requestedItems.details.owner.id", exists: true }, ["items"]],
    [{ field: "requestedItems[1].privileged", equals: true }, ["grants"]],
    [{ field: "requestedItems.source.managementWorkgroup.id", exists: true }, ["sources"]],
    [
      { count: { of: "accessRequests", where: { field: "created", within: "PT24H" }, gt: 5 } },
      ["accessRequests"],
    ],
    [{ count: { of: "requestedItems", where: { field: "privileged", equals: true }, gte: 2 } }, ["grants"]],
    [
      { count: { of: "sod.violations", where: { field: "owner.id", exists: true }, gte: 1 } },
      ["sod", "sodPolicies"],
    ],
    [{ anyItem: { field: "$.identity.identityStatus", equals: "ACTIVE" } }, ["identity"]],
    [{ field: "requestedBy.id", equals: { field: "manager.id" } }, ["manager"]],
    [
      { anyItem: { field: "details.owner.id", notEquals: { field: "$.requester.id" } } },
      ["items", "requester"],
    ],
    [{ field: "requestedFor.id", in: { field: "identity.managerRef.id" } }, ["identity"]],
    [
      {
        not: {
          any: [
            { field: "identity[0].isManager", equals: true },
            { field: "x", exists: true },
          ],
        },
      },
      ["identity"],
    ],
  ])("%j needs %j", (when, expected) => {
    expect(needsOfWhen(when)).toEqual(expected);
  });

  it("is empty for rules over the payload alone, item fields and `$.` payload paths included", () => {
    expect(
      needsOfWhen({
        all: [
          { field: "requestedFor.name", startsWith: "W" },
          { anyItem: { field: "comment", missing: true } },
          { anyItem: { field: "$.requestedBy.id", equals: { field: "$.requestedFor.id" } } },
          { field: "requestedItems.type", equals: "ROLE" },
          // Payload fields that happen to share a context name below the root are payload fields.
          { field: "requestedFor.identity", exists: true },
          { field: "requestedBy.privileged", exists: true },
          { count: { of: "requestedFor", where: { field: "source", exists: true }, gte: 1 } },
        ],
      }),
    ).toEqual([]);
  });
});

describe("context needs: templates, approvers, actions, `needs`", () => {
  it("reads the paths of comments and approver templates", () => {
    expect(
      needsOfPre({
        when: { field: "accessRequestId", exists: true },
        then: {
          decision: "deny",
          comment: "{{identity.lifecycleState.stateName}}",
          approver: "{{manager.name}}",
        },
      }),
    ).toEqual(["identity", "manager"]);
  });

  it("reads the paths of action ids", () => {
    expect(
      needsOfPre({
        when: { field: "accessRequestId", exists: true },
        then: {
          decision: "approve",
          comment: "ok",
          actions: [
            {
              type: "update-task-status",
              taskId: "{{requester.attributes.taskId}}",
              completionStatus: "SUCCESS",
            },
            { type: "complete-campaign", campaignId: "{{requestedItems.source.id}}" },
          ],
        },
      }),
    ).toEqual(["requester", "sources"]);
  });

  it("adds the default's needs and a rule's declared `needs` (custom code)", () => {
    expect(
      needsOfPre(
        {
          needs: ["accessRequests"],
          when: { field: "accessRequestId", exists: true },
          then: { decision: "deny", comment: "x" },
        },
        { decision: "approve", comment: "{{sod.violations.policy.name}}" },
      ),
    ).toEqual(["accessRequests", "sod"]);
  });

  it.each([
    ["none", []],
    [{ id: "gg", name: "G", type: "GOVERNANCE_GROUP" }, []],
    [{ from: "manager", otherwise: "none" }, ["manager"]],
    [{ from: "itemOwner", otherwise: "none" }, ["items"]],
    [
      { from: "sourceOwner", where: { field: "privileged", equals: true }, otherwise: "none" },
      ["grants", "sources"],
    ],
    [{ from: "sodPolicyOwner", otherwise: "none" }, ["sod", "sodPolicies"]],
    [{ from: "sodViolationOwner", otherwise: "none" }, ["sod", "sodPolicies"]],
    [
      {
        from: "manager",
        otherwise: {
          lookup: "t",
          by: "identity.attributes.department",
          otherwise: { from: "itemOwner", otherwise: "none" },
        },
      },
      ["identity", "items", "manager"],
    ],
  ])("approver %j needs %j", (approver, expected) => {
    const withTable = JSON.stringify({
      tables: { t: { Engineering: { id: "gg", name: "G", type: "GOVERNANCE_GROUP" } } },
      dynamicApprover: {
        rules: [{ id: "r", when: { field: "accessRequestId", exists: true }, then: { approver } }],
        default: { approver: "none" },
      },
    });
    expect(sorted(compile(withTable).contextNeeds("idn:access-request-dynamic-approver"))).toEqual(expected);
  });

  it("is per trigger: a section's rules and default, nothing of the other sections", () => {
    const rules = compile(`
approver: svc
preApproval:
  rules:
    - id: r
      when: { field: identity.identityStatus, equals: TERMINATED }
      then: { decision: deny, comment: x }
  default: { decision: approve, comment: ok }
dynamicApprover:
  default: { approver: { from: manager, otherwise: none } }
postApproval:
  rules:
    - id: p
      when: { anyItem: { field: type, equals: ROLE } }
      then: { actions: [{ type: request-role-insights }] }
`);
    expect(sorted(rules.contextNeeds("idn:access-request-pre-approval"))).toEqual(["identity"]);
    expect(sorted(rules.contextNeeds("idn:access-request-dynamic-approver"))).toEqual(["manager"]);
    expect(sorted(rules.contextNeeds("idn:access-request-post-approval"))).toEqual([]);
  });

  it("TypeScript rules declare what their predicates read with `needs`", () => {
    const rules = defineRules({
      approver: "svc",
      preApproval: {
        rules: [
          {
            id: "ts",
            needs: ["identity"],
            when: (view) => view.identity?.some((person) => person.identityStatus === "TERMINATED") === true,
            then: { decision: "deny", comment: "terminated" },
          },
        ],
        default: { decision: "approve", comment: "ok" },
      },
    });
    expect(sorted(rules.contextNeeds("idn:access-request-pre-approval"))).toEqual(["identity"]);
  });
});
