/**
 * What compiling a rules document derives that is pure data, computed once at synth and shipped beside
 * rules.json as rules.precompiled.json, so cold start skips it: each section's rules in evaluation
 * order with their context needs, which decisions name `{{item.*}}`, the default's needs, the context
 * fields explanations record. The same engine runs either way: sections.ts builds its closures from a
 * plan, which planSections() computes at cold start when no usable precompiled one is given (one
 * function, the same tests on both paths).
 *
 * A precompiled plan is trusted because the stack writes it at synth, from the same code and document
 * as the bundle, and is used only when its format (with the context-source bits) and rules version
 * match and its structure fits the document (usablePlans): anything else is ignored and the plan
 * computed. Its order is fully checked (the enabled rules, each once, by priority then file order);
 * its needs cannot be checked without computing them, so whoever can write it could also write the
 * bundle's code.
 */
import type { ContextSource } from "../context/types.ts";
import { type ContextFieldRef, type ContextObjectKind, maskOf, NeedsCollector } from "./context-needs.ts";
import type { Condition, RulesDocument } from "./schema.ts";
import { CONTEXT_SOURCE_NAMES } from "./sources.ts";

/** The file the stack writes beside rules.json (infra/rules.ts), and the functions read. */
export const PRECOMPILED_FILE = "rules.precompiled.json";

/** One rule of a section, in evaluation order. */
export interface RulePlan {
  /** Its index in the section's `rules` (disabled rules are not planned). */
  index: number;
  /** Context sources it reads (a NeedsMask). */
  needs: number;
  /** Its decision's templates name `{{item.*}}`: the matched item is reset before its test. */
  item?: true;
}

export interface SectionPlan {
  rules: RulePlan[];
  defaultNeeds: number;
  /** A custom predicate or decision (code that may read any of the view). */
  custom: boolean;
  /** The context fields the section references, for explanations (contextUses). */
  fields: ContextFieldRef[];
}

export type SectionName = "preApproval" | "dynamicApprover" | "postApproval";
const SECTION_NAMES: readonly SectionName[] = ["preApproval", "dynamicApprover", "postApproval"];
export type SectionPlans = Partial<Record<SectionName, SectionPlan>>;

export interface PrecompiledRules {
  /** PRECOMPILED_FORMAT when written: a plan of another format (or source bits) is ignored. */
  format: string;
  /** The document's rules version (compile.ts rulesVersion). */
  rulesVersion: string;
  sections: SectionPlans;
}

/** Bump the number when a plan's meaning changes; the bits are part of it so a reordered mask never matches. */
export const PRECOMPILED_FORMAT = `precompiled/1 ${CONTEXT_SOURCE_NAMES.map((s) => `${s}=${maskOf([s])}`).join(",")}`;

const EVERY_SOURCE = maskOf(CONTEXT_SOURCE_NAMES);
// A Record over ContextObjectKind: a kind added in context-needs.ts fails to compile here until listed.
const OBJECT_KINDS: ReadonlySet<string> = new Set(
  Object.keys({
    identity: 1,
    requester: 1,
    manager: 1,
    itemDetails: 1,
    itemEntitlements: 1,
    item: 1,
    itemSource: 1,
    sod: 1,
    sodViolations: 1,
    accessRequests: 1,
  } satisfies Record<ContextObjectKind, 1>),
);
const SOURCES: ReadonlySet<string> = new Set<ContextSource>(CONTEXT_SOURCE_NAMES);

interface RuleLike {
  id: string;
  priority?: number | undefined;
  enabled?: boolean | undefined;
  needs?: readonly ContextSource[] | undefined;
  when: Condition;
  then: unknown;
}

interface SectionLike {
  rules?: readonly RuleLike[] | undefined;
  default?: unknown;
}

/** How a section's `then` (and default) adds needs. */
const NEEDS_OF_THEN: Record<SectionName, (collector: NeedsCollector, then: never) => void> = {
  preApproval: (collector, then) => collector.preApproval(then),
  dynamicApprover: (collector, then) => collector.dynamicApprover(then),
  postApproval: (collector, then: { actions?: never }) => collector.actions(then.actions),
};

/** The plan of each section of a (validated) document: what compiling it would otherwise derive. */
export function planSections(document: RulesDocument): SectionPlans {
  const plans: SectionPlans = {};
  for (const name of SECTION_NAMES) {
    const section = document[name] as SectionLike | undefined;
    if (section !== undefined) plans[name] = planSection(section, NEEDS_OF_THEN[name]);
  }
  return plans;
}

function planSection(
  section: SectionLike,
  needsOfThen: (collector: NeedsCollector, then: never) => void,
): SectionPlan {
  const all = new NeedsCollector();
  const rules: RulePlan[] = [];
  for (const index of evaluationOrder(section.rules ?? [])) {
    const rule = (section.rules ?? [])[index] as RuleLike;
    const collector = new NeedsCollector();
    collector.condition(rule.when);
    needsOfThen(collector, rule.then as never);
    collector.mask |= maskOf(rule.needs);
    all.merge(collector);
    rules.push(
      usesMatchedItem(rule.then)
        ? { index, needs: collector.mask, item: true }
        : { index, needs: collector.mask },
    );
  }
  const defaults = new NeedsCollector();
  needsOfThen(defaults, (section.default ?? {}) as never);
  all.merge(defaults);
  return { rules, defaultNeeds: defaults.mask, custom: all.custom, fields: [...all.fields.values()] };
}

/** Indices of the enabled rules by priority (higher first), ties in file order. */
function evaluationOrder(rules: readonly RuleLike[]): number[] {
  return rules
    .map((rule, index) => ({ rule, index }))
    .filter(({ rule }) => rule.enabled !== false)
    .sort((a, b) => (b.rule.priority ?? 0) - (a.rule.priority ?? 0) || a.index - b.index)
    .map(({ index }) => index);
}

/** Whether a decision's templates (comment, approver, action ids) name `{{item.*}}`. */
function usesMatchedItem(then: unknown): boolean {
  return /\{\{\s*item[.[]/.test(JSON.stringify(then));
}

/** What the stack writes as rules.precompiled.json for a document that compiled (so its fixed outputs are valid). */
export function precompiledRules(document: RulesDocument, version: string): PrecompiledRules {
  return { format: PRECOMPILED_FORMAT, rulesVersion: version, sections: planSections(document) };
}

/**
 * The plans of `value` (rules.precompiled.json, parsed) when it is for this document and version and
 * well formed; else why not (the caller then plans at cold start). Cheap: no needs are computed.
 */
export function usablePlans(value: unknown, document: RulesDocument, version: string): SectionPlans | string {
  if (!isObject(value)) return "not an object";
  if (value.format !== PRECOMPILED_FORMAT) return "another format";
  if (value.rulesVersion !== version) return "another rules version";
  const sections = value.sections;
  if (!isObject(sections)) return "no sections";
  for (const key of Object.keys(sections)) {
    if (!(SECTION_NAMES as readonly string[]).includes(key)) return `unknown section ${key.slice(0, 40)}`;
  }
  for (const name of SECTION_NAMES) {
    const section = document[name] as SectionLike | undefined;
    const plan = sections[name];
    if (section === undefined && plan === undefined) continue;
    if (section === undefined || plan === undefined) return `${name}: not the document's sections`;
    const problem = planProblem(plan, section.rules ?? []);
    if (problem !== undefined) return `${name}: ${problem}`;
  }
  return sections as SectionPlans;
}

function planProblem(plan: unknown, rules: readonly RuleLike[]): string | undefined {
  if (!isObject(plan) || !Array.isArray(plan.rules)) return "no rules";
  if (!isMask(plan.defaultNeeds) || typeof plan.custom !== "boolean") return "malformed";
  if (!Array.isArray(plan.fields) || !plan.fields.every(isFieldRef)) return "malformed fields";
  // The order is checked, not trusted: every enabled rule once, by priority then file order.
  let enabled = 0;
  for (const rule of rules) if (rule.enabled !== false) enabled++;
  if (plan.rules.length !== enabled) return "not the document's rules";
  let previous: RuleLike | undefined;
  let previousIndex = -1;
  for (const entry of plan.rules as unknown[]) {
    if (!isObject(entry) || !isMask(entry.needs) || (entry.item !== undefined && entry.item !== true)) {
      return "malformed rule";
    }
    const index = entry.index;
    const rule = Number.isInteger(index) ? rules[index as number] : undefined;
    if (rule === undefined || rule.enabled === false) return "not the document's rules";
    if (previous !== undefined) {
      const before = previous.priority ?? 0;
      const now = rule.priority ?? 0;
      // Strictly after the previous one in evaluation order: also rules out repeats.
      if (now > before || (now === before && (index as number) <= previousIndex))
        return "not in evaluation order";
    }
    previous = rule;
    previousIndex = index as number;
  }
  return undefined;
}

function isFieldRef(value: unknown): boolean {
  return (
    isObject(value) &&
    typeof value.kind === "string" &&
    OBJECT_KINDS.has(value.kind) &&
    typeof value.source === "string" &&
    SOURCES.has(value.source) &&
    Array.isArray(value.field) &&
    value.field.every((key) => typeof key === "string")
  );
}

function isMask(value: unknown): boolean {
  return Number.isInteger(value) && (value as number) >= 0 && ((value as number) & ~EVERY_SOURCE) === 0;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** `rules.json` → `rules.precompiled.json` (any `x.json` → `x.precompiled.json`), in the same folder. */
export function precompiledPathOf(rulesPath: string): string {
  return `${rulesPath.endsWith(".json") ? rulesPath.slice(0, -5) : rulesPath}.precompiled.json`;
}

/**
 * The precompiled plan beside the functions' rules file, parsed; undefined when there is none (rules
 * compiled as before). Never throws: an unreadable or malformed file is null, which compileRules
 * ignores (and says so) like any unusable plan.
 */
export function readPrecompiledBeside(rulesPath: string): unknown {
  // getBuiltinModule, not an ESM import: the import builds node:fs's ESM facade (cold-start time).
  const { readFileSync } = process.getBuiltinModule("node:fs");
  let text: string;
  try {
    text = readFileSync(precompiledPathOf(rulesPath), "utf8");
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT" ? undefined : null;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
