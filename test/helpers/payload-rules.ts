/**
 * Test doubles of CompiledRules written before live context: they decide from the payload alone.
 * This adds what the pipeline now calls (evaluate, contextNeeds), delegating to their decide().
 */
import type { CompiledRules } from "../../lib/rules/types.ts";

export function payloadOnly<T extends Pick<CompiledRules, "decide" | "fallback" | "version">>(
  rules: T,
): T & CompiledRules {
  return Object.assign(rules, {
    contextNeeds: () => new Set<never>(),
    evaluate: (invocation: Parameters<CompiledRules["decide"]>[0]) => rules.decide(invocation),
  });
}
