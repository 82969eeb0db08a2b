/**
 * A validated rules document compiled into plain closures, once, at cold start. This is all the
 * Lambda handlers import (no yaml, no rules schema): they load the `rules.json` of the bundle, validated
 * at synth. Validating a document is parse.ts's job (parseRulesDocument), kept out of this module so
 * the handlers neither bundle nor construct the rules document's zod schemas.
 *
 * decide() walks the rules of the invocation's trigger in priority order (higher first, ties in file
 * order), returns the first match's decision or the trigger's default, with an Explanation built
 * from strings computed here. fallback() never throws and always returns a valid output.
 */
import * as z from "zod/mini";
import type { Invocation } from "../triggers/invocation.ts";
import {
  type DynamicApproverOutput,
  DynamicApproverOutputSchema,
  NO_ADDITIONAL_APPROVER,
  type PreApprovalOutput,
  PreApprovalOutputSchema,
} from "../triggers/schemas.ts";
import {
  DYNAMIC_APPROVER,
  type KnownTriggerId,
  POST_APPROVAL,
  PRE_APPROVAL,
} from "../triggers/trigger-ids.ts";
import {
  type CompiledCondition,
  type ConditionContext,
  type CustomPredicate,
  compileCondition,
  conditionContext,
} from "./conditions.ts";
import { RulesDocumentError, RulesEvaluationError } from "./errors.ts";
import {
  compilePathGetter,
  compileSingleValueGetter,
  compileTemplate,
  type PathKey,
  parsePath,
  SEVERAL_VALUES,
  type Template,
} from "./paths.ts";
import type {
  ActionConfig,
  ApproverRef,
  Condition,
  DynamicApproverDecisionConfig,
  PreApprovalDecisionConfig,
  RulesDocument,
  TableValue,
} from "./schema.ts";
import type { ActionSpec, CompiledRules, Decision, DecisionKind, Explanation } from "./types.ts";

// biome-ignore lint/suspicious/noExplicitAny: custom decisions are typed at the TypeScript API.
export type CustomDecision = (input: any, invocation: Invocation) => unknown;

export interface CompileOptions {
  /** Predicates named by `custom:` conditions (the TypeScript route). */
  predicates?: Readonly<Record<string, CustomPredicate>>;
  /** Decisions named by `custom:` in a `then` / `default`: return the trigger's output. */
  decisions?: Readonly<Record<string, CustomDecision>>;
  /** For messages: where the document came from. */
  source?: string;
  /**
   * `rulesVersion(document)` when it was computed already (at synth, for the bundled rules.json):
   * skips hashing the document again at cold start. Must be that document's version.
   */
  version?: string;
}

/** Default comment when pre-approval cannot decide: the requester must understand what happened. */
export const DEFAULT_PRE_APPROVAL_FALLBACK_COMMENT =
  "This request could not be checked automatically, so it was denied for safety. Please submit it again, or contact your access governance team if this persists.";

const MAX_FALLBACK_REASON = 300;

/** `sha256:<hex>` of the canonical document (sorted keys), without its tests and `$schema`. */
export function rulesVersion(document: RulesDocument): string {
  const { tests: _tests, $schema: _schema, ...rules } = document;
  // getBuiltinModule, not an ESM import: the import builds node:crypto's ESM facade (~5 ms of cold start).
  const { createHash } = process.getBuiltinModule("node:crypto");
  return `sha256:${createHash("sha256").update(canonicalJson(rules)).digest("hex")}`;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

type Output = PreApprovalOutput | DynamicApproverOutput | null;
type ActionsOf = (input: unknown) => ActionSpec[];

interface CompiledDecision {
  output(input: unknown, invocation: Invocation): Output;
  /** Extra explanation line for the last output() (a table lookup that fell to `otherwise`). */
  lastNote?: () => string | undefined;
  actions: ActionsOf;
}

/**
 * One read of a field shared by the rules that require it to equal something (`requestedFor.department
 * equals X` in 50 rules): read once per decision, and a rule whose value differs is skipped without
 * running its closures. Pure optimisation: when the field has no single value the full test runs.
 */
interface Guard {
  get: (root: unknown) => unknown;
  /** Decision counter of the cached value. */
  stamp: number;
  value: unknown;
}

interface CompiledRule {
  id: string;
  guard: Guard | undefined;
  guardValue: unknown;
  test: (subject: unknown) => boolean;
  matched: readonly string[];
  decision: CompiledDecision;
}

interface CompiledSection {
  triggerId: KnownTriggerId;
  rules: readonly CompiledRule[];
  defaultDecision: CompiledDecision;
  fallbackOutput: Output;
}

const NO_MATCHED: readonly string[] = Object.freeze([]);
const noActions: ActionsOf = () => [];

/** Compiles a validated document. Throws RulesDocumentError for what only compiling can tell (unregistered custom names). */
export function compileRules(document: RulesDocument, options: CompileOptions = {}): CompiledRules {
  const source = options.source ?? "rules document";
  const problems: Array<{ path: string; message: string }> = [];
  const base = conditionContext(document, options.predicates);
  const version = options.version ?? rulesVersion(document);
  const sections = new Map<string, CompiledSection>();

  const guards = new Map<string, Guard>();
  const guardOf = (when: Condition): { guard: Guard; value: unknown } | undefined => {
    const candidate = when.all !== undefined && when.description === undefined ? when.all[0] : when;
    if (
      candidate === undefined ||
      candidate.field === undefined ||
      candidate.equals === undefined ||
      candidate.lookup !== undefined ||
      candidate.ignoreCase === true
    ) {
      return undefined;
    }
    const keys = parsePath(candidate.field);
    if (keys === undefined) return undefined;
    let guard = guards.get(candidate.field);
    if (guard === undefined) {
      guard = { get: compileSingleValueGetter(keys), stamp: 0, value: undefined };
      guards.set(candidate.field, guard);
    }
    return { guard, value: candidate.equals };
  };

  const compileRuleList = <T>(
    sectionName: string,
    rules: ReadonlyArray<{
      id: string;
      priority?: number | undefined;
      enabled?: boolean | undefined;
      when: Condition;
      then: T;
    }>,
    decisionOf: (then: T, path: string) => CompiledDecision,
  ): CompiledRule[] => {
    const ordered = rules
      .map((rule, index) => ({ rule, index }))
      .filter(({ rule }) => rule.enabled !== false)
      .sort((a, b) => (b.rule.priority ?? 0) - (a.rule.priority ?? 0) || a.index - b.index);
    const out: CompiledRule[] = [];
    for (const { rule, index } of ordered) {
      const path = `${sectionName}.rules[${index}]`;
      try {
        const ctx: ConditionContext = { ...base, ruleId: rule.id };
        const condition = compileCondition(rule.when, ctx);
        const guarded = guardOf(rule.when);
        out.push({
          id: rule.id,
          guard: guarded?.guard,
          guardValue: guarded?.value,
          test: condition.test,
          matched: Object.freeze([...matchedLines(condition)]),
          decision: decisionOf(rule.then, `${path}.then`),
        });
      } catch (error) {
        problems.push({ path, message: (error as Error).message });
      }
    }
    return out;
  };

  const safely = (path: string, build: () => CompiledDecision): CompiledDecision => {
    try {
      return build();
    } catch (error) {
      problems.push({ path, message: (error as Error).message });
      return { output: () => null, actions: noActions };
    }
  };

  if (document.preApproval !== undefined) {
    const section = document.preApproval;
    const fileApprover = document.approver;
    const decisionOf = (then: PreApprovalDecisionConfig, path: string) =>
      safely(path, () => preApprovalDecision(then, fileApprover, options, base.tables));
    const fallbackConfig = section.fallback;
    const fallbackOutput: PreApprovalOutput = {
      approved: fallbackConfig?.decision === "approve",
      comment: fallbackConfig?.comment ?? DEFAULT_PRE_APPROVAL_FALLBACK_COMMENT,
      approver: fallbackConfig?.approver ?? fileApprover ?? "",
    };
    sections.set(PRE_APPROVAL, {
      triggerId: PRE_APPROVAL,
      rules: compileRuleList("preApproval", section.rules ?? [], decisionOf),
      defaultDecision: decisionOf(section.default, "preApproval.default"),
      fallbackOutput: checkedFixed(PreApprovalOutputSchema, fallbackOutput, "preApproval.fallback", problems),
    });
  }
  if (document.dynamicApprover !== undefined) {
    const section = document.dynamicApprover;
    const decisionOf = (then: DynamicApproverDecisionConfig, path: string) =>
      safely(path, () => dynamicApproverDecision(then, options, base.tables));
    const configured = section.fallback?.approver;
    sections.set(DYNAMIC_APPROVER, {
      triggerId: DYNAMIC_APPROVER,
      rules: compileRuleList("dynamicApprover", section.rules ?? [], decisionOf),
      defaultDecision: decisionOf(section.default, "dynamicApprover.default"),
      fallbackOutput: checkedFixed(
        DynamicApproverOutputSchema,
        configured === undefined || configured === "none"
          ? { ...NO_ADDITIONAL_APPROVER }
          : approverOutput(configured),
        "dynamicApprover.fallback",
        problems,
      ),
    });
  }
  if (document.postApproval !== undefined) {
    const section = document.postApproval;
    const decisionOf = (then: { actions?: ActionConfig[] | undefined }): CompiledDecision => ({
      output: () => null,
      actions: compileActions(then.actions),
    });
    sections.set(POST_APPROVAL, {
      triggerId: POST_APPROVAL,
      rules: compileRuleList("postApproval", section.rules ?? [], decisionOf),
      defaultDecision: decisionOf(section.default ?? {}),
      fallbackOutput: null,
    });
  }
  if (problems.length > 0) throw new RulesDocumentError(source, problems);

  const fallback = (triggerId: KnownTriggerId, reason: string): Decision => {
    const section = sections.get(triggerId);
    const output =
      section !== undefined
        ? copyOutput(section.fallbackOutput)
        : defaultFallbackOutput(triggerId, document.approver);
    return fallbackDecision(
      triggerId,
      output,
      version,
      typeof reason === "string" ? reason.slice(0, MAX_FALLBACK_REASON) : "unknown",
    );
  };

  const preSection = sections.get(PRE_APPROVAL);
  const dynSection = sections.get(DYNAMIC_APPROVER);
  const postSection = sections.get(POST_APPROVAL);
  let decisions = 0;
  const decide = (invocation: Invocation): Decision => {
    const start = performance.now();
    const triggerId = invocation.triggerId;
    // Direct comparisons: cheaper than a Map lookup on the hot path.
    const section =
      triggerId === PRE_APPROVAL ? preSection : triggerId === DYNAMIC_APPROVER ? dynSection : postSection;
    if (section === undefined) {
      if (invocation.triggerId === POST_APPROVAL) {
        return build(invocation.triggerId, null, [], "default", "default", NO_MATCHED, 0, start, version);
      }
      return fallback(invocation.triggerId, `the rules have no section for ${invocation.triggerId}`);
    }
    const input = invocation.input;
    const rules = section.rules;
    const stamp = ++decisions;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i] as CompiledRule;
      const guard = rule.guard;
      if (guard !== undefined) {
        if (guard.stamp !== stamp) {
          guard.value = guard.get(input);
          guard.stamp = stamp;
        }
        if (guard.value !== rule.guardValue && guard.value !== SEVERAL_VALUES) continue;
      }
      if (rule.test(input))
        return conclude(section, rule.decision, invocation, rule.id, "rule", rule.matched, i + 1, start);
    }
    return conclude(
      section,
      section.defaultDecision,
      invocation,
      "default",
      "default",
      NO_MATCHED,
      rules.length,
      start,
    );
  };

  const conclude = (
    section: CompiledSection,
    decision: CompiledDecision,
    invocation: Invocation,
    ruleId: string,
    kind: DecisionKind,
    matched: readonly string[],
    evaluated: number,
    start: number,
  ): Decision => {
    const output = decision.output(invocation.input, invocation);
    const note = decision.lastNote === undefined ? undefined : decision.lastNote();
    const lines = note === undefined ? matched : [...matched, note];
    return build(
      section.triggerId,
      output,
      decision.actions(invocation.input),
      ruleId,
      kind,
      lines,
      evaluated,
      start,
      version,
    );
  };

  return Object.freeze({ version, decide, fallback: safeFallback(fallback, document.approver) });
}

function build(
  triggerId: KnownTriggerId,
  output: Output,
  actions: ActionSpec[],
  ruleId: string,
  kind: DecisionKind,
  matched: readonly string[],
  rulesEvaluated: number,
  start: number,
  rulesVersion: string,
): Decision {
  const explanation: Explanation = {
    ruleId,
    kind,
    // Shared, frozen, computed at compile time: treat as read-only.
    matched: matched as string[],
    rulesVersion,
    rulesEvaluated,
    evaluationMicros: Math.round((performance.now() - start) * 1000_000) / 1000,
  };
  return { triggerId, output, actions, explanation } as Decision;
}

/** fallback() must never throw: if building the configured one failed somehow, a hard-coded safe answer. */
function safeFallback(
  fallback: (triggerId: KnownTriggerId, reason: string) => Decision,
  approver: string | undefined,
): (triggerId: KnownTriggerId, reason: string) => Decision {
  return (triggerId, reason) => {
    try {
      return fallback(triggerId, reason);
    } catch {
      return fallbackDecision(
        triggerId,
        defaultFallbackOutput(triggerId, approver),
        "unknown",
        "fallback construction failed",
      );
    }
  };
}

/** The built-in fallback when the rules configure none for this trigger: deny / no extra approver. */
function defaultFallbackOutput(triggerId: KnownTriggerId, approver: string | undefined): Output {
  if (triggerId === PRE_APPROVAL) {
    return { approved: false, comment: DEFAULT_PRE_APPROVAL_FALLBACK_COMMENT, approver: approver ?? "" };
  }
  if (triggerId === DYNAMIC_APPROVER) return { ...NO_ADDITIONAL_APPROVER };
  return null;
}

/** Plain object construction only: safeFallback relies on it not throwing. */
function fallbackDecision(
  triggerId: KnownTriggerId,
  output: Output,
  rulesVersion: string,
  fallbackReason: string,
): Decision {
  return {
    triggerId,
    output,
    actions: [],
    explanation: {
      ruleId: "fallback",
      kind: "fallback",
      matched: [],
      rulesVersion,
      rulesEvaluated: 0,
      evaluationMicros: 0,
      fallbackReason,
    },
  } as Decision;
}

function copyOutput(output: Output): Output {
  return output === null ? null : { ...output };
}

function checkedFixed<T extends Output>(
  schema: z.ZodMiniType,
  output: T,
  path: string,
  problems: Array<{ path: string; message: string }>,
): T {
  if (!z.safeParse(schema, output).success)
    problems.push({ path, message: "does not produce a valid trigger output" });
  return output;
}

/** The top-level conjuncts of a rule's condition, each as one line of the explanation. */
/** One line per part of a top-level `all` (as compiled: not compiled again), else the condition's one line. */
function matchedLines(compiled: CompiledCondition): readonly string[] {
  return compiled.partDescriptions ?? [compiled.description];
}

// Each table once, however many rules look it up (20 rules on one 50-entry table: 50 checks, not 1,000).
const approverTables = new WeakMap<
  ReadonlyMap<string, TableValue>,
  ReadonlyMap<string, DynamicApproverOutput> | Error
>();

/** The table as approvers keyed like the table; throws (for each rule using it) if an entry is not one. */
function approverTable(
  name: string,
  table: ReadonlyMap<string, TableValue>,
): ReadonlyMap<string, DynamicApproverOutput> {
  let approvers = approverTables.get(table);
  if (approvers === undefined) {
    // Entries were validated as approvers at load; re-shaped here so outputs carry exactly id/name/type.
    const checked = new Map<string, DynamicApproverOutput>();
    for (const [key, value] of table) {
      const parsed = z.safeParse(DynamicApproverOutputSchema, value);
      if (!parsed.success || parsed.data.id === "") {
        approvers = new Error(`table ${name} has an entry that is not an approver`);
        break;
      }
      checked.set(key, approverOutput(value as ApproverRef));
    }
    approvers ??= checked;
    approverTables.set(table, approvers);
  }
  if (approvers instanceof Error) throw new Error(approvers.message);
  return approvers;
}

function approverOutput(ref: ApproverRef): DynamicApproverOutput {
  return { id: ref.id, name: ref.name, type: ref.type };
}

function preApprovalDecision(
  then: PreApprovalDecisionConfig,
  fileApprover: string | undefined,
  options: CompileOptions,
  _tables: ConditionContext["tables"],
): CompiledDecision {
  const actions = compileActions(then.actions);
  if (then.custom !== undefined)
    return customDecision(then.custom, PreApprovalOutputSchema, options, actions);
  const approved = then.decision === "approve";
  const comment = compileTemplate(then.comment ?? "");
  const approverText = then.approver ?? fileApprover ?? "";
  const approver = compileTemplate(approverText);
  // Fixed parts are checked now; interpolated text is a string by construction.
  const sample: PreApprovalOutput = { approved, comment: then.comment ?? "", approver: approverText };
  if (!z.safeParse(PreApprovalOutputSchema, sample).success)
    throw new Error("does not produce a valid pre-approval output");
  return {
    output: (input) => ({ approved, comment: comment(input), approver: approver(input) }),
    actions,
  };
}

function dynamicApproverDecision(
  then: DynamicApproverDecisionConfig,
  options: CompileOptions,
  tables: ConditionContext["tables"],
): CompiledDecision {
  const actions = compileActions(then.actions);
  if (then.custom !== undefined)
    return customDecision(then.custom, DynamicApproverOutputSchema, options, actions);
  const spec = then.approver;
  if (spec === undefined) throw new Error("approver is required");
  if (spec === "none" || !("lookup" in spec)) {
    const fixed = spec === "none" ? { ...NO_ADDITIONAL_APPROVER } : approverOutput(spec);
    if (!z.safeParse(DynamicApproverOutputSchema, fixed).success)
      throw new Error("is not a valid dynamic approver");
    return { output: () => ({ ...fixed }), actions };
  }
  const approvers = approverTable(spec.lookup, tables.get(spec.lookup) as ReadonlyMap<string, TableValue>);
  const keys = parsePath(spec.by) as PathKey[];
  const findKey = compilePathGetter(
    keys,
    (v) => (typeof v === "string" || typeof v === "number") && approvers.has(String(v)),
  );
  const otherwise =
    spec.otherwise === "none" ? { ...NO_ADDITIONAL_APPROVER } : approverOutput(spec.otherwise);
  if (!z.safeParse(DynamicApproverOutputSchema, otherwise).success)
    throw new Error("otherwise is not a valid approver");
  const missNote = `no entry in table ${spec.lookup} for ${spec.by}: otherwise ${spec.otherwise === "none" ? "no additional approver" : otherwise.id}`;
  let missed = false;
  return {
    output: (input) => {
      const key = findKey(input);
      const found = key === undefined ? undefined : approvers.get(String(key));
      missed = found === undefined;
      return found === undefined ? { ...otherwise } : { ...found };
    },
    lastNote: () => (missed ? missNote : undefined),
    actions,
  };
}

function customDecision(
  name: string,
  schema: z.ZodMiniType,
  options: CompileOptions,
  actions: ActionsOf,
): CompiledDecision {
  const fn = options.decisions?.[name];
  if (fn === undefined) throw new Error(`custom decision "${name}" is not registered`);
  return {
    output: (input, invocation) => {
      let result: unknown;
      try {
        result = fn(input, invocation);
      } catch (error) {
        throw new RulesEvaluationError(name, `custom decision "${name}" threw`, error);
      }
      // Custom outputs cannot be checked at load: check each one, so a bad one goes to the fallback.
      const parsed = z.safeParse(schema, result);
      if (!parsed.success)
        throw new RulesEvaluationError(name, `custom decision "${name}" returned an invalid output`);
      return parsed.data as Output;
    },
    actions,
  };
}

function compileActions(configs: readonly ActionConfig[] | undefined): ActionsOf {
  if (configs === undefined || configs.length === 0) return noActions;
  const builders = configs.map(compileAction);
  return (input) => {
    const out: ActionSpec[] = [];
    for (const make of builders) {
      const action = make(input);
      // An id that interpolates to nothing cannot be acted on: leave the action out.
      if (action !== undefined) out.push(action);
    }
    return out;
  };
}

function compileAction(config: ActionConfig): (input: unknown) => ActionSpec | undefined {
  switch (config.type) {
    case "update-task-status": {
      const taskId: Template = compileTemplate(config.taskId);
      const status = config.completionStatus;
      const completed = config.completed;
      return (input) => {
        const id = taskId(input);
        if (id === "") return undefined;
        const action: ActionSpec = { type: "update-task-status", taskId: id, completionStatus: status };
        if (completed !== undefined)
          action.completed = completed === "now" ? new Date().toISOString() : completed;
        return action;
      };
    }
    case "complete-campaign": {
      const campaignId = compileTemplate(config.campaignId);
      const autoCompleteAction = config.autoCompleteAction;
      return (input) => {
        const id = campaignId(input);
        if (id === "") return undefined;
        return autoCompleteAction === undefined
          ? { type: "complete-campaign", campaignId: id }
          : { type: "complete-campaign", campaignId: id, autoCompleteAction };
      };
    }
    case "request-role-insights":
      return () => ({ type: "request-role-insights" });
  }
}
