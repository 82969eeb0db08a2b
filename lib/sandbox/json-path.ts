/**
 * The JSONPath subset ISC subscription filters use (Jayway syntax): `$.a.b`, `$['a']`, `$.items[0]`,
 * `[*]`, `..name`, and filters `[?(<cond>)]` with `@`/`$` paths, literals, == != < <= > >= =~ /re/,
 * && || ! and parentheses. A filter on an object tests the object itself, so `$[?($.x == "y")]`
 * matches when the input's x is "y". Anything else is a syntax error (validate-filter: invalid).
 */
export class JsonPathSyntaxError extends Error {}

type Segment =
  | { kind: "child"; name: string }
  | { kind: "index"; index: number }
  | { kind: "wildcard" }
  | { kind: "descendant"; name: string | null }
  | { kind: "filter"; cond: Cond };

type Operand =
  | { kind: "path"; root: "@" | "$"; segments: Segment[] }
  | { kind: "literal"; value: unknown }
  | { kind: "regex"; regex: RegExp };

type Cond =
  | { kind: "cmp"; op: string; left: Operand; right: Operand }
  | { kind: "exists"; operand: Operand }
  | { kind: "and" | "or"; left: Cond; right: Cond }
  | { kind: "not"; cond: Cond };

class Parser {
  pos = 0;
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }

  fail(message: string): never {
    throw new JsonPathSyntaxError(`${message} at position ${this.pos}`);
  }
  peek(n = 0): string {
    return this.text[this.pos + n] ?? "";
  }
  skipSpace(): void {
    while (/\s/.test(this.peek())) this.pos++;
  }
  eat(token: string): boolean {
    this.skipSpace();
    if (this.text.startsWith(token, this.pos)) {
      this.pos += token.length;
      return true;
    }
    return false;
  }
  expect(token: string): void {
    if (!this.eat(token)) this.fail(`expected "${token}"`);
  }

  name(): string {
    const match = /^[A-Za-z_$][\w$-]*/.exec(this.text.slice(this.pos));
    if (!match) this.fail("expected a property name");
    this.pos += match[0].length;
    return match[0];
  }

  quoted(): string {
    const quote = this.peek();
    if (quote !== "'" && quote !== '"') this.fail("expected a quoted string");
    this.pos++;
    let out = "";
    while (this.pos < this.text.length && this.peek() !== quote) {
      if (this.peek() === "\\") this.pos++;
      out += this.peek();
      this.pos++;
    }
    if (this.peek() !== quote) this.fail("unterminated string");
    this.pos++;
    return out;
  }

  segments(inFilter: boolean): Segment[] {
    const out: Segment[] = [];
    for (;;) {
      if (this.text.startsWith("..", this.pos)) {
        this.pos += 2;
        if (this.peek() === "*") {
          this.pos++;
          out.push({ kind: "descendant", name: null });
        } else out.push({ kind: "descendant", name: this.name() });
      } else if (this.peek() === ".") {
        this.pos++;
        if (this.peek() === "*") {
          this.pos++;
          out.push({ kind: "wildcard" });
        } else out.push({ kind: "child", name: this.name() });
      } else if (this.peek() === "[") {
        this.pos++;
        this.skipSpace();
        if (this.peek() === "*") {
          this.pos++;
          out.push({ kind: "wildcard" });
        } else if (this.peek() === "'" || this.peek() === '"') {
          out.push({ kind: "child", name: this.quoted() });
        } else if (this.peek() === "?") {
          if (inFilter) this.fail("nested filters are not supported");
          this.pos++;
          this.expect("(");
          const cond = this.or();
          this.expect(")");
          out.push({ kind: "filter", cond });
        } else {
          const match = /^-?\d+/.exec(this.text.slice(this.pos));
          if (!match) this.fail("expected an index, a quoted name, * or ?()");
          this.pos += match[0].length;
          out.push({ kind: "index", index: Number(match[0]) });
        }
        this.expect("]");
      } else {
        return out;
      }
    }
  }

  operand(): Operand {
    this.skipSpace();
    const c = this.peek();
    if (c === "@" || c === "$") {
      this.pos++;
      return { kind: "path", root: c, segments: this.segments(true) };
    }
    if (c === "'" || c === '"') return { kind: "literal", value: this.quoted() };
    if (c === "/") {
      const match = /^\/((?:\\.|[^/\\])*)\/([imsu]*)/.exec(this.text.slice(this.pos));
      if (!match) this.fail("unterminated regular expression");
      this.pos += match[0].length;
      try {
        return { kind: "regex", regex: new RegExp(match[1]!, match[2]) };
      } catch {
        this.fail("invalid regular expression");
      }
    }
    const match = /^(-?\d+(?:\.\d+)?|true|false|null)/.exec(this.text.slice(this.pos));
    if (!match) this.fail("expected a path or a literal");
    this.pos += match[0].length;
    return { kind: "literal", value: JSON.parse(match[0]) };
  }

  primary(): Cond {
    if (this.eat("!")) return { kind: "not", cond: this.primary() };
    if (this.eat("(")) {
      const cond = this.or();
      this.expect(")");
      return cond;
    }
    const left = this.operand();
    this.skipSpace();
    for (const op of ["==", "!=", "<=", ">=", "=~", "<", ">"]) {
      if (this.eat(op)) {
        const right = this.operand();
        if (op === "=~" && right.kind !== "regex") this.fail("=~ needs a /regex/");
        return { kind: "cmp", op, left, right };
      }
    }
    if (left.kind !== "path") this.fail("a literal alone is not a condition");
    return { kind: "exists", operand: left };
  }

  and(): Cond {
    let left = this.primary();
    while (this.eat("&&")) left = { kind: "and", left, right: this.primary() };
    return left;
  }

  or(): Cond {
    let left = this.and();
    while (this.eat("||")) left = { kind: "or", left, right: this.and() };
    return left;
  }
}

function children(node: unknown): unknown[] {
  if (Array.isArray(node)) return node;
  if (typeof node === "object" && node !== null) return Object.values(node);
  return [];
}

function descendants(node: unknown, out: unknown[] = []): unknown[] {
  for (const child of children(node)) {
    out.push(child);
    descendants(child, out);
  }
  return out;
}

function walk(nodes: unknown[], segments: Segment[], root: unknown): unknown[] {
  let current = nodes;
  for (const segment of segments) {
    const next: unknown[] = [];
    for (const node of current) {
      switch (segment.kind) {
        case "child":
          if (
            typeof node === "object" &&
            node !== null &&
            !Array.isArray(node) &&
            Object.hasOwn(node, segment.name)
          ) {
            next.push((node as Record<string, unknown>)[segment.name]);
          }
          break;
        case "index":
          if (Array.isArray(node)) {
            const index = segment.index < 0 ? node.length + segment.index : segment.index;
            if (index >= 0 && index < node.length) next.push(node[index]);
          }
          break;
        case "wildcard":
          next.push(...children(node));
          break;
        case "descendant":
          for (const candidate of [node, ...descendants(node)]) {
            if (segment.name === null) {
              if (candidate !== node) next.push(candidate);
            } else if (
              typeof candidate === "object" &&
              candidate !== null &&
              !Array.isArray(candidate) &&
              Object.hasOwn(candidate, segment.name)
            ) {
              next.push((candidate as Record<string, unknown>)[segment.name]);
            }
          }
          break;
        case "filter": {
          const candidates = Array.isArray(node)
            ? node
            : typeof node === "object" && node !== null
              ? [node]
              : [];
          for (const candidate of candidates) if (test(segment.cond, candidate, root)) next.push(candidate);
          break;
        }
      }
    }
    current = next;
  }
  return current;
}

function resolve(operand: Operand, current: unknown, root: unknown): unknown[] {
  if (operand.kind === "literal") return [operand.value];
  if (operand.kind === "regex") return [operand.regex];
  return walk([operand.root === "@" ? current : root], operand.segments, root);
}

function compare(op: string, left: unknown, right: unknown): boolean {
  switch (op) {
    case "==":
      return left === right;
    case "!=":
      return left !== right;
    case "=~":
      return typeof left === "string" && right instanceof RegExp && right.test(left);
  }
  const bothNumbers = typeof left === "number" && typeof right === "number";
  const bothStrings = typeof left === "string" && typeof right === "string";
  if (!bothNumbers && !bothStrings) return false;
  const [a, b] = [left as number | string, right as number | string];
  if (op === "<") return a < b;
  if (op === "<=") return a <= b;
  if (op === ">") return a > b;
  return a >= b;
}

function test(cond: Cond, current: unknown, root: unknown): boolean {
  switch (cond.kind) {
    case "and":
      return test(cond.left, current, root) && test(cond.right, current, root);
    case "or":
      return test(cond.left, current, root) || test(cond.right, current, root);
    case "not":
      return !test(cond.cond, current, root);
    case "exists":
      return resolve(cond.operand, current, root).length > 0;
    case "cmp": {
      const lefts = resolve(cond.left, current, root);
      const rights = resolve(cond.right, current, root);
      // != with a missing side is true (Jayway), the other operators need both sides.
      if (lefts.length === 0 || rights.length === 0) return cond.op === "!=";
      return lefts.some((l) => rights.some((r) => compare(cond.op, l, r)));
    }
  }
}

export interface CompiledJsonPath {
  /** The nodes the path selects in `input` (empty: no match). */
  evaluate(input: unknown): unknown[];
}

/** Parses a JSONPath of the supported subset; throws JsonPathSyntaxError. */
export function compileJsonPath(text: string): CompiledJsonPath {
  if (typeof text !== "string" || text.length === 0 || text.length > 2000) {
    throw new JsonPathSyntaxError("a filter is a non-empty string of at most 2000 characters");
  }
  const parser = new Parser(text.trim());
  if (!parser.eat("$")) parser.fail('a JSONPath starts with "$"');
  const segments = parser.segments(false);
  parser.skipSpace();
  if (parser.pos < parser.text.length) parser.fail("unexpected text");
  return { evaluate: (input) => walk([input], segments, input) };
}

export function isValidJsonPath(text: string): boolean {
  try {
    compileJsonPath(text);
    return true;
  } catch {
    return false;
  }
}
