/**
 * Checks for rules that are valid but cannot mean what their author meant (issue 12's "silent
 * traps"): a value ISC never sends in that case (`equals: role` for ROLE), an id written as a number,
 * an item's field used at the top of a rule, a `{{template}}` inside a condition (compared as literal
 * text), a template path that names nothing, `{{item.*}}` in a rule with no item quantifier.
 * An error where the rule can never be what was meant; a warning where it may be (a field ISC adds
 * that this project does not know).
 */
import { type PathKey, parseFieldPath, templatePaths } from "./paths.ts";
import type { Condition, RulesDocument, Scalar } from "./schema.ts";
import type { IssuePath, RawIssue } from "./validate.ts";

/** The fields of the access request input (pre-approval, dynamic approver) and the context roots. */
const ROOT_FIELDS = new Set(["accessRequestId", "requestedFor", "requestedBy", "requestedItems"]);
const CONTEXT_ROOTS = new Set(["identity", "requester", "manager", "sod", "accessRequests"]);
/** requestedFor / requestedBy: identity references. */
const REF_FIELDS = new Set(["id", "name", "type"]);
/** A requested item's payload fields and its context. */
const ITEM_FIELDS = new Set([
  "id",
  "name",
  "description",
  "type",
  "operation",
  "comment",
  "form",
  "clientMetadata",
  "removeDate",
  "details",
  "entitlements",
  "privileged",
  "source",
]);
/** Fields of an identity (the identity API) that rules commonly read; others are warned about. */
const IDENTITY_FIELDS = new Set([
  "id",
  "name",
  "alias",
  "displayName",
  "emailAddress",
  "identityStatus",
  "lifecycleState",
  "isManager",
  "managerRef",
  "attributes",
  "processingState",
  "created",
  "modified",
  "type",
]);

const IDENTITY_STATUSES = [
  "ACTIVE",
  "INACTIVE_SHORT_TERM",
  "INACTIVE_LONG_TERM",
  "TERMINATED",
  "DISABLED",
  "DEACTIVATED",
  "LOCKED",
  "UNREGISTERED",
  "REGISTERED",
  "PENDING",
];
/** The values ISC sends for a field (by its canonical path: scopes resolved, indexes dropped). */
const ENUMS: Readonly<Record<string, readonly string[]>> = {
  "requestedItems.type": ["ACCESS_PROFILE", "ROLE", "ENTITLEMENT"],
  "requestedItems.operation": ["Add", "Remove"],
  "requestedFor.type": ["IDENTITY"],
  "requestedBy.type": ["IDENTITY"],
  "identity.identityStatus": IDENTITY_STATUSES,
  "manager.identityStatus": IDENTITY_STATUSES,
  "requester.identityStatus": IDENTITY_STATUSES,
};

interface Sink {
  doc: RulesDocument;
  errors: RawIssue[];
  warnings: RawIssue[];
  /** Pre-approval and dynamic approver: the input's fields are known (post-approval's are not). */
  knownInput: boolean;
}

const ITEM_SCOPE = ["requestedItems"];

export function checkIntent(doc: RulesDocument, errors: RawIssue[], warnings: RawIssue[]): void {
  for (const name of ["preApproval", "dynamicApprover", "postApproval"] as const) {
    const section = doc[name];
    if (section === undefined) continue;
    const sink: Sink = { doc, errors, warnings, knownInput: name !== "postApproval" };
    section.rules?.forEach((rule, i) => {
      const at = [name, "rules", i];
      checkCondition(sink, rule.when, [...at, "when"], []);
      checkTemplates(sink, rule.then, [...at, "then"], hasItemQuantifier(rule.when));
    });
    if (section.default !== undefined) checkTemplates(sink, section.default, [name, "default"], false);
  }
}

function hasItemQuantifier(c: Condition | undefined): boolean {
  if (c === undefined) return false;
  if (c.anyItem !== undefined || c.everyItem !== undefined || c.countItems !== undefined) return true;
  return [...(c.all ?? []), ...(c.any ?? [])].some(hasItemQuantifier) || hasItemQuantifier(c.not);
}

/** `scope.x[0].y` as written in `scope` → its canonical path from the root, names only. */
function canonical(path: string, scope: readonly string[]): string[] | undefined {
  const parsed = parseFieldPath(path);
  if (parsed === undefined) return undefined;
  const names = parsed.keys.filter((k): k is string => typeof k === "string");
  return parsed.rooted ? names : [...scope, ...names];
}

function checkCondition(sink: Sink, c: Condition, path: IssuePath, scope: readonly string[]): void {
  c.all?.forEach((child, i) => {
    checkCondition(sink, child, [...path, "all", i], scope);
  });
  c.any?.forEach((child, i) => {
    checkCondition(sink, child, [...path, "any", i], scope);
  });
  if (c.not !== undefined) checkCondition(sink, c.not, [...path, "not"], scope);
  if (c.anyItem !== undefined) checkCondition(sink, c.anyItem, [...path, "anyItem"], ITEM_SCOPE);
  if (c.everyItem !== undefined) checkCondition(sink, c.everyItem, [...path, "everyItem"], ITEM_SCOPE);
  if (c.countItems !== undefined)
    checkCondition(sink, c.countItems.where, [...path, "countItems", "where"], ITEM_SCOPE);
  if (c.count?.where !== undefined) {
    const of = canonical(c.count.of, scope);
    if (of !== undefined) checkCondition(sink, c.count.where, [...path, "count", "where"], of);
  }
  if (c.field !== undefined) checkField(sink, c, path, scope);
}

function checkField(sink: Sink, c: Condition, path: IssuePath, scope: readonly string[]): void {
  const field = c.field as string;
  const full = canonical(field, scope);
  if (full === undefined) return;
  for (const op of ["equals", "notEquals", "startsWith", "endsWith", "contains"] as const) {
    const value = c[op];
    if (typeof value === "string" && value.includes("{{")) {
      sink.errors.push({
        path: [...path, op],
        message: `conditions compare literal text, so "${value.slice(0, 60)}" is compared as written: to compare with another field write ${op === "equals" || op === "notEquals" ? op : "equals"}: {field: ${value.replace(/^.*\{\{\s*|\s*\}\}.*$/g, "") || "path"}}`,
      });
    }
  }
  const first = full[0] as string;
  if (sink.knownInput && !ROOT_FIELDS.has(first) && !CONTEXT_ROOTS.has(first) && ITEM_FIELDS.has(first)) {
    sink.errors.push({
      path: [...path, "field"],
      message: `"${first}" is a field of each requested item, not of the request, so this never matches: put the condition under anyItem or everyItem, or write requestedItems.${full.join(".")} (any item)`,
    });
    return;
  }
  if (sink.knownInput) unknownPath(sink, full, [...path, "field"], "warning");
  checkValues(sink, c, full, path);
}

/** Values compared with a field ISC sends from a fixed set, and numbers compared with ids. */
function checkValues(sink: Sink, c: Condition, full: readonly string[], path: IssuePath): void {
  // `shared`: from a named list, which other conditions may use as meant (then only a warning).
  const written: Array<{ value: Scalar; at: IssuePath; shared?: boolean }> = [];
  for (const op of ["equals", "notEquals"] as const) {
    const value = c[op];
    if (value !== undefined && (typeof value !== "object" || value === null))
      written.push({ value: value as Scalar, at: [...path, op] });
  }
  for (const op of ["in", "notIn"] as const) {
    const spec = c[op];
    if (Array.isArray(spec)) {
      spec.forEach((value, i) => {
        written.push({ value, at: [...path, op, i] });
      });
    } else if (spec !== undefined && "list" in spec) {
      for (const value of sink.doc.lists?.[spec.list] ?? [])
        written.push({ value, at: [...path, op, "list"], shared: true });
    }
  }
  if (written.length === 0 || c.lookup !== undefined) return;
  const key = full.join(".");
  const last = full[full.length - 1] ?? "";
  const allowed = ENUMS[key];
  for (const { value, at, shared } of written) {
    if (typeof value === "number" && /(^id|Id|^accessRequestId)$/.test(last)) {
      (shared === true ? sink.warnings : sink.errors).push({
        path: at,
        message: `ids are text, and comparisons are strict: ${value} never equals the id "${value}"; quote it ("${value}")`,
      });
    }
    if (allowed === undefined || typeof value !== "string" || c.ignoreCase === true) continue;
    if (allowed.includes(value)) continue;
    const sameLetters = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
    if (sameLetters !== undefined) {
      (shared === true ? sink.warnings : sink.errors).push({
        path: at,
        message: `ISC sends "${sameLetters}", and comparisons are case-sensitive, so "${value}" never matches: write "${sameLetters}" (or add ignoreCase: true)`,
      });
    } else {
      sink.warnings.push({
        path: at,
        message: `"${value}" is not a value ISC sends for ${key} (${allowed.join(", ")}), so it never matches`,
      });
    }
  }
}

/** A path that names nothing ISC sends or the context holds; `level` says how sure we are. */
function unknownPath(
  sink: Sink,
  full: readonly string[],
  at: IssuePath,
  level: "error" | "warning",
): boolean {
  const [first, second] = full;
  if (first === undefined) return false;
  let message: string | undefined;
  if (!ROOT_FIELDS.has(first) && !CONTEXT_ROOTS.has(first)) {
    // Perhaps a field ISC adds that this project does not know: a warning only.
    sink.warnings.push({
      path: at,
      message: `"${first}" is not a field of the request (${[...ROOT_FIELDS].join(", ")}) or of the context (${[...CONTEXT_ROOTS].join(", ")}): check the spelling`,
    });
    return false;
  }
  if (
    (first === "requestedFor" || first === "requestedBy") &&
    second !== undefined &&
    !REF_FIELDS.has(second)
  ) {
    const person = first === "requestedFor" ? "identity" : "requester";
    message = `${first} has only id, name and type; "${second}" may be ${person}.${second} or ${person}.attributes.${second} (the identity read from ISC)`;
  } else if (first === "requestedItems" && second !== undefined && !ITEM_FIELDS.has(second)) {
    message = `a requested item has no "${second}" (${[...ITEM_FIELDS].join(", ")})`;
  } else if (
    (first === "identity" || first === "requester" || first === "manager") &&
    second !== undefined &&
    !IDENTITY_FIELDS.has(second)
  ) {
    // The identity API has more fields than these: only a warning, whatever the level.
    sink.warnings.push({
      path: at,
      message: `an identity has no "${second}" that this project knows; custom attributes are ${first}.attributes.${second}`,
    });
    return false;
  }
  if (message === undefined) return false;
  const issue = {
    path: at,
    message: level === "error" ? `${message}: it would render empty` : `${message} (check the spelling)`,
  };
  (level === "error" ? sink.errors : sink.warnings).push(issue);
  return true;
}

function checkTemplates(sink: Sink, then: object, path: IssuePath, hasQuantifier: boolean): void {
  const record = then as { comment?: unknown; approver?: unknown; actions?: unknown };
  const texts: Array<{ text: string; at: IssuePath }> = [];
  if (typeof record.comment === "string") texts.push({ text: record.comment, at: [...path, "comment"] });
  if (typeof record.approver === "string") texts.push({ text: record.approver, at: [...path, "approver"] });
  if (Array.isArray(record.actions)) {
    record.actions.forEach((action: Record<string, unknown>, i) => {
      for (const key of ["taskId", "campaignId"]) {
        if (typeof action[key] === "string")
          texts.push({ text: action[key] as string, at: [...path, "actions", i, key] });
      }
    });
  }
  for (const { text, at } of texts) {
    const result = templatePaths(text);
    if (!("paths" in result)) continue;
    for (const keys of result.paths) checkTemplatePath(sink, keys, at, hasQuantifier);
  }
}

function checkTemplatePath(
  sink: Sink,
  keys: readonly PathKey[],
  at: IssuePath,
  hasQuantifier: boolean,
): void {
  const names = keys.filter((k): k is string => typeof k === "string");
  const shown = `{{${keys
    .map((k) => (typeof k === "number" ? `[${k}]` : k))
    .join(".")
    .replace(/\.\[/g, "[")}}}`;
  if (names[0] === "item") {
    if (!hasQuantifier) {
      sink.errors.push({
        path: at,
        message: `${shown} names the requested item this rule's anyItem, everyItem or countItems matched, and this rule has none: it would render empty`,
      });
    } else if (names[1] === undefined || !ITEM_FIELDS.has(names[1])) {
      sink.errors.push({
        path: at,
        message: `${shown}: a requested item has ${names[1] === undefined ? "no text of its own: name a field" : `no "${names[1]}"`} (${[...ITEM_FIELDS].join(", ")})`,
      });
    }
    return;
  }
  if (sink.knownInput && unknownPath(sink, names, at, "error")) return;
  if (hasQuantifier && names[0] === "requestedItems" && typeof keys[1] !== "number") {
    sink.warnings.push({
      path: at,
      message: `${shown} names the first requested item that has the value, not necessarily the one this rule matched: write {{item.${names.slice(1).join(".")}}}`,
    });
  }
}
