/**
 * Property tests over the rules evaluator: for any input the trigger schema accepts (extra fields,
 * odd strings, arrays where objects are usual), evaluation never throws and the output always passes
 * the trigger's strict output schema. Run over the shipped example policy and the bench's 100 rules.
 */
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { benchRulesDocument } from "../../bench/support/workload.ts";
import { decide, isValidOutput } from "../../lib/responder/decide.ts";
import { compileRules } from "../../lib/rules/compile.ts";
import { loadRulesFile } from "../../lib/rules/load-file.ts";
import { parseRulesDocument } from "../../lib/rules/parse.ts";
import type { CompiledRules } from "../../lib/rules/types.ts";
import { invocationFromAnyPayload } from "../../lib/triggers/index.ts";
import { accessRequestInput, DYNAMIC_APPROVER, PRE_APPROVAL, TENANT } from "./arbitraries.ts";

const ctx = { tenantBaseUrl: TENANT, responseDeadlineMs: () => 3_600_000, receivedAt: 1_000 };

/** Values that stress comparisons: unicode, long, numeric-looking, regex metacharacters, prototype keys. */
const oddString = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.constantFrom(
    "",
    " ",
    "0",
    "-1",
    "1e309",
    "NaN",
    "true",
    "null",
    "__proto__",
    "constructor",
    "(a+)+$",
    "Item-0",
  ),
  fc.string({ minLength: 900, maxLength: 1500 }),
);

/** Valid trigger inputs with odd values and unknown extra fields where the schema tolerates them. */
const oddInput = fc
  .tuple(
    accessRequestInput,
    oddString,
    oddString,
    fc.dictionary(
      fc.string({ maxLength: 10 }).filter((key) => !["_metadata", "detail", "detail-type"].includes(key)),
      fc.jsonValue({ maxDepth: 3 }),
      { maxKeys: 4 },
    ),
    fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }),
  )
  .map(([input, name, itemName, extra, form]) => {
    const items = (input.requestedItems as Array<Record<string, unknown>>).map((item, i) => ({
      ...item,
      ...(i === 0 ? { name: itemName } : {}),
      ...(form !== undefined && typeof form === "object" && form !== null && !Array.isArray(form)
        ? { form }
        : {}),
    }));
    const requestedFor = Array.isArray(input.requestedFor)
      ? input.requestedFor
      : { ...(input.requestedFor as Record<string, unknown>), name };
    return { ...extra, ...input, requestedFor, requestedItems: items };
  });

describe("rules evaluation (fuzz)", () => {
  const rulesSets: Array<[string, CompiledRules]> = [];

  beforeAll(async () => {
    const example = await loadRulesFile(fileURLToPath(new URL("../../rules/example.yaml", import.meta.url)));
    rulesSets.push(["rules/example.yaml", example.compiled]);
    rulesSets.push(["bench 100 rules", compileRules(parseRulesDocument(benchRulesDocument()))]);
  });

  it("never throws and always produces a valid output", () => {
    let decided = 0;
    fc.assert(
      fc.property(oddInput, fc.constantFrom(PRE_APPROVAL, DYNAMIC_APPROVER), (input, triggerId) => {
        const invocation = invocationFromAnyPayload(input, ctx, triggerId);
        for (const [name, rules] of rulesSets) {
          const decision = rules.decide(invocation);
          expect(
            isValidOutput(triggerId, decision.output),
            `${name}: ${JSON.stringify(decision.output)}`,
          ).toBe(true);
          expect(decision.explanation.kind).not.toBe("fallback");
          // decide() (the pipeline's wrapper) agrees: no fallback when the rules did not fail.
          const wrapped = decide(invocation, rules);
          expect(wrapped.fallback).toBe(false);
          expect(wrapped.decision.output).toEqual(decision.output);
          decided++;
        }
      }),
      { numRuns: 400 },
    );
    expect(decided).toBe(800);
  });

  it("is deterministic: the same input gets the same output", () => {
    fc.assert(
      fc.property(oddInput, fc.constantFrom(PRE_APPROVAL, DYNAMIC_APPROVER), (input, triggerId) => {
        for (const [, rules] of rulesSets) {
          const a = rules.decide(invocationFromAnyPayload(structuredClone(input), ctx, triggerId));
          const b = rules.decide(invocationFromAnyPayload(structuredClone(input), ctx, triggerId));
          expect(a.output).toEqual(b.output);
          expect(a.explanation.ruleId).toBe(b.explanation.ruleId);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("falls back to a valid output for every trigger and any reason", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(PRE_APPROVAL, DYNAMIC_APPROVER),
        fc.string({ maxLength: 2000 }),
        (triggerId, reason) => {
          for (const [, rules] of rulesSets) {
            const fallback = rules.fallback(triggerId, reason);
            expect(isValidOutput(triggerId, fallback.output)).toBe(true);
            expect(fallback.explanation.kind).toBe("fallback");
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
