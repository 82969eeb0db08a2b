/**
 * What an independent review found could approve access wrongly, each pinned by a test: custom code
 * reading context nobody declared, context for fewer people than the request names, negations over
 * the list of people.
 */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { compileRules } from "../../../lib/rules/compile.ts";
import { compileRulesText } from "../../../lib/rules/load-file.ts";
import { parseRulesDocument } from "../../../lib/rules/parse.ts";
import { validateRulesDocument } from "../../../lib/rules/validate.ts";
import { decided, evaluate, identity } from "./context-helpers.ts";

/** A document with one deny rule over `when` (built from YAML: rule objects carry a `then` key). */
function documentWith(when: unknown, id = "r"): unknown {
  return yamlDocument(`
approver: svc
preApproval:
  rules:
    - { id: ${id}, when: ${JSON.stringify(when)}, then: { decision: deny, comment: x } }
  default: { decision: approve, comment: ok }
`);
}

function yamlDocument(text: string): unknown {
  return parse(text);
}

const people = (...ids: string[]) => ids.map((id) => ({ type: "IDENTITY", id, name: id }));
const request = (requestedFor: unknown) => ({
  accessRequestId: "ar-1",
  requestedFor,
  requestedBy: { type: "IDENTITY", id: "req", name: "Requester" },
  requestedItems: [{ id: "it-1", name: "Item", type: "ACCESS_PROFILE", operation: "Add" }],
});

describe("custom code never reads unread context as undefined", () => {
  const document = parseRulesDocument(
    yamlDocument(`
approver: svc
preApproval:
  rules:
    - { id: approve-unless-terminated, when: { custom: notTerminated }, then: { decision: approve, comment: ok } }
  default: { decision: deny, comment: "no" }
`),
    "custom",
  );
  const rules = compileRules(document, {
    predicates: {
      // No `needs:` declared: the engine cannot see that this reads identity.
      notTerminated: (view: { identity?: Array<{ identityStatus?: string }> }) =>
        view.identity?.[0]?.identityStatus !== "TERMINATED",
    },
  });

  it("asks for the context the predicate read instead of approving from nothing", () => {
    const result = evaluate(rules, request(people("p1")[0]));
    expect(result).toHaveProperty("contextRequired");
    expect([...(result as { contextRequired: Set<string> }).contextRequired]).toContain("identity");
  });

  it("code that catches the signal (a defensive try/catch) still asks for the context", () => {
    const careful = compileRules(document, {
      predicates: {
        notTerminated: (view: { identity?: Array<{ identityStatus?: string }> }) => {
          try {
            return view.identity?.[0]?.identityStatus !== "TERMINATED";
          } catch {
            return true;
          }
        },
      },
    });
    expect(evaluate(careful, request(people("p1")[0]))).toHaveProperty("contextRequired");
  });

  it("code that copies or serialises the view asks for the context too, then works over it", () => {
    const copying = compileRules(document, {
      predicates: { notTerminated: (view: object) => !JSON.stringify({ ...view }).includes("TERMINATED") },
    });
    expect(evaluate(copying, request(people("p1")[0]))).toHaveProperty("contextRequired");
    const full = {
      identity: [identity("p1", { identityStatus: "TERMINATED" })],
      requester: identity("req"),
      manager: [null],
      items: [{ details: { id: "it-1" }, entitlements: [], privileged: false, source: null }],
      sod: { violations: [], violated: false },
      accessRequests: [],
    };
    expect(decided(copying, request(people("p1")[0]), full).output).toMatchObject({ approved: false });
  });

  it("decides from it once read: a TERMINATED person is not approved", () => {
    const decision = decided(rules, request(people("p1")[0]), {
      identity: [identity("p1", { identityStatus: "TERMINATED" })],
    });
    expect(decision.explanation.ruleId).toBe("default");
    expect(decision.output).toMatchObject({ approved: false });
  });
});

describe("context for fewer people than the request names is not context", () => {
  const rules = compileRulesText(
    `
approver: svc
preApproval:
  rules:
    - id: deny-terminated
      when: { field: identity.identityStatus, equals: TERMINATED }
      then: { decision: deny, comment: "no" }
  default: { decision: approve, comment: ok }
`,
    "people.yaml",
  ).compiled;

  it("one identity for two people asks again (never decides over the first person only)", () => {
    const result = evaluate(rules, request(people("active", "terminated")), {
      identity: [identity("active", { identityStatus: "ACTIVE" })],
    });
    expect(result).toHaveProperty("contextRequired");
  });

  it("with both people, the terminated one denies", () => {
    const decision = decided(rules, request(people("active", "terminated")), {
      identity: [
        identity("active", { identityStatus: "ACTIVE" }),
        identity("terminated", { identityStatus: "TERMINATED" }),
      ],
    });
    expect(decision.explanation.ruleId).toBe("deny-terminated");
  });
});

describe("negations over the list of people are refused at check", () => {
  const check = (when: unknown) => validateRulesDocument(documentWith(when));

  it.each([
    [{ field: "identity.identityStatus", notEquals: "ACTIVE" }, "notEquals"],
    [{ field: "identity.lifecycleState.stateName", notIn: ["active"] }, "notIn"],
    [{ field: "manager.id", missing: true }, "missing"],
    [{ field: "$.identity.attributes.department", exists: false }, "exists"],
    [{ not: { field: "identity.identityStatus", equals: "ACTIVE" } }, "not"],
    // Polarity through any/all, the right-hand side of a comparison, and the other context lists.
    [{ not: { any: [{ field: "identity.identityStatus", equals: "ACTIVE" }] } }, "not"],
    [{ field: "requestedBy.id", notEquals: { field: "manager.id" } }, "notEquals"],
    [{ field: "sod.violations.policy.name", notEquals: "Accepted risk" }, "notEquals"],
    [{ field: "accessRequests.state", notIn: ["REJECTED"] }, "notIn"],
    [{ anyItem: { field: "entitlements.privileged", notEquals: true } }, "notEquals"],
  ])("%j", (when, operator) => {
    const result = check(when);
    expect(result.ok).toBe(false);
    const issues = result.ok ? [] : result.issues;
    expect(issues.map((issue) => issue.message).join("\n")).toMatch(
      new RegExp(`is a list \\(one entry per [^)]*\\), so "${operator}"`),
    );
  });

  it("one named person, a double negation and counting are accepted", () => {
    expect(check({ field: "identity[0].identityStatus", notEquals: "ACTIVE" }).ok).toBe(true);
    expect(check({ not: { field: "identity.identityStatus", notEquals: "ACTIVE" } }).ok).toBe(true);
    expect(
      check({ count: { of: "sod.violations", where: { field: "policy.name", notEquals: "x" }, gt: 0 } }).ok,
    ).toBe(true);
  });

  it("counting the people who do not match is accepted, and decides right for a mixed request", () => {
    const when = {
      count: { of: "identity", where: { field: "identityStatus", notEquals: "ACTIVE" }, gt: 0 },
    };
    expect(check(when).ok).toBe(true);
    const rules = compileRules(parseRulesDocument(documentWith(when, "someone-inactive"), "count"));
    const decision = decided(rules, request(people("a", "b")), {
      identity: [
        identity("a", { identityStatus: "ACTIVE" }),
        identity("b", { identityStatus: "TERMINATED" }),
      ],
    });
    expect(decision.explanation.ruleId).toBe("someone-inactive");
  });
});
