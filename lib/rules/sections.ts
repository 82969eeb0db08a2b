/**
 * A validated rules document compiled into one section per trigger: its rules in evaluation order
 * (priority, then file order), each with its condition, decision and context needs; its default and
 * fallback; what its explanations record of the context. compile.ts evaluates them. The order, the
 * needs and the recorded fields come from the sections' plan (precompiled.ts): computed here, or
 * precomputed at synth.
 */
import * as z from "zod/mini";
import {
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
import { type CompiledCondition, type ConditionContext, compileCondition } from "./conditions.ts";
import type { NeedsMask } from "./context-needs.ts";
import {
  approverOutput,
  type CompiledDecision,
  compileActions,
  type DecisionOptions,
  dynamicApproverDecision,
  noActions,
  type Output,
  preApprovalDecision,
} from "./decisions.ts";
import { compileSingleValueGetter, parseFieldPath } from "./paths.ts";
import { planSections, type SectionName, type SectionPlan, type SectionPlans } from "./precompiled.ts";
import type {
  ActionConfig,
  Condition,
  DynamicApproverDecisionConfig,
  PreApprovalDecisionConfig,
  RulesDocument,
} from "./schema.ts";
import { type ContextUseCollector, compileContextUses } from "./view.ts";

/** Default comment when pre-approval cannot decide: the requester must understand what happened. */
export const DEFAULT_PRE_APPROVAL_FALLBACK_COMMENT =
  "This request could not be checked automatically, so it was denied for safety. Please submit it again, or contact your access governance team if this persists.";

/**
 * One read of a field shared by the rules that require it to equal something (`requestedFor.department
 * equals X` in 50 rules): read once per decision, and a rule whose value differs is skipped without
 * running its closures. Pure optimisation: when the field has no single value the full test runs.
 */
export interface Guard {
  get: (root: unknown) => unknown;
  /** Decision counter of the cached value. */
  stamp: number;
  value: unknown;
}

export interface CompiledRule {
  id: string;
  /** false: shadow mode (a match is recorded in explanation.notEnforced, evaluation goes on). */
  enforce: boolean;
  guard: Guard | undefined;
  guardValue: unknown;
  test: (subject: unknown) => boolean;
  matched: readonly string[];
  decision: CompiledDecision;
  needs: NeedsMask;
  /** This rule's needs, every later rule's and the default's: what ContextRequired asks for here. */
  required: NeedsMask;
}

export interface CompiledSection {
  triggerId: KnownTriggerId;
  rules: readonly CompiledRule[];
  defaultDecision: CompiledDecision;
  defaultNeeds: NeedsMask;
  fallbackOutput: Output;
  /** Union of the rules' and the default's needs. */
  needs: NeedsMask;
  /**
   * Some rule has `enforce: false`: the walk takes its slower loop (a failing or unread shadow rule
   * is recorded, not deciding). False: the tight loop, as if shadow mode did not exist.
   */
  shadow: boolean;
  /** Union of the enforced rules' and the default's needs: with context given, only these stop the walk. */
  enforcedNeeds: NeedsMask;
  /** Index of the first rule that needs any context (rules.length when none does). */
  firstNeedy: number;
  /** A custom predicate or decision: it gets the request view even without context (never payload keys as context). */
  custom: boolean;
  /** Values of the context fields the section references, for explanations (none: undefined). */
  contextUses: ContextUseCollector | undefined;
}

/** What compiling reads of a rule; its order and needs come from the section's plan (precompiled.ts). */
interface RuleConfig<T> {
  id: string;
  enforce?: boolean | undefined;
  when: Condition;
  then: T;
}

function firstNeedy(rules: readonly CompiledRule[]): number {
  const index = rules.findIndex((rule) => rule.needs !== 0);
  return index === -1 ? rules.length : index;
}

export type Problems = Array<{ path: string; message: string }>;

/**
 * Each section of the document, compiled; what only compiling can tell (unregistered custom names)
 * goes to `problems`. `plans` must be the document's (planSections, or a checked precompiled one).
 */
export function compileSections(
  document: RulesDocument,
  options: DecisionOptions,
  base: Omit<ConditionContext, "ruleId">,
  problems: Problems,
  plans: SectionPlans = planSections(document),
): Map<KnownTriggerId, CompiledSection> {
  const sections = new Map<KnownTriggerId, CompiledSection>();
  const guards = new Map<string, Guard>();
  const guardOf = (when: Condition): { guard: Guard; value: unknown } | undefined => {
    const candidate = when.all !== undefined && when.description === undefined ? when.all[0] : when;
    if (
      candidate === undefined ||
      candidate.field === undefined ||
      candidate.equals === undefined ||
      typeof candidate.equals === "object" ||
      candidate.lookup !== undefined ||
      candidate.ignoreCase === true
    ) {
      return undefined;
    }
    // At the top of a rule, `$.x` and `x` read the same root.
    const keys = parseFieldPath(candidate.field)?.keys;
    if (keys === undefined) return undefined;
    let guard = guards.get(candidate.field);
    if (guard === undefined) {
      guard = { get: compileSingleValueGetter(keys), stamp: 0, value: undefined };
      guards.set(candidate.field, guard);
    }
    return { guard, value: candidate.equals };
  };

  /** The plan's rules, compiled in its order; `required` is filled in by compileSection. */
  const compileRuleList = <T>(
    sectionName: string,
    rules: ReadonlyArray<RuleConfig<T>>,
    plan: SectionPlan,
    decisionOf: (then: T, path: string, ctx: ConditionContext) => CompiledDecision,
  ): CompiledRule[] => {
    const out: CompiledRule[] = [];
    for (const { index, needs, item } of plan.rules) {
      const rule = rules[index] as RuleConfig<T>;
      const path = `${sectionName}.rules[${index}]`;
      try {
        const ctx: ConditionContext = { ...base, ruleId: rule.id };
        const condition = compileCondition(rule.when, ctx);
        // `{{item.*}}` names what this rule's quantifier matched, never what an earlier rule's did.
        const scope = ctx.scope;
        const inner = condition.test;
        const test = item
          ? (s: unknown) => {
              scope.item = undefined;
              return inner(s);
            }
          : inner;
        const guarded = guardOf(rule.when);
        out.push({
          id: rule.id,
          enforce: rule.enforce !== false,
          guard: guarded?.guard,
          guardValue: guarded?.value,
          test,
          matched: Object.freeze([...matchedLines(condition)]),
          decision: decisionOf(rule.then, `${path}.then`, ctx),
          needs,
          required: 0,
        });
      } catch (error) {
        problems.push({ path, message: (error as Error).message });
      }
    }
    return out;
  };

  /** A section with each rule's `required` (its needs and everything after it). */
  const compileSection = <T>(
    triggerId: KnownTriggerId,
    sectionName: SectionName,
    rules: ReadonlyArray<RuleConfig<T>>,
    defaultThen: T,
    decisionOf: (then: T, path: string, ctx: ConditionContext) => CompiledDecision,
    fallbackOutput: Output,
  ): CompiledSection => {
    const plan = plans[sectionName] as SectionPlan;
    const compiled = compileRuleList(sectionName, rules, plan, decisionOf);
    let after = plan.defaultNeeds;
    let enforcedNeeds = plan.defaultNeeds;
    let shadow = false;
    for (let i = compiled.length - 1; i >= 0; i--) {
      const rule = compiled[i] as CompiledRule;
      after |= rule.needs;
      rule.required = after;
      if (rule.enforce) enforcedNeeds |= rule.needs;
      else shadow = true;
    }
    return {
      triggerId,
      rules: compiled,
      defaultDecision: decisionOf(defaultThen, `${sectionName}.default`, { ...base, ruleId: "default" }),
      defaultNeeds: plan.defaultNeeds,
      fallbackOutput,
      // Every rule's needs and the default's.
      needs: after,
      shadow,
      enforcedNeeds,
      firstNeedy: firstNeedy(compiled),
      custom: plan.custom,
      contextUses: plan.fields.length === 0 ? undefined : compileContextUses(plan.fields),
    };
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
    const decisionOf = (then: PreApprovalDecisionConfig, path: string, ctx: ConditionContext) =>
      safely(path, () => preApprovalDecision(then, fileApprover, options, ctx.scope));
    const fallbackConfig = section.fallback;
    const fallbackOutput: PreApprovalOutput = {
      approved: fallbackConfig?.decision === "approve",
      comment: fallbackConfig?.comment ?? DEFAULT_PRE_APPROVAL_FALLBACK_COMMENT,
      approver: fallbackConfig?.approver ?? fileApprover ?? "",
    };
    sections.set(
      PRE_APPROVAL,
      compileSection(
        PRE_APPROVAL,
        "preApproval",
        section.rules ?? [],
        section.default,
        decisionOf,
        checkedFixed(
          PreApprovalOutputSchema,
          fallbackOutput,
          "preApproval.fallback",
          problems,
          options.outputsChecked,
        ),
      ),
    );
  }
  if (document.dynamicApprover !== undefined) {
    const section = document.dynamicApprover;
    const decisionOf = (then: DynamicApproverDecisionConfig, path: string, ctx: ConditionContext) =>
      safely(path, () => dynamicApproverDecision(then, options, ctx));
    const configured = section.fallback?.approver;
    sections.set(
      DYNAMIC_APPROVER,
      compileSection(
        DYNAMIC_APPROVER,
        "dynamicApprover",
        section.rules ?? [],
        section.default,
        decisionOf,
        checkedFixed(
          DynamicApproverOutputSchema,
          configured === undefined || configured === "none"
            ? { ...NO_ADDITIONAL_APPROVER }
            : approverOutput(configured),
          "dynamicApprover.fallback",
          problems,
          options.outputsChecked,
        ),
      ),
    );
  }
  if (document.postApproval !== undefined) {
    const section = document.postApproval;
    type ActionsOnly = { actions?: ActionConfig[] | undefined };
    const decisionOf = (then: ActionsOnly): CompiledDecision => ({
      output: () => null,
      actions: compileActions(then.actions),
    });
    sections.set(
      POST_APPROVAL,
      compileSection<ActionsOnly>(
        POST_APPROVAL,
        "postApproval",
        section.rules ?? [],
        section.default ?? {},
        decisionOf,
        null,
      ),
    );
  }
  return sections;
}

function checkedFixed<T extends Output>(
  schema: z.ZodMiniType,
  output: T,
  path: string,
  problems: Array<{ path: string; message: string }>,
  checked: boolean | undefined,
): T {
  if (checked !== true && !z.safeParse(schema, output).success)
    problems.push({ path, message: "does not produce a valid trigger output" });
  return output;
}

/** One line per part of a top-level `all` (as compiled: not compiled again), else the condition's one line. */
function matchedLines(compiled: CompiledCondition): readonly string[] {
  return compiled.partDescriptions ?? [compiled.description];
}
