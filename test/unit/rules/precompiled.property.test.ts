import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { benchRulesDocument } from "../../../bench/support/workload.ts";
import type { ContextData } from "../../../lib/context/types.ts";
import { compileRules } from "../../../lib/rules/compile.ts";
import { parseRulesFile } from "../../../lib/rules/load-file.ts";
import { parseRulesDocument } from "../../../lib/rules/parse.ts";
import { invocationForTools } from "../../../lib/rules/run-tests.ts";
import type { RulesDocument } from "../../../lib/rules/schema.ts";
import type { CompiledRules, Decision } from "../../../lib/rules/types.ts";
import { accessRequestInput, contextArbitrary } from "../../fuzz/arbitraries.ts";
import { compileWithPrecompiled } from "./precompiled-helpers.ts";

const ROOT = join(import.meta.dirname, "../../..");
const fromFile = (path: string) => parseRulesFile(readFileSync(join(ROOT, path), "utf8"), path);

const documents: Array<[string, RulesDocument]> = [
  ["example policy", fromFile("rules/example.yaml")],
  ["context policy fixture", fromFile("test/unit/rules/fixtures/context-policy.yaml")],
  ["the bench's 100 rules", parseRulesDocument(benchRulesDocument(), "bench")],
];

/** A result without its timings (all that may differ between two evaluations of one invocation). */
function comparable(result: unknown): unknown {
  const decision = result as Partial<Decision>;
  if (decision.explanation === undefined) return result;
  const { evaluationMicros: _micros, context, ...explanation } = decision.explanation;
  // How long each context read took (`ms`) is timing too.
  const uses = context?.map(({ ms: _ms, ...use }) => use);
  return { ...decision, explanation: uses === undefined ? explanation : { ...explanation, context: uses } };
}

/** Evaluates, or the error's message: both paths must also fail alike. */
function outcome(rules: CompiledRules, payload: unknown, trigger: string, context?: ContextData): unknown {
  try {
    return comparable(rules.evaluate(invocationForTools(payload, trigger, 1_772_442_000_000), context));
  } catch (error) {
    return { threw: (error as Error).message };
  }
}

const withContext = accessRequestInput.chain((payload) =>
  contextArbitrary(payload as { requestedFor: unknown; requestedItems: unknown[] }).map(
    (context) => [payload, context] as const,
  ),
);

describe("property: the precompiled path decides exactly as the computed one", () => {
  for (const [name, document] of documents) {
    const computed = compileRules(document);
    const precompiled = compileWithPrecompiled(document);
    for (const trigger of ["preApproval", "dynamicApprover"]) {
      it(`${name}, ${trigger}: same decision or same context asked for, with and without context`, () => {
        fc.assert(
          fc.property(withContext, ([payload, context]) => {
            expect(outcome(precompiled, payload, trigger)).toEqual(outcome(computed, payload, trigger));
            const data = context as ContextData;
            expect(outcome(precompiled, payload, trigger, data)).toEqual(
              outcome(computed, payload, trigger, data),
            );
          }),
          { numRuns: 300 },
        );
      });
    }
  }
});
