import { describe, expect, it } from "vitest";
import { RulesFileError } from "../../../lib/rules/errors.ts";
import { compileRulesText, parseRulesFile, parseRulesTestsFile } from "../../../lib/rules/load-file.ts";
import { MAX_PATTERN_LENGTH, regexProblem } from "../../../lib/rules/regex-guard.ts";

/** The lines a person sees for a broken file. */
function problems(text: string, filename = "policy.yaml"): string[] {
  try {
    compileRulesText(text, filename);
  } catch (error) {
    expect(error).toBeInstanceOf(RulesFileError);
    return (error as RulesFileError).formatIssues();
  }
  throw new Error("expected the file to be refused");
}

const HEAD = "approver: svc\npreApproval:\n  rules:\n";
const DEFAULT = "  default: { decision: approve, comment: ok }\n";

describe("malformed rules files: messages with file, line and path", () => {
  it("reports YAML syntax errors with their line", () => {
    expect(problems("approver: svc\npreApproval:\n  rules: [\n")).toEqual([
      expect.stringMatching(/^policy\.yaml:\d+: \(root\): syntax error: /),
    ]);
    expect(problems("a: 1\na: 2\n")[0]).toMatch(/^policy\.yaml:2: \(root\): syntax error: .*unique/i);
  });

  it("points an unknown key at its own line", () => {
    const text = `${HEAD}    - id: r
      when:
        field: accessRequestId
        equal: x
      then: { decision: deny, comment: x }
${DEFAULT}`;
    expect(problems(text)).toEqual(['policy.yaml:7: preApproval.rules[0].when.equal: unknown key "equal"']);
  });

  it("names the allowed values of an enum", () => {
    const text = `${HEAD}    - id: r
      when: { field: a, exists: true }
      then:
        decision: maybe
        comment: x
${DEFAULT}`;
    expect(problems(text)).toEqual([
      'policy.yaml:7: preApproval.rules[0].then.decision: expected one of "approve", "deny"',
    ]);
  });

  it("reports a missing required key at its parent's line", () => {
    expect(problems("approver: svc\npreApproval:\n  rules: []\n  default:\n    comment: x\n")).toEqual([
      "policy.yaml:4: preApproval.default.decision: is required: approve or deny",
    ]);
    expect(problems("approver: svc\ndynamicApprover:\n  rules: []\n")).toEqual([
      "policy.yaml:2: dynamicApprover.default: is required (object)",
    ]);
  });

  it("reports conditions with no operator, two operators or two kinds", () => {
    const text = `${HEAD}    - id: a
      when: { field: x }
      then: { decision: deny, comment: x }
    - id: b
      when: { field: x, equals: 1, exists: true }
      then: { decision: deny, comment: x }
    - id: c
      when: { field: x, equals: 1, all: [{ field: y, exists: true }] }
      then: { decision: deny, comment: x }
    - id: d
      when: { anyItem: { field: x, exists: true }, equals: 2 }
      then: { decision: deny, comment: x }
    - id: e
      when: { field: "requestedItems[x].id", exists: true }
      then: { decision: deny, comment: x }
    - id: f
      when: { field: x, gt: 1, ignoreCase: true }
      then: { decision: deny, comment: x }
${DEFAULT}`;
    expect(problems(text)).toEqual([
      'policy.yaml:5: preApproval.rules[0].when: "field" needs one operator: equals, notEquals, in, notIn, startsWith, endsWith, contains, matches, exists, missing, gt, gte, lt, lte, within, minLength, maxLength',
      'policy.yaml:8: preApproval.rules[1].when: "field" takes one operator, found equals, exists (combine conditions with all/any)',
      "policy.yaml:11: preApproval.rules[2].when: a condition has exactly one of all, field (nest them under all/any)",
      'policy.yaml:14: preApproval.rules[3].when.equals: "equals" belongs with "field", not with "anyItem"',
      "policy.yaml:17: preApproval.rules[4].when.field: expected a field path like requestedFor.name or requestedItems[0].id",
      'policy.yaml:20: preApproval.rules[5].when.ignoreCase: does not apply to "gt"',
    ]);
  });

  it("reports unknown lists and tables, duplicate and reserved rule ids, bad templates", () => {
    const text = `approver: svc
lists: { admins: [a] }
preApproval:
  rules:
    - id: r
      when: { field: x, in: { list: admin } }
      then: { decision: deny, comment: "Hi {{requestedFor.}}" }
    - id: r
      when: { field: x, lookup: nosuch, exists: true }
      then: { decision: deny, comment: "{{a}} }}" }
    - id: default
      when: { countItems: { where: { field: x, exists: true } } }
      then: { decision: deny, comment: x }
${DEFAULT}`;
    expect(problems(text)).toEqual([
      'policy.yaml:6: preApproval.rules[0].when.in.list: unknown list "admin" (lists: admins)',
      "policy.yaml:7: preApproval.rules[0].then.comment: {{requestedFor.}} is not a field path like requestedFor.name or requestedItems[0].id",
      'policy.yaml:8: preApproval.rules[1].id: duplicate rule id "r" (first at preApproval.rules[0])',
      'policy.yaml:9: preApproval.rules[1].when.lookup: unknown table "nosuch" (tables: none defined)',
      "policy.yaml:10: preApproval.rules[1].then.comment: has an unbalanced {{ or }}",
      'policy.yaml:11: preApproval.rules[2].id: "default" is reserved; choose another rule id',
      "policy.yaml:12: preApproval.rules[2].when.countItems: needs exactly one comparison of the count: equals, gt, gte, lt, lte",
    ]);
  });

  it("requires an approver for pre-approval decisions", () => {
    expect(problems("preApproval:\n  default: { decision: approve, comment: ok }\n")).toEqual([
      "policy.yaml:2: preApproval.default.approver: no approver: set `approver` (a username) at the top of the file or on this decision",
    ]);
  });

  it("checks every entry of a table used for approver lookups, at the entry's line", () => {
    const text = `tables:
  owners:
    item-1: { id: gg, name: G, type: GOVERNANCE_GROUP }
    item-2: just-a-name
    item-3: { id: "", name: Empty, type: IDENTITY }
dynamicApprover:
  default:
    approver: { lookup: owners, by: requestedItems.id, otherwise: none }
`;
    const lines = problems(text);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^policy\.yaml:5: tables\.owners\.item-3\.id: must not be empty$/);
    const lines2 = problems(
      text.replace('{ id: "", name: Empty, type: IDENTITY }', "{ id: x, name: Ok, type: IDENTITY }"),
    );
    expect(lines2).toEqual([
      'policy.yaml:4: tables.owners.item-2: table "owners" gives approvers (used at dynamicApprover.default.approver): each entry must be {id, name, type: IDENTITY|GOVERNANCE_GROUP}',
    ]);
  });

  it("refuses regexes RE2 cannot run at load, with the line", () => {
    const text = `${HEAD}    - id: r
      when:
        field: requestedFor.name
        matches: '^(a)\\1$'
      then: { decision: deny, comment: x }
${DEFAULT}`;
    expect(problems(text)).toEqual([
      'policy.yaml:7: preApproval.rules[0].when.matches: regex refused: backreferences ("\\1") need backtracking, which RE2 (linear-time matching) does not do',
    ]);
  });

  it("reads JSON with lines too", () => {
    const json =
      '{\n  "approver": "svc",\n  "preApproval": {\n    "default": {"decision": "approve", "comment": 5}\n  }\n}\n';
    expect(problems(json, "rules.json")).toEqual([
      "rules.json:4: preApproval.default.comment: expected string",
    ]);
    expect(parseRulesFile(json.replace("5", '"ok"'), "rules.json").approver).toBe("svc");
  });

  it("reads a tests file beside the rules (a list or {tests})", () => {
    const cases = parseRulesTestsFile(
      "- name: t\n  trigger: preApproval\n  input: {a: 1}\n  expect: {rule: default}\n",
      "x.tests.yaml",
    );
    expect(cases).toHaveLength(1);
    expect(() =>
      parseRulesTestsFile("- name: t\n  input: {a: 1}\n  expect: {rul: default}\n", "x.tests.yaml"),
    ).toThrow(/\[0\]\.expect\.rul \(line 3\): unknown key "rul"/);
  });
});

describe("regex guard", () => {
  it.each([
    ["(a)\\1", /backreferences/],
    ["(?<n>a)\\k<n>", /backreferences/],
    ["a".repeat(MAX_PATTERN_LENGTH + 1), /longer than/],
    ["(unclosed", /not a valid regular expression/],
  ])("refuses %s", (pattern, reason) => {
    expect(regexProblem(pattern)).toMatch(reason);
  });

  // Nested repetition too: RE2 runs it in linear time (no function matches with a backtracking engine).
  it.each([
    "(a+)+",
    "(a*)*b",
    "(a|ab)*",
    "((ab)+c)+",
    "(x+){2,}",
    "^ar-\\d+$",
    "^(foo|bar)$",
    "(?:ab)+",
    "[a+]+",
    "^\\s*$",
    "(a)?b",
    "\\(a+\\)+",
    "(?:x|y)z+",
  ])("accepts %s", (pattern) => {
    expect(regexProblem(pattern)).toBeUndefined();
  });
});
