/**
 * Property tests over the rules evaluator: for any input the trigger schema accepts (extra fields,
 * odd strings, arrays where objects are usual), evaluation never throws and the output always passes
 * the trigger's strict output schema. Run over the shipped example policy and the bench's 100 rules.
 */
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { benchRulesDocument } from "../../bench/support/workload.ts";
import type { ContextData } from "../../lib/context/types.ts";
import { decide, isValidOutput } from "../../lib/responder/decide.ts";
import { compileRules } from "../../lib/rules/compile.ts";
import { loadRulesFile } from "../../lib/rules/load-file.ts";
import { parseRulesDocument } from "../../lib/rules/parse.ts";
import type { CompiledRules, Decision } from "../../lib/rules/types.ts";
import { invocationFromAnyPayload } from "../../lib/triggers/index.ts";
import {
  accessRequestInput,
  contextArbitrary,
  DYNAMIC_APPROVER,
  PRE_APPROVAL,
  TENANT,
} from "./arbitraries.ts";

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

  /** The decision over the payload and `context` (every source loaded): never "context required". */
  function evaluated(
    rules: CompiledRules,
    invocation: ReturnType<typeof invocationFromAnyPayload>,
    context: ContextData,
  ): Decision {
    const result = rules.evaluate(invocation, context);
    if ("contextRequired" in result)
      throw new Error(`still requires ${[...result.contextRequired].join(", ")}`);
    return result;
  }

  const inputWithContext = oddInput.chain((input) =>
    contextArbitrary(input as { requestedFor: unknown; requestedItems: unknown[] }).map(
      (context) => [input, context as ContextData] as const,
    ),
  );

  it("never throws and always produces a valid output, whatever the context says", () => {
    let decided = 0;
    fc.assert(
      fc.property(
        inputWithContext,
        fc.constantFrom(PRE_APPROVAL, DYNAMIC_APPROVER),
        ([input, context], triggerId) => {
          const invocation = invocationFromAnyPayload(input, ctx, triggerId);
          for (const [name, rules] of rulesSets) {
            const decision = evaluated(rules, invocation, context);
            expect(
              isValidOutput(triggerId, decision.output),
              `${name}: ${JSON.stringify(decision.output)}`,
            ).toBe(true);
            expect(decision.explanation.kind).not.toBe("fallback");
            // Payload-only rule sets: decide() (the pipeline's wrapper) agrees, with no fallback.
            if (rules.contextNeeds(triggerId).size === 0) {
              const wrapped = decide(invocation, rules);
              expect(wrapped.fallback).toBe(false);
              expect(wrapped.decision.output).toEqual(decision.output);
            }
            decided++;
          }
        },
      ),
      { numRuns: 400 },
    );
    expect(decided).toBe(800);
  });

  it("is deterministic: the same input and context get the same output", () => {
    fc.assert(
      fc.property(
        inputWithContext,
        fc.constantFrom(PRE_APPROVAL, DYNAMIC_APPROVER),
        ([input, context], triggerId) => {
          for (const [, rules] of rulesSets) {
            const a = evaluated(
              rules,
              invocationFromAnyPayload(structuredClone(input), ctx, triggerId),
              structuredClone(context),
            );
            const b = evaluated(
              rules,
              invocationFromAnyPayload(structuredClone(input), ctx, triggerId),
              structuredClone(context),
            );
            expect(a.output).toEqual(b.output);
            expect(a.explanation.ruleId).toBe(b.explanation.ruleId);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("the example policy never approves a person whose identity is TERMINATED", () => {
    const example = rulesSets[0]?.[1] as CompiledRules;
    fc.assert(
      fc.property(inputWithContext, ([input, context]) => {
        const invocation = invocationFromAnyPayload(input, ctx, PRE_APPROVAL);
        const items = (invocation.input.requestedItems as Array<{ operation: string }>) ?? [];
        const identities = (context.identity ?? []).map((person, i) =>
          i === 0 ? { ...person, identityStatus: "TERMINATED" } : person,
        );
        const decision = evaluated(example, invocation, { ...context, identity: identities });
        const approved = (decision.output as { approved?: boolean }).approved;
        // Only a removal-only request may pass (rule approve-removals, before any context).
        if (items.some((item) => item.operation !== "Remove")) expect(approved).toBe(false);
      }),
      { numRuns: 200 },
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
