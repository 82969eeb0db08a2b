import { describe, expect, it } from "vitest";
import { input, item, matches, oneRule } from "./helpers.ts";

const LISTS = `
lists:
  admins: [id-alice, id-bob]
  codes: [7, 8]
tables:
  employment:
    id-william: employee
    id-carla: contractor
  badge:
    id-william: 12
`;

describe("field operators", () => {
  it("equals / notEquals", () => {
    expect(matches("field: requestedFor.name\nequals: William Wilson", input())).toBe(true);
    expect(matches("field: requestedFor.name\nequals: william wilson", input())).toBe(false);
    expect(matches("field: requestedFor.name\nnotEquals: Bob", input())).toBe(true);
    expect(matches("field: requestedFor.name\nnotEquals: William Wilson", input())).toBe(false);
    // A missing field is not equal to anything.
    expect(matches("field: nosuch\nnotEquals: x", input())).toBe(true);
  });

  it("equals ignoring case, and numbers / booleans strictly", () => {
    expect(matches("field: requestedFor.name\nequals: william WILSON\nignoreCase: true", input())).toBe(true);
    expect(matches("field: priority\nequals: 3", input({ priority: 3 }))).toBe(true);
    expect(matches("field: priority\nequals: 3", input({ priority: "3" }))).toBe(false);
    expect(matches("field: urgent\nequals: true", input({ urgent: true }))).toBe(true);
  });

  it("in / notIn with inline lists, named lists and table keys", () => {
    expect(matches("field: requestedFor.id\nin: [id-x, id-william]", input())).toBe(true);
    expect(matches("field: requestedFor.id\nin: { list: admins }", input(), LISTS)).toBe(false);
    expect(
      matches(
        "field: requestedBy.id\nin: { list: admins }",
        input({ requestedBy: { type: "IDENTITY", id: "id-bob", name: "B" } }),
        LISTS,
      ),
    ).toBe(true);
    expect(matches("field: requestedFor.id\nin: { table: employment }", input(), LISTS)).toBe(true);
    expect(matches("field: requestedFor.id\nnotIn: { list: admins }", input(), LISTS)).toBe(true);
    expect(matches("field: code\nin: { list: codes }", input({ code: 8 }), LISTS)).toBe(true);
    expect(matches("field: requestedFor.name\nin: [WILLIAM wilson]\nignoreCase: true", input())).toBe(true);
  });

  it("startsWith / endsWith / contains, with and without case", () => {
    const p = input();
    expect(matches("field: requestedFor.name\nstartsWith: Will", p)).toBe(true);
    expect(matches("field: requestedFor.name\nstartsWith: will", p)).toBe(false);
    expect(matches("field: requestedFor.name\nstartsWith: will\nignoreCase: true", p)).toBe(true);
    expect(matches("field: requestedFor.name\nendsWith: Wilson", p)).toBe(true);
    expect(matches("field: requestedFor.name\nendsWith: WILSON\nignoreCase: true", p)).toBe(true);
    expect(matches("field: requestedFor.name\ncontains: m W", p)).toBe(true);
    expect(matches("field: requestedFor.name\ncontains: M w\nignoreCase: true", p)).toBe(true);
    // Regex metacharacters in the needle are literal.
    expect(matches("field: requestedFor.name\ncontains: '.*'\nignoreCase: true", p)).toBe(false);
  });

  it("matches (regex), case-insensitive, on text only, over the whole text", () => {
    expect(matches("field: accessRequestId\nmatches: '^ar-\\d+$'", input())).toBe(true);
    expect(matches("field: accessRequestId\nmatches: '^AR-'", input())).toBe(false);
    expect(matches("field: accessRequestId\nmatches: '^AR-'\nignoreCase: true", input())).toBe(true);
    expect(matches("field: n\nmatches: '1'", input({ n: 1 }))).toBe(false);
    // The whole text: padding cannot hide a word from a deny pattern, `$` is the real end.
    const padded = `${"x".repeat(200_000)} prod-root`;
    expect(matches("field: text\nmatches: 'password|prod-root'", input({ text: padded }))).toBe(true);
    expect(
      matches("field: text\nmatches: '^CHG-[0-9]+$'", input({ text: `CHG-${"1".repeat(2000)}; rm -rf` })),
    ).toBe(false);
    expect(matches("field: text\nmatches: '^CHG-[0-9]+$'", input({ text: `CHG-${"1".repeat(2000)}` }))).toBe(
      true,
    );
  });

  it("exists / missing (null counts as missing)", () => {
    const withComment = input({ requestedItems: [item({ comment: "why" })] });
    expect(matches("field: requestedItems[0].comment\nexists: true", withComment)).toBe(true);
    expect(matches("field: requestedItems[0].comment\nexists: true", input())).toBe(false);
    expect(matches("field: requestedItems[0].comment\nmissing: true", input())).toBe(true);
    expect(
      matches(
        "field: requestedItems[0].comment\nmissing: true",
        input({ requestedItems: [item({ comment: null })] }),
      ),
    ).toBe(true);
    expect(matches("field: requestedItems[0].comment\nexists: false", input())).toBe(true);
    expect(matches("field: requestedItems[3].comment\nmissing: true", input())).toBe(true);
  });

  it("numeric comparisons accept numbers and numeric text", () => {
    expect(matches("field: risk\ngt: 5", input({ risk: 6 }))).toBe(true);
    expect(matches("field: risk\ngt: 5", input({ risk: 5 }))).toBe(false);
    expect(matches("field: risk\ngte: 5", input({ risk: "5" }))).toBe(true);
    expect(matches("field: risk\nlt: 5", input({ risk: 4.5 }))).toBe(true);
    expect(matches("field: risk\nlte: 5", input({ risk: "high" }))).toBe(false);
    expect(matches("field: risk\nlte: 5", input({ risk: "" }))).toBe(false);
    expect(matches("field: risk\nlt: 5", input())).toBe(false);
  });

  it("lookup tests the table entry of the field's value", () => {
    const carla = input({ requestedFor: { type: "IDENTITY", id: "id-carla", name: "Carla" } });
    const when = "field: requestedFor.id\nlookup: employment\nequals: contractor";
    expect(matches(when, carla, LISTS)).toBe(true);
    expect(matches(when, input(), LISTS)).toBe(false);
    expect(
      matches(
        "field: requestedFor.id\nlookup: employment\nmissing: true",
        input({ requestedFor: { type: "IDENTITY", id: "id-new", name: "N" } }),
        LISTS,
      ),
    ).toBe(true);
    expect(matches("field: requestedFor.id\nlookup: badge\ngte: 10", input(), LISTS)).toBe(true);
  });
});

describe("requestedFor as an object or a list", () => {
  const two = input({
    requestedFor: [
      { type: "IDENTITY", id: "id-william", name: "William Wilson" },
      { type: "IDENTITY", id: "id-carla", name: "Carla" },
    ],
  });

  it("positive operators hold if any identity matches", () => {
    expect(matches("field: requestedFor.name\nequals: Carla", two)).toBe(true);
    expect(matches("field: requestedFor.id\nlookup: employment\nequals: contractor", two, LISTS)).toBe(true);
  });

  it("negative operators hold if no identity matches", () => {
    expect(matches("field: requestedFor.name\nnotEquals: Carla", two)).toBe(false);
    expect(matches("field: requestedFor.name\nnotEquals: Zed", two)).toBe(true);
    expect(matches("field: requestedFor.id\nnotIn: [id-carla]", two)).toBe(false);
  });

  it("an index picks one identity", () => {
    expect(matches("field: requestedFor[1].name\nequals: Carla", two)).toBe(true);
    expect(matches("field: requestedFor[0].name\nequals: Carla", two)).toBe(false);
  });
});

describe("combinators and quantifiers", () => {
  const roles = input({
    requestedItems: [
      item({ id: "r1", type: "ROLE" }),
      item({ id: "r2", type: "ROLE", operation: "Remove" }),
      item({ id: "e1", type: "ENTITLEMENT", comment: "ok" }),
    ],
  });

  it("all / any / not", () => {
    expect(
      matches(
        "all:\n  - field: accessRequestId\n    equals: ar-1\n  - field: requestedFor.name\n    startsWith: W",
        roles,
      ),
    ).toBe(true);
    expect(
      matches(
        "all:\n  - field: accessRequestId\n    equals: ar-1\n  - field: requestedFor.name\n    startsWith: X",
        roles,
      ),
    ).toBe(false);
    expect(
      matches(
        "any:\n  - field: accessRequestId\n    equals: nope\n  - field: requestedFor.name\n    startsWith: W",
        roles,
      ),
    ).toBe(true);
    expect(matches("not:\n  field: accessRequestId\n  equals: ar-1", roles)).toBe(false);
    const three =
      "any:\n  - field: a\n    exists: true\n  - field: b\n    exists: true\n  - field: accessRequestId\n    exists: true";
    expect(matches(three, roles)).toBe(true);
  });

  it("anyItem / everyItem with fields relative to the item", () => {
    expect(matches("anyItem:\n  field: type\n  equals: ENTITLEMENT", roles)).toBe(true);
    expect(matches("everyItem:\n  field: type\n  equals: ROLE", roles)).toBe(false);
    expect(matches("everyItem:\n  field: id\n  exists: true", roles)).toBe(true);
    expect(
      matches(
        "anyItem:\n  all:\n    - field: type\n      equals: ROLE\n    - field: operation\n      equals: Remove",
        roles,
      ),
    ).toBe(true);
  });

  it("countItems compares how many items match", () => {
    const where = "countItems:\n  where: { field: type, equals: ROLE }\n";
    expect(matches(`${where}  equals: 2`, roles)).toBe(true);
    expect(matches(`${where}  gte: 3`, roles)).toBe(false);
    expect(matches(`${where}  gt: 1`, roles)).toBe(true);
    expect(matches(`${where}  lt: 2`, roles)).toBe(false);
    expect(matches(`${where}  lte: 2`, roles)).toBe(true);
  });

  it("explains the top-level conjuncts that matched", () => {
    const rules = oneRule(
      "all:\n  - anyItem: { field: type, equals: ROLE }\n  - field: requestedFor.name\n    startsWith: w\n    ignoreCase: true",
    );
    const decision = rules.decide({
      triggerType: "requestResponse",
      triggerId: "idn:access-request-pre-approval",
      invocationId: undefined,
      mode: "sync",
      receivedAt: 0,
      deadline: 0,
      input: roles as never,
      callbackUrl: undefined,
      secret: undefined,
    });
    expect(decision.explanation.matched).toEqual([
      'any requested item: type equals "ROLE"',
      'requestedFor.name starts with "w" (ignoring case)',
    ]);
  });
});
