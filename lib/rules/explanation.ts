/**
 * Decisions as evaluate() returns them: one built from a rule or default with its explanation, and
 * the trigger's fallback (which never throws).
 */
import { NO_ADDITIONAL_APPROVER } from "../triggers/schemas.ts";
import { DYNAMIC_APPROVER, type KnownTriggerId, PRE_APPROVAL } from "../triggers/trigger-ids.ts";
import type { Output } from "./decisions.ts";
import { DEFAULT_PRE_APPROVAL_FALLBACK_COMMENT } from "./sections.ts";
import type {
  ActionSpec,
  ContextUse,
  Decision,
  DecisionKind,
  Explanation,
  NotEnforcedMatch,
} from "./types.ts";

export function build(
  triggerId: KnownTriggerId,
  output: Output,
  actions: ActionSpec[],
  ruleId: string,
  kind: DecisionKind,
  matched: readonly string[],
  rulesEvaluated: number,
  start: number,
  rulesVersion: string,
  context?: ContextUse[],
  notEnforced?: NotEnforcedMatch[],
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
  if (notEnforced !== undefined) explanation.notEnforced = notEnforced;
  if (context !== undefined && context.length > 0) explanation.context = context;
  return { triggerId, output, actions, explanation } as Decision;
}

/** fallback() must never throw: if building the configured one failed somehow, a hard-coded safe answer. */
export function safeFallback(
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
export function defaultFallbackOutput(triggerId: KnownTriggerId, approver: string | undefined): Output {
  if (triggerId === PRE_APPROVAL) {
    return { approved: false, comment: DEFAULT_PRE_APPROVAL_FALLBACK_COMMENT, approver: approver ?? "" };
  }
  if (triggerId === DYNAMIC_APPROVER) return { ...NO_ADDITIONAL_APPROVER };
  return null;
}

/** Plain object construction only: safeFallback relies on it not throwing. */
export function fallbackDecision(
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

export function copyOutput(output: Output): Output {
  return output === null ? null : { ...output };
}
