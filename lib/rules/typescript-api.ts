/**
 * The TypeScript route, for what a rules file cannot say: the same format, typed, where any
 * condition may be a predicate `(input) => boolean` and any decision's `custom` a function returning the output.
 *
 *   export const rules = defineRules({
 *     approver: "svc-isc-responder",
 *     preApproval: {
 *       rules: [{ id: "freeze", when: (input) => isFrozen(input), then: { decision: "deny", comment: "Frozen" } }],
 *       default: { custom: (input) => ({ approved: true, comment: `OK ${input.accessRequestId}`, approver: "svc" }) },
 *     },
 *   });
 *
 * Functions become named `custom:` entries of an ordinary document, validated and compiled like a
 * file, so explanations, priorities, fallbacks and output checks behave the same. A custom decision's
 * output is checked on every call (a bad one throws, and the pipeline answers with the fallback).
 *
 * Predicates and custom decisions receive the request view: the input and, once read, its context
 * (`view.identity`, `item.details`, ...). A rule whose code reads context says which with `needs`
 * (paths in the rule's other parts declare their own). Predicates may be async and take a second
 * argument, `{signal, context, invocation}` (custom-async.ts).
 *
 * A module exporting `defineRules(...)` as its default export is a rules file for every command and
 * for the stack (typescript-module.ts, infra/typescript-rules.ts).
 */
import type { ContextSource } from "../context/types.ts";
import type { Invocation } from "../triggers/invocation.ts";
import type { DynamicApproverOutput, PreApprovalOutput } from "../triggers/schemas.ts";
import { type CompileOptions, type CustomDecision, compileRules } from "./compile.ts";
import type { CustomPredicate } from "./conditions.ts";
import type { PredicateApi } from "./custom-async.ts";
import { parseRulesDocument } from "./parse.ts";
import type {
  ApproverFromKind,
  ApproverRef,
  Condition,
  Count,
  CountItems,
  DynamicApproverDecisionConfig,
  PreApprovalDecisionConfig,
  RulesDocument,
} from "./schema.ts";
import type { CompiledRules } from "./types.ts";
import type { ItemView, RequestView } from "./view.ts";

export type { PredicateApi } from "./custom-async.ts";
export type { ItemView, RequestView } from "./view.ts";

/**
 * A predicate may be async and may take a second argument: `{signal, context, invocation}`
 * (PredicateApi). The signal aborts at the decision's deadline; a predicate that rejects or has not
 * settled by then makes the decision fall back (custom-async.ts).
 */
export type PredicateResult = boolean | Promise<boolean>;
export type InputPredicate = (input: RequestView, api: PredicateApi) => PredicateResult;
export type ItemPredicate = (item: ItemView, api: PredicateApi) => PredicateResult;
/** Inside `count`: one element of the counted list (an access request, an identity, an entitlement, ...). */
// biome-ignore lint/suspicious/noExplicitAny: the element's type depends on the counted path.
export type ElementPredicate = (element: any, api: PredicateApi) => PredicateResult;

/** A condition of the file format whose parts may also be predicates (`P` at this level, items below). */
export interface TsCondition<P = InputPredicate>
  extends Omit<Condition, "all" | "any" | "not" | "anyItem" | "everyItem" | "countItems" | "count"> {
  all?: Array<TsCondition<P> | P>;
  any?: Array<TsCondition<P> | P>;
  not?: TsCondition<P> | P;
  anyItem?: TsCondition<ItemPredicate> | ItemPredicate;
  everyItem?: TsCondition<ItemPredicate> | ItemPredicate;
  countItems?: Omit<CountItems, "where"> & { where: TsCondition<ItemPredicate> | ItemPredicate };
  count?: Omit<Count, "where"> & { where?: TsCondition<ElementPredicate> | ElementPredicate };
}

export interface TsRule<Then> {
  id: string;
  description?: string;
  priority?: number;
  enabled?: boolean;
  /** false: shadow mode (evaluated and recorded when it matches, never decides). */
  enforce?: boolean;
  /** Context sources the rule's predicates or custom decision read. */
  needs?: ContextSource[];
  when: TsCondition | InputPredicate;
  then: Then;
}

/**
 * A decision of the file format, whose `custom` may be the function itself: `(view, invocation) => output`.
 * (Not `then: fn`: an object with a callable `then` would be taken for a promise.)
 */
export type TsDecision<Config, Output> = Omit<Config, "custom"> & {
  custom?: string | ((input: RequestView, invocation: Invocation) => Output);
};

/** An approver of the file format whose `where` may be an item predicate. */
export type TsApprover =
  | "none"
  | ApproverRef
  | { from: ApproverFromKind; where?: TsCondition<ItemPredicate> | ItemPredicate; otherwise: TsApprover }
  | { lookup: string; by: string; otherwise: TsApprover };

export type PreApprovalThen = TsDecision<PreApprovalDecisionConfig, PreApprovalOutput>;
export type DynamicApproverThen = Omit<
  TsDecision<DynamicApproverDecisionConfig, DynamicApproverOutput>,
  "approver"
> & { approver?: TsApprover };

export interface RulesDefinition
  extends Omit<RulesDocument, "preApproval" | "dynamicApprover" | "postApproval"> {
  preApproval?: Omit<NonNullable<RulesDocument["preApproval"]>, "rules" | "default"> & {
    rules?: Array<TsRule<PreApprovalThen>>;
    default: PreApprovalThen;
  };
  dynamicApprover?: Omit<NonNullable<RulesDocument["dynamicApprover"]>, "rules" | "default"> & {
    rules?: Array<TsRule<DynamicApproverThen>>;
    default: DynamicApproverThen;
  };
  postApproval?: Omit<NonNullable<RulesDocument["postApproval"]>, "rules"> & {
    rules?: Array<TsRule<NonNullable<NonNullable<RulesDocument["postApproval"]>["default"]>>>;
  };
}

const FORMAT_KEYS = new Set(["when", "custom", "not", "anyItem", "everyItem", "where", "default"]);

export interface DefinedRules extends CompiledRules {
  /** The document the definition became (functions as `custom:` names), e.g. to print or hash. */
  readonly document: RulesDocument;
  /**
   * The same rules compiled again reporting `version`: a module's rules version covers its code too
   * (typescript-module.ts), which the document alone does not show.
   */
  withVersion(version: string): DefinedRules;
}

/** Validates and compiles a TypeScript rule set. Throws RulesDocumentError (paths) when it breaks the format. */
export function defineRules(
  definition: RulesDefinition,
  options: Omit<CompileOptions, "source"> = {},
): DefinedRules {
  const predicates: Record<string, CustomPredicate> = { ...options.predicates };
  const decisions: Record<string, CustomDecision> = { ...options.decisions };
  let counter = 0;
  const register = (registry: Record<string, unknown>, fn: (...args: never[]) => unknown, kind: string) => {
    counter++;
    // Arrow functions take the name of the key they sit under (`when`, `custom`): not informative.
    const informative = /^[A-Za-z][A-Za-z0-9_]*$/.test(fn.name) && !FORMAT_KEYS.has(fn.name);
    const base = informative ? fn.name : kind;
    const name = `${base}-${counter}`;
    registry[name] = fn;
    return name;
  };

  const condition = (c: unknown): unknown => {
    if (typeof c === "function") return { custom: register(predicates, c as CustomPredicate, "predicate") };
    if (c === null || typeof c !== "object") return c;
    const out: Record<string, unknown> = { ...(c as Record<string, unknown>) };
    for (const key of ["all", "any"] as const)
      if (Array.isArray(out[key])) out[key] = (out[key] as unknown[]).map(condition);
    for (const key of ["not", "anyItem", "everyItem"] as const)
      if (out[key] !== undefined) out[key] = condition(out[key]);
    for (const key of ["countItems", "count"] as const) {
      if (out[key] !== null && typeof out[key] === "object") {
        const count = out[key] as Record<string, unknown>;
        out[key] = count.where === undefined ? count : { ...count, where: condition(count.where) };
      }
    }
    return out;
  };
  const approver = (spec: unknown): unknown => {
    if (spec === null || typeof spec !== "object") return spec;
    const out: Record<string, unknown> = { ...(spec as Record<string, unknown>) };
    if (out.where !== undefined) out.where = condition(out.where);
    if (out.otherwise !== undefined) out.otherwise = approver(out.otherwise);
    return out;
  };
  const decision = (config: unknown): unknown => {
    if (config === null || typeof config !== "object") return config;
    const out: Record<string, unknown> = { ...(config as Record<string, unknown>) };
    if (typeof out.custom === "function")
      out.custom = register(decisions, out.custom as CustomDecision, "decision");
    if (out.approver !== undefined) out.approver = approver(out.approver);
    return out;
  };
  const section = (s: Record<string, unknown> | undefined): unknown => {
    if (s === undefined) return undefined;
    const out: Record<string, unknown> = { ...s };
    if (Array.isArray(s.rules)) {
      out.rules = s.rules.map((rule: Record<string, unknown>) => ({
        ...rule,
        when: condition(rule.when),
        // biome-ignore lint/suspicious/noThenProperty: `then` is the rules format's word for the decision (never callable).
        then: decision(rule.then),
      }));
    }
    if (s.default !== undefined) out.default = decision(s.default);
    return out;
  };

  const json: Record<string, unknown> = { ...definition };
  for (const key of ["preApproval", "dynamicApprover", "postApproval"] as const) {
    const converted = section(definition[key] as Record<string, unknown> | undefined);
    if (converted === undefined) delete json[key];
    else json[key] = converted;
  }
  const document = parseRulesDocument(json, "defineRules");
  const build = (version: string | undefined): DefinedRules => {
    const compiled = compileRules(document, {
      predicates,
      decisions,
      source: "defineRules",
      ...(version === undefined ? {} : { version }),
    });
    return Object.freeze({ ...compiled, document, withVersion: (v: string) => build(v) });
  };
  return build(options.version);
}
