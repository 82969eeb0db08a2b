// biome-ignore-all lint/suspicious/noThenProperty: `then` is the rules format's key for a decision (never callable).
import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import {
  compileRules,
  DEFAULT_PRE_APPROVAL_FALLBACK_COMMENT,
  rulesVersion,
} from "../../../lib/rules/compile.ts";
import { RulesDocumentError, RulesEvaluationError } from "../../../lib/rules/errors.ts";
import { parseRulesDocument } from "../../../lib/rules/parse.ts";
import type { RulesDocument } from "../../../lib/rules/schema.ts";
import { defineRules } from "../../../lib/rules/typescript-api.ts";
import { DynamicApproverOutputSchema, PreApprovalOutputSchema } from "../../../lib/triggers/schemas.ts";
import { compile, decide, input, item } from "./helpers.ts";

const OWNERS = `
tables:
  owners:
    item-1: { id: gg-eng, name: Engineering Owners, type: GOVERNANCE_GROUP }
    item-2: { id: id-fiona, name: Fiona, type: IDENTITY }
`;

describe("pre-approval decisions", () => {
  const rules = compile(`
approver: svc-default
preApproval:
  rules:
    - id: low
      when: { field: accessRequestId, exists: true }
      then: { decision: approve, comment: low }
    - id: high
      priority: 10
      when: { field: requestedFor.name, startsWith: W }
      then:
        decision: deny
        comment: "Denied {{requestedFor.name}} for {{requestedItems[0].name}} ({{accessRequestId}}){{nosuch}}."
        approver: "bot-{{requestedBy.name}}"
    - id: high-too
      priority: 10
      when: { field: accessRequestId, exists: true }
      then: { decision: deny, comment: second }
    - id: off
      enabled: false
      priority: 99
      when: { field: accessRequestId, exists: true }
      then: { decision: deny, comment: disabled }
  default: { decision: approve, comment: default }
`);

  it("takes the first match by priority, ties in file order, skipping disabled rules", () => {
    const d = decide(rules, input());
    expect(d.explanation.ruleId).toBe("high");
    expect(d.explanation.rulesEvaluated).toBe(1);
    const other = decide(rules, input({ requestedFor: { type: "IDENTITY", id: "x", name: "Zed" } }));
    expect(other.explanation.ruleId).toBe("high-too");
    expect(other.explanation.rulesEvaluated).toBe(2);
  });

  it("interpolates input fields into comment and approver (missing → empty)", () => {
    expect(decide(rules, input()).output).toEqual({
      approved: false,
      comment: "Denied William Wilson for Engineering Access (ar-1).",
      approver: "bot-Rob Robertson",
    });
  });

  it("uses the file's approver by default and records the explanation", () => {
    const d = decide(rules, input({ requestedFor: { type: "IDENTITY", id: "x", name: "Zed" } }));
    expect(d.output).toEqual({ approved: false, comment: "second", approver: "svc-default" });
    expect(d.explanation.kind).toBe("rule");
    expect(d.explanation.rulesVersion).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(d.explanation.evaluationMicros).toBeGreaterThanOrEqual(0);
    expect(d.actions).toEqual([]);
  });

  it("falls to the default when nothing matches", () => {
    const only = compile(`
approver: svc
preApproval:
  rules:
    - id: never
      when: { field: nosuch, exists: true }
      then: { decision: deny, comment: x }
  default: { decision: approve, comment: "OK {{requestedFor.name}}" }
`);
    const d = decide(only, input());
    expect(d.explanation).toMatchObject({
      ruleId: "default",
      kind: "default",
      matched: [],
      rulesEvaluated: 1,
    });
    expect(d.output).toEqual({ approved: true, comment: "OK William Wilson", approver: "svc" });
  });

  it("caps interpolated values", () => {
    const only = compile(`
approver: svc
preApproval:
  default: { decision: approve, comment: "{{requestedFor.name}}" }
`);
    const long = "x".repeat(5000);
    const d = decide(only, input({ requestedFor: { type: "IDENTITY", id: "i", name: long } }));
    expect((d.output as { comment: string }).comment).toHaveLength(256);
  });
});

describe("fallback", () => {
  it("is a deny with a clear comment by default, never throws, always valid", () => {
    const rules = compile(`
approver: svc
preApproval:
  default: { decision: approve, comment: ok }
dynamicApprover:
  default: { approver: none }
`);
    const pre = rules.fallback("idn:access-request-pre-approval", "rules evaluation failed: TypeError");
    expect(pre.output).toEqual({
      approved: false,
      comment: DEFAULT_PRE_APPROVAL_FALLBACK_COMMENT,
      approver: "svc",
    });
    expect(pre.explanation).toMatchObject({
      ruleId: "fallback",
      kind: "fallback",
      fallbackReason: "rules evaluation failed: TypeError",
    });
    expect(z.safeParse(PreApprovalOutputSchema, pre.output).success).toBe(true);
    const dyn = rules.fallback("idn:access-request-dynamic-approver", "x");
    expect(dyn.output).toEqual({ id: "", name: "", type: "" });
    expect(rules.fallback("idn:access-request-post-approval", "x").output).toBeNull();
    expect(() => rules.fallback("nonsense" as never, undefined as never)).not.toThrow();
  });

  it("is configurable per trigger", () => {
    const rules = compile(`
approver: svc
preApproval:
  default: { decision: approve, comment: ok }
  fallback: { decision: deny, comment: Try again later, approver: fallback-bot }
dynamicApprover:
  default: { approver: none }
  fallback: { approver: { id: gg-gov, name: Governance, type: GOVERNANCE_GROUP } }
`);
    expect(rules.fallback("idn:access-request-pre-approval", "r").output).toEqual({
      approved: false,
      comment: "Try again later",
      approver: "fallback-bot",
    });
    const dyn = rules.fallback("idn:access-request-dynamic-approver", "r");
    expect(dyn.output).toEqual({ id: "gg-gov", name: "Governance", type: "GOVERNANCE_GROUP" });
    // Outputs are fresh objects: mutating one does not change the next.
    (dyn.output as { id: string }).id = "tampered";
    expect((rules.fallback("idn:access-request-dynamic-approver", "r").output as { id: string }).id).toBe(
      "gg-gov",
    );
  });

  it("answers a trigger without a section with the fallback", () => {
    const rules = compile("approver: svc\ndynamicApprover:\n  default: { approver: none }\n");
    const d = decide(rules, input(), "preApproval");
    expect(d.explanation.kind).toBe("fallback");
    expect(d.output).toMatchObject({ approved: false });
  });
});

describe("dynamic approver decisions", () => {
  const rules = compile(`
${OWNERS}
dynamicApprover:
  rules:
    - id: fixed
      priority: 10
      when: { field: requestedFor.name, equals: Fixed }
      then: { approver: { id: id-x, name: X, type: IDENTITY } }
    - id: first-item
      priority: 5
      when: { field: accessRequestId, equals: first }
      then:
        approver: { lookup: owners, by: "requestedItems[0].id", otherwise: none }
    - id: any-item
      when: { field: accessRequestId, exists: true }
      then:
        approver:
          lookup: owners
          by: requestedItems.id
          otherwise: { id: gg-gov, name: Governance, type: GOVERNANCE_GROUP }
  default: { approver: none }
`);

  it("returns a fixed approver", () => {
    const d = decide(
      rules,
      input({ requestedFor: { type: "IDENTITY", id: "i", name: "Fixed" } }),
      "dynamicApprover",
    );
    expect(d.output).toEqual({ id: "id-x", name: "X", type: "IDENTITY" });
  });

  it("looks up the first item, or the first item that has an entry", () => {
    const items = [item({ id: "unknown" }), item({ id: "item-2" })];
    const first = decide(
      rules,
      input({ accessRequestId: "first", requestedItems: items }),
      "dynamicApprover",
    );
    expect(first.explanation.ruleId).toBe("first-item");
    expect(first.output).toEqual({ id: "", name: "", type: "" });
    expect(first.explanation.matched.at(-1)).toMatch(/no entry in table owners/);
    const any = decide(rules, input({ requestedItems: items }), "dynamicApprover");
    expect(any.output).toEqual({ id: "id-fiona", name: "Fiona", type: "IDENTITY" });
    expect(any.explanation.matched).toEqual(["accessRequestId exists"]);
  });

  it("refuses a table with an entry that is not an approver, at every rule that looks it up", () => {
    // parseRulesDocument refuses this first; compileRules checks again for documents it did not parse
    // (the http function compiles the bundled rules.json, validated at synth, without parsing it).
    const document = {
      tables: { mixed: { "item-1": { id: "id-a", name: "A", type: "IDENTITY" }, "item-2": "just text" } },
      dynamicApprover: {
        rules: [1, 2].map((n) => ({
          id: `r${n}`,
          when: { field: "accessRequestId", exists: true },
          then: { approver: { lookup: "mixed", by: "requestedItems.id", otherwise: "none" } },
        })),
        default: { approver: "none" },
      },
    } as unknown as RulesDocument;
    const error = (() => {
      try {
        compileRules(document);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(RulesDocumentError);
    const problems = (error as RulesDocumentError).issues.map((p) => `${p.path}: ${p.message}`);
    expect(problems).toEqual([
      "dynamicApprover.rules[0].then: table mixed has an entry that is not an approver",
      "dynamicApprover.rules[1].then: table mixed has an entry that is not an approver",
    ]);
  });

  it("falls through to `otherwise` when the table has no entry", () => {
    const d = decide(rules, input({ requestedItems: [item({ id: "nobody" })] }), "dynamicApprover");
    expect(d.output).toEqual({ id: "gg-gov", name: "Governance", type: "GOVERNANCE_GROUP" });
    expect(z.safeParse(DynamicApproverOutputSchema, d.output).success).toBe(true);
  });
});

describe("actions and post-approval", () => {
  const rules = compile(`
approver: svc
preApproval:
  rules:
    - id: with-actions
      when: { field: accessRequestId, exists: true }
      then:
        decision: approve
        comment: ok
        actions:
          - { type: update-task-status, taskId: "{{taskId}}", completionStatus: SUCCESS, completed: "2026-01-01T00:00:00Z" }
          - { type: complete-campaign, campaignId: "camp-{{accessRequestId}}", autoCompleteAction: REVOKE }
          - { type: request-role-insights }
  default: { decision: approve, comment: ok }
postApproval:
  rules:
    - id: insights
      when: { anyItem: { field: type, equals: ROLE } }
      then: { actions: [{ type: request-role-insights }] }
`);

  it("returns interpolated actions, leaving out those whose id is empty", () => {
    expect(decide(rules, input({ taskId: "task-9" })).actions).toEqual([
      {
        type: "update-task-status",
        taskId: "task-9",
        completionStatus: "SUCCESS",
        completed: "2026-01-01T00:00:00Z",
      },
      { type: "complete-campaign", campaignId: "camp-ar-1", autoCompleteAction: "REVOKE" },
      { type: "request-role-insights" },
    ]);
    expect(decide(rules, input()).actions.map((a) => a.type)).toEqual([
      "complete-campaign",
      "request-role-insights",
    ]);
  });

  it("matches FIRE_AND_FORGET post-approval on requestedItemsStatus, output null", () => {
    const payload = {
      accessRequestId: "ar",
      requestedItemsStatus: [{ id: "r", name: "R", type: "ROLE", operation: "Add" }],
    };
    const d = decide(rules, payload, "postApproval");
    expect(d).toMatchObject({
      output: null,
      explanation: { ruleId: "insights" },
      actions: [{ type: "request-role-insights" }],
    });
    const none = decide(rules, { accessRequestId: "ar" }, "postApproval");
    expect(none).toMatchObject({ output: null, actions: [], explanation: { kind: "default" } });
  });

  it("answers post-approval with nothing when the file has no section for it", () => {
    const only = compile("approver: svc\npreApproval:\n  default: { decision: approve, comment: ok }\n");
    expect(decide(only, { a: 1 }, "postApproval")).toMatchObject({
      output: null,
      actions: [],
      explanation: { kind: "default" },
    });
  });
});

describe("version", () => {
  it("is the sha256 of the canonical document, independent of key order and tests", () => {
    const a = parseRulesDocument({
      approver: "s",
      preApproval: { default: { decision: "approve", comment: "c" } },
    });
    const b = parseRulesDocument({
      preApproval: { default: { comment: "c", decision: "approve" } },
      approver: "s",
      tests: [{ name: "t", trigger: "preApproval", input: {}, expect: { rule: "default" } }],
    });
    expect(rulesVersion(a)).toBe(rulesVersion(b));
    expect(compileRules(a).version).toBe(rulesVersion(a));
    const c = parseRulesDocument({
      approver: "s",
      preApproval: { default: { decision: "deny", comment: "c" } },
    });
    expect(rulesVersion(c)).not.toBe(rulesVersion(a));
  });

  it("is taken as given when computed already (the stack's RULES_VERSION for the bundled rules.json)", () => {
    const a = parseRulesDocument({
      approver: "s",
      preApproval: { default: { decision: "approve", comment: "c" } },
    });
    const given = `sha256:${"0".repeat(64)}`;
    const rules = compileRules(a, { version: given });
    expect(rules.version).toBe(given);
    expect(decide(rules, input()).explanation.rulesVersion).toBe(given);
  });
});

describe("TypeScript API", () => {
  it("compiles predicates and custom decisions like file rules", () => {
    const rules = defineRules({
      approver: "svc",
      preApproval: {
        rules: [
          {
            id: "ts-pred",
            when: (i) => i.accessRequestId === "magic",
            then: { decision: "deny", comment: "magic" },
          },
          {
            id: "mixed",
            when: {
              all: [{ field: "requestedFor.name", startsWith: "W" }, (i) => i.requestedItems.length === 2],
            },
            then: {
              custom: (i) => ({ approved: true, comment: `two for ${i.accessRequestId}`, approver: "ts" }),
            },
          },
          {
            id: "item-pred",
            when: { anyItem: (it) => it.name.endsWith("!") },
            then: { decision: "deny", comment: "bang" },
          },
        ],
        default: { decision: "approve", comment: "ok" },
      },
    });
    const inv = (p: unknown) => decide(rules, p);
    expect(inv(input({ accessRequestId: "magic" })).explanation.ruleId).toBe("ts-pred");
    expect(inv(input({ requestedItems: [item(), item()] })).output).toEqual({
      approved: true,
      comment: "two for ar-1",
      approver: "ts",
    });
    expect(inv(input({ requestedItems: [item({ name: "Wow!" })] })).explanation.ruleId).toBe("item-pred");
    expect(inv(input()).explanation.ruleId).toBe("default");
    expect(rules.document.preApproval?.rules?.[0]?.when).toEqual({ custom: "predicate-1" });
  });

  it("throws RulesEvaluationError when a custom predicate throws or a custom decision returns junk", () => {
    const rules = defineRules({
      approver: "svc",
      preApproval: {
        rules: [
          {
            id: "boom",
            when: (i) => {
              if (i.accessRequestId === "boom") throw new Error("kaput");
              return i.accessRequestId === "junk";
            },
            then: { custom: () => ({ approved: "yes" }) as never },
          },
        ],
        default: { decision: "approve", comment: "ok" },
      },
    });
    expect(() => decide(rules, input({ accessRequestId: "boom" }))).toThrow(RulesEvaluationError);
    expect(() => decide(rules, input({ accessRequestId: "junk" }))).toThrow(/returned an invalid output/);
  });

  it("refuses an invalid definition with paths, and unregistered custom names", () => {
    expect(() => defineRules({ preApproval: { default: { decision: "approve", comment: "x" } } })).toThrow(
      /preApproval\.default\.approver: no approver/,
    );
    const doc = parseRulesDocument({
      approver: "s",
      preApproval: {
        rules: [{ id: "c", when: { custom: "isWeekend" }, then: { decision: "deny", comment: "x" } }],
        default: { decision: "approve", comment: "x" },
      },
    });
    expect(() => compileRules(doc)).toThrow(RulesDocumentError);
    expect(() => compileRules(doc)).toThrow(
      /preApproval\.rules\[0\].*custom predicate "isWeekend" is not registered/,
    );
    expect(compileRules(doc, { predicates: { isWeekend: () => true } }).decide).toBeTypeOf("function");
  });
});
