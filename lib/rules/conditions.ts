/**
 * Conditions compiled into closures `(subject) => boolean`, once, at load. The subject is the trigger
 * input (or one requested item inside anyItem / everyItem / countItems). Evaluation parses nothing,
 * builds no regex and allocates nothing (ignoreCase `in` lowers the tested text: the one exception).
 *
 * Semantics: a path crossing a list (requestedFor as a list, an item's list field) holds if it holds
 * for any element. Negative operators (notEquals, notIn, missing) are the negation of the positive
 * one: `requestedFor.id notIn X` means none of the identities is in X.
 */
import { RulesEvaluationError } from "./errors.ts";
import { compilePathTest, isPresent, type PathKey, parsePath } from "./paths.ts";
import { MAX_TESTED_LENGTH } from "./regex-guard.ts";
import type { Condition, RulesDocument, Scalar, TableValue } from "./schema.ts";

export type Test = (subject: unknown) => boolean;
// biome-ignore lint/suspicious/noExplicitAny: custom predicates are typed at the TypeScript API.
export type CustomPredicate = (subject: any) => boolean;

export interface CompiledCondition {
  test: Test;
  /** Human-readable, computed once: `requestedFor.id → employmentType equals "contractor"`. */
  description: string;
  /** For an `all` without its own description: each part's description (an explanation's matched lines). */
  partDescriptions?: readonly string[];
}

export interface ConditionContext {
  lists: ReadonlyMap<string, ReadonlySet<Scalar>>;
  tables: ReadonlyMap<string, ReadonlyMap<string, TableValue>>;
  predicates: Readonly<Record<string, CustomPredicate>>;
  /** For error messages of custom predicates. */
  ruleId: string;
}

export function conditionContext(
  document: RulesDocument,
  predicates: Readonly<Record<string, CustomPredicate>> = {},
): Omit<ConditionContext, "ruleId"> {
  const lists = new Map<string, ReadonlySet<Scalar>>();
  for (const [name, values] of Object.entries(document.lists ?? {})) lists.set(name, new Set(values));
  const tables = new Map<string, ReadonlyMap<string, TableValue>>();
  for (const [name, entries] of Object.entries(document.tables ?? {})) {
    tables.set(name, new Map(Object.entries(entries)));
  }
  return { lists, tables, predicates };
}

/** The requested items of an input: `requestedItems`, or `requestedItemsStatus` (post-approval). */
export function itemsOf(subject: unknown): readonly unknown[] | undefined {
  if (subject === null || typeof subject !== "object") return undefined;
  const record = subject as { requestedItems?: unknown; requestedItemsStatus?: unknown };
  const items = record.requestedItems ?? record.requestedItemsStatus;
  return Array.isArray(items) ? items : undefined;
}

export function compileCondition(condition: Condition, ctx: ConditionContext): CompiledCondition {
  const compiled = compileInner(condition, ctx);
  return condition.description === undefined
    ? compiled
    : { test: compiled.test, description: condition.description };
}

function compileInner(c: Condition, ctx: ConditionContext): CompiledCondition {
  if (c.all !== undefined) {
    const parts = c.all.map((child) => compileCondition(child, ctx));
    const tests = parts.map((p) => p.test);
    return {
      test: allOf(tests),
      description: joinDescriptions(parts, " and "),
      partDescriptions: parts.map((p) => p.description),
    };
  }
  if (c.any !== undefined) {
    const parts = c.any.map((child) => compileCondition(child, ctx));
    const tests = parts.map((p) => p.test);
    return { test: anyOf(tests), description: joinDescriptions(parts, " or ") };
  }
  if (c.not !== undefined) {
    const inner = compileCondition(c.not, ctx);
    const test = inner.test;
    return { test: (s) => !test(s), description: `not (${inner.description})` };
  }
  if (c.anyItem !== undefined) {
    const inner = compileCondition(c.anyItem, ctx);
    const test = inner.test;
    return {
      test: (s) => {
        const items = itemsOf(s);
        if (items === undefined) return false;
        for (let i = 0; i < items.length; i++) if (test(items[i])) return true;
        return false;
      },
      description: `any requested item: ${inner.description}`,
    };
  }
  if (c.everyItem !== undefined) {
    const inner = compileCondition(c.everyItem, ctx);
    const test = inner.test;
    return {
      // No items is not "every item matches": an auto-approval must have something to approve.
      test: (s) => {
        const items = itemsOf(s);
        if (items === undefined || items.length === 0) return false;
        for (let i = 0; i < items.length; i++) if (!test(items[i])) return false;
        return true;
      },
      description: `every requested item: ${inner.description}`,
    };
  }
  if (c.countItems !== undefined) {
    const inner = compileCondition(c.countItems.where, ctx);
    const test = inner.test;
    const [symbol, compare] = numericComparison(c.countItems);
    return {
      test: (s) => {
        const items = itemsOf(s);
        let count = 0;
        if (items !== undefined) for (let i = 0; i < items.length; i++) if (test(items[i])) count++;
        return compare(count);
      },
      description: `count of requested items where ${inner.description} ${symbol}`,
    };
  }
  if (c.custom !== undefined) return compileCustom(c.custom, ctx);
  if (c.field !== undefined) return compileField(c, c.field, ctx);
  throw new Error("condition was not validated");
}

function joinDescriptions(parts: CompiledCondition[], joiner: string): string {
  return parts.length === 1
    ? (parts[0] as CompiledCondition).description
    : `(${parts.map((p) => p.description).join(joiner)})`;
}

function allOf(tests: Test[]): Test {
  if (tests.length === 1) return tests[0] as Test;
  if (tests.length === 2) {
    const [a, b] = tests as [Test, Test];
    return (s) => a(s) && b(s);
  }
  if (tests.length === 3) {
    const [a, b, c] = tests as [Test, Test, Test];
    return (s) => a(s) && b(s) && c(s);
  }
  return (s) => {
    for (let i = 0; i < tests.length; i++) if (!(tests[i] as Test)(s)) return false;
    return true;
  };
}

function anyOf(tests: Test[]): Test {
  if (tests.length === 1) return tests[0] as Test;
  if (tests.length === 2) {
    const [a, b] = tests as [Test, Test];
    return (s) => a(s) || b(s);
  }
  if (tests.length === 3) {
    const [a, b, c] = tests as [Test, Test, Test];
    return (s) => a(s) || b(s) || c(s);
  }
  return (s) => {
    for (let i = 0; i < tests.length; i++) if ((tests[i] as Test)(s)) return true;
    return false;
  };
}

function compileCustom(name: string, ctx: ConditionContext): CompiledCondition {
  const predicate = ctx.predicates[name];
  if (predicate === undefined) {
    throw new Error(`custom predicate "${name}" is not registered`);
  }
  const ruleId = ctx.ruleId;
  return {
    test: (s) => {
      let result: unknown;
      try {
        result = predicate(s);
      } catch (error) {
        throw new RulesEvaluationError(ruleId, `custom predicate "${name}" threw`, error);
      }
      if (typeof result !== "boolean") {
        throw new RulesEvaluationError(ruleId, `custom predicate "${name}" did not return a boolean`);
      }
      return result;
    },
    description: `custom: ${name}`,
  };
}

type NumericKeys = {
  equals?: number | undefined;
  gt?: number | undefined;
  gte?: number | undefined;
  lt?: number | undefined;
  lte?: number | undefined;
};

function numericComparison(c: NumericKeys): [string, (n: number) => boolean] {
  if (c.gt !== undefined) {
    const x = c.gt;
    return [`> ${x}`, (n) => n > x];
  }
  if (c.gte !== undefined) {
    const x = c.gte;
    return [`>= ${x}`, (n) => n >= x];
  }
  if (c.lt !== undefined) {
    const x = c.lt;
    return [`< ${x}`, (n) => n < x];
  }
  if (c.lte !== undefined) {
    const x = c.lte;
    return [`<= ${x}`, (n) => n <= x];
  }
  const x = c.equals as number;
  return [`== ${x}`, (n) => n === x];
}

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

function compileField(c: Condition, field: string, ctx: ConditionContext): CompiledCondition {
  const keys = parsePath(field) as PathKey[];
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

  // exists / missing look at the value itself (a list is present), the rest at each element of a list.
  if (c.exists !== undefined || c.missing !== undefined) {
    const wantPresent = c.exists !== undefined ? c.exists : !c.missing;
    const get = lookup;
    const present = compilePathTest(keys, get === undefined ? isPresent : (v) => isPresent(get(v)));
    return wantPresent
      ? { test: present, description: `${subjectText} exists` }
      : { test: (s) => !present(s), description: `${subjectText} is missing` };
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
    const spec = (negate ? c.notIn : c.in) as NonNullable<Condition["in"]>;
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
    const re = new RegExp(c.matches, ignoreCase ? "i" : "");
    valueTest = (v) =>
      typeof v === "string" && re.test(v.length > MAX_TESTED_LENGTH ? v.slice(0, MAX_TESTED_LENGTH) : v);
    text = `matches /${c.matches}/${ignoreCase ? "i" : ""}`;
  } else {
    [text, valueTest] = numericTest({ gt: c.gt, gte: c.gte, lt: c.lt, lte: c.lte });
  }

  const onValue = lookup === undefined ? valueTest : composeLookup(lookup, valueTest);
  const positive = compilePathTest(keys, exact !== undefined ? equalsOrContains(exact) : anyElement(onValue));
  const description = `${subjectText} ${text}${caseNote}`;
  return negate ? { test: (s) => !positive(s), description } : { test: positive, description };
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
