/**
 * `field: PATH` + one operator, compiled into a closure `(subject) => boolean`. The subject is the
 * current scope (the request view, a requested item, an element of `count`); a `$.` path reads the
 * request view from the evaluation scope instead.
 *
 * Semantics: a path crossing a list holds if it holds for any element. Negative operators (notEquals,
 * notIn, missing) are the negation of the positive one. Comparing with another field (`equals:
 * {field: manager.id}`) holds when any value on the left equals any value on the right.
 */
import { parseIsoDuration } from "../triggers/duration.ts";
import type { ConditionContext, EvalScope, Test } from "./conditions.ts";
import { compilePathTest, compileValuesGetter, type FieldPath, isPresent, parseFieldPath } from "./paths.ts";
import { compileMatches } from "./regex.ts";
import type { Condition, FieldRef, Scalar, TableValue } from "./schema.ts";

export interface CompiledField {
  test: Test;
  description: string;
}

export function compileField(c: Condition, field: string, ctx: ConditionContext): CompiledField {
  const path = parseFieldPath(field) as FieldPath;
  const keys = path.keys;
  const scope = ctx.scope;
  const ignoreCase = c.ignoreCase === true;
  const caseNote = ignoreCase ? " (ignoring case)" : "";
  let subjectText = field;
  let lookup: ((v: unknown) => unknown) | undefined;
  if (c.lookup !== undefined) {
    const table = ctx.tables.get(c.lookup) as ReadonlyMap<string, TableValue>;
    subjectText = `${field} → ${c.lookup}`;
    lookup = (v) =>
      typeof v === "string" ? table.get(v) : typeof v === "number" ? table.get(String(v)) : undefined;
  }
  const rooted = (test: Test): Test => (path.rooted ? () => test(scope.root) : test);

  // exists / missing look at the value itself (a list is present), the rest at each element of a list.
  if (c.exists !== undefined || c.missing !== undefined) {
    const wantPresent = c.exists !== undefined ? c.exists : !c.missing;
    const get = lookup;
    const present = rooted(compilePathTest(keys, get === undefined ? isPresent : (v) => isPresent(get(v))));
    return wantPresent
      ? { test: present, description: `${subjectText} exists` }
      : { test: (s) => !present(s), description: `${subjectText} is missing` };
  }

  const other = fieldRefOf(c);
  if (other !== undefined) {
    const positive = compileFieldComparison(path, other.ref, ignoreCase, lookup, scope);
    const description = `${subjectText} ${other.verb} ${other.ref.field}${caseNote}`;
    return other.negate ? { test: (s) => !positive(s), description } : { test: positive, description };
  }

  let negate = false;
  let valueTest: Test;
  /** Set for plain equality: tested inline, the hottest operator. */
  let exact: Scalar | undefined;
  let text: string;
  if (c.equals !== undefined || c.notEquals !== undefined) {
    negate = c.equals === undefined;
    const expected = (negate ? c.notEquals : c.equals) as Scalar;
    if (ignoreCase && typeof expected === "string") {
      const re = new RegExp(`^${escapeRegex(expected)}$`, "i");
      valueTest = (v) => typeof v === "string" && re.test(v);
    } else {
      valueTest = (v) => v === expected;
      if (lookup === undefined) exact = expected;
    }
    text = `${negate ? "does not equal" : "equals"} ${show(expected)}`;
  } else if (c.in !== undefined || c.notIn !== undefined) {
    negate = c.in === undefined;
    const spec = (negate ? c.notIn : c.in) as Exclude<NonNullable<Condition["in"]>, FieldRef>;
    let values: ReadonlySet<unknown>;
    let where: string;
    if (Array.isArray(spec)) {
      values = new Set(spec);
      where = `[${spec.slice(0, 5).map(show).join(", ")}${spec.length > 5 ? ", ..." : ""}]`;
    } else if ("list" in spec) {
      values = ctx.lists.get(spec.list) as ReadonlySet<Scalar>;
      where = `list ${spec.list}`;
    } else {
      values = new Set((ctx.tables.get(spec.table) as ReadonlyMap<string, TableValue>).keys());
      where = `table ${spec.table}`;
    }
    if (ignoreCase) {
      const lowered = new Set([...values].map((v) => (typeof v === "string" ? v.toLowerCase() : v)));
      valueTest = (v) => (typeof v === "string" ? lowered.has(v.toLowerCase()) : lowered.has(v));
    } else {
      valueTest = (v) => values.has(v);
    }
    text = `${negate ? "not in" : "in"} ${where}`;
  } else if (c.startsWith !== undefined || c.endsWith !== undefined || c.contains !== undefined) {
    const [verb, needle] =
      c.startsWith !== undefined
        ? (["starts with", c.startsWith] as const)
        : c.endsWith !== undefined
          ? (["ends with", c.endsWith] as const)
          : (["contains", c.contains as string] as const);
    if (ignoreCase) {
      const escaped = escapeRegex(needle);
      const source = verb === "starts with" ? `^${escaped}` : verb === "ends with" ? `${escaped}$` : escaped;
      const re = new RegExp(source, "i");
      valueTest = (v) => typeof v === "string" && re.test(v);
    } else if (verb === "starts with") {
      valueTest = (v) => typeof v === "string" && v.startsWith(needle);
    } else if (verb === "ends with") {
      valueTest = (v) => typeof v === "string" && v.endsWith(needle);
    } else {
      valueTest = (v) => typeof v === "string" && v.includes(needle);
    }
    text = `${verb} ${show(needle)}`;
  } else if (c.matches !== undefined) {
    valueTest = compileMatches(c.matches, ignoreCase);
    text = `matches /${c.matches}/${ignoreCase ? "i" : ""}`;
  } else if (c.within !== undefined) {
    const ms = parseIsoDuration(c.within);
    // NaN (not a date-time) compares false: it never matches.
    valueTest = (v) => dateTimeMs(v) >= scope.now - ms;
    text = `within ${c.within}`;
  } else if (c.minLength !== undefined || c.maxLength !== undefined) {
    const min = c.minLength;
    const max = c.maxLength;
    const trim = c.trim === true;
    // Characters, not UTF-16 units: an emoji counts once. Not text (null, a number) never matches.
    const length = (v: string): number => [...(trim ? v.trim() : v)].length;
    valueTest =
      min !== undefined
        ? (v) => typeof v === "string" && length(v) >= min
        : (v) => typeof v === "string" && length(v) <= (max as number);
    text = `${min !== undefined ? `has at least ${min}` : `has at most ${max}`} characters${trim ? " (trimmed)" : ""}`;
  } else {
    [text, valueTest] = numericTest({ gt: c.gt, gte: c.gte, lt: c.lt, lte: c.lte });
  }

  const onValue = lookup === undefined ? valueTest : composeLookup(lookup, valueTest);
  const positive = rooted(
    compilePathTest(keys, exact !== undefined ? equalsOrContains(exact) : anyElement(onValue)),
  );
  const description = `${subjectText} ${text}${caseNote}`;
  return negate ? { test: (s) => !positive(s), description } : { test: positive, description };
}

function fieldRefOf(c: Condition): { ref: FieldRef; negate: boolean; verb: string } | undefined {
  const isRef = (v: unknown): v is FieldRef =>
    v !== null && typeof v === "object" && !Array.isArray(v) && "field" in v;
  if (isRef(c.equals)) return { ref: c.equals, negate: false, verb: "equals" };
  if (isRef(c.notEquals)) return { ref: c.notEquals, negate: true, verb: "does not equal" };
  if (isRef(c.in)) return { ref: c.in, negate: false, verb: "in" };
  if (isRef(c.notIn)) return { ref: c.notIn, negate: true, verb: "not in" };
  return undefined;
}

/** Any scalar at the left path (through `lookup`) equals any scalar at the right one. */
function compileFieldComparison(
  left: FieldPath,
  ref: FieldRef,
  ignoreCase: boolean,
  lookup: ((v: unknown) => unknown) | undefined,
  scope: EvalScope,
): Test {
  const right = parseFieldPath(ref.field) as FieldPath;
  const leftValues = compileValuesGetter(left.keys);
  const rightValues = compileValuesGetter(right.keys);
  const normal = (v: unknown): unknown => {
    const value = lookup === undefined ? v : lookup(v);
    return ignoreCase && typeof value === "string" ? value.toLowerCase() : value;
  };
  return (s) => {
    const others = rightValues(right.rooted ? scope.root : s);
    if (others.length === 0) return false;
    const mine = leftValues(left.rooted ? scope.root : s);
    for (let i = 0; i < mine.length; i++) {
      const a = normal(mine[i]);
      if (!isScalar(a)) continue;
      for (let j = 0; j < others.length; j++) {
        const b = others[j];
        if (a === (ignoreCase && typeof b === "string" ? b.toLowerCase() : b)) return true;
      }
    }
    return false;
  };
}

const DATE_TIME =
  /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** Epoch ms of an ISO-8601 date or date-time (no zone = UTC), NaN for anything else. */
export function dateTimeMs(value: unknown): number {
  if (typeof value !== "string" || value.length > 40) return Number.NaN;
  const m = DATE_TIME.exec(value);
  if (m === null) return Number.NaN;
  if (m[2] === undefined) return Date.parse(m[1] as string);
  return Date.parse(`${m[1]}T${m[2]}${m[3] ?? "Z"}`);
}

function isScalar(value: unknown): boolean {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

type NumericKeys = {
  gt?: number | undefined;
  gte?: number | undefined;
  lt?: number | undefined;
  lte?: number | undefined;
};

/** gt/gte/lt/lte on a number or numeric text, written out so the comparison is inlined. */
function numericTest(c: NumericKeys): [string, Test] {
  if (c.gt !== undefined) {
    const x = c.gt;
    return [`> ${x}`, (v) => (typeof v === "number" ? v > x : toNumber(v) > x)];
  }
  if (c.gte !== undefined) {
    const x = c.gte;
    return [`>= ${x}`, (v) => (typeof v === "number" ? v >= x : toNumber(v) >= x)];
  }
  if (c.lt !== undefined) {
    const x = c.lt;
    return [`< ${x}`, (v) => (typeof v === "number" ? v < x : toNumber(v) < x)];
  }
  const x = c.lte as number;
  return [`<= ${x}`, (v) => (typeof v === "number" ? v <= x : toNumber(v) <= x)];
}

/** A number from a number or numeric text; NaN otherwise (every comparison with NaN is false). */
function toNumber(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value === "string" && value.trim() !== "") return Number(value);
  return Number.NaN;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function show(value: Scalar): string {
  return JSON.stringify(value);
}

function composeLookup(lookup: (v: unknown) => unknown, test: Test): Test {
  return (v) => {
    const entry = lookup(v);
    return entry !== undefined && test(entry);
  };
}

function equalsOrContains(expected: Scalar): Test {
  return (v) => v === expected || (Array.isArray(v) && v.includes(expected));
}

/** A list at the end of a path holds if any element does. */
function anyElement(test: Test): Test {
  return (v) => {
    if (!Array.isArray(v)) return test(v);
    for (let i = 0; i < v.length; i++) if (test(v[i])) return true;
    return false;
  };
}
