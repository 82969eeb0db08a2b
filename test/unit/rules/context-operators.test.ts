// biome-ignore-all lint/suspicious/noThenProperty: `then` is the rules format's key for a decision (never callable).
import { describe, expect, it } from "vitest";
import type { ContextData } from "../../../lib/context/types.ts";
import type { AccessRequestStatus } from "../../../lib/isc/context-schemas.ts";
import { defineRules } from "../../../lib/rules/typescript-api.ts";
import { decided, fullContext, identity, invocation, NOW } from "./context-helpers.ts";
import { input, item, matches, oneRule } from "./helpers.ts";

/** True if the one-rule file's rule matches `payload` with `context`. */
function holds(when: string, payload: unknown, context?: ContextData): boolean {
  return decided(oneRule(when), payload, context).explanation.ruleId === "hit";
}

describe("field-to-field comparison", () => {
  const managerIsRequester = "{ field: requestedBy.id, equals: { field: manager.id } }";

  it("equals holds when any value on the left equals any value on the right", () => {
    const ctx = (managerId: string) => ({ manager: [identity(managerId)] });
    expect(holds(managerIsRequester, input(), ctx("id-rob"))).toBe(true);
    expect(holds(managerIsRequester, input(), ctx("id-else"))).toBe(false);
    // requestedFor as a list: any person's manager.
    const two = input({
      requestedFor: [
        { type: "IDENTITY", id: "a", name: "A" },
        { type: "IDENTITY", id: "b", name: "B" },
      ],
    });
    expect(holds(managerIsRequester, two, { manager: [identity("m-a"), identity("id-rob")] })).toBe(true);
    expect(holds(managerIsRequester, two, { manager: [null, identity("m-b")] })).toBe(false);
  });

  it("explains itself with both paths", () => {
    const d = decided(oneRule(managerIsRequester), input(), { manager: [identity("id-rob")] });
    expect(d.explanation.matched).toEqual(["requestedBy.id equals manager.id"]);
    // One person's manager (a negation over the whole list is refused at check).
    const not = decided(
      oneRule('{ field: requestedBy.id, notEquals: { field: "manager[0].id" } }'),
      input(),
      {
        manager: [identity("x")],
      },
    );
    expect(not.explanation.matched).toEqual(["requestedBy.id does not equal manager[0].id"]);
  });

  it("notEquals is the negation, also when a side has no value", () => {
    const when = '{ field: requestedBy.id, notEquals: { field: "manager[0].id" } }';
    expect(holds(when, input(), { manager: [identity("id-rob")] })).toBe(false);
    expect(holds(when, input(), { manager: [identity("other")] })).toBe(true);
    expect(holds(when, input(), { manager: [null] })).toBe(true);
    expect(holds(managerIsRequester, input(), { manager: [null] })).toBe(false);
    // A missing left side: equals never holds.
    expect(matches("{ field: nosuch, equals: { field: requestedBy.id } }", input())).toBe(false);
    expect(matches("{ field: nosuch, notEquals: { field: requestedBy.id } }", input())).toBe(true);
  });

  it("compares lists on both sides, scalars only, and honours ignoreCase", () => {
    const payload = input({ tags: ["a", "B"], other: ["x", "b"], objects: [{ id: "B" }] });
    expect(matches("{ field: tags, equals: { field: other } }", payload)).toBe(false);
    expect(matches("{ field: tags, equals: { field: other }, ignoreCase: true }", payload)).toBe(true);
    expect(matches("{ field: objects, equals: { field: tags } }", payload)).toBe(false);
    expect(matches("{ field: objects.id, equals: { field: tags } }", payload)).toBe(true);
    // 3 and "3" differ, as for a fixed value.
    expect(matches("{ field: n, equals: { field: s } }", input({ n: 3, s: "3" }))).toBe(false);
  });

  it("`in: {field}` tests the value among the values at the path", () => {
    const when = "{ field: requestedBy.id, in: { field: requestedFor.id } }";
    const self = input({ requestedBy: { type: "IDENTITY", id: "b", name: "B" } });
    const list = {
      requestedFor: [
        { type: "IDENTITY", id: "a", name: "A" },
        { type: "IDENTITY", id: "b", name: "B" },
      ],
    };
    expect(matches(when, { ...self, ...list })).toBe(true);
    expect(matches(when, input(list))).toBe(false);
    expect(matches("{ field: requestedBy.id, notIn: { field: requestedFor.id } }", input(list))).toBe(true);
    expect(decided(oneRule(when), { ...self, ...list }).explanation.matched).toEqual([
      "requestedBy.id in requestedFor.id",
    ]);
  });

  it("compares an item's field with the request's through `$.`", () => {
    const when = `
anyItem:
  field: details.owner.id
  equals: { field: $.requestedBy.id }`;
    const ctx = fullContext(["id-william"], ["item-1"]);
    expect(holds(when, input(), ctx)).toBe(false);
    const owned = {
      ...ctx,
      items: [{ ...ctx.items?.[0], details: { id: "item-1", owner: { type: "IDENTITY", id: "id-rob" } } }],
    };
    expect(holds(when, input(), owned)).toBe(true);
  });

  it("applies a lookup to the left side", () => {
    const extra = "tables:\n  dept: { id-william: Engineering }\n";
    const when = "{ field: requestedFor.id, lookup: dept, equals: { field: department } }";
    expect(matches(when, input({ department: "Engineering" }), extra)).toBe(true);
    expect(matches(when, input({ department: "Sales" }), extra)).toBe(false);
  });
});

describe("within: a date-time no older than a duration before the decision", () => {
  const at = (offsetMs: number) => new Date(NOW + offsetMs).toISOString();
  const hour = 3_600_000;

  it.each([
    [at(-23 * hour), true],
    [at(-24 * hour), true],
    [at(-24 * hour - 1000), false],
    [at(hour), true], // later than the clock (skew) is not older
    ["2026-03-01T11:00:00", true], // no zone: UTC
    ["2026-03-01T13:30:00+02:00", true],
    ["2026-02-20T00:00:00Z", false],
    ["2026-03-01", true],
    ["yesterday", false],
    ["1", false],
    ["", false],
    [NOW, false], // numbers are not date-times
    [null, false],
  ])("created %j within PT24H: %j", (created, expected) => {
    expect(holds("{ field: created, within: PT24H }", input({ created }))).toBe(expected);
  });

  it("uses the invocation's clock (receivedAt), not the machine's", () => {
    const rules = oneRule("{ field: created, within: PT24H }");
    const payload = input({ created: at(-hour) });
    expect(rules.evaluate(invocation(payload, "preApproval", NOW))).toMatchObject({
      explanation: { ruleId: "hit" },
    });
    expect(rules.evaluate(invocation(payload, "preApproval", NOW + 2 * 24 * hour))).toMatchObject({
      explanation: { ruleId: "default" },
    });
  });

  it("reads any element of a list, and explains itself", () => {
    const d = decided(oneRule("{ field: dates, within: P1D }"), input({ dates: ["2020-01-01", at(-hour)] }));
    expect(d.explanation.matched).toEqual(["dates within P1D"]);
  });
});

describe("count: how many elements of any list match", () => {
  const hour = 3_600_000;
  const requests = (ages: number[]): AccessRequestStatus[] =>
    ages.map((h, i) => ({
      id: `req-${i}`,
      state: i % 2 === 0 ? "EXECUTING" : "REQUEST_COMPLETED",
      created: new Date(NOW - h * hour).toISOString(),
    }));

  const burst = "count: { of: accessRequests, where: { field: created, within: PT24H }, gt: 5 }";

  it("counts context elements matching `where` (relative to each element)", () => {
    expect(holds(burst, input(), { accessRequests: requests([1, 2, 3, 4, 5, 30, 40]) })).toBe(false);
    expect(holds(burst, input(), { accessRequests: requests([1, 2, 3, 4, 5, 6, 40]) })).toBe(true);
    expect(holds(burst, input(), { accessRequests: [] })).toBe(false);
    const d = decided(oneRule(burst), input(), { accessRequests: requests([1, 2, 3, 4, 5, 6]) });
    expect(d.explanation.matched).toEqual(["count of accessRequests where created within PT24H > 5"]);
  });

  it("counts every element without `where`, and a single value once", () => {
    expect(
      matches("count: { of: requestedItems, equals: 2 }", input({ requestedItems: [item(), item()] })),
    ).toBe(true);
    expect(matches("count: { of: requestedBy, equals: 1 }", input())).toBe(true);
    expect(matches("count: { of: nosuch, equals: 0 }", input())).toBe(true);
    expect(matches("count: { of: requestedFor, lt: 2 }", input())).toBe(true);
  });

  it("counts elements across lists (every entitlement of every item)", () => {
    const ctx: ContextData = {
      items: [
        {
          entitlements: [
            { id: "e1", privileged: true },
            { id: "e2", privileged: false },
          ],
        },
        { entitlements: [{ id: "e3", privileged: true }] },
      ],
    };
    const two = input({ requestedItems: [item(), item({ id: "item-2" })] });
    const when =
      "count: { of: requestedItems.entitlements, where: { field: privileged, equals: true }, gte: 2 }";
    expect(holds(when, two, ctx)).toBe(true);
    expect(holds(when.replace("gte: 2", "gte: 3"), two, ctx)).toBe(false);
  });

  it("reads the request with `$.` from inside `where`, and nests", () => {
    const when = `
count:
  of: accessRequests
  where:
    all:
      - { field: state, equals: EXECUTING }
      - { field: $.accessRequestId, equals: ar-1 }
  gte: 2`;
    expect(holds(when, input(), { accessRequests: requests([1, 2, 3]) })).toBe(true);
    expect(holds(when, input({ accessRequestId: "ar-2" }), { accessRequests: requests([1, 2, 3]) })).toBe(
      false,
    );
    const nested = `
count:
  of: requestedItems
  where: { count: { of: entitlements, gte: 2 } }
  equals: 1`;
    const ctx: ContextData = {
      items: [{ entitlements: [{ id: "a" }, { id: "b" }] }, { entitlements: [{ id: "c" }] }],
    };
    expect(holds(nested, input({ requestedItems: [item(), item({ id: "i2" })] }), ctx)).toBe(true);
  });
});

describe("count in TypeScript", () => {
  it("takes an element predicate in `where`", () => {
    const rules = defineRules({
      approver: "svc",
      preApproval: {
        rules: [
          {
            id: "burst",
            when: {
              count: { of: "accessRequests", where: (request) => request.state === "EXECUTING", gte: 2 },
            },
            then: { decision: "deny", comment: "too many pending" },
          },
        ],
        default: { decision: "approve", comment: "ok" },
      },
    });
    expect([...rules.contextNeeds("idn:access-request-pre-approval")]).toEqual(["accessRequests"]);
    const pending = [{ state: "EXECUTING" }, { state: "EXECUTING" }, { state: "REQUEST_COMPLETED" }];
    expect(decided(rules, input(), { accessRequests: pending }).explanation.ruleId).toBe("burst");
    expect(decided(rules, input(), { accessRequests: pending.slice(1) }).explanation.ruleId).toBe("default");
  });
});
