// biome-ignore-all lint/suspicious/noThenProperty: `then` is the rules format's key for a decision (never callable).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deploymentFindings, EXAMPLE_RULES_FILE, validateRulesFile } from "../../../infra/rules.ts";
import { compileRulesText } from "../../../lib/rules/load-file.ts";
import { compile, decide, input, item } from "./helpers.ts";

function check(rules: string): { errors: string[]; warnings: string[] } {
  const text = `approver: svc\npreApproval:\n  rules:\n${rules}\n  default: { decision: approve, comment: ok }\n`;
  try {
    const loaded = compileRulesText(text, "p.yaml");
    return { errors: [], warnings: loaded.warnings.map((w) => `${w.line}: ${w.path}: ${w.message}`) };
  } catch (error) {
    return {
      errors: (
        (error as { issues: Array<{ line?: number; path: string; message: string }> }).issues ?? []
      ).map((i) => `${i.line}: ${i.path}: ${i.message}`),
      warnings: [],
    };
  }
}

const rule = (when: string, comment = "x") =>
  `    - id: r\n      when: ${when}\n      then: { decision: deny, comment: ${JSON.stringify(comment)} }`;

describe("requestedFor as one object or a list", () => {
  const rules = compile(`
approver: svc
preApproval:
  rules:
    - id: first-person
      when: { field: "requestedFor[0].name", equals: William Wilson }
      then: { decision: deny, comment: "for {{requestedFor[0].name}} / {{requestedFor.name}}" }
  default: { decision: approve, comment: "nobody {{requestedFor[1].name}}" }
`);
  it("reads requestedFor[0] of an object as the object, in conditions and templates", () => {
    const one = decide(rules, input());
    expect(one.explanation.ruleId).toBe("first-person");
    expect(one.output).toMatchObject({ comment: "for William Wilson / William Wilson" });
    const list = decide(
      rules,
      input({
        requestedFor: [
          { type: "IDENTITY", id: "a", name: "William Wilson" },
          { type: "IDENTITY", id: "b", name: "Carla" },
        ],
      }),
    );
    expect(list.output).toMatchObject({ comment: "for William Wilson / William Wilson" });
  });
  it("an index past the one object reads nothing", () => {
    const d = decide(rules, input({ requestedFor: { type: "IDENTITY", id: "x", name: "Zed" } }));
    expect(d.output).toMatchObject({ comment: "nobody " });
  });
});

describe("{{item.*}}: the requested item the rule matched", () => {
  const rules = compile(`
approver: svc
preApproval:
  rules:
    - id: roles
      when: { anyItem: { field: type, equals: ROLE } }
      then: { decision: deny, comment: "{{item.name}} is a role", actions: [{ type: complete-campaign, campaignId: "c-{{item.id}}" }] }
    - id: no-comment
      when: { countItems: { where: { field: comment, missing: true }, gte: 1 } }
      then: { decision: deny, comment: "{{item.name}} needs a comment" }
  default: { decision: approve, comment: ok }
`);
  it("names the matching item, not the first", () => {
    const d = decide(
      rules,
      input({
        requestedItems: [item({ comment: "c" }), item({ id: "r-2", name: "Prod Admin", type: "ROLE" })],
      }),
    );
    expect(d.output).toMatchObject({ comment: "Prod Admin is a role" });
    expect(d.actions).toEqual([{ type: "complete-campaign", campaignId: "c-r-2" }]);
    const c = decide(
      rules,
      input({ requestedItems: [item({ comment: "ok" }), item({ id: "i2", name: "Second" })] }),
    );
    expect(c.output).toMatchObject({ comment: "Second needs a comment" });
  });
  it("is refused in a rule without an item quantifier, and warns on requestedItems.x in one with", () => {
    expect(check(rule("{ field: accessRequestId, exists: true }", "{{item.name}}")).errors[0]).toMatch(
      /^6: preApproval.rules\[0\].then.comment: \{\{item.name\}\} names the requested item .* this rule has none/,
    );
    expect(
      check(rule("{ anyItem: { field: type, equals: ROLE } }", "{{requestedItems.name}}")).warnings,
    ).toEqual([
      "6: preApproval.rules[0].then.comment: {{requestedItems.name}} names the first requested item that has the value, not necessarily the one this rule matched: write {{item.name}}",
    ]);
  });
});

describe("rules check: what cannot mean what was meant", () => {
  it.each([
    [
      "{ anyItem: { field: type, equals: role } }",
      /anyItem.equals: ISC sends "ROLE", and comparisons are case-sensitive, so "role" never matches/,
    ],
    ["{ anyItem: { field: operation, in: [add] } }", /in\[0\]: ISC sends "Add"/],
    [
      "{ field: requestedFor.id, equals: 12345 }",
      /equals: ids are text, .*12345 never equals the id "12345"; quote it/,
    ],
    [
      "{ field: comment, minLength: 20 }",
      /field: "comment" is a field of each requested item, not of the request, so this never matches: put the condition under anyItem/,
    ],
    [
      "{ field: requestedBy.id, equals: '{{requestedFor.id}}' }",
      /equals: conditions compare literal text.*equals: \{field: requestedFor.id\}/,
    ],
  ])("%s is an error with its line", (when, message) => {
    const { errors } = check(rule(when));
    expect(errors.join("\n")).toMatch(message);
    expect(errors[0]).toMatch(/^5: /);
  });

  it("a template typo under a known object is an error", () => {
    expect(check(rule("{ field: accessRequestId, exists: true }", "by {{requestedBy.nme}}")).errors).toEqual([
      '6: preApproval.rules[0].then.comment: requestedBy has only id, name and type; "nme" may be requester.nme or requester.attributes.nme (the identity read from ISC): it would render empty',
    ]);
  });

  it.each([
    [
      "{ anyItem: { field: type, equals: GROUP } }",
      /"GROUP" is not a value ISC sends for requestedItems.type/,
    ],
    [
      "{ field: requestedFor.department, equals: x }",
      /requestedFor has only id, name and type; "department" may be identity.department or identity.attributes.department/,
    ],
    ["{ field: extra.score, gte: 3 }", /"extra" is not a field of the request .*check the spelling/],
  ])("%s is a warning", (when, message) => {
    const { errors, warnings } = check(rule(when));
    expect(errors).toEqual([]);
    expect(warnings.join("\n")).toMatch(message);
  });

  it("accepts what is meant: exact enums, ignoreCase, quoted ids, item fields in items", () => {
    const { errors, warnings } = check(
      [
        rule("{ anyItem: { field: type, equals: role, ignoreCase: true } }"),
        rule("{ field: requestedFor.id, equals: '12345' }").replace("id: r", "id: r2"),
        rule("{ anyItem: { field: comment, missing: true } }", "{{item.name}}").replace("id: r", "id: r3"),
        rule("{ field: identity.attributes.department, equals: Finance }").replace("id: r", "id: r4"),
      ].join("\n"),
    );
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
  });
});

describe("cdk synth: the configuration and the rules together", () => {
  const dir = mkdtempSync(join(tmpdir(), "h6-findings-"));
  const preOnly = join(dir, "pre-only.yaml");
  writeFileSync(preOnly, "approver: svc\npreApproval:\n  default: { decision: approve, comment: ok }\n");
  const both = ["idn:access-request-pre-approval", "idn:access-request-dynamic-approver"];

  it("fails on an enabled trigger without a section, and on the placeholder tenant unless allowed", async () => {
    const rules = await validateRulesFile(preOnly);
    const findings = await deploymentFindings(rules, {
      triggerIds: both,
      tenantBaseUrl: "https://acme.api.identitynow.com",
      allowPlaceholderTenant: false,
    });
    expect(findings.errors).toHaveLength(2);
    expect(findings.errors[0]).toMatch(
      /no dynamicApprover section, but the idn:access-request-dynamic-approver trigger is enabled/,
    );
    expect(findings.errors[1]).toMatch(/tenant.baseUrl is the placeholder .*allowPlaceholderTenant=true/);
    const allowed = await deploymentFindings(rules, {
      triggerIds: both.slice(0, 1),
      tenantBaseUrl: "https://acme.api.identitynow.com",
      allowPlaceholderTenant: true,
    });
    expect(allowed).toEqual({ errors: [], warnings: [] });
  });

  it("warns on the example policy deployed unchanged", async () => {
    const findings = await deploymentFindings(await validateRulesFile(EXAMPLE_RULES_FILE), {
      triggerIds: both,
      tenantBaseUrl: "https://example.api.identitynow.com",
      allowPlaceholderTenant: false,
    });
    expect(findings.errors).toEqual([]);
    expect(findings.warnings.join("\n")).toMatch(/the example policy \(rules\/example.yaml\) unchanged/);
  });
});

describe("minLength / maxLength", () => {
  it.each([
    ["{ anyItem: { field: comment, minLength: 5 } }", "hello", true],
    ["{ anyItem: { field: comment, minLength: 5 } }", "hi   ", true],
    ["{ anyItem: { field: comment, minLength: 5, trim: true } }", "  hi   ", false],
    ["{ anyItem: { field: comment, minLength: 1 } }", null, false],
    ["{ anyItem: { field: comment, maxLength: 2 } }", "👍👍", true],
    ["{ anyItem: { field: comment, maxLength: 2, trim: true } }", " abc ", false],
  ])("%s on %j: %s", (when, comment, expected) => {
    const rules = compile(
      `approver: svc\npreApproval:\n  rules:\n${rule(when)}\n  default: { decision: approve, comment: ok }\n`,
    );
    expect(decide(rules, input({ requestedItems: [item({ comment })] })).explanation.ruleId === "r").toBe(
      expected,
    );
  });
  it("explains itself and refuses trim elsewhere", () => {
    const rules = compile(
      `approver: svc\npreApproval:\n  rules:\n${rule("{ anyItem: { field: comment, minLength: 3, trim: true } }")}\n  default: { decision: approve, comment: ok }\n`,
    );
    expect(decide(rules, input({ requestedItems: [item({ comment: "abc" })] })).explanation.matched).toEqual([
      "any requested item: comment has at least 3 characters (trimmed)",
    ]);
    expect(check(rule("{ anyItem: { field: comment, equals: x, trim: true } }")).errors.join()).toMatch(
      /trim: applies to minLength and maxLength, not to "equals"/,
    );
  });
});
