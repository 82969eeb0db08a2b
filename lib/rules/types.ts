/**
 * The contract between the rules engine and the rest of the code (pipeline, handlers, CLI).
 * The engine (lib/rules/) implements it; nothing else depends on how rules are compiled.
 */

import type { ContextData, ContextNeeds, ContextSource } from "../context/types.ts";
import type { Invocation } from "../triggers/invocation.ts";
import type { DynamicApproverOutput, PreApprovalOutput } from "../triggers/schemas.ts";
import type { DYNAMIC_APPROVER, KnownTriggerId, PRE_APPROVAL } from "../triggers/trigger-ids.ts";
import type { PendingPredicates } from "./custom-async.ts";

/** An action attached to a decision, run after the invocation is completed (never delaying it). */
export type ActionSpec =
  | {
      type: "update-task-status";
      taskId: string;
      completionStatus: "SUCCESS" | "WARNING" | "ERROR" | "TERMINATED" | "TEMPERROR";
      /** ISO date-time written to /completed; absent = leave it. */
      completed?: string;
    }
  | { type: "complete-campaign"; campaignId: string; autoCompleteAction?: "APPROVE" | "REVOKE" }
  | { type: "request-role-insights" };

export type DecisionKind = "rule" | "default" | "fallback";

/** Why this output: the audit trail recorded with every decision. */
export interface Explanation {
  /** The matching rule's id; for "default" and "fallback", the literal "default" / "fallback". */
  ruleId: string;
  kind: DecisionKind;
  /** Human-readable descriptions of the conditions that matched (e.g. `requestedItems any: type == "ROLE"`). */
  matched: string[];
  /** Hash of the rules document (`sha256:<hex>`, first 16 hex chars are enough to show). */
  rulesVersion: string;
  /** How many rules were evaluated before the decision. */
  rulesEvaluated: number;
  /** Evaluation time in microseconds. */
  evaluationMicros: number;
  /** For fallbacks: what went wrong (no secrets, no payload values). */
  fallbackReason?: string;
  /**
   * Rules with `enforce: false` (shadow mode) that matched before the deciding rule, in evaluation
   * order: what they would have decided is not applied, only recorded. One that could not be
   * evaluated (its code failed, its context was not read) is recorded with `error`. Absent when none
   * matched or failed.
   */
  notEnforced?: NotEnforcedMatch[];
  /** The context values the decision's rules used: source, object id, and the fields read. */
  context?: ContextUse[];
}

/** A shadow-mode rule that matched (its id and the lines of its conditions), or failed (`error`, `matched: []`). */
export interface NotEnforcedMatch {
  ruleId: string;
  matched: string[];
  /** Why it could not be evaluated (the predicate that threw, the sources not read): no payload values. */
  error?: string;
}

/** One context object a decision used, with the fields its rules reference (ids, states, names: no secrets). */
export interface ContextUse {
  source: ContextSource;
  id: string;
  fields: Record<string, unknown>;
  /** Where the object came from (set by the pipeline from the read's provenance): the container's cache or ISC. */
  from?: "api" | "cache";
  /** Latency of the read that brought it (0 for a cache hit). */
  ms?: number;
}

/** evaluate()'s answer when a rule it reached needs context that was not given. */
export interface ContextRequired {
  /** The sources of that rule and of every rule and default after it: one read, then a decision. */
  contextRequired: ContextNeeds;
  /**
   * Async custom predicates the walk reached (lib/rules/custom-async.ts; `contextRequired` is then
   * empty): await `pending.settle()` within the deadline, then evaluate again.
   */
  pending?: PendingPredicates;
}

interface DecisionBase {
  explanation: Explanation;
  actions: ActionSpec[];
}

export type Decision =
  | (DecisionBase & { triggerId: typeof PRE_APPROVAL; output: PreApprovalOutput })
  | (DecisionBase & { triggerId: typeof DYNAMIC_APPROVER; output: DynamicApproverOutput })
  /** FIRE_AND_FORGET: nothing to answer, only actions. */
  | (DecisionBase & {
      triggerId: Exclude<KnownTriggerId, typeof PRE_APPROVAL | typeof DYNAMIC_APPROVER>;
      output: null;
    });

/** A rules file (or TypeScript rule set) compiled into plain functions, once, at cold start. */
export interface CompiledRules {
  /** `sha256:<hex>` of the canonical rules document. */
  readonly version: string;
  /**
   * The decision for one invocation: first matching rule by priority, else the trigger's default.
   * May throw (a custom TypeScript predicate failing, say); the pipeline then uses `fallback`.
   */
  decide(invocation: Invocation): Decision;
  /**
   * The sources the trigger's rules use anywhere (conditions, templates, approvers, actions);
   * empty when its rules read the payload alone.
   */
  contextNeeds(triggerId: KnownTriggerId): ContextNeeds;
  /**
   * decide() over the payload and `context`. Rules are walked in order; when one needs a source
   * `context` lacks (undefined: nothing read yet), the answer is ContextRequired instead of a
   * decision, so rules before it (a removal approved from the payload) cost no read. decide() is
   * evaluate() without context, throwing ContextRequiredError where this returns ContextRequired.
   */
  evaluate(invocation: Invocation, context?: ContextData): Decision | ContextRequired;
  /**
   * Whether the trigger's rules read the decision's clock (`time`, `within`): a test of them must
   * fix it (`at`), or it would pass only at some hours. Absent: unknown (read as no).
   */
  readsClock?(triggerId: KnownTriggerId): boolean;
  /** The trigger's configured fallback (deny by default), for when deciding or anything after it fails. */
  fallback(triggerId: KnownTriggerId, reason: string): Decision;
}
