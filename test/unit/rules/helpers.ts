import { compileRulesText } from "../../../lib/rules/load-file.ts";
import { invocationForTools } from "../../../lib/rules/run-tests.ts";
import type { CompiledRules, Decision } from "../../../lib/rules/types.ts";

/** A valid input with overrides: one identity, one item. */
export function input(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    accessRequestId: "ar-1",
    requestedFor: { type: "IDENTITY", id: "id-william", name: "William Wilson" },
    requestedBy: { type: "IDENTITY", id: "id-rob", name: "Rob Robertson" },
    requestedItems: [item()],
    ...overrides,
  };
}

export function item(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: "item-1", name: "Engineering Access", type: "ACCESS_PROFILE", operation: "Add", ...overrides };
}

export function compile(yaml: string): CompiledRules {
  return compileRulesText(yaml, "test.yaml").compiled;
}

export function decide(rules: CompiledRules, payload: unknown, trigger = "preApproval"): Decision {
  return rules.decide(invocationForTools(payload, trigger));
}

/** Pre-approval rules file with one rule whose `when` is given as YAML (indented 8 spaces under `when:`). */
export function oneRule(when: string, extra = ""): CompiledRules {
  return compile(`
approver: svc
${extra}
preApproval:
  rules:
    - id: hit
      when:
${when
  .trim()
  .split("\n")
  .map((line) => `        ${line}`)
  .join("\n")}
      then: { decision: deny, comment: matched }
  default: { decision: approve, comment: nope }
`);
}

/** True if the one-rule file's rule matches the input. */
export function matches(when: string, payload: unknown, extra = ""): boolean {
  return decide(oneRule(when, extra), payload).explanation.ruleId === "hit";
}
