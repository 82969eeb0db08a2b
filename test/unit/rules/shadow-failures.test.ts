// biome-ignore-all lint/suspicious/noThenProperty: `then` is the rules format's word for a rule's decision.
/**
 * `enforce: false` rules never decide, not even by failing: a shadow rule whose code throws, or whose
 * context was not read, is recorded in notEnforced with `error` and passed over; the next rule decides.
 * An enforced rule failing, or needing context that was not read, keeps the fallback / ContextRequired.
 */
import { describe, expect, it } from "vitest";
import type { ContextData } from "../../../lib/context/types.ts";
import { RulesEvaluationError } from "../../../lib/rules/errors.ts";
import { parseRulesFile } from "../../../lib/rules/load-file.ts";
import { invocationForTools, runRulesTests } from "../../../lib/rules/run-tests.ts";
import type { CompiledRules, ContextRequired, Decision } from "../../../lib/rules/types.ts";
import { defineRules } from "../../../lib/rules/typescript-api.ts";
import { compile, input } from "./helpers.ts";
import { compileTextWithPrecompiled } from "./precompiled-helpers.ts";

const FALLBACK = { decision: "deny" as const, comment: "Denied for safety." };
const inv = () => invocationForTools(input(), "preApproval");

function withTrial(when: (view: unknown) => boolean, enforce = false): CompiledRules {
  return defineRules({
    approver: "svc",
    preApproval: {
      rules: [
        { id: "trial", enforce, when, then: { decision: "deny", comment: "trial" } },
        {
          id: "ok",
          when: { field: "accessRequestId", equals: "ar-1" },
          then: { decision: "approve", comment: "fine" },
        },
      ],
      default: { decision: "deny", comment: "default" },
      fallback: FALLBACK,
    },
  });
}

describe("a shadow rule whose code throws", () => {
  it("is recorded with the error and the next rule decides (it fell back before)", () => {
    const rules = withTrial(function broken() {
      throw new Error("secret payload value 12345");
    });
    const decision = rules.decide(inv());
    expect(decision.explanation.ruleId).toBe("ok");
    expect(decision.output).toMatchObject({ approved: true, comment: "fine" });
    expect(decision.explanation.notEnforced).toEqual([
      {
        ruleId: "trial",
        matched: [],
        error: expect.stringMatching(/^rule trial: custom predicate "broken.*" threw$/),
      },
    ]);
    // The thrown message (which may hold payload values) is not recorded.
    expect(JSON.stringify(decision.explanation)).not.toContain("12345");
  });

  it("an enforced rule that throws still fails the decision (the pipeline's fallback)", () => {
    const rules = withTrial(() => {
      throw new Error("boom");
    }, true);
    expect(() => rules.decide(inv())).toThrow(RulesEvaluationError);
  });

  it("records failures and matches in evaluation order", () => {
    const rules = compile(`
approver: svc
preApproval:
  rules:
    - id: s1
      enforce: false
      when: { field: identity.identityStatus, equals: TERMINATED }
      then: { decision: deny, comment: x }
    - id: s2
      enforce: false
      when: { field: accessRequestId, equals: ar-1 }
      then: { decision: deny, comment: x }
  default: { decision: approve, comment: ok }
`);
    const decision = rules.evaluate(inv(), {}) as Decision;
    expect(decision.explanation.ruleId).toBe("default");
    expect(decision.explanation.notEnforced).toEqual([
      { ruleId: "s1", matched: [], error: "context not read: identity" },
      { ruleId: "s2", matched: ['accessRequestId equals "ar-1"'] },
    ]);
  });
});

const CONTEXT_RULES = `
approver: svc
preApproval:
  rules:
    - id: trial
      enforce: false
      when: { field: identity.lifecycleState.stateName, equals: inactive }
      then: { decision: deny, comment: x }
    - id: ok
      when: { field: accessRequestId, equals: ar-1 }
      then: { decision: approve, comment: fine }
    - id: needs-manager
      when: { field: manager.lifecycleState.stateName, equals: inactive }
      then: { decision: deny, comment: manager inactive }
  default: { decision: approve, comment: OK }
`;

const IDENTITY = { id: "id-william", name: "William Wilson", lifecycleState: { stateName: "inactive" } };

describe.each([
  ["compiled in full", (text: string) => compile(text)],
  ["from the precompiled plan", (text: string) => compileTextWithPrecompiled(text, "test.yaml")],
])("a shadow rule's context (%s)", (_path, compileText) => {
  const rules = compileText(CONTEXT_RULES);

  it("is asked for before any read, so the rule can be observed", () => {
    expect(rules.evaluate(inv())).toEqual({ contextRequired: new Set(["identity", "manager"]) });
  });

  it("not read: the rule is recorded as not read and passed over, never a reason to stop", () => {
    const decision = rules.evaluate(inv(), {}) as Decision;
    expect(decision.explanation.ruleId).toBe("ok");
    expect(decision.explanation.notEnforced).toEqual([
      { ruleId: "trial", matched: [], error: "context not read: identity" },
    ]);
  });

  it("read: the rule is evaluated and recorded as a match", () => {
    const decision = rules.evaluate(inv(), { identity: [IDENTITY as never] }) as Decision;
    expect(decision.explanation.ruleId).toBe("ok");
    expect(decision.explanation.notEnforced).toEqual([
      { ruleId: "trial", matched: ['identity.lifecycleState.stateName equals "inactive"'] },
    ]);
  });

  it("an enforced rule needing context not read still stops the walk, asking only for enforced needs", () => {
    const noOk = compileText(CONTEXT_RULES.replace("equals: ar-1", "equals: other"));
    expect(noOk.evaluate(inv(), {})).toEqual({ contextRequired: new Set(["manager"]) });
    const context: ContextData = { identity: [IDENTITY as never] };
    expect(noOk.evaluate(inv(), context)).toEqual({ contextRequired: new Set(["manager"]) });
  });
});

describe("a shadow rule's custom code reading context", () => {
  const rules = defineRules({
    approver: "svc",
    preApproval: {
      rules: [
        {
          id: "trial",
          enforce: false,
          when: (view: { identity?: Array<{ name?: string }> }) => view.identity?.[0]?.name === "x",
          then: { decision: "deny", comment: "trial" },
        },
        {
          id: "shadow-field",
          enforce: false,
          when: { field: "identity.name", equals: "William Wilson" },
          then: { decision: "deny", comment: "trial" },
        },
        {
          id: "ok",
          when: { field: "accessRequestId", equals: "ar-1" },
          then: { decision: "approve", comment: "fine" },
        },
      ],
      default: { decision: "deny", comment: "default" },
      fallback: FALLBACK,
    },
  });

  it("before any read asks for everything, as any rule's code would", () => {
    const first = rules.evaluate(inv()) as ContextRequired;
    expect(first.contextRequired.has("identity")).toBe(true);
  });

  it("over context that lacks it: recorded, the enforced rule decides (and the explanation's context values too)", () => {
    const decision = rules.evaluate(inv(), {}) as Decision;
    expect(decision.explanation.ruleId).toBe("ok");
    expect(decision.explanation.notEnforced).toEqual([
      { ruleId: "trial", matched: [], error: "context not read: identity" },
      { ruleId: "shadow-field", matched: [], error: "context not read: identity" },
    ]);
  });

  it("an enforced rule's code reading context not read still asks for it", () => {
    const enforced = defineRules({
      approver: "svc",
      preApproval: {
        rules: [
          {
            id: "reads",
            when: (view: { identity?: unknown[] }) => view.identity !== undefined,
            then: { decision: "approve", comment: "x" },
          },
        ],
        default: { decision: "approve", comment: "OK" },
        fallback: FALLBACK,
      },
    });
    expect("contextRequired" in enforced.evaluate(inv(), {})).toBe(true);
  });
});

it("the precompiled plan and the full compile decide alike over shadow failures", () => {
  const text = CONTEXT_RULES;
  const full = compile(text);
  const pre = compileTextWithPrecompiled(text, "test.yaml");
  expect(parseRulesFile(text, "test.yaml").preApproval?.rules?.[0]?.enforce).toBe(false);
  for (const context of [undefined, {}, { identity: [IDENTITY as never] }] as Array<
    ContextData | undefined
  >) {
    const a = full.evaluate(inv(), context);
    const b = pre.evaluate(inv(), context);
    const strip = (r: unknown) => JSON.parse(JSON.stringify(r, (k, v) => (k === "evaluationMicros" ? 0 : v)));
    expect(strip(b)).toEqual(strip(a));
  }
});

it("rules test's notEnforced names the shadow rules that matched, not those that failed", async () => {
  const rules = withTrial(() => {
    throw new Error("boom");
  });
  const report = await runRulesTests(rules, [
    { name: "t", trigger: "preApproval", input: input(), expect: { rule: "ok", notEnforced: [] } },
  ]);
  expect(report.results[0]?.failures).toEqual([]);
});
