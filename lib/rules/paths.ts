/**
 * Field paths (`requestedFor.name`, `requestedItems[0].id`) and `{{path}}` templates, parsed once at
 * load into key arrays and closures, so evaluating an invocation never splits a string.
 *
 * A path that crosses a list without an index means "any element" in conditions and "the first
 * element that has the value" in templates and lookups; an index on a value that is not a list reads
 * it as a list of one (`requestedFor[0]` is the object ISC sends). That makes `requestedFor` (one
 * identity or a list of them) read the same either way.
 */

export type PathKey = string | number;

const SEGMENT = /^(?:[A-Za-z_$][A-Za-z0-9_$-]*)(?:\[\d+\])*$/;

/** `a.b[0].c` → `["a", "b", 0, "c"]`; undefined when the syntax is wrong. */
export function parsePath(path: string): PathKey[] | undefined {
  if (path.length === 0 || path.length > 200) return undefined;
  const keys: PathKey[] = [];
  for (const segment of path.split(".")) {
    if (!SEGMENT.test(segment)) return undefined;
    const bracket = segment.indexOf("[");
    keys.push(bracket === -1 ? segment : segment.slice(0, bracket));
    if (bracket !== -1) {
      for (const match of segment.slice(bracket).matchAll(/\[(\d+)\]/g)) keys.push(Number(match[1]));
    }
  }
  return keys;
}

export const PATH_SYNTAX_HELP = "a field path like requestedFor.name or requestedItems[0].id";

/** A path as written in a rule: `$.`-rooted ones are read from the request even inside an item. */
export interface FieldPath {
  rooted: boolean;
  keys: PathKey[];
}

/** `$.requestedBy.id` → rooted; `details.owner.id` → relative to the scope; undefined when the syntax is wrong. */
export function parseFieldPath(path: string): FieldPath | undefined {
  const rooted = path.startsWith("$.");
  const keys = parsePath(rooted ? path.slice(2) : path);
  // A leading `$` that is not `$.` would silently read a key named "$": refused.
  if (keys === undefined || keys[0] === "$") return undefined;
  return { rooted, keys };
}

type Test = (value: unknown) => boolean;

/**
 * A predicate on the root object that holds if `test` holds for the value at `keys`, any element
 * standing for a list crossed without an index. `test` sees the final value itself (it decides how
 * to treat a list there).
 */
export function compilePathTest(keys: readonly PathKey[], test: Test): Test {
  let generic = test;
  for (let i = keys.length - 1; i >= 0; i--) generic = stepTest(keys[i] as PathKey, generic);
  return fastPathTest(keys, test, generic);
}

/**
 * Paths of one to three names read plain objects directly (the common case: `requestedFor.name`,
 * an item's `id`), handing over to the generic walk only when they meet a list.
 */
function fastPathTest(keys: readonly PathKey[], test: Test, generic: Test): Test {
  if (!keys.every((key) => typeof key === "string")) return generic;
  const [k0, k1, k2] = keys as string[];
  if (keys.length === 1) {
    const key = k0 as string;
    return (v) => {
      if (v === null || typeof v !== "object") return false;
      if (Array.isArray(v)) return generic(v);
      return test((v as Record<string, unknown>)[key]);
    };
  }
  if (keys.length === 2) {
    const first = k0 as string;
    const second = k1 as string;
    return (v) => {
      if (v === null || typeof v !== "object" || Array.isArray(v)) return generic(v);
      const a = (v as Record<string, unknown>)[first];
      if (a === null || typeof a !== "object") return false;
      if (Array.isArray(a)) return generic(v);
      return test((a as Record<string, unknown>)[second]);
    };
  }
  if (keys.length === 3) {
    const first = k0 as string;
    const second = k1 as string;
    const third = k2 as string;
    return (v) => {
      if (v === null || typeof v !== "object" || Array.isArray(v)) return generic(v);
      const a = (v as Record<string, unknown>)[first];
      if (a === null || typeof a !== "object") return false;
      if (Array.isArray(a)) return generic(v);
      const b = (a as Record<string, unknown>)[second];
      if (b === null || typeof b !== "object") return false;
      if (Array.isArray(b)) return generic(v);
      return test((b as Record<string, unknown>)[third]);
    };
  }
  return generic;
}

function stepTest(key: PathKey, next: Test): Test {
  if (typeof key === "number") {
    return (value) =>
      Array.isArray(value)
        ? key < value.length && next(value[key])
        : key === 0 && isPresent(value) && next(value);
  }
  return (value) => {
    if (value === null || typeof value !== "object") return false;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const element: unknown = value[i];
        if (
          element !== null &&
          typeof element === "object" &&
          next((element as Record<string, unknown>)[key])
        )
          return true;
      }
      return false;
    }
    return next((value as Record<string, unknown>)[key]);
  };
}

type Getter = (value: unknown) => unknown;

/** What compileSingleValueGetter returns when the path crosses a list: no single value. */
export const SEVERAL_VALUES: unique symbol = Symbol("several values");

/**
 * The one value at `keys`, or SEVERAL_VALUES when a list is crossed or found (then "any element"
 * semantics apply and the caller must use the full condition). Used to share one read of a field
 * between the rules that test it for equality.
 */
export function compileSingleValueGetter(keys: readonly PathKey[]): (root: unknown) => unknown {
  return (root) => {
    let value = root;
    for (let i = 0; i < keys.length; i++) {
      if (value === null || typeof value !== "object") return undefined;
      const key = keys[i] as PathKey;
      if (Array.isArray(value)) {
        if (typeof key !== "number") return SEVERAL_VALUES;
        value = value[key];
      } else if (typeof key === "number") {
        // One value reads as a list of one (requestedFor as an object or a list).
        if (key !== 0) return undefined;
      } else {
        value = (value as Record<string, unknown>)[key as string];
      }
    }
    return Array.isArray(value) ? SEVERAL_VALUES : value;
  };
}

/**
 * The first value found at `keys` that `accept` accepts (lists crossed without an index: first
 * element that has one), else undefined.
 */
export function compilePathGetter(
  keys: readonly PathKey[],
  accept: (value: unknown) => boolean = isPresent,
): Getter {
  let next: Getter = (value) => (accept(value) ? value : undefined);
  for (let i = keys.length - 1; i >= 0; i--) next = stepGet(keys[i] as PathKey, next);
  return next;
}

function stepGet(key: PathKey, next: Getter): Getter {
  if (typeof key === "number") {
    return (value) =>
      Array.isArray(value)
        ? key < value.length
          ? next(value[key])
          : undefined
        : key === 0 && isPresent(value)
          ? next(value)
          : undefined;
  }
  return (value) => {
    if (value === null || typeof value !== "object") return undefined;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const element: unknown = value[i];
        if (element === null || typeof element !== "object") continue;
        const found = next((element as Record<string, unknown>)[key]);
        if (found !== undefined) return found;
      }
      return undefined;
    }
    return next((value as Record<string, unknown>)[key]);
  };
}

/**
 * Calls `visit` with every value at `keys`, lists crossed without an index (and a list at the end)
 * standing for each of their elements: field-to-field comparisons and `count` read all of them.
 */
export function compilePathVisitor(
  keys: readonly PathKey[],
): (root: unknown, visit: (value: unknown) => void) => void {
  return (root, visit) => visitPath(keys, root, 0, visit);
}

/** Every value at `keys` (as compilePathVisitor visits them), in a new list. */
export function compileValuesGetter(keys: readonly PathKey[]): (root: unknown) => unknown[] {
  return (root) => {
    const out: unknown[] = [];
    visitPath(keys, root, 0, (value) => {
      out.push(value);
    });
    return out;
  };
}

function visitPath(
  keys: readonly PathKey[],
  value: unknown,
  depth: number,
  visit: (value: unknown) => void,
): void {
  if (depth === keys.length) {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) if (isPresent(value[i])) visit(value[i]);
    } else if (isPresent(value)) visit(value);
    return;
  }
  if (value === null || typeof value !== "object") return;
  const key = keys[depth] as PathKey;
  if (typeof key === "number") {
    if (Array.isArray(value)) {
      if (key < value.length) visitPath(keys, value[key], depth + 1, visit);
    } else if (key === 0) {
      visitPath(keys, value, depth + 1, visit);
    }
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const element: unknown = value[i];
      if (element !== null && typeof element === "object" && !Array.isArray(element))
        visitPath(keys, (element as Record<string, unknown>)[key], depth + 1, visit);
    }
    return;
  }
  visitPath(keys, (value as Record<string, unknown>)[key], depth + 1, visit);
}

export function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** Longest text an interpolated value contributes: a comment stays readable and bounded. */
export const MAX_INTERPOLATED_LENGTH = 256;

export type Template = (root: unknown) => string;

/** The template root naming the requested item a rule's item quantifier matched. */
export const MATCHED_ITEM = "item";

export interface TemplateProblem {
  message: string;
}

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** The paths a template interpolates, or a problem (bad path syntax, unbalanced braces). */
export function templatePaths(template: string): { paths: PathKey[][] } | TemplateProblem {
  const paths: PathKey[][] = [];
  for (const match of template.matchAll(PLACEHOLDER)) {
    // Templates read the request: `$.` is allowed and changes nothing.
    const parsed = parseFieldPath(match[1] ?? "");
    if (parsed === undefined) return { message: `{{${match[1]}}} is not ${PATH_SYNTAX_HELP}` };
    paths.push(parsed.keys);
  }
  const rest = template.replace(PLACEHOLDER, "");
  if (rest.includes("{{") || rest.includes("}}")) return { message: "has an unbalanced {{ or }}" };
  return { paths };
}

/**
 * `Hello {{requestedFor.name}}` → a function building the string from literal parts and getters.
 * A missing value interpolates as an empty string; numbers and booleans as text; objects not at all.
 */
export function compileTemplate(template: string, matched?: { item: unknown }): Template {
  const literals: string[] = [];
  const getters: Getter[] = [];
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    literals.push(template.slice(last, match.index));
    const parsed = parseFieldPath(match[1] ?? "");
    if (parsed === undefined) throw new Error("template path was not validated");
    if (parsed.keys[0] === MATCHED_ITEM && matched !== undefined) {
      // `{{item.name}}`: the requested item the rule's anyItem / everyItem / countItems matched.
      const get = compilePathGetter(parsed.keys.slice(1), isScalar);
      getters.push(() => get(matched.item));
    } else {
      getters.push(compilePathGetter(parsed.keys, isScalar));
    }
    last = (match.index ?? 0) + match[0].length;
  }
  const tail = template.slice(last);
  if (getters.length === 0) return () => template;
  const head = literals[0] ?? "";
  if (getters.length === 1) {
    const get = getters[0] as Getter;
    return (root) => head + text(get(root)) + tail;
  }
  return (root) => {
    let out = head;
    for (let i = 0; i < getters.length; i++) {
      out += text((getters[i] as Getter)(root));
      out += i + 1 < literals.length ? literals[i + 1] : tail;
    }
    return out;
  };
}

function isScalar(value: unknown): boolean {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

function text(value: unknown): string {
  if (value === undefined) return "";
  const s = String(value);
  return s.length > MAX_INTERPOLATED_LENGTH ? s.slice(0, MAX_INTERPOLATED_LENGTH) : s;
}
