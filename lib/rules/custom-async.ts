/**
 * Custom predicates that are async, and the second argument every custom predicate may take.
 *
 * evaluate() is synchronous (payload-only decisions stay a tight loop), so a predicate returning a
 * promise cannot be awaited where it is called. Instead the walk stops there, like a rule needing
 * context that was not read: evaluate() returns ContextRequired with `pending` (and the context the
 * rest of the section needs, read meanwhile). The pipeline awaits `pending.settle()` within the
 * decision's deadline, then evaluates again: the walk is the same up to that call (the same rules,
 * payload and context), and the call gets its settled value instead of running again. Calls are
 * told apart by their place in the walk (which compiled predicate, its how-many-th call), kept per
 * invocation object in a WeakMap of the compiled rule set.
 *
 * A predicate that rejects, resolves to something other than a boolean, or has not settled at the
 * deadline (its signal is then aborted) makes the next evaluation throw RulesEvaluationError: the
 * decision is the fallback, the reason names the rule and the predicate.
 *
 * Context: a call that failed reading context the walk had not read (ContextNotReadSignal, which
 * makes that walk ask for everything) runs again in a walk with other context, instead of replaying
 * the failure there. Sync results are kept too (a walk that ended pending is walked again each
 * round), but only for walks over the same context object: one computed without context, or in a
 * walk that touched context it had not read (that walk asks for context instead of ending pending),
 * is computed again.
 *
 * An async predicate may read context it lacks after an `await`, when its walk has ended, and catch
 * the signal: the view's listener (contextNotReadListener) then marks that walk's calls as failed
 * reading context not read, so the walk that replays one asks for everything instead of using the
 * predicate's value, and the call runs again over what was read.
 */
import type { ContextData, ContextSource } from "../context/types.ts";
import type { Invocation } from "../triggers/invocation.ts";
import { RulesEvaluationError } from "./errors.ts";
import type { ContextRequired, Decision } from "./types.ts";
import { ContextNotReadSignal, type NotReadListener } from "./view.ts";

/** What a custom predicate receives after the subject: `(view, api) => boolean | Promise<boolean>`. */
export interface PredicateApi {
  /** Aborted when the decision's deadline passes before the predicate settled (pass it to fetch). */
  readonly signal: AbortSignal;
  /** The context read for this decision (the sources the rules declared or use); undefined before any read. */
  readonly context: ContextData | undefined;
  readonly invocation: Invocation;
}

/** Async predicates an evaluation reached that have not settled: await settle(), then evaluate again. */
export interface PendingPredicates {
  /** `rule-id/predicate-name` of each pending call (for logs; names come from the rules, not the payload). */
  readonly names: readonly string[];
  /** Resolves when every pending call settled or the deadline passed (never rejects). */
  settle(options: SettleOptions): Promise<void>;
}

export interface SettleOptions {
  /** Epoch ms: a call still pending then is abandoned (its signal aborted) and the decision falls back. */
  deadline: number;
  signal?: AbortSignal | undefined;
  clock?: () => number;
}

interface AsyncCall {
  label: string;
  ruleId: string;
  name: string;
  state: "pending" | "done" | "failed" | "overran";
  value: boolean;
  error: unknown;
  promise: Promise<void>;
  /** The context of the walk that made the call. */
  context: ContextData | undefined;
  /** A sync result, kept for later walks over the same context. */
  sync: boolean;
  /** The walk that made the call (its view reports reads of context it lacked under this number). */
  walk: number;
  /** Ends settle()'s wait for a call whose outcome no longer counts (it read context not read). */
  release: (() => void) | undefined;
}

interface InvocationCalls {
  controller: AbortController;
  calls: Map<string, AsyncCall>;
  api: PredicateApi | undefined;
  apiContext: ContextData | undefined;
  /** Walks whose custom code read context they had not read, and the source (the view reports it, maybe after the walk). */
  tainted: Map<number, ContextSource> | undefined;
}

/** Per compiled rule set (on its EvalScope): set by evaluate() before each walk. */
export interface CustomScope {
  invocation: Invocation | undefined;
  context: ContextData | undefined;
  /** Incremented per walk: each compiled predicate counts its calls from 0 in every walk. */
  walk: number;
  slots: number;
  byInvocation: WeakMap<Invocation, InvocationCalls>;
  /**
   * The sync results of walk `syncWalk` of `syncInvocation`, flat (slot, ordinal, 0|1): kept as calls
   * only if that walk ends pending (pendingPredicates), so a walk that concludes allocates nothing.
   */
  syncResults: number[];
  syncWalk: number;
  syncInvocation: Invocation | undefined;
  /** A walk in which a predicate evaluated these rules again: its ordinals restarted, keep none of it. */
  nestedWalk: number;
}

export function newCustomScope(): CustomScope {
  return {
    invocation: undefined,
    context: undefined,
    walk: 0,
    slots: 0,
    byInvocation: new WeakMap(),
    syncResults: [],
    syncWalk: -1,
    syncInvocation: undefined,
    nestedWalk: -1,
  };
}

/** Thrown through the walk when it reached a pending call; evaluate() turns it into ContextRequired + pending. */
export class PredicatePendingSignal extends Error {
  constructor() {
    super("a custom predicate is pending");
    this.name = "PredicatePendingSignal";
  }
}

// biome-ignore lint/suspicious/noExplicitAny: the subject's type is the TypeScript API's business.
type AnyPredicate = (subject: any, api: PredicateApi) => unknown;

/**
 * The test of a `custom:` condition. A predicate declaring a second parameter gets the PredicateApi;
 * one declaring only the subject is called exactly as before (no allocation).
 */
export function customPredicateTest(
  name: string,
  predicate: AnyPredicate,
  ruleId: string,
  custom: CustomScope,
): (subject: unknown) => boolean {
  const slot = custom.slots++;
  const wantsApi = predicate.length >= 2;
  let countedWalk = -1;
  let count = 0;
  return (subject) => {
    if (countedWalk !== custom.walk) {
      countedWalk = custom.walk;
      count = 0;
    }
    const ordinal = count++;
    const invocation = custom.invocation;
    const known = invocation === undefined ? undefined : custom.byInvocation.get(invocation);
    const earlier = known?.calls.get(`${slot}:${ordinal}`);
    if (earlier !== undefined && replays(earlier, custom.context)) return settledValue(earlier);
    const walk = custom.walk;
    let result: unknown;
    try {
      result = wantsApi
        ? predicate(subject, apiOf(custom))
        : (predicate as (subject: unknown) => unknown)(subject);
    } catch (error) {
      throw new RulesEvaluationError(ruleId, `custom predicate "${name}" threw`, error);
    } finally {
      if (custom.walk !== walk) custom.nestedWalk = custom.walk;
    }
    if (typeof result === "boolean") {
      if (invocation !== undefined) keepSync(custom, invocation, slot, ordinal, result);
      return result;
    }
    if (!isThenable(result) || invocation === undefined) {
      throw new RulesEvaluationError(ruleId, `custom predicate "${name}" did not return a boolean`);
    }
    const calls = callsOf(custom, invocation);
    const call: AsyncCall = {
      label: `${ruleId}/${name}`,
      ruleId,
      name,
      state: "pending",
      value: false,
      error: undefined,
      promise: Promise.resolve(),
      context: custom.context,
      sync: false,
      walk,
      release: undefined,
    };
    const settled = Promise.resolve(result).then(
      (value) => {
        if (call.state !== "pending") return;
        if (typeof value === "boolean") {
          call.state = "done";
          call.value = value;
        } else {
          call.state = "failed";
          call.error = new TypeError("did not resolve to a boolean");
        }
      },
      (error: unknown) => {
        if (call.state !== "pending") return;
        call.state = "failed";
        call.error = error;
      },
    );
    call.promise = new Promise<void>((resolve) => {
      call.release = resolve;
      settled.then(resolve);
    });
    calls.calls.set(`${slot}:${ordinal}`, call);
    // Read synchronously, before its first await (the walk asks for everything anyway).
    const unread = calls.tainted?.get(walk);
    if (unread !== undefined) failNotRead(call, unread);
    throw new PredicatePendingSignal();
  };
}

/**
 * The view's listener for a walk of `invocation`: calls `local` (the walk's own flag) and marks the
 * walk's async calls as failed reading context not read, even when the read comes after the walk
 * ended (an async predicate reading after an `await`, catching the signal). Without custom
 * predicates (custom decisions alone) `local` is enough: a decision runs inside its walk.
 */
export function contextNotReadListener(
  custom: CustomScope | undefined,
  invocation: Invocation,
  local: NotReadListener,
): NotReadListener {
  if (custom === undefined) return local;
  const walk = custom.walk;
  return (source) => {
    local(source);
    const calls = callsOf(custom, invocation);
    calls.tainted ??= new Map();
    calls.tainted.set(walk, source);
    for (const call of calls.calls.values()) {
      if (call.walk === walk && !call.sync) failNotRead(call, source);
    }
  };
}

/**
 * The call read context its walk had not read: its outcome is that of one that failed reading it
 * (replayed only over that same context, where the walk asks for everything; run again elsewhere).
 * An overrun stays one (the deadline passed: the fallback either way).
 */
function failNotRead(call: AsyncCall, source: ContextSource): void {
  if (call.state === "overran") return;
  if (call.state === "failed" && readContextNotRead(call.error)) return;
  call.state = "failed";
  call.error = new ContextNotReadSignal(source);
  call.release?.();
}

/**
 * Whether a walk over `context` gets `call`'s outcome: a sync result only over the context it was
 * computed with; a failure reading context not read only over that same context (elsewhere the
 * call runs again: it may have the context now). Any other outcome: always (once settled, an async
 * result stands; the predicate is not called twice).
 */
function replays(call: AsyncCall, context: ContextData | undefined): boolean {
  if (call.context === context) return true;
  if (call.sync) return false;
  return call.state !== "failed" || !readContextNotRead(call.error);
}

/** True when `error` is, or was caused by, a ContextNotReadSignal. */
function readContextNotRead(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current instanceof ContextNotReadSignal) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

function keepSync(
  custom: CustomScope,
  invocation: Invocation,
  slot: number,
  ordinal: number,
  value: boolean,
): void {
  const results = custom.syncResults;
  if (custom.syncWalk !== custom.walk || custom.syncInvocation !== invocation) {
    results.length = 0;
    custom.syncWalk = custom.walk;
    custom.syncInvocation = invocation;
  }
  results.push(slot, ordinal, value ? 1 : 0);
}

/** Keeps the current walk's sync results as calls: the walk ended pending, so it did not touch context it lacked. */
function commitSync(custom: CustomScope, invocation: Invocation, calls: InvocationCalls): void {
  const results = custom.syncResults;
  const current = custom.syncWalk === custom.walk && custom.syncInvocation === invocation;
  if (current && custom.nestedWalk !== custom.walk) {
    for (let i = 0; i < results.length; i += 3) {
      calls.calls.set(`${results[i]}:${results[i + 1]}`, {
        label: "",
        ruleId: "",
        name: "",
        state: "done",
        value: results[i + 2] === 1,
        error: undefined,
        promise: Promise.resolve(),
        context: custom.context,
        sync: true,
        walk: custom.walk,
        release: undefined,
      });
    }
  }
  results.length = 0;
  custom.syncInvocation = undefined;
}

function settledValue(call: AsyncCall): boolean {
  if (call.state === "done") return call.value;
  if (call.state === "pending") throw new PredicatePendingSignal();
  if (call.state === "overran") {
    throw new RulesEvaluationError(
      call.ruleId,
      `custom predicate "${call.name}" did not settle before the decision's deadline`,
      undefined,
      { retryable: true },
    );
  }
  const why = call.error instanceof TypeError && call.error.message === "did not resolve to a boolean";
  throw new RulesEvaluationError(
    call.ruleId,
    why
      ? `custom predicate "${call.name}" did not resolve to a boolean`
      : `custom predicate "${call.name}" threw`,
    call.error,
  );
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

function callsOf(custom: CustomScope, invocation: Invocation): InvocationCalls {
  let calls = custom.byInvocation.get(invocation);
  if (calls === undefined) {
    calls = {
      controller: new AbortController(),
      calls: new Map(),
      api: undefined,
      apiContext: undefined,
      tainted: undefined,
    };
    custom.byInvocation.set(invocation, calls);
  }
  return calls;
}

function apiOf(custom: CustomScope): PredicateApi {
  // Set by evaluate() around every walk; a predicate only runs inside one.
  const invocation = custom.invocation as Invocation;
  const calls = callsOf(custom, invocation);
  if (calls.api === undefined || calls.apiContext !== custom.context) {
    // Context with no source in it (the re-evaluation after a failed read) is "not read" to a predicate.
    const context =
      custom.context !== undefined && hasSomeSource(custom.context) ? custom.context : undefined;
    calls.api = Object.freeze({ signal: calls.controller.signal, context, invocation });
    calls.apiContext = custom.context;
  }
  return calls.api;
}

/** True for the signal a pending call throws (evaluate() catches it). */
export function isPendingSignal(error: unknown): boolean {
  return error instanceof PredicatePendingSignal;
}

/** setTimeout fires at once past 2^31-1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

/** The pending calls of `invocation` under `custom`, as evaluate() returns them. */
export function pendingPredicates(custom: CustomScope, invocation: Invocation): PendingPredicates {
  const calls = callsOf(custom, invocation);
  commitSync(custom, invocation, calls);
  const pending = [...calls.calls.values()].filter((call) => call.state === "pending");
  return {
    names: pending.map((call) => call.label),
    settle: (options) => settleCalls(calls, pending, options),
  };
}

async function settleCalls(
  calls: InvocationCalls,
  pending: readonly AsyncCall[],
  options: SettleOptions,
): Promise<void> {
  const waiting = pending.filter((call) => call.state === "pending");
  if (waiting.length === 0) return;
  const clock = options.clock ?? Date.now;
  const remaining = options.deadline - clock();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const overrun = new Promise<void>((resolve) => {
    if (remaining <= 0 || options.signal?.aborted === true) return resolve();
    timer = setTimeout(resolve, Math.min(remaining, MAX_TIMER_MS));
    timer.unref?.();
    onAbort = resolve;
    options.signal?.addEventListener("abort", onAbort, { once: true });
  });
  try {
    await Promise.race([Promise.all(waiting.map((call) => call.promise)), overrun]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    if (onAbort !== undefined) options.signal?.removeEventListener("abort", onAbort);
  }
  const late = waiting.filter((call) => call.state === "pending");
  if (late.length === 0) return;
  for (const call of late) call.state = "overran";
  calls.controller.abort(new DOMException("the decision's deadline passed", "TimeoutError"));
}

/** Rounds of settle-and-evaluate before giving up: each round settles at least one call. */
const MAX_ROUNDS = 64;

/**
 * `rules.evaluate(invocation, context)`, awaiting pending async predicates (within the deadline)
 * and evaluating again until the answer is a decision or context to read. Throws what evaluate()
 * throws (a predicate that failed or overran: RulesEvaluationError), for the caller's fallback.
 */
export async function evaluateSettled(
  rules: { evaluate(invocation: Invocation, context?: ContextData): Decision | ContextRequired },
  invocation: Invocation,
  context: ContextData | undefined,
  options: SettleOptions,
): Promise<Decision | ContextRequired> {
  let evaluated = rules.evaluate(invocation, context);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const pending = (evaluated as Partial<ContextRequired>).pending;
    if (pending === undefined) return evaluated;
    await pending.settle(options);
    evaluated = rules.evaluate(invocation, context);
  }
  throw new RulesEvaluationError("(walk)", `custom predicates still pending after ${MAX_ROUNDS} rounds`);
}

/** Whether `context` holds any source's data (an empty object, or provenance alone, holds none). */
function hasSomeSource(context: ContextData): boolean {
  for (const key in context) if (key !== "provenance") return true;
  return false;
}
