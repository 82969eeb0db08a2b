/**
 * Conditions compiled into closures `(subject) => boolean`, once, at load. The subject is the request
 * view (payload and context), or one requested item inside anyItem / everyItem / countItems, or one
 * element inside `count`. Evaluation parses nothing and builds no regex; it allocates nothing but
 * for ignoreCase `in` (lowers the tested text) and field-to-field comparisons (the values compared).
 *
 * Semantics: a path crossing a list (requestedFor as a list, an item's list field) holds if it holds
 * for any element. Negative operators (notEquals, notIn, missing) are the negation of the positive
 * one: `requestedFor.id notIn X` means none of the identities is in X. Field operators are in
 * field-conditions.ts.
 */
import { type CustomScope, customPredicateTest, newCustomScope, type PredicateApi } from "./custom-async.ts";
import { compileField } from "./field-conditions.ts";
import { compilePathVisitor, type FieldPath, parseFieldPath } from "./paths.ts";
import type { Condition, Count, RulesDocument, Scalar, TableValue } from "./schema.ts";
import { compileTime } from "./time-conditions.ts";

export type Test = (subject: unknown) => boolean;
// biome-ignore lint/suspicious/noExplicitAny: custom predicates are typed at the TypeScript API.
export type CustomPredicate = (subject: any, api: PredicateApi) => boolean | Promise<boolean>;

export interface CompiledCondition {
  test: Test;
  /** Human-readable, computed once: `requestedFor.id → employmentType equals "contractor"`. */
  description: string;
  /** For an `all` without its own description: each part's description (an explanation's matched lines). */
  partDescriptions?: readonly string[];
}

/**
 * What `$.` paths, `within` and `time` read, set by evaluate() before it walks the rules (evaluation is
 * synchronous): one cell per compiled rule set, so closures over the payload keep their one argument.
 */
export interface EvalScope {
  /** The request view of the evaluation in progress. */
  root: unknown;
  /** The decision's clock (the invocation's receivedAt), epoch ms. */
  now: number;
  /**
   * The requested item the last item quantifier matched (anyItem: the first matching; everyItem: the
   * first; countItems: the first counted), for `{{item.*}}` templates. Reset before each rule that
   * uses them.
   */
  item: unknown;
  /** Set when the rule set has custom predicates: what their calls see and async ones keep (custom-async.ts). */
  custom?: CustomScope;
}

export interface ConditionContext {
  scope: EvalScope;
  lists: ReadonlyMap<string, ReadonlySet<Scalar>>;
  tables: ReadonlyMap<string, ReadonlyMap<string, TableValue>>;
  predicates: Readonly<Record<string, CustomPredicate>>;
  /** The file's `timeZone`: the zone of `time:` conditions that name none. */
  timeZone?: string | undefined;
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
  return {
    scope: { root: undefined, now: 0, item: undefined },
    lists,
    tables,
    predicates,
    timeZone: document.timeZone,
  };
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
  const scope = ctx.scope;
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
        for (let i = 0; i < items.length; i++) {
          if (test(items[i])) {
            scope.item = items[i];
            return true;
          }
        }
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
        scope.item = items[0];
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
        let first: unknown;
        if (items !== undefined) {
          for (let i = 0; i < items.length; i++) {
            if (test(items[i])) {
              if (count === 0) first = items[i];
              count++;
            }
          }
        }
        if (!compare(count)) return false;
        scope.item = first;
        return true;
      },
      description: `count of requested items where ${inner.description} ${symbol}`,
    };
  }
  if (c.count !== undefined) return compileCount(c.count, ctx);
  if (c.custom !== undefined) return compileCustom(c.custom, ctx);
  if (c.time !== undefined) return compileTime(c.time, ctx.timeZone, scope);
  if (c.field !== undefined) return compileField(c, c.field, ctx);
  throw new Error("condition was not validated");
}

/** How many elements at `of` (each element of a list; a single value counts once) match `where`. */
function compileCount(spec: Count, ctx: ConditionContext): CompiledCondition {
  const of = parseFieldPath(spec.of) as FieldPath;
  const visit = compilePathVisitor(of.keys);
  const where = spec.where === undefined ? undefined : compileCondition(spec.where, ctx);
  const scope = ctx.scope;
  const [symbol, compare] = numericComparison(spec);
  let count = 0;
  const test = where?.test;
  const tally =
    test === undefined
      ? () => {
          count++;
        }
      : (element: unknown) => {
          if (test(element)) count++;
        };
  return {
    test: (s) => {
      // Saved and restored: a custom predicate under `where` may evaluate these rules again.
      const outer = count;
      count = 0;
      visit(of.rooted ? scope.root : s, tally);
      const n = count;
      count = outer;
      return compare(n);
    },
    description: `count of ${spec.of}${where === undefined ? "" : ` where ${where.description}`} ${symbol}`,
  };
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
  // May be async, and may take a second argument (signal, context): custom-async.ts.
  ctx.scope.custom ??= newCustomScope();
  return {
    test: customPredicateTest(name, predicate, ctx.ruleId, ctx.scope.custom),
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
