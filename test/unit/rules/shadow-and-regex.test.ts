import { describe, expect, it } from "vitest";
import { compileRulesText, parseRulesFile } from "../../../lib/rules/load-file.ts";
import { regexEngine } from "../../../lib/rules/regex.ts";
import { regexProblem } from "../../../lib/rules/regex-guard.ts";
import { invocationForTools, runRulesTests } from "../../../lib/rules/run-tests.ts";
import { compile, decide, input, item, matches } from "./helpers.ts";

const SHADOW = `
approver: svc
preApproval:
  rules:
    - id: shadow-roles
      enforce: false
      when: { anyItem: { field: type, equals: ROLE } }
      then: { decision: deny, comment: would deny roles }
    - id: shadow-william
      enforce: false
      when: { field: requestedFor.name, startsWith: William }
      then: { decision: deny, comment: would deny William }
    - id: deny-roles
      when: { anyItem: { field: type, equals: ROLE } }
      then: { decision: deny, comment: roles denied }
  default: { decision: approve, comment: ok }
`;

describe("enforce: false (shadow mode)", () => {
  const rules = compile(SHADOW);

  it("records a matching shadow rule without letting it decide", () => {
    const decision = decide(rules, input({ requestedItems: [item({ type: "ROLE" })] }));
    expect(decision.explanation.ruleId).toBe("deny-roles");
    expect(decision.output).toMatchObject({ approved: false, comment: "roles denied" });
    expect(decision.explanation.notEnforced).toEqual([
      { ruleId: "shadow-roles", matched: ['any requested item: type equals "ROLE"'] },
      { ruleId: "shadow-william", matched: ['requestedFor.name starts with "William"'] },
    ]);
  });

  it("lets the default decide when only shadow rules match, and records them", () => {
    const decision = decide(rules, input());
    expect(decision.explanation.ruleId).toBe("default");
    expect(decision.output).toMatchObject({ approved: true });
    expect(decision.explanation.notEnforced?.map((m) => m.ruleId)).toEqual(["shadow-william"]);
  });

  it("leaves notEnforced out when no shadow rule matched", () => {
    const decision = decide(rules, input({ requestedFor: { type: "IDENTITY", id: "x", name: "Carla" } }));
    expect(decision.explanation).not.toHaveProperty("notEnforced");
  });

  it("asks for a shadow rule's context like any rule's", () => {
    const ctxRules = compile(`
approver: svc
preApproval:
  rules:
    - id: shadow-terminated
      enforce: false
      when: { field: identity.identityStatus, equals: TERMINATED }
      then: { decision: deny, comment: would deny }
  default: { decision: approve, comment: ok }
`);
    expect(ctxRules.contextNeeds("idn:access-request-pre-approval")).toEqual(new Set(["identity"]));
    const first = ctxRules.evaluate(invocationForTools(input(), "preApproval"));
    expect(first).toEqual({ contextRequired: new Set(["identity"]) });
  });

  it("rules test asserts on notEnforced, in evaluation order", async () => {
    const report = await runRulesTests(rules, [
      { name: "ok", trigger: "preApproval", input: input(), expect: { notEnforced: ["shadow-william"] } },
      { name: "none", trigger: "preApproval", input: input(), expect: { notEnforced: [] } },
    ]);
    expect(report.results.map((r) => r.passed)).toEqual([true, false]);
    expect(report.results[1]?.failures).toEqual(["notEnforced: expected [], got [shadow-william]"]);
  });

  it("refuses a test that expects nothing", () => {
    expect(() =>
      parseRulesFile(
        `${SHADOW}tests:\n  - name: t\n    trigger: preApproval\n    input: { a: 1 }\n    expect: {}\n`,
        "p.yaml",
      ),
    ).toThrow(/tests\[0\]\.expect \(line \d+\): expects nothing/);
  });
});

describe("regular expressions in linear time (RE2)", () => {
  it("tools match with RE2", () => {
    expect(regexEngine().name).toBe("re2");
  });

  it.each([
    ["\\w+\\s*\\w+\\s*\\w+\\s*approve", "word ".repeat(200)],
    ["a*a*a*b", "a".repeat(1000)],
  ])("%s decides in under 10 ms on 1,000 characters", (pattern, text) => {
    const rules = compile(`
approver: svc
preApproval:
  rules:
    - id: hit
      when: { anyItem: { field: comment, matches: ${JSON.stringify(pattern)} } }
      then: { decision: deny, comment: matched }
  default: { decision: approve, comment: nope }
`);
    const payload = input({ requestedItems: [item({ comment: text })] });
    decide(rules, payload); // warm
    const start = performance.now();
    const decision = decide(rules, payload);
    const ms = performance.now() - start;
    expect(decision.explanation.ruleId).toBe("default");
    expect(ms).toBeLessThan(10);
  });

  it("matches as before: anchors, classes, ignoreCase, text only", () => {
    expect(matches("{ field: accessRequestId, matches: '^ar-\\d+$' }", input())).toBe(true);
    expect(matches("{ field: accessRequestId, matches: '^AR-', ignoreCase: true }", input())).toBe(true);
    expect(matches("{ field: accessRequestId, matches: '^AR-' }", input())).toBe(false);
    expect(matches("{ field: n, matches: '1' }", input({ n: 1 }))).toBe(false);
  });

  it.each([
    ["(?=a)b", /line \d+\): regex refused: lookaround "\(\?=" is not supported by RE2/],
    ["(?<!a)b", /lookaround "\(\?<!"/],
    ["(a)\\1", /backreferences \("\\1"\) need backtracking/],
    ["\\u00e9", /RE2 cannot run it \(invalid escape sequence.*\\x\{00e9\}/],
  ])("rules check refuses %s with file:line", (pattern, message) => {
    expect(() =>
      compileRulesText(
        `approver: svc\npreApproval:\n  rules:\n    - id: r\n      when: { field: a, matches: ${JSON.stringify(pattern)} }\n      then: { decision: deny, comment: x }\n  default: { decision: approve, comment: ok }\n`,
        "p.yaml",
      ),
    ).toThrow(message);
  });

  it("accepts lookaround characters inside a class", () => {
    expect(regexProblem("[(?=]x")).toBeUndefined();
  });
});
