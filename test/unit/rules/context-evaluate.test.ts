// biome-ignore-all lint/suspicious/noThenProperty: `then` is the rules format's key for a decision (never callable).
import { describe, expect, it } from "vitest";
import type { ContextData } from "../../../lib/context/types.ts";
import { ContextRequiredError, RulesDocumentError } from "../../../lib/rules/errors.ts";
import { defineRules } from "../../../lib/rules/typescript-api.ts";
import {
  decided,
  evaluate,
  fullContext,
  identity,
  invocation,
  itemContext,
  required,
} from "./context-helpers.ts";
import { compile, input, item } from "./helpers.ts";

const TWO_PASS = compile(`
approver: svc
preApproval:
  rules:
    - id: approve-removals
      priority: 100
      when: { everyItem: { field: operation, equals: Remove } }
      then: { decision: approve, comment: removal }
    - id: deny-terminated
      priority: 90
      when: { field: identity.identityStatus, equals: TERMINATED }
      then: { decision: deny, comment: "{{requestedFor.name}} is {{identity.identityStatus}}" }
    - id: payload-after
      priority: 80
      when: { field: requestedFor.name, equals: Nobody }
      then: { decision: deny, comment: nobody }
    - id: deny-privileged
      priority: 70
      when: { anyItem: { field: privileged, equals: true } }
      then: { decision: deny, comment: privileged }
  default: { decision: approve, comment: "ok for {{manager.name}}" }
`);

describe("two-pass evaluation", () => {
  it("decides a payload-only rule before the first context rule without any context", () => {
    const d = decided(TWO_PASS, input({ requestedItems: [item({ operation: "Remove" })] }));
    expect(d.explanation.ruleId).toBe("approve-removals");
    expect(d.explanation.context).toBeUndefined();
    // decide() (older callers) works the same when no rule needing context is reached.
    expect(
      TWO_PASS.decide(invocation(input({ requestedItems: [item({ operation: "Remove" })] }))).output,
    ).toMatchObject({ approved: true });
  });

  it("asks for the sources of the reached rule, every later rule and the default", () => {
    expect(required(TWO_PASS, input())).toEqual(["grants", "identity", "manager"]);
    expect(TWO_PASS.contextNeeds("idn:access-request-pre-approval")).toEqual(
      new Set(["identity", "grants", "manager"]),
    );
  });

  it("asks again for what the given context lacks, from the first rule it lacks it for", () => {
    // identity given: the identity rule is tested, the privileged rule asks for the rest.
    expect(required(TWO_PASS, input(), { identity: [identity("id-william")] })).toEqual([
      "grants",
      "manager",
    ]);
    const ctx = fullContext(["id-william"], ["item-1"]);
    const { manager: _m, ...withoutManager } = ctx;
    // Rules up to the default decide with identity and grants; the default needs manager.
    expect(required(TWO_PASS, input(), withoutManager)).toEqual(["manager"]);
    const terminated = {
      ...withoutManager,
      identity: [identity("id-william", { identityStatus: "TERMINATED" })],
    };
    expect(decided(TWO_PASS, input(), terminated).explanation.ruleId).toBe("deny-terminated");
  });

  it("decides over payload and context once everything is loaded", () => {
    const ctx = fullContext(["id-william"], ["item-1"]);
    const d = decided(TWO_PASS, input(), ctx);
    expect(d.explanation.ruleId).toBe("default");
    expect(d.output).toEqual({ approved: true, comment: "ok for Person mgr-of-id-william", approver: "svc" });
    const privileged = { ...ctx, items: [itemContext("item-1", { privileged: true })] };
    expect(decided(TWO_PASS, input(), privileged).explanation.ruleId).toBe("deny-privileged");
  });

  it("decide() throws ContextRequiredError (a ResponderError) where evaluate() asks for context", () => {
    let caught: unknown;
    try {
      TWO_PASS.decide(invocation(input()));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ContextRequiredError);
    expect((caught as ContextRequiredError).code).toBe("CONTEXT_REQUIRED");
    expect([...(caught as ContextRequiredError).needs].sort()).toEqual(["grants", "identity", "manager"]);
    expect((caught as Error).message).toMatch(/identity/);
  });

  it("derives what is loaded from the keys of ContextData, per item for item sources", () => {
    const rules = compile(`
approver: svc
preApproval:
  rules:
    - id: r
      when:
        all:
          - anyItem: { field: details.requestable, equals: false }
          - anyItem: { field: source.owner.id, exists: true }
          - { field: sod.violations.owner.id, exists: true }
      then: { decision: deny, comment: x }
  default: { decision: approve, comment: ok }
`);
    const two = input({ requestedItems: [item(), item({ id: "item-2" })] });
    const items = [itemContext("item-1"), itemContext("item-2")];
    const sod = { violations: [], violated: false };
    expect(required(rules, two, { items, sod })).toBe("decided");
    // One item without details: items is not loaded; an item list for other items neither.
    expect(
      required(rules, two, { items: [items[0] as never, { ...items[1], details: undefined }], sod }),
    ).toEqual(["items", "sod", "sodPolicies", "sources"]);
    expect(required(rules, two, { items: [items[0] as never], sod })).toContain("items");
    // A source of null (an item with none) is loaded; undefined is not.
    expect(required(rules, two, { items: items.map((i) => ({ ...i, source: null })), sod })).toBe("decided");
    expect(required(rules, two, { items: items.map((i) => ({ ...i, source: undefined })), sod })).toContain(
      "sources",
    );
    // sodPolicies: every violation has its owner read (vacuously true with none).
    const violation = { identityId: "id-william", policy: { id: "p1", name: "P1" } };
    expect(required(rules, two, { items, sod: { violations: [violation], violated: true } })).toEqual([
      "items",
      "sod",
      "sodPolicies",
      "sources",
    ]);
    expect(
      required(rules, two, { items, sod: { violations: [{ ...violation, owner: null }], violated: true } }),
    ).toBe("decided");
  });
});

describe("the request view", () => {
  const rules = compile(`
approver: svc
preApproval:
  rules:
    - id: context-identity
      when: { field: identity.identityStatus, equals: TERMINATED }
      then: { decision: deny, comment: terminated }
    - id: context-privileged
      when: { anyItem: { field: privileged, exists: true } }
      then: { decision: deny, comment: "privileged is {{requestedItems.privileged}}" }
  default: { decision: approve, comment: ok }
`);

  it("never reads context keys from the payload (top-level identity, an item's privileged)", () => {
    const hostile = input({
      identity: [{ id: "id-william", identityStatus: "TERMINATED" }],
      requestedItems: [item({ privileged: false, details: { owner: { id: "x" } }, source: { id: "s" } })],
    });
    // Without context these rules are not even tested: the payload's keys do not count as loaded.
    expect(required(rules, hostile)).toEqual(["grants", "identity"]);
    // With context the view's keys come from ContextData: an item without grants has no privileged.
    const ctx: ContextData = { identity: [identity("id-william")], items: [{ entitlements: [] }] };
    const d = decided(rules, hostile, ctx);
    expect(d.explanation.ruleId).toBe("default");
  });

  it("keeps requestedFor as one object or a list readable as before", () => {
    const list = input({
      requestedFor: [
        { type: "IDENTITY", id: "a", name: "Ann" },
        { type: "IDENTITY", id: "b", name: "Bob" },
      ],
    });
    const named = compile(`
approver: svc
preApproval:
  rules:
    - id: bob
      when:
        all:
          - { field: requestedFor.name, equals: Bob }
          - { field: identity.identityStatus, equals: TERMINATED }
      then: { decision: deny, comment: "{{requestedFor[1].name}} / {{identity[1].identityStatus}}" }
  default: { decision: approve, comment: ok }
`);
    const ctx = { identity: [identity("a"), identity("b", { identityStatus: "TERMINATED" })] };
    expect(decided(named, list, ctx).output).toMatchObject({ approved: false, comment: "Bob / TERMINATED" });
    expect(
      decided(named, input({ requestedFor: { type: "IDENTITY", id: "b", name: "Bob" } }), {
        identity: [identity("b", { identityStatus: "TERMINATED" })],
      }).explanation.ruleId,
    ).toBe("bob");
  });

  it("custom predicates and decisions receive the view (context included, payload keys never)", () => {
    const seen: unknown[] = [];
    const ts = defineRules({
      approver: "svc",
      preApproval: {
        rules: [
          {
            id: "payload-only",
            when: (view) => {
              seen.push(view.identity, view.requestedItems[0]?.privileged);
              return false;
            },
            then: { decision: "deny", comment: "x" },
          },
          {
            id: "ts-context",
            needs: ["identity", "grants"],
            when: (view) => view.identity?.[0]?.identityStatus === "TERMINATED",
            then: {
              custom: (view) => ({
                approved: false,
                comment: `${view.identity?.[0]?.name} privileged=${view.requestedItems[0]?.privileged}`,
                approver: "ts",
              }),
            },
          },
        ],
        default: { decision: "approve", comment: "ok" },
      },
    });
    const hostile = input({ identity: ["from the payload"], requestedItems: [item({ privileged: true })] });
    // Reading context that was not read yet asks for it (it never reads as undefined, nor as the
    // payload's): all of it, since code cannot be analysed (`needs:` on the rule avoids that).
    expect(required(ts, hostile)).toEqual([
      "accessRequests",
      "grants",
      "identity",
      "items",
      "manager",
      "requester",
      "sod",
      "sodPolicies",
      "sources",
    ]);
    expect(seen).toEqual([]);
    const ctx: ContextData = {
      identity: [identity("id-william", { identityStatus: "TERMINATED" })],
      items: [{ entitlements: [], privileged: false }],
    };
    // What this code reads (identity, privileged) is there: it decides.
    expect(decided(ts, hostile, ctx).output).toEqual({
      approved: false,
      comment: "Person id-william privileged=false",
      approver: "ts",
    });
    expect(seen).toEqual([ctx.identity, false]);
  });
});

describe("`$.` root references", () => {
  it("reads the request from inside an item quantifier", () => {
    const rules = compile(`
approver: svc
preApproval:
  rules:
    - id: owner-is-requester
      when:
        anyItem:
          all:
            - { field: operation, equals: Add }
            - { field: details.owner.id, equals: { field: $.requestedBy.id } }
      then: { decision: deny, comment: "owner {{requestedBy.name}} asks for their own item" }
    - id: for-william
      when:
        anyItem: { field: $.requestedFor.name, equals: William Wilson }
      then: { decision: deny, comment: "{{$.requestedFor.name}}" }
  default: { decision: approve, comment: ok }
`);
    const own = {
      items: [
        itemContext("item-1", {
          details: { id: "item-1", owner: { type: "IDENTITY", id: "id-rob", name: "Rob" } },
        }),
      ],
    };
    expect(decided(rules, input(), own).explanation.ruleId).toBe("owner-is-requester");
    const other = { items: [itemContext("item-1")] };
    const d = decided(rules, input(), other);
    expect(d.explanation.ruleId).toBe("for-william");
    expect(d.output).toMatchObject({ comment: "William Wilson" });
    // Payload-only `$.` works without context too.
    expect(
      decided(rules, input({ requestedFor: { type: "IDENTITY", id: "x", name: "Zed" } }), other).explanation
        .ruleId,
    ).toBe("default");
  });

  it("is the root in a payload-only rule set (no view), and inside nested quantifiers", () => {
    const rules = compile(`
approver: svc
preApproval:
  rules:
    - id: nested
      when:
        countItems:
          where:
            all:
              - { field: type, equals: ROLE }
              - { field: $.accessRequestId, equals: ar-1 }
          gte: 2
      then: { decision: deny, comment: two roles on ar-1 }
  default: { decision: approve, comment: ok }
`);
    expect(rules.contextNeeds("idn:access-request-pre-approval").size).toBe(0);
    const roles = input({ requestedItems: [item({ type: "ROLE" }), item({ type: "ROLE", id: "r2" })] });
    expect(decided(rules, roles).explanation.ruleId).toBe("nested");
    expect(decided(rules, { ...roles, accessRequestId: "ar-2" }).explanation.ruleId).toBe("default");
  });
});

describe("explanation context", () => {
  const rules = compile(`
approver: svc
preApproval:
  rules:
    - id: deny-inactive
      when:
        any:
          - { field: identity.identityStatus, equals: TERMINATED }
          - { field: identity.lifecycleState.stateName, equals: inactive, ignoreCase: true }
      then: { decision: deny, comment: "inactive: {{identity.attributes.department}}" }
    - id: deny-sod
      when: { field: sod.violated, equals: true }
      then: { decision: deny, comment: "{{sod.violations.policy.name}}" }
    - id: deny-privileged
      when: { anyItem: { field: privileged, equals: true } }
      then: { decision: deny, comment: privileged }
  default: { decision: approve, comment: ok }
`);

  it("records the referenced fields' values per context object (scalars, missing as null)", () => {
    const ctx = fullContext(["id-william"], ["item-1"], {
      identity: [identity("id-william", { lifecycleState: null, attributes: { department: "Finance" } })],
      sod: {
        violations: [{ identityId: "id-william", policy: { id: "pol-1", name: "AP-AR separation" } }],
        violated: true,
      },
    });
    const d = decided(rules, input(), ctx);
    expect(d.explanation.ruleId).toBe("deny-sod");
    expect(d.explanation.context).toEqual([
      {
        source: "identity",
        id: "id-william",
        fields: {
          identityStatus: "ACTIVE",
          "lifecycleState.stateName": null,
          "attributes.department": "Finance",
        },
      },
      { source: "sod", id: "prediction", fields: { violated: true } },
      { source: "sod", id: "pol-1", fields: { "policy.name": "AP-AR separation" } },
      { source: "grants", id: "item-1", fields: { privileged: false } },
    ]);
  });

  it("is bounded: at most 50 entries, text cut at 256 characters", () => {
    const many = compile(`
approver: svc
preApproval:
  rules:
    - id: r
      when: { field: identity.attributes.note, exists: true }
      then: { decision: deny, comment: "x" }
  default: { decision: approve, comment: ok }
`);
    const people = Array.from({ length: 10 }, (_, i) => ({ type: "IDENTITY", id: `p${i}`, name: `P${i}` }));
    const ctx = { identity: people.map((p) => identity(p.id, { attributes: { note: "n".repeat(1000) } })) };
    const d = decided(many, input({ requestedFor: people }), ctx);
    const uses = d.explanation.context ?? [];
    expect(uses).toHaveLength(10);
    expect(uses[0]?.fields["attributes.note"]).toBe("n".repeat(256));

    const wide = compile(
      `approver: svc\npreApproval:\n  rules:\n    - id: r\n      when:\n        any:\n${Array.from(
        { length: 60 },
        (_, i) => `          - { field: identity.attributes.a${i}, exists: true }\n`,
      ).join("")}      then: { decision: deny, comment: x }\n  default: { decision: approve, comment: ok }\n`,
    );
    const d2 = decided(wide, input(), { identity: [identity("id-william")] });
    const entries = (d2.explanation.context ?? []).reduce((n, use) => n + Object.keys(use.fields).length, 0);
    expect(entries).toBe(50);
  });

  it("is absent without context and for rule sets over the payload alone", () => {
    const payloadOnly = compile(`
approver: svc
preApproval:
  default: { decision: approve, comment: ok }
`);
    expect(
      decided(payloadOnly, input(), fullContext(["id-william"], ["item-1"])).explanation.context,
    ).toBeUndefined();
    expect(() =>
      compile("approver: svc\npreApproval:\n  default: { decision: maybe, comment: x }\n"),
    ).toThrow(RulesDocumentError);
    expect(evaluate(rules, input({ requestedItems: [item()] }))).toHaveProperty("contextRequired");
  });
});

describe("the evaluation scope", () => {
  it("is put back after a nested evaluation (a custom predicate evaluating the same rules)", () => {
    let nested = 0;
    const rules: ReturnType<typeof defineRules> = defineRules({
      approver: "svc",
      preApproval: {
        rules: [
          {
            id: "inner-call",
            when: (view) => {
              if (view.accessRequestId === "ar-1" && nested++ === 0) {
                rules.evaluate(invocation(input({ accessRequestId: "ar-2" })));
              }
              return false;
            },
            then: { decision: "deny", comment: "x" },
          },
          {
            id: "outer-root",
            when: { anyItem: { field: "$.accessRequestId", equals: "ar-1" } },
            then: { decision: "deny", comment: "root of the outer evaluation" },
          },
        ],
        default: { decision: "approve", comment: "ok" },
      },
    });
    expect(decided(rules, input()).explanation.ruleId).toBe("outer-root");
    expect(nested).toBe(1);
  });
});
