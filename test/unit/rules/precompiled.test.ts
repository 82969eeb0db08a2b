import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { benchInput, benchRulesDocument, seededRandom } from "../../../bench/support/workload.ts";
import { compileRules, rulesVersion } from "../../../lib/rules/compile.ts";
import { parseRulesFile } from "../../../lib/rules/load-file.ts";
import { parseRulesDocument } from "../../../lib/rules/parse.ts";
import {
  PRECOMPILED_FORMAT,
  type PrecompiledRules,
  planSections,
  precompiledPathOf,
  precompiledRules,
  readPrecompiledBeside,
  usablePlans,
} from "../../../lib/rules/precompiled.ts";
import { invocationForTools, runRulesTests } from "../../../lib/rules/run-tests.ts";
import type { RulesDocument } from "../../../lib/rules/schema.ts";
import type { CompiledRules, Decision } from "../../../lib/rules/types.ts";
import { compileWithPrecompiled } from "./precompiled-helpers.ts";

const ROOT = join(import.meta.dirname, "../../..");
const example = parseRulesFile(readFileSync(join(ROOT, "rules/example.yaml"), "utf8"), "example.yaml");
const exampleVersion = rulesVersion(example);

/** A fresh copy of the example's plan, as the functions would read it from rules.precompiled.json. */
function examplePlan(): PrecompiledRules {
  return JSON.parse(JSON.stringify(precompiledRules(example, exampleVersion))) as PrecompiledRules;
}

/** Compiles with `precomputed`, returning why it was ignored (undefined: used). */
function compileReporting(
  document: RulesDocument,
  precomputed: unknown,
): { rules: CompiledRules; ignored: string | undefined } {
  let ignored: string | undefined;
  const rules = compileRules(document, {
    precomputed,
    onPrecomputedIgnored: (reason) => {
      ignored = reason;
    },
  });
  return { rules, ignored };
}

/** A decision without its timings (all that may differ between two evaluations). */
function comparable(result: unknown): unknown {
  const decision = result as Partial<Decision>;
  if (decision.explanation === undefined) return result;
  const { evaluationMicros: _micros, context, ...explanation } = decision.explanation;
  // How long each context read took (`ms`) is timing too.
  const uses = context?.map(({ ms: _ms, ...use }) => use);
  return { ...decision, explanation: uses === undefined ? explanation : { ...explanation, context: uses } };
}

async function exampleReport(rules: CompiledRules) {
  return runRulesTests(rules, example.tests ?? [], {
    testContext: example.testContext,
    testAt: example.testAt,
  });
}

describe("precompiled rules: one engine, two paths", () => {
  it("the example policy's own tests pass on both paths, with the same decisions", async () => {
    const computed = await exampleReport(compileRules(example));
    const precompiled = await exampleReport(compileWithPrecompiled(example, "example.yaml"));
    expect(precompiled.results.filter((r) => !r.passed).map((r) => [r.name, r.failures])).toEqual([]);
    expect(precompiled.passed).toBe(computed.passed);
    expect(precompiled.passed).toBeGreaterThan(20);
    expect(precompiled.results.map((r) => comparable(r.decision))).toEqual(
      computed.results.map((r) => comparable(r.decision)),
    );
  });

  it("the bench's 100 rules decide alike on both paths, and ask for the same context", () => {
    const document = parseRulesDocument(benchRulesDocument(), "bench");
    const computed = compileRules(document);
    const precompiled = compileWithPrecompiled(document);
    const random = seededRandom(7);
    for (let n = 0; n < 300; n++) {
      for (const trigger of ["preApproval", "dynamicApprover"]) {
        const invocation = invocationForTools(benchInput(n, random), trigger);
        expect(comparable(precompiled.evaluate(invocation))).toEqual(
          comparable(computed.evaluate(invocation)),
        );
      }
    }
    for (const trigger of [
      "idn:access-request-pre-approval",
      "idn:access-request-dynamic-approver",
    ] as const) {
      expect(precompiled.contextNeeds(trigger)).toEqual(computed.contextNeeds(trigger));
    }
  });

  it("the plan is what compiling derives: each section's order, needs, fields and {{item.*}} rules", () => {
    const plan = examplePlan();
    expect(plan.format).toBe(PRECOMPILED_FORMAT);
    expect(plan.rulesVersion).toBe(exampleVersion);
    expect(plan.sections).toEqual(JSON.parse(JSON.stringify(planSections(example))));
    const pre = plan.sections.preApproval;
    expect(pre?.rules.length).toBe(
      (example.preApproval?.rules ?? []).filter((r) => r.enabled !== false).length,
    );
    // The example reads context (identity, grants, SoD...): some rules need it, and explanations record fields.
    expect(pre?.rules.some((rule) => rule.needs !== 0)).toBe(true);
    expect(pre?.fields.length).toBeGreaterThan(0);
    // A rule reading nothing but the payload (removals) comes first and needs nothing.
    expect(pre?.rules[0]?.needs).toBe(0);
  });
});

describe("precompiled rules: a tampered or mismatched plan is ignored and the rules compiled in full", () => {
  const tampered: Array<[string, (plan: PrecompiledRules) => unknown, RegExp]> = [
    ["another format", (p) => ({ ...p, format: "precompiled/0" }), /format/],
    ["another rules version", (p) => ({ ...p, rulesVersion: `sha256:${"0".repeat(64)}` }), /version/],
    [
      "two rules swapped",
      (p) => {
        const rules = p.sections.preApproval?.rules ?? [];
        [rules[0], rules[1]] = [rules[1] as (typeof rules)[0], rules[0] as (typeof rules)[0]];
        return p;
      },
      /order/,
    ],
    [
      "a rule repeated in place of another",
      (p) => {
        const rules = p.sections.preApproval?.rules ?? [];
        rules[1] = { ...(rules[0] as (typeof rules)[0]) };
        return p;
      },
      /order/,
    ],
    [
      "a rule left out",
      (p) => {
        p.sections.preApproval?.rules.pop();
        return p;
      },
      /rules/,
    ],
    [
      "an index past the rules",
      (p) => {
        const rules = p.sections.preApproval?.rules ?? [];
        (rules.at(-1) as (typeof rules)[0]).index = 999;
        return p;
      },
      /rules/,
    ],
    [
      "a disabled rule planned",
      (p) => {
        const disabled = (example.preApproval?.rules ?? []).findIndex((r) => r.enabled === false);
        expect(disabled).toBeGreaterThanOrEqual(0);
        const rules = p.sections.preApproval?.rules ?? [];
        (rules.at(-1) as (typeof rules)[0]).index = disabled;
        return p;
      },
      /rules/,
    ],
    [
      "needs beyond the known sources",
      (p) => {
        (p.sections.preApproval?.rules[0] as { needs: number }).needs = 1 << 20;
        return p;
      },
      /malformed/,
    ],
    [
      "a fractional mask",
      (p) => {
        (p.sections.preApproval as { defaultNeeds: number }).defaultNeeds = 0.5;
        return p;
      },
      /malformed/,
    ],
    [
      "a field of an unknown kind",
      (p) => {
        const fields = p.sections.preApproval?.fields ?? [];
        (fields[0] as { kind: string }).kind = "password";
        return p;
      },
      /fields/,
    ],
    [
      "another section's plan in place of one",
      (p) => ({ ...p, sections: { ...p.sections, postApproval: p.sections.preApproval } }),
      /postApproval: not the document's rules/,
    ],
    [
      "a section missing",
      (p) => {
        delete p.sections.dynamicApprover;
        return p;
      },
      /sections/,
    ],
    ["an unknown section", (p) => ({ ...p, sections: { ...p.sections, other: {} } }), /unknown section/],
    ["not an object", () => [1, 2, 3], /object/],
    ["an unparseable file (null)", () => null, /object/],
  ];

  for (const [name, tamper, reason] of tampered) {
    it(`${name}: ignored, said why, the example's tests still pass with the same decisions`, async () => {
      const precomputed = tamper(examplePlan());
      const check = usablePlans(precomputed, example, exampleVersion);
      expect(typeof check).toBe("string");
      expect(check).toMatch(reason);
      const { rules, ignored } = compileReporting(example, precomputed);
      expect(ignored).toBe(check);
      const report = await exampleReport(rules);
      expect(report.results.filter((r) => !r.passed).map((r) => r.name)).toEqual([]);
      const computed = await exampleReport(compileRules(example));
      expect(report.results.map((r) => comparable(r.decision))).toEqual(
        computed.results.map((r) => comparable(r.decision)),
      );
    });
  }

  it("the plan of another document is not this one's, even claiming its version", () => {
    const other = parseRulesDocument(benchRulesDocument(), "bench");
    const plan = precompiledRules(other, exampleVersion);
    expect(usablePlans(JSON.parse(JSON.stringify(plan)), example, exampleVersion)).toMatch(
      /not the document's/,
    );
  });

  it("a swapped pair would have changed a decision: ignoring it keeps the right one", () => {
    const document = parseRulesFile(
      `
approver: svc
preApproval:
  rules:
    - { id: first, priority: 2, when: { field: requestedFor.name, equals: Ann }, then: { decision: deny, comment: first } }
    - { id: second, priority: 1, when: { field: requestedFor.name, startsWith: A }, then: { decision: approve, comment: second } }
  default: { decision: approve, comment: default }
`,
      "swap.yaml",
    );
    const plan = precompiledRules(document, rulesVersion(document));
    plan.sections.preApproval?.rules.reverse();
    const { rules, ignored } = compileReporting(document, plan);
    expect(ignored).toMatch(/order/);
    const decision = rules.decide(
      invocationForTools(
        {
          accessRequestId: "ar",
          requestedFor: { type: "IDENTITY", id: "i", name: "Ann" },
          requestedBy: { type: "IDENTITY", id: "r", name: "Rob" },
          requestedItems: [{ id: "x", name: "X", type: "ROLE", operation: "Add" }],
        },
        "preApproval",
      ),
    );
    expect(decision.explanation.ruleId).toBe("first");
  });

  it("a plan with a section the document lacks is not its plan", () => {
    const document = parseRulesFile(
      "approver: svc\npreApproval:\n  default: { decision: approve, comment: ok }\n",
      "one.yaml",
    );
    const plan = precompiledRules(document, rulesVersion(document));
    const extra = { ...plan, sections: { ...plan.sections, dynamicApprover: plan.sections.preApproval } };
    expect(usablePlans(extra, document, rulesVersion(document))).toMatch(
      /dynamicApprover: not the document's sections/,
    );
    expect(typeof usablePlans(plan, document, rulesVersion(document))).toBe("object");
  });

  it("a usable plan is used (nothing reported)", () => {
    expect(typeof usablePlans(examplePlan(), example, exampleVersion)).toBe("object");
    expect(compileReporting(example, examplePlan()).ignored).toBeUndefined();
  });
});

describe("rules.precompiled.json beside the rules file", () => {
  const dir = mkdtempSync(join(tmpdir(), "precompiled-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is named after it, and read when present", () => {
    expect(precompiledPathOf("/var/task/rules.json")).toBe("/var/task/rules.precompiled.json");
    expect(precompiledPathOf("/x/policy")).toBe("/x/policy.precompiled.json");
    const rulesPath = join(dir, "rules.json");
    expect(readPrecompiledBeside(rulesPath)).toBeUndefined();
    writeFileSync(precompiledPathOf(rulesPath), JSON.stringify(examplePlan()));
    expect(readPrecompiledBeside(rulesPath)).toEqual(examplePlan());
  });

  it("a malformed file reads as null, which compiling ignores", () => {
    const rulesPath = join(dir, "broken.json");
    writeFileSync(precompiledPathOf(rulesPath), '{"format": "precompiled/1", "rul');
    const precomputed = readPrecompiledBeside(rulesPath);
    expect(precomputed).toBeNull();
    const { rules, ignored } = compileReporting(example, precomputed);
    expect(ignored).toMatch(/object/);
    expect(rules.version).toBe(exampleVersion);
  });
});
