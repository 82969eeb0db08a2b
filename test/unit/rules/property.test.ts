import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import type { ContextData } from "../../../lib/context/types.ts";
import { compileRulesText } from "../../../lib/rules/load-file.ts";
import { invocationForTools } from "../../../lib/rules/run-tests.ts";
import type { CompiledRules, Decision } from "../../../lib/rules/types.ts";
import { DynamicApproverOutputSchema, PreApprovalOutputSchema } from "../../../lib/triggers/schemas.ts";
import { contextArbitrary } from "../../fuzz/arbitraries.ts";
import { compileTextWithPrecompiled } from "./precompiled-helpers.ts";

const ROOT = join(import.meta.dirname, "../../..");
const EXAMPLE = readFileSync(join(ROOT, "rules/example.yaml"), "utf8");
const example = compileRulesText(EXAMPLE, "example.yaml").compiled;

// Every operator, quantifier, lookup and template at once, against inputs of any shape.
const EVERYTHING = `
approver: "svc-{{requestedBy.name}}"
lists: { ids: [a, b, 3] }
tables:
  owners:
    a: { id: ga, name: A, type: GOVERNANCE_GROUP }
    b: { id: ib, name: B, type: IDENTITY }
  kind: { a: contractor, b: 7 }
preApproval:
  rules:
    - id: r1
      when:
        any:
          - { field: requestedFor.name, matches: "^[A-Z][a-z]+ [A-Z]", ignoreCase: true }
          - { field: requestedFor.id, lookup: kind, equals: contractor }
          - { field: "requestedItems[0].comment", missing: true }
          - { field: extra.score, gte: 3 }
          - { time: { zone: Pacific/Chatham, weekdays: [Mon-Thu, Sat], between: ["22:00", "06:00"] } }
      then: { decision: deny, comment: "{{requestedFor.name}} / {{requestedItems[1].name}} / {{extra.score}}" }
    - id: r2
      priority: 5
      when:
        all:
          - countItems: { where: { field: type, in: [ROLE, ENTITLEMENT] }, gt: 2 }
          - not: { everyItem: { field: id, in: { list: ids } } }
          - anyItem: { field: name, contains: x, ignoreCase: true }
      then: { decision: approve, comment: "{{accessRequestId}}", actions: [{ type: complete-campaign, campaignId: "{{extra.campaign}}" }] }
  default: { decision: approve, comment: "{{requestedItems.name}}" }
dynamicApprover:
  rules:
    - id: d1
      when: { anyItem: { field: id, in: { table: owners } } }
      then: { approver: { lookup: owners, by: requestedItems.id, otherwise: none } }
    - id: d2
      when: { field: requestedFor.name, startsWith: A }
      then: { approver: { lookup: owners, by: "requestedItems[0].id", otherwise: { id: gg, name: G, type: GOVERNANCE_GROUP } } }
  default: { approver: none }
`;
const everything = compileRulesText(EVERYTHING, "everything.yaml").compiled;

const text = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom("a", "b", "3", "Ann Smith", "x", "", "  "),
  fc.string({ minLength: 1000, maxLength: 1500 }),
);
const id = fc.oneof(
  fc.constantFrom("a", "b", "2c9180887a1b2c3d017a1b2c3d4e0002", "2c91808b6ef1d43e016efba0ce470904"),
  fc.string({ minLength: 1, maxLength: 40 }),
);
const identity = fc.record({ type: fc.constant("IDENTITY"), id, name: text });
const requestedItem = fc.record(
  {
    id,
    name: text,
    description: fc.option(text),
    type: fc.constantFrom("ACCESS_PROFILE", "ROLE", "ENTITLEMENT"),
    operation: fc.constantFrom("Add", "Remove"),
    comment: fc.option(text),
  },
  { requiredKeys: ["id", "name", "type", "operation"] },
);
const accessRequestInput = fc.record(
  {
    accessRequestId: fc.string({ minLength: 1, maxLength: 40 }),
    requestedFor: fc.oneof(identity, fc.array(identity, { minLength: 1, maxLength: 10 })),
    requestedItems: fc.array(requestedItem, { minLength: 1, maxLength: 25 }),
    requestedBy: identity,
    extra: fc.anything({ maxDepth: 2 }),
  },
  { requiredKeys: ["accessRequestId", "requestedFor", "requestedItems", "requestedBy"] },
);

/** An input and live context of any shape for it (every source loaded). */
const withContext = accessRequestInput.chain((payload) =>
  contextArbitrary(payload as { requestedFor: unknown; requestedItems: unknown[] }).map(
    (context) => [payload, context] as const,
  ),
);

function check(
  rules: CompiledRules,
  trigger: "preApproval" | "dynamicApprover",
  payload: unknown,
  context: Record<string, unknown>,
): void {
  const result = rules.evaluate(invocationForTools(payload, trigger), context as ContextData);
  expect("contextRequired" in result).toBe(false);
  const decision = result as Decision;
  const schema = trigger === "preApproval" ? PreApprovalOutputSchema : DynamicApproverOutputSchema;
  expect(z.safeParse(schema, decision.output).success).toBe(true);
  expect(decision.explanation.rulesVersion).toBe(rules.version);
  expect(Array.isArray(decision.actions)).toBe(true);
}

describe("property: any valid input gets a valid output, without throwing", () => {
  // Both engine paths: the plan computed at compile, and precompiled at synth (rules.precompiled.json).
  for (const [name, rules] of [
    ["example policy", example],
    ["every-operator policy", everything],
    ["example policy, precompiled", compileTextWithPrecompiled(EXAMPLE, "example.yaml")],
    ["every-operator policy, precompiled", compileTextWithPrecompiled(EVERYTHING, "everything.yaml")],
  ] as const) {
    it(`${name}: pre-approval`, () => {
      fc.assert(
        fc.property(withContext, ([payload, context]) => check(rules, "preApproval", payload, context)),
        { numRuns: 400 },
      );
    });
    it(`${name}: dynamic approver`, () => {
      fc.assert(
        fc.property(withContext, ([payload, context]) => check(rules, "dynamicApprover", payload, context)),
        { numRuns: 400 },
      );
    });
  }

  it("fallbacks are valid whatever the reason", () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.constantFrom("idn:access-request-pre-approval", "idn:access-request-dynamic-approver"),
        (reason, trigger) => {
          for (const rules of [example, everything]) {
            const decision = rules.fallback(trigger, reason);
            const schema =
              trigger === "idn:access-request-pre-approval"
                ? PreApprovalOutputSchema
                : DynamicApproverOutputSchema;
            expect(z.safeParse(schema, decision.output).success).toBe(true);
            expect(decision.explanation.kind).toBe("fallback");
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
