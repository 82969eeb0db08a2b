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

/** Turns zod issues (classic or mini) into our ValidationIssue list. */
export function issuesFromZod(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
): ValidationIssue[] {
  return issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
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
