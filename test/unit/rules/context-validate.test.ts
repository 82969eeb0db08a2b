import { describe, expect, it } from "vitest";
import { RulesFileError } from "../../../lib/rules/errors.ts";
import { compileRulesText } from "../../../lib/rules/load-file.ts";

function problems(text: string, filename = "policy.yaml"): string[] {
  try {
    compileRulesText(text, filename);
  } catch (error) {
    expect(error).toBeInstanceOf(RulesFileError);
    return (error as RulesFileError).formatIssues();
  }
  throw new Error("expected the file to be refused");
}

function accepted(text: string): boolean {
  compileRulesText(text, "policy.yaml");
  return true;
}

const PRE = "approver: svc\npreApproval:\n  rules:\n";
const PRE_DEFAULT = "  default: { decision: approve, comment: ok }\n";
const DYN = "dynamicApprover:\n  rules:\n";
const DYN_DEFAULT = "  default: { approver: none }\n";

describe("validation of the context constructs", () => {
  it("accepts context roots, item-scope context fields and `$.` anywhere a path goes", () => {
    expect(
      accepted(`${PRE}    - id: r
      when:
        all:
          - { field: identity.lifecycleState.stateName, equals: inactive, ignoreCase: true }
          - { field: sod.violations.owner.id, exists: true }
          - { anyItem: { field: details.owner.id, notEquals: { field: $.requester.id } } }
          - { field: requestedBy.id, in: { field: requestedFor.id }, ignoreCase: true }
          - { count: { of: accessRequests, where: { field: created, within: P7D }, gte: 3 } }
      then: { decision: deny, comment: "{{$.identity.attributes.department}} {{sod.violations.policy.name}}" }
${PRE_DEFAULT}${DYN}    - id: d
      needs: [accessRequests]
      when: { field: accessRequestId, exists: true }
      then:
        approver:
          from: itemOwner
          where: { field: privileged, equals: true }
          otherwise: { from: manager, otherwise: { from: sodPolicyOwner, otherwise: none } }
${DYN_DEFAULT}`),
    ).toBe(true);
  });

  it("refuses a bad `{field}` reference, `of` path and `within` duration at their lines", () => {
    const text = `${PRE}    - id: a
      when: { field: requestedBy.id, equals: { field: "manager..id" } }
      then: { decision: deny, comment: x }
    - id: b
      when: { count: { of: "$", gt: 1 } }
      then: { decision: deny, comment: x }
    - id: c
      when:
        field: created
        within: 24h
      then: { decision: deny, comment: x }
    - id: d
      when: { field: created, within: P1M }
      then: { decision: deny, comment: x }
    - id: e
      when: { field: created, within: PT1H, ignoreCase: true }
      then: { decision: deny, comment: x }
${PRE_DEFAULT}`;
    expect(problems(text)).toEqual([
      "policy.yaml:5: preApproval.rules[0].when.equals.field: expected a field path like requestedFor.name or requestedItems[0].id",
      "policy.yaml:8: preApproval.rules[1].when.count.of: expected a field path like requestedFor.name or requestedItems[0].id",
      "policy.yaml:13: preApproval.rules[2].when.within: expected an ISO-8601 duration like PT24H, PT30M or P7D (no years or months)",
      "policy.yaml:16: preApproval.rules[3].when.within: expected an ISO-8601 duration like PT24H, PT30M or P7D (no years or months)",
      'policy.yaml:19: preApproval.rules[4].when.ignoreCase: does not apply to "within"',
    ]);
  });

  it("refuses `count` without exactly one comparison, and one operator with another", () => {
    const text = `${PRE}    - id: a
      when: { count: { of: accessRequests } }
      then: { decision: deny, comment: x }
    - id: b
      when: { field: created, within: PT1H, equals: x }
      then: { decision: deny, comment: x }
${PRE_DEFAULT}`;
    expect(problems(text)).toEqual([
      "policy.yaml:5: preApproval.rules[0].when.count: needs exactly one comparison of the count: equals, gt, gte, lt, lte",
      'policy.yaml:8: preApproval.rules[1].when: "field" takes one operator, found equals, within (combine conditions with all/any)',
    ]);
  });

  it("refuses `from` outside the dynamic approver, `where` on a non-item source, an unknown source", () => {
    expect(
      problems(`${PRE}    - id: a
      when: { field: accessRequestId, exists: true }
      then: { decision: deny, comment: x, approver: { from: manager, otherwise: none } }
${PRE_DEFAULT}`),
    ).toEqual([
      "policy.yaml:6: preApproval.rules[0].then.approver: `from` chooses a dynamic approver (dynamicApprover section); a pre-approval approver is a username",
    ]);
    expect(
      problems(`${DYN}    - id: a
      when: { field: accessRequestId, exists: true }
      then:
        approver:
          from: manager
          where: { field: privileged, equals: true }
          otherwise: none
${DYN_DEFAULT}`),
    ).toEqual([
      "policy.yaml:8: dynamicApprover.rules[0].then.approver.where: chooses a requested item: only with from itemOwner or sourceOwner, not manager",
    ]);
    expect(
      problems(`${DYN}    - id: b
      when: { field: accessRequestId, exists: true }
      then:
        approver: { from: boss, otherwise: none }
${DYN_DEFAULT}`),
    ).toEqual([
      'policy.yaml:6: dynamicApprover.rules[0].then.approver.from: expected one of "manager", "itemOwner", "sourceOwner", "sodPolicyOwner", "sodViolationOwner"',
    ]);
  });

  it("requires `otherwise` on every step, checks nested lookups and `where`, caps the chain at 5 steps", () => {
    expect(
      problems(`${DYN}    - id: a
      when: { field: accessRequestId, exists: true }
      then:
        approver: { from: manager }
${DYN_DEFAULT}`),
    ).toEqual(["policy.yaml:6: dynamicApprover.rules[0].then.approver.otherwise: is required"]);

    expect(
      problems(`${DYN}    - id: a
      when: { field: accessRequestId, exists: true }
      then:
        approver:
          from: itemOwner
          where: { field: "bad..path", exists: true }
          otherwise: { lookup: nosuch, by: "x..y", otherwise: none }
${DYN_DEFAULT}`),
    ).toEqual([
      "policy.yaml:8: dynamicApprover.rules[0].then.approver.where.field: expected a field path like requestedFor.name or requestedItems[0].id",
      "policy.yaml:9: dynamicApprover.rules[0].then.approver.otherwise.by: expected a field path like requestedFor.name or requestedItems[0].id",
      'policy.yaml:9: dynamicApprover.rules[0].then.approver.otherwise.lookup: unknown table "nosuch" (tables: none defined)',
    ]);

    const chain = (steps: number) => {
      let approver = "none";
      for (let i = 0; i < steps; i++) approver = `{ from: manager, otherwise: ${approver} }`;
      return `${DYN}    - id: a\n      when: { field: accessRequestId, exists: true }\n      then:\n        approver: ${approver}\n${DYN_DEFAULT}`;
    };
    expect(accepted(chain(5))).toBe(true);
    expect(problems(chain(6))).toEqual([
      "policy.yaml:6: dynamicApprover.rules[0].then.approver.otherwise.otherwise.otherwise.otherwise.otherwise: an approver chain takes at most 5 from/lookup steps before a fixed approver or none",
    ]);
  });

  it("refuses an unknown source in `needs`", () => {
    expect(
      problems(`${PRE}    - id: a
      needs: [identity, managers]
      when: { field: accessRequestId, exists: true }
      then: { decision: deny, comment: x }
${PRE_DEFAULT}`),
    ).toEqual([
      'policy.yaml:5: preApproval.rules[0].needs[1]: expected one of "identity", "requester", "manager", "items", "grants", "sources", "sod", "sodPolicies", "accessRequests"',
    ]);
  });
});
