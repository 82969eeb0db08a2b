/**
 * Validation of a rules document: the zod shape first, then what a schema cannot say (one operator
 * per condition, references to lists and tables, safe regexes, unique rule ids, an approver for every
 * pre-approval decision). Every problem is reported at its JSON path, so a file loader can map it to
 * a line, with a message a person can act on. Messages name keys and paths from the file, never
 * payload values.
 */
import * as z from "zod/mini";
import { formatPath } from "../errors.ts";
import { parseIsoDuration } from "../triggers/duration.ts";
import { checkIntent } from "./intent-checks.ts";
import { PATH_SYNTAX_HELP, parseFieldPath, templatePaths } from "./paths.ts";
import { regexProblem } from "./regex-guard.ts";
import {
  ApproverRefSchema,
  type ApproverSpec,
  COMBINATOR_KEYS,
  type Condition,
  type Count,
  type CountItems,
  FIELD_OPERATOR_KEYS,
  type RulesDocument,
  RulesDocumentSchema,
} from "./schema.ts";
import { CLOCK_NOT_FIXED, checkTimeCondition, zoneProblem } from "./time-checks.ts";
import { readsClock, type TimeCondition } from "./time-conditions.ts";

/** Most `from` / `lookup` steps an approver chain takes before its fixed approver or none. */
export const MAX_APPROVER_CHAIN = 5;

export type IssuePath = PropertyKey[];
export interface RawIssue {
  path: IssuePath;
  message: string;
}

/** `warnings`: what may not be what the author meant (rules check prints them; they do not fail). */
export type ValidationResult =
  | { ok: true; document: RulesDocument; warnings: RawIssue[] }
  | { ok: false; issues: RawIssue[] };

/** Accepted in `tests[].trigger` and by `rules eval --trigger`: section names or trigger ids. */
export const TRIGGER_ALIASES: Record<string, string> = {
  preApproval: "idn:access-request-pre-approval",
  dynamicApprover: "idn:access-request-dynamic-approver",
  postApproval: "idn:access-request-post-approval",
  "idn:access-request-pre-approval": "idn:access-request-pre-approval",
  "idn:access-request-dynamic-approver": "idn:access-request-dynamic-approver",
  "idn:access-request-post-approval": "idn:access-request-post-approval",
};

export function validateRulesDocument(json: unknown): ValidationResult {
  const parsed = z.safeParse(RulesDocumentSchema, json);
  if (!parsed.success) return { ok: false, issues: zodIssues(parsed.error.issues, [], json) };
  const issues: RawIssue[] = [];
  const warnings: RawIssue[] = [];
  checkDocument(parsed.data, issues);
  checkIntent(parsed.data, issues, warnings);
  return issues.length > 0 ? { ok: false, issues } : { ok: true, document: parsed.data, warnings };
}

// ---------------------------------------------------------------------------------------------
// zod issues → messages (zod/mini ships no locale: its own messages are just "Invalid input")

interface ZodIssueLike {
  code?: string;
  path: PropertyKey[];
  message: string;
  expected?: string;
  keys?: string[];
  values?: unknown[];
  minimum?: number | bigint;
  maximum?: number | bigint;
  origin?: string;
  format?: string;
  errors?: ZodIssueLike[][];
  input?: unknown;
}

function zodIssues(issues: readonly ZodIssueLike[], base: IssuePath, root: unknown): RawIssue[] {
  const out: RawIssue[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    if (issue.code === "unrecognized_keys" && issue.keys !== undefined) {
      // Point at each unknown key, so a file loader finds its line.
      for (const key of issue.keys) out.push({ path: [...path, key], message: `unknown key "${key}"` });
    } else if (issue.code === "invalid_union" && valueAt(root, path) === undefined) {
      out.push({ path, message: "is required" });
    } else if (issue.code === "invalid_union" && issue.errors !== undefined && issue.errors.length > 0) {
      out.push(...zodIssues(bestUnionBranch(issue.errors), path, root));
    } else if (isContextApproverInPreApproval(path, valueAt(root, path))) {
      out.push({
        path,
        message:
          "`from` chooses a dynamic approver (dynamicApprover section); a pre-approval approver is a username",
      });
    } else {
      out.push({ path, message: zodMessage(issue, valueAt(root, path) === undefined) });
    }
  }
  return out;
}

function isContextApproverInPreApproval(path: IssuePath, value: unknown): boolean {
  return (
    path[0] === "preApproval" &&
    path[path.length - 1] === "approver" &&
    value !== null &&
    typeof value === "object" &&
    "from" in value
  );
}

/** Of a union's failed branches, the one that got furthest: fewest issues, not refusing the value's type or value. */
function bestUnionBranch(branches: ZodIssueLike[][]): ZodIssueLike[] {
  let best = branches[0] as ZodIssueLike[];
  let bestScore = Number.POSITIVE_INFINITY;
  for (const branch of branches) {
    // A branch refusing the value outright (a literal "none" for an object) got nowhere.
    const wrongTypeAtRoot = branch.some(
      (i) => (i.code === "invalid_type" || i.code === "invalid_value") && i.path.length === 0,
    );
    const score = (wrongTypeAtRoot ? 1000 : 0) + branch.length;
    if (score < bestScore) {
      best = branch;
      bestScore = score;
    }
  }
  return best;
}

function valueAt(root: unknown, path: IssuePath): unknown {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function zodMessage(issue: ZodIssueLike, absent: boolean): string {
  if (issue.message !== "Invalid input" && issue.message !== "") return issue.message;
  switch (issue.code) {
    case "invalid_type":
      return absent ? `is required (${issue.expected})` : `expected ${issue.expected}`;
    case "invalid_value":
      return `expected one of ${(issue.values ?? []).map((v) => JSON.stringify(v)).join(", ")}`;
    case "too_small":
      return issue.origin === "array"
        ? `needs at least ${issue.minimum} item(s)`
        : issue.origin === "string"
          ? "must not be empty"
          : `must be at least ${issue.minimum}`;
    case "too_big":
      return issue.origin === "array"
        ? `allows at most ${issue.maximum} item(s)`
        : `must be at most ${issue.maximum}`;
    case "invalid_format":
      return `has an invalid format (${issue.format})`;
    case "invalid_key":
      return "has an invalid key";
    default:
      return "is invalid";
  }
}

// ---------------------------------------------------------------------------------------------
// Semantic checks

const TEXT_OPERATORS = new Set([
  "equals",
  "notEquals",
  "in",
  "notIn",
  "startsWith",
  "endsWith",
  "contains",
  "matches",
]);
const COUNT_OPERATORS = ["equals", "gt", "gte", "lt", "lte"] as const;

function checkDocument(doc: RulesDocument, issues: RawIssue[]): void {
  const lists = new Set(Object.keys(doc.lists ?? {}));
  const tables = new Set(Object.keys(doc.tables ?? {}));
  const ctx: Ctx = { doc, lists, tables, issues };
  const ruleIds = new Map<string, string>();

  const checkRules = (section: string, rules: ReadonlyArray<{ id: string; when: Condition }> | undefined) => {
    (rules ?? []).forEach((rule, index) => {
      const at = [section, "rules", index];
      const firstPath = ruleIds.get(rule.id);
      if (rule.id === "default" || rule.id === "fallback") {
        issues.push({ path: [...at, "id"], message: `"${rule.id}" is reserved; choose another rule id` });
      } else if (firstPath !== undefined) {
        issues.push({
          path: [...at, "id"],
          message: `duplicate rule id "${rule.id}" (first at ${firstPath})`,
        });
      } else {
        ruleIds.set(rule.id, formatPath(at));
      }
      checkCondition(ctx, rule.when, [...at, "when"]);
    });
  };

  if (doc.preApproval !== undefined) {
    const section = doc.preApproval;
    checkRules("preApproval", section.rules);
    section.rules?.forEach((rule, i) => {
      checkPreApprovalDecision(ctx, rule.then, ["preApproval", "rules", i, "then"]);
    });
    checkPreApprovalDecision(ctx, section.default, ["preApproval", "default"]);
  }
  if (doc.dynamicApprover !== undefined) {
    const section = doc.dynamicApprover;
    checkRules("dynamicApprover", section.rules);
    section.rules?.forEach((rule, i) => {
      checkDynamicDecision(ctx, rule.then, ["dynamicApprover", "rules", i, "then"]);
    });
    checkDynamicDecision(ctx, section.default, ["dynamicApprover", "default"]);
  }
  if (doc.postApproval !== undefined) {
    const section = doc.postApproval;
    checkRules("postApproval", section.rules);
    section.rules?.forEach((rule, i) => {
      checkActions(ctx, rule.then.actions, ["postApproval", "rules", i, "then", "actions"]);
    });
    checkActions(ctx, section.default?.actions, ["postApproval", "default", "actions"]);
  }
  if (doc.timeZone !== undefined) {
    const problem = zoneProblem(doc.timeZone);
    if (problem !== undefined) issues.push({ path: ["timeZone"], message: problem });
  }
  doc.tests?.forEach((test, i) => {
    if (test.trigger !== undefined && TRIGGER_ALIASES[test.trigger] === undefined) {
      issues.push({
        path: ["tests", i, "trigger"],
        message: "expected preApproval, dynamicApprover, postApproval or a trigger id",
      });
    }
    if (test.at === undefined && doc.testAt === undefined && testReadsClock(doc, test)) {
      issues.push({ path: ["tests", i], message: CLOCK_NOT_FIXED });
    }
  });
}

const SECTION_OF: Record<string, "preApproval" | "dynamicApprover" | "postApproval"> = {
  "idn:access-request-pre-approval": "preApproval",
  "idn:access-request-dynamic-approver": "dynamicApprover",
  "idn:access-request-post-approval": "postApproval",
};

/** Whether the rules of a test's trigger (named, or in the input's _metadata) read the clock. */
function testReadsClock(doc: RulesDocument, test: { trigger?: string | undefined; input: unknown }): boolean {
  const input = test.input as {
    _metadata?: { triggerId?: unknown };
    detail?: { _metadata?: { triggerId?: unknown } };
  };
  const named = test.trigger === undefined ? undefined : TRIGGER_ALIASES[test.trigger];
  const triggerId = named ?? input._metadata?.triggerId ?? input.detail?._metadata?.triggerId;
  const section = typeof triggerId === "string" ? SECTION_OF[triggerId] : undefined;
  if (section === undefined) return false;
  return (doc[section]?.rules ?? []).some((rule) => rule.enabled !== false && readsClock(rule.when));
}

interface Ctx {
  doc: RulesDocument;
  lists: Set<string>;
  tables: Set<string>;
  issues: RawIssue[];
}

function known(set: Set<string>): string {
  return set.size === 0 ? "none defined" : [...set].slice(0, 10).join(", ");
}

function checkTableRef(ctx: Ctx, table: string, path: IssuePath): boolean {
  if (ctx.tables.has(table)) return true;
  ctx.issues.push({ path, message: `unknown table "${table}" (tables: ${known(ctx.tables)})` });
  return false;
}

/**
 * `negated`: the condition sits under an odd number of `not`s (polarity through all/any/not), where
 * a condition over a context list means "no element" and a mixed list passes (see contextListNegation).
 */
function checkCondition(
  ctx: Ctx,
  condition: Condition,
  path: IssuePath,
  negated = false,
  inItem = false,
): void {
  const present = COMBINATOR_KEYS.filter((key) => condition[key] !== undefined);
  if (present.length !== 1) {
    ctx.issues.push({
      path,
      message:
        present.length === 0
          ? `a condition needs one of: ${COMBINATOR_KEYS.join(", ")}`
          : `a condition has exactly one of ${present.join(", ")} (nest them under all/any)`,
    });
    return;
  }
  const kind = present[0];
  const operators = FIELD_OPERATOR_KEYS.filter((key) => condition[key] !== undefined);
  if (kind !== "field") {
    for (const key of [
      ...operators,
      ...(["lookup", "ignoreCase", "trim"] as const).filter((k) => condition[k] !== undefined),
    ]) {
      ctx.issues.push({ path: [...path, key], message: `"${key}" belongs with "field", not with "${kind}"` });
    }
  }
  switch (kind) {
    case "all":
    case "any":
      condition[kind]?.forEach((child, i) => {
        checkCondition(ctx, child, [...path, kind, i], negated, inItem);
      });
      return;
    case "not":
      checkCondition(ctx, condition.not as Condition, [...path, kind], !negated, inItem);
      return;
    case "anyItem":
    case "everyItem":
      checkCondition(ctx, condition[kind] as Condition, [...path, kind], negated, true);
      return;
    case "countItems": {
      const count = condition.countItems as CountItems;
      checkCountComparison(ctx, count, [...path, "countItems"]);
      checkCondition(ctx, count.where, [...path, "countItems", "where"], false, true);
      return;
    }
    case "count": {
      const count = condition.count as Count;
      checkCountComparison(ctx, count, [...path, "count"]);
      checkPath(ctx, count.of, [...path, "count", "of"]);
      // Counting is the explicit form: what `where` says of each element is meant as written.
      if (count.where !== undefined)
        checkCondition(ctx, count.where, [...path, "count", "where"], false, false);
      return;
    }
    case "custom":
      return;
    case "time":
      ctx.issues.push(
        ...checkTimeCondition(condition.time as TimeCondition, ctx.doc.timeZone, [...path, "time"]),
      );
      return;
    case "field":
      checkFieldCondition(ctx, condition, operators, path, negated, inItem);
      return;
  }
}

function checkCountComparison(
  ctx: Ctx,
  count: Pick<Count, (typeof COUNT_OPERATORS)[number]>,
  path: IssuePath,
): void {
  const comparisons = COUNT_OPERATORS.filter((key) => count[key] !== undefined);
  if (comparisons.length !== 1) {
    ctx.issues.push({
      path,
      message: `needs exactly one comparison of the count: ${COUNT_OPERATORS.join(", ")}`,
    });
  }
}

/** A field path, `$.`-rooted or relative to the condition's scope. */
function checkPath(ctx: Ctx, path: string, at: IssuePath): boolean {
  if (parseFieldPath(path) !== undefined) return true;
  ctx.issues.push({ path: at, message: `expected ${PATH_SYNTAX_HELP}` });
  return false;
}

function checkFieldCondition(
  ctx: Ctx,
  condition: Condition,
  operators: string[],
  path: IssuePath,
  negated: boolean,
  inItem: boolean,
): void {
  checkPath(ctx, condition.field as string, [...path, "field"]);
  if (operators.length !== 1) {
    ctx.issues.push({
      path,
      message:
        operators.length === 0
          ? `"field" needs one operator: ${FIELD_OPERATOR_KEYS.join(", ")}`
          : `"field" takes one operator, found ${operators.join(", ")} (combine conditions with all/any)`,
    });
    return;
  }
  const operator = operators[0] as string;
  const negativeOperator =
    operator === "notEquals" ||
    operator === "notIn" ||
    (operator === "missing" && condition.missing === true) ||
    (operator === "exists" && condition.exists === false);
  if (negativeOperator !== negated) {
    const operandRef = condition[operator as "equals"];
    const sides = [
      condition.field as string,
      ...(operandRef !== null && typeof operandRef === "object" && "field" in operandRef
        ? [operandRef.field]
        : []),
    ];
    const list = sides.find((side) => contextListOf(side, inItem) !== undefined);
    if (list !== undefined) {
      ctx.issues.push({
        path: [...path, operator],
        message: contextListNegation(list, contextListOf(list, inItem) as string, negated ? "not" : operator),
      });
    }
  }
  if (condition.lookup !== undefined) checkTableRef(ctx, condition.lookup, [...path, "lookup"]);
  if (condition.trim !== undefined && operator !== "minLength" && operator !== "maxLength") {
    ctx.issues.push({
      path: [...path, "trim"],
      message: `applies to minLength and maxLength, not to "${operator}"`,
    });
  }
  if (condition.ignoreCase === true && !TEXT_OPERATORS.has(operator)) {
    ctx.issues.push({ path: [...path, "ignoreCase"], message: `does not apply to "${operator}"` });
  }
  const operand = condition[operator as "equals"];
  if (operand !== null && typeof operand === "object" && "field" in operand) {
    checkPath(ctx, operand.field, [...path, operator, "field"]);
  }
  if (operator === "within") {
    try {
      parseIsoDuration(condition.within as string);
    } catch {
      ctx.issues.push({
        path: [...path, "within"],
        message: "expected an ISO-8601 duration like PT24H, PT30M or P7D (no years or months)",
      });
    }
  }
  if (operator === "in" || operator === "notIn") {
    const list = condition[operator];
    if (list !== undefined && !Array.isArray(list)) {
      if ("list" in list && !ctx.lists.has(list.list)) {
        ctx.issues.push({
          path: [...path, operator, "list"],
          message: `unknown list "${list.list}" (lists: ${known(ctx.lists)})`,
        });
      }
      if ("table" in list) checkTableRef(ctx, list.table, [...path, operator, "table"]);
    }
  }
  if (operator === "matches") {
    const problem = regexProblem(condition.matches as string);
    if (problem !== undefined)
      ctx.issues.push({ path: [...path, "matches"], message: `regex refused: ${problem}` });
  }
}

/**
 * The context list a path goes through (one value per person, violation, access request or granted
 * entitlement), or undefined: `identity.x`, `manager.x`, `sod.violations.x`, `accessRequests.x`,
 * `requestedItems.entitlements.x`, and in an item's scope `entitlements.x` (`$.` paths from the root).
 * A path naming one element (`identity[0]`) is not a list.
 */
function contextListOf(field: string, inItem: boolean): string | undefined {
  const rooted = field.startsWith("$.");
  const path = rooted ? field.slice(2) : field;
  if (inItem && !rooted) return /^entitlements(\.|$)/.test(path) ? "entitlements" : undefined;
  const match = /^(identity|manager|sod\.violations|accessRequests|requestedItems\.entitlements)(\.|$)/.exec(
    path,
  );
  return match?.[1];
}

const LIST_ELEMENTS: Readonly<Record<string, string>> = {
  identity: "person in requestedFor",
  manager: "person in requestedFor",
  "sod.violations": "predicted violation",
  accessRequests: "access request",
  "requestedItems.entitlements": "entitlement an item grants",
  entitlements: "entitlement the item grants",
};

/**
 * A negated condition over a context list means "no element": a request for an active and a
 * terminated person would not match `identity.identityStatus notEquals ACTIVE`, and pass.
 */
function contextListNegation(field: string, list: string, operator: string): string {
  const element = LIST_ELEMENTS[list] ?? "element";
  const rest = field.replace(/^\$\./, "").slice(list.length).replace(/^\./, "") || "...";
  return `${field} is a list (one entry per ${element}), so "${operator}" holds only when NO entry matches, and a list with one that does and one that does not passes: count the entries instead, e.g. count: {of: ${list}, where: {field: ${rest}, notEquals: ...}, gt: 0}`;
}

function checkTemplate(ctx: Ctx, template: string | undefined, path: IssuePath): void {
  if (template === undefined) return;
  const result = templatePaths(template);
  if ("message" in result) ctx.issues.push({ path, message: result.message });
}

function checkPreApprovalDecision(
  ctx: Ctx,
  decision: { decision?: string; comment?: string; approver?: string; custom?: string; actions?: unknown[] },
  path: IssuePath,
): void {
  if (decision.custom === undefined) {
    if (decision.decision === undefined) {
      ctx.issues.push({ path: [...path, "decision"], message: "is required: approve or deny" });
    }
    if (decision.comment === undefined)
      ctx.issues.push({ path: [...path, "comment"], message: "is required" });
    if (decision.approver === undefined && ctx.doc.approver === undefined) {
      ctx.issues.push({
        path: [...path, "approver"],
        message: "no approver: set `approver` (a username) at the top of the file or on this decision",
      });
    }
  }
  checkTemplate(ctx, decision.comment, [...path, "comment"]);
  checkTemplate(ctx, decision.approver, [...path, "approver"]);
  checkActions(ctx, decision.actions as never, [...path, "actions"]);
}

function checkDynamicDecision(
  ctx: Ctx,
  decision: { approver?: unknown; custom?: string; actions?: unknown[] },
  path: IssuePath,
): void {
  const approver = decision.approver as ApproverSpec | undefined;
  if (approver === undefined) {
    if (decision.custom === undefined) {
      ctx.issues.push({
        path: [...path, "approver"],
        message: 'is required: "none", {id, name, type}, {from, otherwise} or {lookup, by, otherwise}',
      });
    }
  } else {
    checkApprover(ctx, approver, [...path, "approver"], 0);
  }
  checkActions(ctx, decision.actions as never, [...path, "actions"]);
}

/** An approver and its `otherwise` chain, which ends in a fixed approver or none by construction. */
function checkApprover(ctx: Ctx, approver: ApproverSpec, path: IssuePath, steps: number): void {
  if (approver === "none" || typeof approver !== "object") return;
  const chained = "from" in approver || "lookup" in approver;
  if (!chained) return;
  if (steps === MAX_APPROVER_CHAIN) {
    ctx.issues.push({
      path,
      message: `an approver chain takes at most ${MAX_APPROVER_CHAIN} from/lookup steps before a fixed approver or none`,
    });
    return;
  }
  if ("from" in approver) {
    if (approver.where !== undefined) {
      if (approver.from === "itemOwner" || approver.from === "sourceOwner") {
        checkCondition(ctx, approver.where, [...path, "where"]);
      } else {
        ctx.issues.push({
          path: [...path, "where"],
          message: `chooses a requested item: only with from itemOwner or sourceOwner, not ${approver.from}`,
        });
      }
    }
  } else {
    checkPath(ctx, approver.by, [...path, "by"]);
    if (checkTableRef(ctx, approver.lookup, [...path, "lookup"])) {
      // Looked-up outputs are valid by construction: every entry of the table is checked here.
      for (const [key, value] of Object.entries(ctx.doc.tables?.[approver.lookup] ?? {})) {
        if (!z.safeParse(ApproverRefSchema, value).success) {
          ctx.issues.push({
            path: ["tables", approver.lookup, key],
            message: `table "${approver.lookup}" gives approvers (used at ${formatPath(path)}): each entry must be {id, name, type: IDENTITY|GOVERNANCE_GROUP}`,
          });
        }
      }
    }
  }
  checkApprover(ctx, approver.otherwise, [...path, "otherwise"], steps + 1);
}

function checkActions(
  ctx: Ctx,
  actions: ReadonlyArray<{ type: string; taskId?: string; campaignId?: string }> | undefined,
  path: IssuePath,
): void {
  actions?.forEach((action, i) => {
    if (action.taskId !== undefined) checkTemplate(ctx, action.taskId, [...path, i, "taskId"]);
    if (action.campaignId !== undefined) checkTemplate(ctx, action.campaignId, [...path, i, "campaignId"]);
  });
}
