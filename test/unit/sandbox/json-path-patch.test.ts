import { describe, expect, it } from "vitest";
import { applyPatch, parsePatch } from "../../../lib/sandbox/json-patch.ts";
import { compileJsonPath, isValidJsonPath } from "../../../lib/sandbox/json-path.ts";

const input = {
  accessRequestId: "ar-1",
  requestedBy: { id: "i-1", name: "Rob" },
  requestedItems: [
    { id: "a", type: "ROLE", operation: "Add", risk: 10 },
    { id: "b", type: "ENTITLEMENT", operation: "Remove", risk: 80 },
  ],
};

const select = (path: string) => compileJsonPath(path).evaluate(input);

describe("JSONPath subset", () => {
  it("selects children, indexes, wildcards and descendants", () => {
    expect(select("$.requestedBy.name")).toEqual(["Rob"]);
    expect(select("$['requestedBy']['id']")).toEqual(["i-1"]);
    expect(select("$.requestedItems[1].id")).toEqual(["b"]);
    expect(select("$.requestedItems[-1].id")).toEqual(["b"]);
    expect(select("$.requestedItems[*].id")).toEqual(["a", "b"]);
    expect(select("$..operation")).toEqual(["Add", "Remove"]);
    expect(select("$.missing")).toEqual([]);
    expect(select("$")).toEqual([input]);
  });

  it("filters arrays with @ and the root object with $", () => {
    expect(select(`$.requestedItems[?(@.type == "ROLE")].id`)).toEqual(["a"]);
    expect(select("$.requestedItems[?(@.risk > 50)].id")).toEqual(["b"]);
    expect(select(`$.requestedItems[?(@.risk >= 10 && @.operation != 'Add')].id`)).toEqual(["b"]);
    expect(select(`$.requestedItems[?(@.type == "ROLE" || @.risk < 0)].id`)).toEqual(["a"]);
    expect(select("$.requestedItems[?(@.id =~ /^B$/i)].id")).toEqual(["b"]);
    expect(select("$.requestedItems[?(!(@.risk > 50))].id")).toEqual(["a"]);
    expect(select("$.requestedItems[?(@.risk)].id")).toEqual(["a", "b"]);
    expect(select(`$[?($.requestedBy.name == "Rob")]`)).toHaveLength(1);
    expect(select(`$[?($.requestedBy.name == "Bob")]`)).toHaveLength(0);
    expect(select("$[?($.requestedItems[1])]")).toHaveLength(1);
    expect(select("$[?($.requestedItems[5])]")).toHaveLength(0);
  });

  it.each([
    "",
    "requestedBy",
    "$.",
    "$[",
    "$[?(@.x ==)]",
    "$[?(@.a == 1]",
    "$.a b",
    "$[?(1)]",
    "$[?(@.a =~ 'x')]",
    "$[?(@.a =~ /(/)]",
  ])("refuses %j", (path) => {
    expect(isValidJsonPath(path)).toBe(false);
  });
});

describe("JSON Patch", () => {
  const doc = { name: "a", list: [1, 2], nested: { x: 1 } };

  it("applies add, replace, remove, move, copy and test to a copy", () => {
    const result = applyPatch(
      doc,
      parsePatch([
        { op: "replace", path: "/name", value: "b" },
        { op: "add", path: "/list/-", value: 3 },
        { op: "add", path: "/list/0", value: 0 },
        { op: "remove", path: "/nested/x" },
        { op: "copy", from: "/name", path: "/copy" },
        { op: "move", from: "/copy", path: "/moved" },
        { op: "test", path: "/moved", value: "b" },
      ]),
    );
    expect(result).toEqual({ name: "b", list: [0, 1, 2, 3], nested: {}, moved: "b" });
    expect(doc).toEqual({ name: "a", list: [1, 2], nested: { x: 1 } });
  });

  it("refuses malformed operations and missing paths", () => {
    expect(() => parsePatch({})).toThrow();
    expect(() => parsePatch([{ op: "replace", path: "/a" }])).toThrow();
    expect(() => parsePatch([{ op: "jump", path: "/a" }])).toThrow();
    expect(() => parsePatch([{ op: "move", path: "/a" }])).toThrow();
    expect(() => applyPatch(doc, [{ op: "replace", path: "/nope", value: 1 }])).toThrow();
    expect(() => applyPatch(doc, [{ op: "remove", path: "/list/5" }])).toThrow();
    expect(() => applyPatch(doc, [{ op: "test", path: "/name", value: "z" }])).toThrow();
    expect(() => applyPatch(doc, [{ op: "add", path: "name", value: 1 }])).toThrow();
  });
});
