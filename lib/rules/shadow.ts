/**
 * The parts of a walk over a section with `enforce: false` rules (compile.ts runs the loop): where
 * it stops for missing context, what it then asks for, what it records of a shadow rule that could
 * not be evaluated. A shadow rule never decides, so it never stops the walk once context was read,
 * and its failure is recorded instead of failing the decision. Sections without shadow rules never
 * come here (their walk is the tight loop).
 */
import type { ContextData } from "../context/types.ts";
import type { Invocation } from "../triggers/invocation.ts";
import type { NeedsMask } from "./context-needs.ts";
import { RulesEvaluationError } from "./errors.ts";
import type { CompiledRule, CompiledSection } from "./sections.ts";
import type { NotEnforcedMatch } from "./types.ts";
import { loadedMask, requestView } from "./view.ts";

/**
 * Where a walk with shadow rules stops for `missing` context: at the first rule needing some of it,
 * but once context was read (not `firstPass`) only at an enforced one: a shadow rule never stops it.
 */
export function shadowStop(rules: readonly CompiledRule[], missing: NeedsMask, firstPass: boolean): number {
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i] as CompiledRule;
    if ((rule.needs & missing) !== 0 && (firstPass || rule.enforce)) return i;
  }
  return rules.length;
}

/** The needs of the enforced rules from `from` on and of the default. */
export function enforcedRequired(
  rules: readonly CompiledRule[],
  from: number,
  defaultNeeds: NeedsMask,
): NeedsMask {
  let mask = defaultNeeds;
  for (let i = from; i < rules.length; i++) {
    const rule = rules[i] as CompiledRule;
    if (rule.enforce) mask |= rule.needs;
  }
  return mask;
}

/**
 * The view the explanation's context values are read from. A custom section's view throws on a
 * source not read, which a shadow rule's may be (skipped, recorded): then an unguarded one.
 */
export function usesRoot(
  section: CompiledSection,
  invocation: Invocation,
  root: unknown,
  context: ContextData,
): unknown {
  if (!section.custom || !section.shadow) return root;
  return (section.needs & ~loadedMask(invocation.input, context)) === 0
    ? root
    : requestView(invocation.input, context);
}

const MAX_SHADOW_ERROR = 2000;

export function shadowFailure(rule: CompiledRule, error: string): NotEnforcedMatch {
  return { ruleId: rule.id, matched: [], error: error.slice(0, MAX_SHADOW_ERROR) };
}

/** A RulesEvaluationError's message is ours (rule id, predicate name: no payload values); anything else, its name. */
export function describeFailure(error: unknown): string {
  if (error instanceof RulesEvaluationError) return error.message;
  return `evaluation failed: ${error instanceof Error ? error.name : "error"}`;
}
