/**
 * The example policy of issue 16 (section 5), written in the rules format over live context
 * (fixtures/context-policy.yaml), each branch asserted with ContextData written by hand.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ContextData } from "../../../lib/context/types.ts";
import { compileRulesText } from "../../../lib/rules/load-file.ts";
import {
  decided,
  entitlement,
  fullContext,
  identity,
  itemContext,
  ref,
  required,
  source,
} from "./context-helpers.ts";
import { input, item } from "./helpers.ts";

const FIXTURE = join(import.meta.dirname, "fixtures", "context-policy.yaml");
const rules = compileRulesText(readFileSync(FIXTURE, "utf8"), FIXTURE).compiled;

const GOVERNANCE = { id: "gg-access-governance", name: "Access Governance", type: "GOVERNANCE_GROUP" };
const JUSTIFIED = "On call for the billing database this quarter (CHG-1234).";

/** A request for William (requested by Rob) for `items`, and its context with `overrides`. */
function request(items: Array<Record<string, unknown>>) {
  return input({ requestedItems: items });
}

function context(items: readonly string[], overrides: Partial<ContextData> = {}): ContextData {
  return fullContext(["id-william"], items, overrides);
}

/** An item's context that grants a privileged entitlement (an access profile, say). */
function privilegedItem(id: string, owner: ReturnType<typeof ref> | null = ref(`owner-of-${id}`)) {
  return itemContext(id, {
    details: { id, name: `Profile ${id}`, owner },
    entitlements: [entitlement(`${id}-admin`, { privileged: true })],
    privileged: true,
    source: source(`src-${id}`),
  });
}

describe("the example policy: pre-approval", () => {
  it("approves a request that only removes access, without reading any context", () => {
    const d = decided(
      rules,
      request([item({ operation: "Remove" }), item({ id: "item-2", operation: "Remove" })]),
    );
    expect(d.explanation.ruleId).toBe("approve-removals");
    expect(d.output).toEqual({
      approved: true,
      comment: "Removal of Engineering Access approved automatically.",
      approver: "svc-isc-responder",
    });
  });

  it("asks for identity, SoD and grants once a request adds access", () => {
    expect(required(rules, request([item()]))).toEqual(["grants", "identity", "sod"]);
    expect([...rules.contextNeeds("idn:access-request-pre-approval")].sort()).toEqual([
      "grants",
      "identity",
      "sod",
    ]);
  });

  it.each([
    ["identityStatus TERMINATED", { identityStatus: "TERMINATED" }],
    ["identityStatus DISABLED", { identityStatus: "DISABLED" }],
    ["identityStatus DEACTIVATED", { identityStatus: "DEACTIVATED" }],
    ["lifecycle state inactive", { lifecycleState: { stateName: "inactive" } }],
    ["lifecycle state Terminated (any case)", { lifecycleState: { stateName: "Terminated" } }],
    ["lifecycle state INACTIVE (any case)", { lifecycleState: { stateName: "INACTIVE" } }],
  ])("denies when a person the access is for is not active: %s", (_what, person) => {
    const ctx = context(["item-1"], { identity: [identity("id-william", person)] });
    const d = decided(rules, request([item()]), ctx);
    expect(d.explanation.ruleId).toBe("deny-inactive-person");
    expect(d.output).toMatchObject({ approved: false });
    expect((d.output as { comment: string }).comment).toMatch(/^William Wilson is not active/);
  });

  it("denies when any of several people is not active", () => {
    const people = [
      { type: "IDENTITY", id: "a", name: "Ann" },
      { type: "IDENTITY", id: "b", name: "Bob" },
    ];
    const ctx = fullContext(["a", "b"], ["item-1"], {
      identity: [identity("a"), identity("b", { identityStatus: "TERMINATED" })],
    });
    expect(decided(rules, input({ requestedFor: people }), ctx).explanation.ruleId).toBe(
      "deny-inactive-person",
    );
  });

  it("denies an SoD violation, naming the policy in the comment", () => {
    const ctx = context(["item-1"], {
      sod: {
        violations: [{ identityId: "id-william", policy: { id: "pol-1", name: "AP and AR separation" } }],
        violated: true,
      },
    });
    const d = decided(rules, request([item()]), ctx);
    expect(d.explanation.ruleId).toBe("deny-sod-violation");
    expect((d.output as { comment: string }).comment).toContain('"AP and AR separation"');
    expect(d.explanation.context).toContainEqual({
      source: "sod",
      id: "pol-1",
      fields: { "policy.name": "AP and AR separation" },
    });
  });

  it.each([
    ["no comment", undefined],
    ["a short comment", "need it"],
    ["19 characters padded with spaces", `   ${"x".repeat(19)}   `],
    ["only spaces", " ".repeat(30)],
  ])("denies an added privileged item with %s", (_what, comment) => {
    const ctx = context(["item-1"], { items: [privilegedItem("item-1")] });
    const d = decided(rules, request([item(comment === undefined ? {} : { comment })]), ctx);
    expect(d.explanation.ruleId).toBe("deny-privileged-without-justification");
    expect(d.output).toMatchObject({ approved: false });
  });

  it("approves a privileged item justified in 20 characters or more, and otherwise approves", () => {
    const privileged = context(["item-1"], { items: [privilegedItem("item-1")] });
    expect(
      decided(rules, request([item({ comment: "  12345678901234567890  " })]), privileged).explanation.ruleId,
    ).toBe("default");
    expect(decided(rules, request([item({ comment: JUSTIFIED })]), privileged).output).toEqual({
      approved: true,
      comment: "Passed the automatic pre-approval checks; the usual approvals follow.",
      approver: "svc-isc-responder",
    });
    // A privileged item being removed needs no justification; the plain added one passes.
    const mixed = context(["item-1", "item-2"], { items: [privilegedItem("item-1"), itemContext("item-2")] });
    const removal = request([item({ operation: "Remove" }), item({ id: "item-2" })]);
    expect(decided(rules, removal, mixed).explanation.ruleId).toBe("default");
    expect(decided(rules, request([item()]), context(["item-1"])).explanation.ruleId).toBe("default");
  });

  it("falls back to a deny", () => {
    expect(rules.fallback("idn:access-request-pre-approval", "context read failed").output).toEqual({
      approved: false,
      comment: "This request could not be checked automatically, so it was denied for safety.",
      approver: "svc-isc-responder",
    });
  });
});

describe("the example policy: dynamic approver", () => {
  const dynamic = (payload: unknown, ctx?: ContextData) => decided(rules, payload, ctx, "dynamicApprover");

  it("adds no approver when every item is removed, without reading any context", () => {
    const d = dynamic(request([item({ operation: "Remove" })]));
    expect(d.explanation.ruleId).toBe("no-approver-for-removals");
    expect(d.output).toEqual({ id: "", name: "", type: "" });
  });

  it("asks for grants, items, manager and sources otherwise", () => {
    expect(required(rules, request([item()]), undefined, "dynamicApprover")).toEqual([
      "grants",
      "items",
      "manager",
      "sources",
    ]);
  });

  it("routes the first added privileged item to its owner", () => {
    const ctx = context(["item-1", "item-2", "item-3"], {
      items: [
        itemContext("item-1"),
        privilegedItem("item-2", ref("gg-db-owners", "GOVERNANCE_GROUP", "Database Owners")),
        privilegedItem("item-3"),
      ],
    });
    const payload = request([item(), item({ id: "item-2" }), item({ id: "item-3" })]);
    const d = dynamic(payload, ctx);
    expect(d.explanation.ruleId).toBe("privileged-item-owner");
    expect(d.output).toEqual({ id: "gg-db-owners", name: "Database Owners", type: "GOVERNANCE_GROUP" });
    // A removed privileged item does not count: the next added one does.
    const removedFirst = request([
      item(),
      item({ id: "item-2", operation: "Remove" }),
      item({ id: "item-3" }),
    ]);
    expect(dynamic(removedFirst, ctx).output).toMatchObject({ id: "owner-of-item-3" });
  });

  it("routes it to its source's owner when it has no owner (or its owner is the requester)", () => {
    const ownerless = context(["item-1"], { items: [privilegedItem("item-1", null)] });
    const d = dynamic(request([item()]), ownerless);
    expect(d.output).toEqual({
      id: "owner-of-src-item-1",
      name: "Name of owner-of-src-item-1",
      type: "IDENTITY",
    });
    expect(d.explanation.matched).toEqual([
      'any requested item: (operation equals "Add" and privileged equals true)',
      "itemOwner: missing → sourceOwner",
    ]);
    const own = context(["item-1"], { items: [privilegedItem("item-1", ref("id-rob"))] });
    expect(dynamic(request([item()]), own).output).toMatchObject({ id: "owner-of-src-item-1" });
  });

  it("routes to the governance group when neither the privileged item nor its source has an owner", () => {
    const bare = privilegedItem("item-1", null);
    const ctx = context(["item-1"], { items: [{ ...bare, source: null }] });
    expect(dynamic(request([item()]), ctx).output).toEqual(GOVERNANCE);
  });

  it("otherwise routes to the manager of the (first) person the access is for", () => {
    const d = dynamic(request([item()]), context(["item-1"]));
    expect(d.explanation.ruleId).toBe("default");
    expect(d.output).toEqual({ id: "mgr-of-id-william", name: "Person mgr-of-id-william", type: "IDENTITY" });
  });

  it.each([
    ["there is no manager", [null]],
    ["the requester is the manager", [identity("id-rob")]],
  ])("routes to the first added item's source owner when %s", (_what, manager) => {
    const ctx = context(["item-1", "item-2"], { manager: manager as ContextData["manager"] });
    const payload = request([item({ operation: "Remove" }), item({ id: "item-2" })]);
    const d = dynamic(payload, ctx);
    expect(d.output).toEqual({
      id: "owner-of-src-item-2",
      name: "Name of owner-of-src-item-2",
      type: "IDENTITY",
    });
    expect(d.explanation.matched[0]).toMatch(/^manager: (missing|is the requester) → sourceOwner$/);
  });

  it("ends with the governance group, and falls back to it", () => {
    const ctx = context(["item-1"], { manager: [null], items: [{ ...itemContext("item-1"), source: null }] });
    const d = dynamic(request([item()]), ctx);
    expect(d.output).toEqual(GOVERNANCE);
    expect(d.explanation.matched).toEqual([
      "manager: missing → sourceOwner",
      "sourceOwner: missing → gg-access-governance",
    ]);
    expect(rules.fallback("idn:access-request-dynamic-approver", "context read failed").output).toEqual(
      GOVERNANCE,
    );
  });
});
