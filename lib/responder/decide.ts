/**
 * decide(invocation) → output + explanation, never throwing: a rules error or an output that fails
 * the trigger's output schema turns into the trigger's configured fallback, with the reason recorded.
 * Used on the synchronous reply path (keep it cheap) and by respond() for queued invocations.
 */
import * as z from "zod/mini";
import type { CompiledRules, Decision } from "../rules/types.ts";
import type { Invocation } from "../triggers/invocation.ts";
import { DynamicApproverOutputSchema, PreApprovalOutputSchema } from "../triggers/schemas.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../triggers/trigger-ids.ts";

export interface DecideResult {
  decision: Decision;
  /** True when the output is the fallback (rules threw, or produced an invalid output). */
  fallback: boolean;
  /** Set when fallback: why (an error name and message from our own code, never payload values). */
  fallbackReason?: string;
  /**
   * The fallback came from running out of time (an async predicate that did not settle): a caller
   * with a later chance and more time (the worker, far from the deadline) decides again instead.
   */
  retryable?: boolean;
}

/** True if `output` passes the trigger's strict output schema (FIRE_AND_FORGET outputs are null). */
export function isValidOutput(triggerId: string, output: unknown): boolean {
  if (triggerId === PRE_APPROVAL) return z.safeParse(PreApprovalOutputSchema, output).success;
  if (triggerId === DYNAMIC_APPROVER) return z.safeParse(DynamicApproverOutputSchema, output).success;
  return output === null;
}

export function decide(invocation: Invocation, rules: CompiledRules): DecideResult {
  let decision: Decision;
  try {
    decision = rules.decide(invocation);
  } catch (error) {
    const reason = `rules evaluation failed: ${error instanceof Error ? error.name : "error"}`;
    return { decision: rules.fallback(invocation.triggerId, reason), fallback: true, fallbackReason: reason };
  }
  return validatedDecision(invocation, rules, decision);
}

/**
 * An evaluated decision checked against the trigger's output schema (else the fallback). A decision
 * the engine itself fell back to keeps its reason (a missing section, say): it is logged every time.
 */
export function validatedDecision(
  invocation: Invocation,
  rules: CompiledRules,
  decision: Decision,
): DecideResult {
  if (!isValidOutput(invocation.triggerId, decision.output)) {
    const reason = `rule ${decision.explanation.ruleId} produced an output that fails the ${invocation.triggerId} output schema`;
    return { decision: rules.fallback(invocation.triggerId, reason), fallback: true, fallbackReason: reason };
  }
  if (decision.explanation.kind === "fallback") {
    return { decision, fallback: true, fallbackReason: decision.explanation.fallbackReason ?? "unknown" };
  }
  return { decision, fallback: false };
}
