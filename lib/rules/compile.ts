/**
 * A validated rules document compiled into plain closures, once, at cold start. This is all the
 * Lambda handlers import (no yaml, no rules schema): they load the `rules.json` of the bundle, validated
 * at synth. Validating a document is parse.ts's job (parseRulesDocument), kept out of this module so
 * the handlers neither bundle nor construct the rules document's zod schemas.
 *
 * evaluate() walks the rules of the invocation's trigger in priority order (higher first, ties in
 * file order), returns the first match's decision or the trigger's default, with an Explanation built
 * from strings computed here. A rule needing context that was not given stops the walk with what to
 * read (ContextRequired), so the rules before it cost no read; decide() throws that instead.
 * fallback() never throws and always returns a valid output. A rule with `enforce: false` never
 * decides, not even by failing: a section with one walks a slower loop that records it (matched, or
 * why it could not be evaluated) and goes on (shadow.ts). The sections (rules in order, with
 * their needs) are compiled in sections.ts, decisions in decisions.ts, decisions and fallbacks
 * built in explanation.ts, the needs analysis is in
 * context-needs.ts and the request view in view.ts. What compiling derives that is pure data (the
 * order, the needs) is the sections' plan, computed here or, in the functions, read from
 * rules.precompiled.json written at synth (precompiled.ts).
 */
import type { ContextData } from "../context/types.ts";
import type { Invocation } from "../triggers/invocation.ts";
import {
  DYNAMIC_APPROVER,
  type KnownTriggerId,
  POST_APPROVAL,
  PRE_APPROVAL,
} from "../triggers/trigger-ids.ts";
import { type CustomPredicate, conditionContext } from "./conditions.ts";
import { type NeedsMask, needsOf } from "./context-needs.ts";
import {
  type CustomScope,
  contextNotReadListener,
  isPendingSignal,
  pendingPredicates,
} from "./custom-async.ts";
import type { CompiledDecision, CustomDecision } from "./decisions.ts";
import { ContextRequiredError, RulesDocumentError } from "./errors.ts";
import { build, copyOutput, defaultFallbackOutput, fallbackDecision, safeFallback } from "./explanation.ts";
import { SEVERAL_VALUES } from "./paths.ts";
import { type SectionPlans, usablePlans } from "./precompiled.ts";
import type { RulesDocument } from "./schema.ts";
import { type CompiledRule, type CompiledSection, compileSections, type Problems } from "./sections.ts";
import { describeFailure, enforcedRequired, shadowFailure, shadowStop, usesRoot } from "./shadow.ts";
import { readsClock as conditionReadsClock } from "./time-conditions.ts";
import type { CompiledRules, ContextRequired, Decision, DecisionKind, NotEnforcedMatch } from "./types.ts";
import { ContextNotReadSignal, loadedMask, requestView } from "./view.ts";

export type { CustomDecision } from "./decisions.ts";
export { DEFAULT_PRE_APPROVAL_FALLBACK_COMMENT } from "./sections.ts";

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
  /**
   * rules.precompiled.json, parsed (precompiled.ts): the plan computed at synth, so cold start skips
   * it. Used only when it is this document's and version's; otherwise the plan is computed here.
   */
  precomputed?: unknown;
  /** Told why a given `precomputed` was not used (the function logs it). */
  onPrecomputedIgnored?: (reason: string) => void;
}

const MAX_FALLBACK_REASON = 300;

/** `sha256:<hex>` of the canonical document (sorted keys), without its tests, their context and clock, and `$schema`. */
export function rulesVersion(document: RulesDocument): string {
  const { tests: _tests, testContext: _testContext, testAt: _testAt, $schema: _schema, ...rules } = document;
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

const NO_MATCHED: readonly string[] = Object.freeze([]);
const EVERY_SOURCE: NeedsMask = 0x1ff;

/** Compiles a validated document. Throws RulesDocumentError for what only compiling can tell (unregistered custom names). */
export function compileRules(document: RulesDocument, options: CompileOptions = {}): CompiledRules {
  const source = options.source ?? "rules document";
  const problems: Problems = [];
  const base = conditionContext(document, options.predicates);
  const version = options.version ?? rulesVersion(document);

  let plans: SectionPlans | undefined;
  if (options.precomputed !== undefined) {
    const usable = usablePlans(options.precomputed, document, version);
    if (typeof usable === "string") options.onPrecomputedIgnored?.(usable);
    else plans = usable;
  }
  // A usable plan was written at synth for this document, which compiled there: its fixed outputs were checked.
  const sections = compileSections(
    document,
    plans === undefined ? options : { ...options, outputsChecked: true },
    base,
    problems,
    plans,
  );
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
  const scope = base.scope;
  let decisions = 0;
  const evaluate = (invocation: Invocation, context?: ContextData): Decision | ContextRequired => {
    // The scope is put back afterwards: a custom predicate may evaluate these rules again, and no
    // request view outlives its evaluation.
    const outerRoot = scope.root;
    const outerNow = scope.now;
    const custom = scope.custom;
    if (custom === undefined) {
      try {
        return walk(invocation, context);
      } finally {
        scope.root = outerRoot;
        scope.now = outerNow;
      }
    }
    // Custom predicates see the invocation and context (their second argument); async ones are kept per invocation.
    const outerInvocation = custom.invocation;
    const outerContext = custom.context;
    custom.invocation = invocation;
    custom.context = context;
    custom.walk++;
    try {
      return walk(invocation, context);
    } finally {
      scope.root = outerRoot;
      scope.now = outerNow;
      custom.invocation = outerInvocation;
      custom.context = outerContext;
    }
  };

  const walk = (invocation: Invocation, context: ContextData | undefined): Decision | ContextRequired => {
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
    const missing = context === undefined ? EVERY_SOURCE : EVERY_SOURCE & ~loadedMask(input, context);
    // Rules over the payload alone read the payload itself: no view to build on the hot path.
    // Custom code reading context that was not read is noticed even if the code catches the signal.
    let notRead = false;
    let unreadSource: string | undefined;
    const root =
      section.custom || (context !== undefined && section.needs !== 0)
        ? requestView(
            input,
            context,
            section.custom
              ? // Also after this walk: an async predicate may read after an `await` (custom-async.ts).
                contextNotReadListener(scope.custom, invocation, (source) => {
                  notRead = true;
                  unreadSource = source;
                })
              : undefined,
          )
        : input;
    // What to read when it did: everything (code cannot be analysed; `needs:` avoids this).
    const requireAll = (): ContextRequired => ({ contextRequired: needsOf(EVERY_SOURCE) });
    scope.root = root;
    scope.now = invocation.receivedAt;
    const rules = section.rules;
    // Rules before `stop` need nothing missing: they run in one tight loop, with no test of needs per
    // rule (a rule set over the payload alone runs exactly the loop it ran before context existed).
    let stop = rules.length;
    if ((section.needs & missing) !== 0) {
      if (section.shadow) stop = shadowStop(rules, missing, context === undefined);
      else {
        stop = section.firstNeedy;
        while (stop < rules.length && ((rules[stop] as CompiledRule).needs & missing) === 0) stop++;
      }
    }
    let hit = -1;
    let shadow: NotEnforcedMatch[] | undefined;
    try {
      const stamp = ++decisions;
      if (!section.shadow) hit = firstMatch(rules, 0, stop, root, stamp);
      else {
        // Shadow-mode rules (enforce: false) are recorded and passed over: the next match decides.
        // Whatever goes wrong in one (its code throws, its context was not read) is recorded too.
        for (let i = 0; i < stop; i++) {
          const rule = rules[i] as CompiledRule;
          if (rule.enforce) {
            if (firstMatch(rules, i, i + 1, root, stamp) === i) {
              hit = i;
              break;
            }
            continue;
          }
          const lacking = context === undefined ? 0 : rule.needs & missing;
          if (lacking !== 0) {
            shadow ??= [];
            shadow.push(shadowFailure(rule, `context not read: ${[...needsOf(lacking)].join(", ")}`));
            continue;
          }
          const outerNotRead: boolean = notRead;
          notRead = false;
          let matches = false;
          let failed = false;
          let failure: unknown;
          try {
            matches = firstMatch(rules, i, i + 1, root, stamp) === i;
          } catch (error) {
            failed = true;
            failure = error;
          }
          const unread = notRead || (failed && notReadSignal(failure) !== undefined);
          notRead = outerNotRead;
          if (unread) {
            // Before any read its code asks for everything, as any rule's would (to be observed then).
            if (context === undefined) return requireAll();
            shadow ??= [];
            const source = notReadSignal(failure)?.source ?? unreadSource ?? "by its code";
            shadow.push(shadowFailure(rule, `context not read: ${source}`));
            continue;
          }
          if (failed) {
            // A pending async predicate is awaited (that is observing it); its failure is recorded then.
            if (isPendingSignal(failure)) throw failure;
            shadow ??= [];
            shadow.push(shadowFailure(rule, describeFailure(failure)));
            continue;
          }
          if (matches) {
            shadow ??= [];
            shadow.push({ ruleId: rule.id, matched: rule.matched as string[] });
          }
        }
      }
    } catch (error) {
      // Custom code read context nobody declared: read it, then decide again.
      if (notRead || notReadSignal(error) !== undefined) return requireAll();
      // An async predicate is pending: the caller awaits it and evaluates again. Context that later
      // rules need is asked for then, only if the predicate did not decide (no read it could spare).
      if (isPendingSignal(error)) return pendingResult(invocation);
      throw error;
    }
    if (notRead) return requireAll();
    if (hit >= 0) {
      const rule = rules[hit] as CompiledRule;
      return concludeOrRequire(
        () => notRead,
        section,
        rule.decision,
        invocation,
        root,
        context,
        rule.id,
        "rule",
        rule.matched,
        hit + 1,
        start,
        shadow,
      );
    }
    if (stop < rules.length) {
      // Once context was read, what shadow rules lack is recorded, never asked for.
      const required =
        section.shadow && context !== undefined
          ? enforcedRequired(rules, stop, section.defaultNeeds)
          : (rules[stop] as CompiledRule).required;
      return { contextRequired: needsOf(required) };
    }
    if ((section.defaultNeeds & missing) !== 0) return { contextRequired: needsOf(section.defaultNeeds) };
    return concludeOrRequire(
      () => notRead,
      section,
      section.defaultDecision,
      invocation,
      root,
      context,
      "default",
      "default",
      NO_MATCHED,
      rules.length,
      start,
      shadow,
    );
  };

  /** conclude(), but a custom decision reading context that was not read asks for it instead. */
  const concludeOrRequire = (
    notRead: () => boolean,
    section: CompiledSection,
    ...rest: Parameters<typeof conclude> extends [CompiledSection, ...infer R] ? R : never
  ): Decision | ContextRequired => {
    let decision: Decision;
    try {
      decision = conclude(section, ...rest);
    } catch (error) {
      if (notRead() || notReadSignal(error) !== undefined) return { contextRequired: needsOf(EVERY_SOURCE) };
      if (isPendingSignal(error)) return pendingResult(rest[1]);
      throw error;
    }
    return notRead() ? { contextRequired: needsOf(EVERY_SOURCE) } : decision;
  };

  const pendingResult = (invocation: Invocation): ContextRequired => ({
    contextRequired: needsOf(0),
    pending: pendingPredicates(scope.custom as CustomScope, invocation),
  });

  const decide = (invocation: Invocation): Decision => {
    const result = evaluate(invocation);
    const required = (result as Partial<ContextRequired>).contextRequired;
    if (required !== undefined) throw new ContextRequiredError(invocation.triggerId, required);
    return result as Decision;
  };

  const contextNeeds = (triggerId: KnownTriggerId) => needsOf(sections.get(triggerId)?.needs ?? 0);
  const readsClock = (triggerId: KnownTriggerId): boolean => {
    const section =
      triggerId === PRE_APPROVAL
        ? document.preApproval
        : triggerId === DYNAMIC_APPROVER
          ? document.dynamicApprover
          : document.postApproval;
    return (section?.rules ?? []).some((rule) => rule.enabled !== false && conditionReadsClock(rule.when));
  };

  const conclude = (
    section: CompiledSection,
    decision: CompiledDecision,
    invocation: Invocation,
    root: unknown,
    context: ContextData | undefined,
    ruleId: string,
    kind: DecisionKind,
    matched: readonly string[],
    evaluated: number,
    start: number,
    shadow?: NotEnforcedMatch[],
  ): Decision => {
    const output = decision.output(root, invocation);
    const notes = decision.lastNotes === undefined ? undefined : decision.lastNotes();
    const lines = notes === undefined ? matched : [...matched, ...notes];
    const uses =
      context === undefined || section.contextUses === undefined
        ? undefined
        : section.contextUses(usesRoot(section, invocation, root, context));
    return build(
      section.triggerId,
      output,
      decision.actions(root),
      ruleId,
      kind,
      lines,
      evaluated,
      start,
      version,
      uses,
      shadow,
    );
  };

  return Object.freeze({
    version,
    decide,
    evaluate,
    contextNeeds,
    readsClock,
    fallback: safeFallback(fallback, document.approver),
  });
}

/**
 * The index of the first of `rules[from..stop)` that matches `root`, or -1. A rule whose guard value
 * differs is skipped without running its closures.
 */
function firstMatch(
  rules: readonly CompiledRule[],
  from: number,
  stop: number,
  root: unknown,
  stamp: number,
): number {
  for (let i = from; i < stop; i++) {
    const rule = rules[i] as CompiledRule;
    const guard = rule.guard;
    if (guard !== undefined) {
      if (guard.stamp !== stamp) {
        guard.value = guard.get(root);
        guard.stamp = stamp;
      }
      if (guard.value !== rule.guardValue && guard.value !== SEVERAL_VALUES) continue;
    }
    if (rule.test(root)) return i;
  }
  return -1;
}

/** The ContextNotReadSignal behind `error` (custom code wraps what it throws in RulesEvaluationError). */
function notReadSignal(error: unknown): ContextNotReadSignal | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current instanceof ContextNotReadSignal) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
