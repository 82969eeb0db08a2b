/**
 * Base of every error this project throws on purpose. `code` is stable (tests and logs match on it);
 * `httpStatus` is what an HTTP edge should answer when the error reaches it. Messages never contain
 * secrets: build them from ids and field paths, not from payload values.
 */
export class ResponderError extends Error {
  readonly code: string;
  readonly httpStatus: number;

  constructor(code: string, message: string, options: { httpStatus?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.httpStatus = options.httpStatus ?? 500;
  }
}

/** One problem in a payload, config or rules file, at a JSON path (and a line, when the source has lines). */
export interface ValidationIssue {
  path: string;
  message: string;
  line?: number;
}

/** A payload (HTTP body, event, message, config) failed its schema. Lists the fields at fault. */
export class ValidationError extends ResponderError {
  readonly issues: ValidationIssue[];

  constructor(what: string, issues: ValidationIssue[], code = "INVALID_PAYLOAD") {
    const summary = issues
      .slice(0, 5)
      .map((i) => `${i.path || "(root)"}${i.line === undefined ? "" : ` (line ${i.line})`}: ${i.message}`)
      .join("; ");
    super(
      code,
      `${what} is invalid: ${summary}${issues.length > 5 ? `; and ${issues.length - 5} more` : ""}`,
      {
        httpStatus: 400,
      },
    );
    this.issues = issues;
  }
}

/** The fields of a zod (classic or mini) issue the messages are built from. */
export interface ZodIssueLike {
  code?: string;
  path: ReadonlyArray<PropertyKey>;
  message: string;
  expected?: unknown;
  values?: ReadonlyArray<unknown>;
  keys?: ReadonlyArray<string>;
  minimum?: unknown;
  maximum?: unknown;
  origin?: string;
  format?: string;
  errors?: ReadonlyArray<ReadonlyArray<ZodIssueLike>>;
}

/**
 * Turns zod issues into our ValidationIssue list, each saying what is expected ("required", "must
 * have at least 1 item", "must be one of ...") instead of zod/mini's bare "Invalid input". With the
 * parsed `input`, a missing field reads "required" rather than "must be a string". A union that
 * matched nothing reports the branch that came closest.
 */
export function issuesFromZod(issues: ReadonlyArray<ZodIssueLike>, input?: unknown): ValidationIssue[] {
  return flattenZodIssues(issues, []).map(({ issue, path }) => ({
    path: formatPath(path),
    message: describeZodIssue(issue, input === undefined ? undefined : !hasValueAt(input, path)),
  }));
}

/** `path: message` lines (error causes), as issuesFromZod describes them. */
export function zodIssueTexts(issues: ReadonlyArray<ZodIssueLike>, input?: unknown): string[] {
  return issuesFromZod(issues, input).map((issue) => `${issue.path || "(root)"}: ${issue.message}`);
}

function flattenZodIssues(
  issues: ReadonlyArray<ZodIssueLike>,
  prefix: ReadonlyArray<PropertyKey>,
): { issue: ZodIssueLike; path: PropertyKey[] }[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === "invalid_union" && issue.errors !== undefined && issue.errors.length > 0) {
      // The branch the author most likely meant: one whose shape matched (its problems are inside
      // it, not "wrong type" at its root), then the one with the fewest problems.
      const score = (branch: ReadonlyArray<ZodIssueLike>) =>
        branch.length +
        (branch.some((i) => i.path.length === 0 && i.code !== "unrecognized_keys") ? 1000 : 0);
      const closest = [...issue.errors].sort((a, b) => score(a) - score(b))[0]!;
      if (closest.length > 0) return flattenZodIssues(closest, path);
    }
    return [{ issue, path }];
  });
}

function hasValueAt(root: unknown, path: ReadonlyArray<PropertyKey>): boolean {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== "object") return false;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value !== undefined;
}

function plural(count: unknown, noun: string): string {
  return `${String(count)} ${noun}${count === 1 ? "" : "s"}`;
}

/** What the issue expects, in words. `absent`: the field is missing (undefined when unknown). */
export function describeZodIssue(issue: ZodIssueLike, absent?: boolean): string {
  if (
    issue.message !== "Invalid input" &&
    issue.message !== "" &&
    !issue.message.startsWith("Invalid input:")
  ) {
    return issue.message;
  }
  const unit =
    issue.origin === "array" || issue.origin === "set"
      ? "item"
      : issue.origin === "string"
        ? "character"
        : undefined;
  switch (issue.code) {
    case "invalid_type":
      return absent === true ? "required" : `must be ${article(String(issue.expected))}`;
    case "invalid_value": {
      const values = (issue.values ?? []).map((value) => JSON.stringify(value));
      if (absent === true) return `required (${values.join(", ")})`;
      return values.length === 1 ? `must be ${values[0]}` : `must be one of ${values.join(", ")}`;
    }
    case "too_small":
      return unit === undefined
        ? `must be at least ${String(issue.minimum)}`
        : unit === "character" && issue.minimum === 1
          ? "must not be empty"
          : `must have at least ${plural(issue.minimum, unit)}`;
    case "too_big":
      return unit === undefined
        ? `must be at most ${String(issue.maximum)}`
        : `must have at most ${plural(issue.maximum, unit)}`;
    case "unrecognized_keys":
      return `unknown field${(issue.keys ?? []).length === 1 ? "" : "s"} ${(issue.keys ?? []).join(", ")}`;
    case "invalid_format":
      return `must be a valid ${issue.format ?? "value"}`;
    case "invalid_union":
      return "matches none of the allowed forms";
    default:
      return "is invalid";
  }
}

function article(type: string): string {
  if (type === "object" || type === "array") return `an ${type}`;
  if (type === "string" || type === "number" || type === "boolean") return `a ${type}`;
  return type;
}

/** `["requestedItems", 0, "id"]` → `requestedItems[0].id` */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}
