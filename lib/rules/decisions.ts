/**
 * The `then` of a rule (and a trigger's `default`) compiled into a function of the request view:
 * a pre-approval answer with its templates, a dynamic approver (fixed, from a table, from the
 * context, chained with `otherwise`), a custom TypeScript decision, and the actions to run after.
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
import { type ConditionContext, compileCondition, itemsOf, type Test } from "./conditions.ts";
import { RulesEvaluationError } from "./errors.ts";
import {
  compilePathGetter,
  compileTemplate,
  type FieldPath,
  MAX_INTERPOLATED_LENGTH,
  parseFieldPath,
  type Template,
} from "./paths.ts";
import type {
  ActionConfig,
  ApproverFrom,
  ApproverFromKind,
  ApproverRef,
  ApproverSpec,
  DynamicApproverDecisionConfig,
  PreApprovalDecisionConfig,
  TableValue,
} from "./schema.ts";
import type { ActionSpec } from "./types.ts";

// biome-ignore lint/suspicious/noExplicitAny: custom decisions are typed at the TypeScript API.
export type CustomDecision = (input: any, invocation: Invocation) => unknown;

export type Output = PreApprovalOutput | DynamicApproverOutput | null;
export type ActionsOf = (root: unknown) => ActionSpec[];

export interface CompiledDecision {
  /** The output for the request view `root` (the payload alone when the rules read no context). */
  output(root: unknown, invocation: Invocation): Output;
  /** Explanation lines of the last output(): approver steps skipped on the way (`manager: is the requester → sourceOwner`). */
  lastNotes?: () => readonly string[] | undefined;
  actions: ActionsOf;
}

export interface DecisionOptions {
  /** Decisions named by `custom:` in a `then` / `default`: return the trigger's output. */
  decisions?: Readonly<Record<string, CustomDecision>> | undefined;
  /**
   * The fixed outputs were checked when this document compiled at synth (a usable precompiled plan,
   * precompiled.ts): their zod checks are skipped at cold start.
   */
  outputsChecked?: boolean | undefined;
}

export const noActions: ActionsOf = () => [];

export function approverOutput(ref: ApproverRef): DynamicApproverOutput {
  return { id: ref.id, name: ref.name, type: ref.type };
}

export function preApprovalDecision(
  then: PreApprovalDecisionConfig,
  fileApprover: string | undefined,
  options: DecisionOptions,
  matched?: { item: unknown },
): CompiledDecision {
  const actions = compileActions(then.actions, matched);
  if (then.custom !== undefined)
    return customDecision(then.custom, PreApprovalOutputSchema, options, actions);
  const approved = then.decision === "approve";
  const comment = compileTemplate(then.comment ?? "", matched);
  const approverText = then.approver ?? fileApprover ?? "";
  const approver = compileTemplate(approverText, matched);
  // Fixed parts are checked now; interpolated text is a string by construction.
  const sample: PreApprovalOutput = { approved, comment: then.comment ?? "", approver: approverText };
  if (options.outputsChecked !== true && !z.safeParse(PreApprovalOutputSchema, sample).success)
    throw new Error("does not produce a valid pre-approval output");
  return {
    output: (root) => ({ approved, comment: comment(root), approver: approver(root) }),
    actions,
  };
}

export function dynamicApproverDecision(
  then: DynamicApproverDecisionConfig,
  options: DecisionOptions,
  ctx: ConditionContext,
): CompiledDecision {
  const actions = compileActions(then.actions, ctx.scope);
  if (then.custom !== undefined)
    return customDecision(then.custom, DynamicApproverOutputSchema, options, actions);
  const spec = then.approver;
  if (spec === undefined) throw new Error("approver is required");
  if (spec === "none" || (!("lookup" in spec) && !("from" in spec))) {
    const fixed = fixedApprover(spec, "is not a valid dynamic approver", options.outputsChecked === true);
    return { output: () => ({ ...fixed }), actions };
  }
  const step = compileApprover(spec, ctx, options.outputsChecked === true);
  // One list per decision, emptied on each output(): conclude() copies it into the explanation.
  const notes: string[] = [];
  return {
    output: (root) => {
      notes.length = 0;
      return step(root, notes);
    },
    lastNotes: () => (notes.length === 0 ? undefined : notes),
    actions,
  };
}

/** One step of an approver chain: the approver for `root`, noting why a step was passed over. */
type ApproverStep = (root: unknown, notes: string[]) => DynamicApproverOutput;

function fixedApprover(spec: "none" | ApproverRef, problem: string, checked: boolean): DynamicApproverOutput {
  const fixed = spec === "none" ? { ...NO_ADDITIONAL_APPROVER } : approverOutput(spec);
  if (!checked && !z.safeParse(DynamicApproverOutputSchema, fixed).success) throw new Error(problem);
  return fixed;
}

/** How an explanation names the step a chain falls to. */
function stepLabel(spec: ApproverSpec): string {
  if (spec === "none") return "no additional approver";
  if ("from" in spec) return spec.from;
  if ("lookup" in spec) return `lookup ${spec.lookup}`;
  return spec.id;
}

function compileApprover(spec: ApproverSpec, ctx: ConditionContext, checked: boolean): ApproverStep {
  if (spec === "none" || (!("lookup" in spec) && !("from" in spec))) {
    const fixed = fixedApprover(spec, "otherwise is not a valid approver", checked);
    return () => ({ ...fixed });
  }
  const otherwise = compileApprover(spec.otherwise, ctx, checked);
  if ("from" in spec) return compileFrom(spec, otherwise, ctx);
  const approvers = approverTable(
    spec.lookup,
    ctx.tables.get(spec.lookup) as ReadonlyMap<string, TableValue>,
    checked,
  );
  const findKey = compilePathGetter(
    (parseFieldPath(spec.by) as FieldPath).keys,
    (v) => (typeof v === "string" || typeof v === "number") && approvers.has(String(v)),
  );
  const missNote = `no entry in table ${spec.lookup} for ${spec.by}: otherwise ${stepLabel(spec.otherwise)}`;
  return (root, notes) => {
    const key = findKey(root);
    const found = key === undefined ? undefined : approvers.get(String(key));
    if (found !== undefined) return { ...found };
    notes.push(missNote);
    return otherwise(root, notes);
  };
}

type Candidate = { ok: DynamicApproverOutput } | { skip: string };

/**
 * `from: manager | itemOwner | sourceOwner | sodPolicyOwner | sodViolationOwner` over the view.
 * A candidate that is missing, has no id, is neither an identity nor a governance group, or is the
 * requester or a person the access is for, is passed over to `otherwise` (ISC would replace a
 * self-approver anyway; we never route to one).
 */
function compileFrom(spec: ApproverFrom, otherwise: ApproverStep, ctx: ConditionContext): ApproverStep {
  const pick = candidatePicker(spec.from, spec.where, ctx);
  const next = stepLabel(spec.otherwise);
  return (root, notes) => {
    const candidate = pick(root);
    const chosen = "ok" in candidate ? notSelf(candidate.ok, root) : candidate;
    if ("ok" in chosen) return chosen.ok;
    notes.push(`${spec.from}: ${chosen.skip} → ${next}`);
    return otherwise(root, notes);
  };
}

function candidatePicker(
  from: ApproverFromKind,
  where: ApproverFrom["where"],
  ctx: ConditionContext,
): (root: unknown) => Candidate {
  switch (from) {
    case "manager":
      return (root) => asApprover(field(field(root, "manager"), 0), "IDENTITY");
    case "itemOwner":
    case "sourceOwner": {
      const matches: Test =
        where === undefined
          ? (item) => field(item, "operation") === "Add"
          : compileCondition(where, ctx).test;
      const ownerOf =
        from === "itemOwner"
          ? (item: unknown) => field(field(item, "details"), "owner")
          : (item: unknown) => field(field(item, "source"), "owner");
      return (root) => {
        const items = itemsOf(root);
        if (items !== undefined) {
          for (let i = 0; i < items.length; i++) {
            if (matches(items[i])) return asApprover(ownerOf(items[i]), undefined);
          }
        }
        return { skip: where === undefined ? "no added item" : "no requested item matches" };
      };
    }
    case "sodPolicyOwner":
    case "sodViolationOwner": {
      const key = from === "sodPolicyOwner" ? "owner" : "violationOwner";
      return (root) => {
        const first = field(field(field(root, "sod"), "violations"), 0);
        if (first === undefined) return { skip: "no SoD violation" };
        return asApprover(field(first, key), undefined);
      };
    }
  }
}

function field(value: unknown, key: string | number): unknown {
  if (value === null || typeof value !== "object") return undefined;
  return (value as Record<string | number, unknown>)[key];
}

/** A context object (an identity, an owner reference) as an approver, or why it cannot be one. */
function asApprover(ref: unknown, type: "IDENTITY" | undefined): Candidate {
  if (ref === null || typeof ref !== "object") return { skip: "missing" };
  const id = field(ref, "id");
  if (typeof id !== "string" || id === "") return { skip: "has no id" };
  const kind = type ?? field(ref, "type");
  if (kind !== "IDENTITY" && kind !== "GOVERNANCE_GROUP") {
    const shown = typeof kind === "string" ? kind.slice(0, 40) : "no type";
    return { skip: `is ${shown}, not an identity or governance group` };
  }
  const name = field(ref, "name");
  const text = typeof name === "string" ? name.slice(0, MAX_INTERPOLATED_LENGTH) : "";
  return { ok: { id, name: text, type: kind } };
}

function notSelf(approver: DynamicApproverOutput, root: unknown): Candidate {
  if (approver.id === field(field(root, "requestedBy"), "id")) return { skip: "is the requester" };
  const targets = field(root, "requestedFor");
  const list = Array.isArray(targets) ? targets : [targets];
  for (const target of list) {
    if (approver.id === field(target, "id")) return { skip: "is a person the access is for" };
  }
  return { ok: approver };
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
  entriesChecked: boolean,
): ReadonlyMap<string, DynamicApproverOutput> {
  let approvers = approverTables.get(table);
  if (approvers === undefined) {
    // Entries were validated as approvers at load; re-shaped here so outputs carry exactly id/name/type.
    const checked = new Map<string, DynamicApproverOutput>();
    for (const [key, value] of table) {
      const valid = entriesChecked || z.safeParse(DynamicApproverOutputSchema, value).success;
      if (!valid || (value as ApproverRef).id === "") {
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

function customDecision(
  name: string,
  schema: z.ZodMiniType,
  options: DecisionOptions,
  actions: ActionsOf,
): CompiledDecision {
  const fn = options.decisions?.[name];
  if (fn === undefined) throw new Error(`custom decision "${name}" is not registered`);
  return {
    output: (root, invocation) => {
      let result: unknown;
      try {
        result = fn(root, invocation);
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

export function compileActions(
  configs: readonly ActionConfig[] | undefined,
  matched?: { item: unknown },
): ActionsOf {
  if (configs === undefined || configs.length === 0) return noActions;
  const builders = configs.map((config) => compileAction(config, matched));
  return (root) => {
    const out: ActionSpec[] = [];
    for (const make of builders) {
      const action = make(root);
      // An id that interpolates to nothing cannot be acted on: leave the action out.
      if (action !== undefined) out.push(action);
    }
    return out;
  };
}

function compileAction(
  config: ActionConfig,
  matched: { item: unknown } | undefined,
): (root: unknown) => ActionSpec | undefined {
  switch (config.type) {
    case "update-task-status": {
      const taskId: Template = compileTemplate(config.taskId, matched);
      const status = config.completionStatus;
      const completed = config.completed;
      return (root) => {
        const id = taskId(root);
        if (id === "") return undefined;
        const action: ActionSpec = { type: "update-task-status", taskId: id, completionStatus: status };
        if (completed !== undefined)
          action.completed = completed === "now" ? new Date().toISOString() : completed;
        return action;
      };
    }
    case "complete-campaign": {
      const campaignId = compileTemplate(config.campaignId, matched);
      const autoCompleteAction = config.autoCompleteAction;
      return (root) => {
        const id = campaignId(root);
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
