/**
 * Deciding with live context: evaluate over the payload first (rules before the first one that
 * needs context cost no read), read what the remaining rules need within the caller's deadline, then
 * evaluate over payload and context. A read that fails (an error after the client's retries, a
 * timeout, 403, 404, a refused id) never lets a condition quietly evaluate to false: the decision is
 * the trigger's fallback, with the reason recorded, unless only rules with `enforce: false` needed
 * what failed (they are recorded as not read, the others decide: `ignoredFailure`, never retried
 * for: a rule that does not decide must not fail the decision either). The caller decides what a failure means for it
 * (the http function defers a dynamic invocation on a timeout; the worker retries a transient
 * failure while the deadline allows).
 *
 * Context already cached is read at once (CachedReads.readCached): no timer, no signal. Only a read
 * that must wait gets a signal aborting at the deadline (for readers that do not watch it
 * themselves) or with the caller's, and its timer is cleared once the read settles.
 */
import type { CachedReads } from "../context/reader.ts";
import { contextSubject } from "../context/subject.ts";
import type {
  ContextData,
  ContextKind,
  ContextNeeds,
  ContextOrigin,
  ContextRead,
  ContextReader,
  ContextReadOptions,
  ContextResult,
  ContextSource,
  ContextSubject,
} from "../context/types.ts";
import { evaluateSettled } from "../rules/custom-async.ts";
import { RulesEvaluationError } from "../rules/errors.ts";
import type { CompiledRules, ContextRequired, ContextUse, Decision } from "../rules/types.ts";
import type { Invocation } from "../triggers/invocation.ts";
import { type DecideResult, validatedDecision } from "./decide.ts";
import { PipelineMetric, type PipelineMetrics } from "./observability.ts";

/** What reading context cost and, when it failed, why (kinds, statuses and scopes: no payload values). */
export interface ContextReport {
  needs: ContextSource[];
  reads: ContextRead[];
  cacheHits: number;
  ms: number;
  failure?: ContextFailure;
  /**
   * The read failed, but only rules with `enforce: false` needed it: the decision was reached
   * without it (those rules are recorded as not read), so this is no failure to retry or fall back for.
   */
  ignoredFailure?: ContextFailure;
}

export interface ContextFailure {
  kind: ContextKind | "unknown";
  reason: string;
  status?: number;
  missingScope?: string;
  detailCode?: string;
  trackingId?: string;
  /** A later attempt may succeed (timeout, 429, 5xx, network); a 403, a 404 or a refused id will not. */
  transient: boolean;
}

export type ContextDecideResult = DecideResult & {
  context?: ContextReport;
  /** The context the rules evaluated over (with its provenance), when it was read: the decision record keeps it. */
  contextData?: ContextData;
};

export interface ContextDecideOptions {
  reader: ContextReader | undefined;
  /** Epoch ms: the read (retries, rate-limit waits) ends by then. */
  deadline: number;
  signal?: AbortSignal;
  clock?: () => number;
}

const TRANSIENT_REASONS = new Set(["timeout", "rate-limited", "unavailable"]);

/** setTimeout fires at once past 2^31-1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

/** Payload-first evaluation, synchronous: a decision (validated, fallback on error), or what to read. */
export function decideFromPayload(
  invocation: Invocation,
  rules: CompiledRules,
): DecideResult | ContextRequired {
  let evaluated: Decision | ContextRequired;
  try {
    evaluated = rules.evaluate(invocation);
  } catch (error) {
    return evaluationFailed(invocation, rules, error);
  }
  if ("contextRequired" in evaluated) return evaluated;
  return validatedDecision(invocation, rules, evaluated);
}

/** The decision after reading `needs`; never throws. */
export async function decideWithReadContext(
  invocation: Invocation,
  rules: CompiledRules,
  needs: ContextNeeds,
  options: ContextDecideOptions,
): Promise<ContextDecideResult> {
  // Only async custom predicates are pending (lib/rules/custom-async.ts): nothing to read first.
  if (needs.size === 0) return decideAfterPredicates(invocation, rules, options);
  const clock = options.clock ?? Date.now;
  const started = clock();
  const report: ContextReport = { needs: [...needs], reads: [], cacheHits: 0, ms: 0 };
  if (options.reader === undefined) {
    report.failure = { kind: "unknown", reason: "not-configured", transient: false };
    return decideWithoutContext(invocation, rules, needs, report, options);
  }
  let result: ContextResult;
  try {
    const remaining = options.deadline - clock();
    if (remaining <= 0) throw Object.assign(new Error("no time left to read context"), { reason: "timeout" });
    const subject = contextSubject(invocation.input);
    const readOptions: ContextReadOptions = {
      deadline: options.deadline,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    };
    const cached = readsCached(options.reader)
      ? options.reader.readCached(subject, needs, readOptions)
      : undefined;
    result = cached ?? (await readWithinDeadline(options.reader, subject, needs, readOptions, remaining));
  } catch (error) {
    report.ms = clock() - started;
    report.failure = contextFailureOf(error);
    const readsOf = (error as { reads?: unknown }).reads;
    if (Array.isArray(readsOf)) report.reads = readsOf as ContextRead[];
    return decideWithoutContext(invocation, rules, needs, report, options);
  }
  report.ms = clock() - started;
  report.reads = result.reads;
  report.cacheHits = result.cacheHits;
  let evaluated: Decision | ContextRequired;
  try {
    evaluated = await evaluateSettled(rules, invocation, result.data, options);
  } catch (error) {
    return { ...evaluationFailed(invocation, rules, error), context: report, contextData: result.data };
  }
  if ("contextRequired" in evaluated) {
    // The reader returned less than asked: a bug, never an approval.
    const missing = [...evaluated.contextRequired].join(", ");
    report.failure = {
      kind: "unknown",
      reason: `context missing after the read: ${missing}`,
      transient: false,
    };
    return contextFallback(invocation, rules, report);
  }
  markOrigins(evaluated.explanation.context, result.data.provenance);
  return { ...validatedDecision(invocation, rules, evaluated), context: report, contextData: result.data };
}

/**
 * The read failed: decide over context with no source loaded. A rule with `enforce: false` that
 * needed some is recorded as not read and passed over (it never decides, so it never makes the
 * decision fall back either); an enforced rule or default that needs any still gets the fallback,
 * as does anything failing here (never an approval over context that was not read).
 */
async function decideWithoutContext(
  invocation: Invocation,
  rules: CompiledRules,
  needs: ContextNeeds,
  report: ContextReport,
  options: ContextDecideOptions,
): Promise<ContextDecideResult> {
  let evaluated: Decision | ContextRequired;
  try {
    evaluated = await evaluateSettled(rules, invocation, {}, options);
  } catch {
    return contextFallback(invocation, rules, report);
  }
  if ("contextRequired" in evaluated) {
    // The enforced rules need context too. If the failed read also asked for sources only
    // `enforce: false` rules need (a trial rule whose scope is missing, say), read what the enforced
    // ones need alone, once: a trial rule must not make every decision fall back.
    const enforced = evaluated.contextRequired;
    const fewer = enforced.size > 0 && enforced.size < needs.size && [...enforced].every((n) => needs.has(n));
    if (!fewer || options.reader === undefined) return contextFallback(invocation, rules, report);
    const retried = await decideWithReadContext(invocation, rules, enforced, options);
    if (retried.fallback || report.failure === undefined) return retried;
    // Decided over what the enforced rules need: the first read's failure is kept, as ignored.
    const context = retried.context ?? { needs: [...enforced], reads: [], cacheHits: 0, ms: 0 };
    return { ...retried, context: { ...context, ignoredFailure: report.failure } };
  }
  const { failure, ...rest } = report;
  const context: ContextReport = failure === undefined ? rest : { ...rest, ignoredFailure: failure };
  return { ...validatedDecision(invocation, rules, evaluated), context };
}

/** Awaits async custom predicates reached over the payload, then decides (reading context if the rest needs it). */
async function decideAfterPredicates(
  invocation: Invocation,
  rules: CompiledRules,
  options: ContextDecideOptions,
): Promise<ContextDecideResult> {
  let evaluated: Decision | ContextRequired;
  try {
    evaluated = await evaluateSettled(rules, invocation, undefined, options);
  } catch (error) {
    return evaluationFailed(invocation, rules, error);
  }
  if ("contextRequired" in evaluated) {
    return evaluated.contextRequired.size > 0
      ? decideWithReadContext(invocation, rules, evaluated.contextRequired, options)
      : evaluationFailed(invocation, rules, new Error("no decision after the custom predicates settled"));
  }
  return validatedDecision(invocation, rules, evaluated);
}

/** True for a reader that can answer from its cache alone, synchronously (CachedContextReader). */
function readsCached(reader: ContextReader): reader is ContextReader & CachedReads {
  return typeof (reader as Partial<CachedReads>).readCached === "function";
}

/**
 * `reader.read` with a signal aborted `remainingMs` from now (a reader that does not watch the
 * deadline still stops) or by the caller's signal; the timer and listener go once the read settles.
 */
async function readWithinDeadline(
  reader: ContextReader,
  subject: ContextSubject,
  needs: ContextNeeds,
  options: ContextReadOptions,
  remainingMs: number,
): Promise<ContextResult> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException("the context read's deadline passed", "TimeoutError")),
    Math.min(remainingMs, MAX_TIMER_MS),
  );
  timer.unref?.(); // as AbortSignal.timeout: a pending deadline alone keeps no process alive
  const callerSignal = options.signal;
  const onCallerAbort = (): void => controller.abort(callerSignal?.reason);
  if (callerSignal?.aborted === true) onCallerAbort();
  else callerSignal?.addEventListener("abort", onCallerAbort, { once: true });
  try {
    return await reader.read(subject, needs, { ...options, signal: controller.signal });
  } finally {
    clearTimeout(timer);
    callerSignal?.removeEventListener("abort", onCallerAbort);
  }
}

/** Maps a reader's error (ContextReadError, or anything else) to a loggable failure. */
export function contextFailureOf(error: unknown): ContextFailure {
  const e = (typeof error === "object" && error !== null ? error : {}) as {
    kind?: unknown;
    reason?: unknown;
    status?: unknown;
    missingScope?: unknown;
    detailCode?: unknown;
    trackingId?: unknown;
    name?: unknown;
  };
  const reason = typeof e.reason === "string" ? e.reason : `unexpected ${String(e.name ?? "error")}`;
  const failure: ContextFailure = {
    kind: typeof e.kind === "string" ? (e.kind as ContextKind) : "unknown",
    reason,
    transient: TRANSIENT_REASONS.has(reason),
  };
  if (typeof e.status === "number") failure.status = e.status;
  if (typeof e.missingScope === "string") failure.missingScope = e.missingScope;
  if (typeof e.detailCode === "string") failure.detailCode = e.detailCode;
  if (typeof e.trackingId === "string") failure.trackingId = e.trackingId;
  return failure;
}

/** `context identities forbidden (HTTP 403; the API client lacks scope idn:identity:read)` */
export function describeContextFailure(failure: ContextFailure): string {
  const status = failure.status === undefined ? "" : `HTTP ${failure.status}`;
  const scope =
    failure.missingScope === undefined ? "" : `the API client lacks scope ${failure.missingScope}`;
  const detail = [status, scope].filter((part) => part !== "").join("; ");
  if (failure.reason === "not-configured") return "context not read: no context reader is configured";
  const what = failure.kind === "unknown" ? "context" : `context ${failure.kind}`;
  return `${what} ${failure.reason}${detail === "" ? "" : ` (${detail})`}`;
}

function contextFallback(
  invocation: Invocation,
  rules: CompiledRules,
  report: ContextReport,
): ContextDecideResult {
  const reason = describeContextFailure(report.failure as ContextFailure);
  return {
    decision: rules.fallback(invocation.triggerId, reason),
    fallback: true,
    fallbackReason: reason,
    context: report,
  };
}

function evaluationFailed(invocation: Invocation, rules: CompiledRules, error: unknown): DecideResult {
  // A RulesEvaluationError's message is ours (rule id, predicate name, what it did: no payload values).
  const reason =
    error instanceof RulesEvaluationError
      ? `rules evaluation failed: ${error.message}`
      : `rules evaluation failed: ${error instanceof Error ? error.name : "error"}`;
  const result: DecideResult = {
    decision: rules.fallback(invocation.triggerId, reason),
    fallback: true,
    fallbackReason: reason,
  };
  if (error instanceof RulesEvaluationError && error.retryable) result.retryable = true;
  return result;
}

/**
 * Counts a decision's context reads and returns the log fields describing them (kinds, counts,
 * latency, the failure: never payload values).
 */
export function recordContextReport(
  metrics: PipelineMetrics | undefined,
  report: ContextReport,
  dimensions: Record<string, string>,
): Record<string, unknown> {
  if (metrics !== undefined) {
    for (const read of report.reads) {
      if (read.from === "api") metrics.record(PipelineMetric.contextReads, "Count", 1, { kind: read.kind });
    }
    if (report.cacheHits > 0) metrics.record(PipelineMetric.contextCacheHits, "Count", report.cacheHits);
    metrics.record(PipelineMetric.contextLatency, "Milliseconds", report.ms, dimensions);
    const failure = report.failure ?? report.ignoredFailure;
    if (failure !== undefined) {
      metrics.record(PipelineMetric.contextFailures, "Count", 1, { ...dimensions, reason: failure.reason });
    }
  }
  const fields: Record<string, unknown> = {
    needs: report.needs,
    reads: report.reads.map(
      (read) => `${read.kind}:${read.ids}:${read.ms}ms${read.status === undefined ? "" : `:${read.status}`}`,
    ),
    cacheHits: report.cacheHits,
    ms: report.ms,
  };
  if (report.failure !== undefined) fields.failure = report.failure;
  if (report.ignoredFailure !== undefined) fields.ignoredFailure = report.ignoredFailure;
  return fields;
}

/** The kinds of ISC object each source's values come from (provenance is keyed `kind:id`). */
const KINDS_OF_SOURCE: Readonly<Record<ContextSource, readonly ContextKind[]>> = {
  identity: ["identities"],
  requester: ["identities"],
  manager: ["identities"],
  items: ["entitlements", "accessProfiles", "roles"],
  grants: ["entitlements"],
  sources: ["sources"],
  sod: ["sodPrediction"],
  sodPolicies: ["sodPolicy"],
  accessRequests: ["accessRequestStatus"],
};

/** Adds to each context value the decision used where its object came from (cache or API, with the read's latency). */
function markOrigins(
  uses: ContextUse[] | undefined,
  provenance: Readonly<Record<string, ContextOrigin>> | undefined,
): void {
  if (uses === undefined || provenance === undefined) return;
  for (const use of uses) {
    for (const kind of KINDS_OF_SOURCE[use.source] ?? []) {
      const origin = provenance[`${kind}:${use.id}`];
      if (origin !== undefined) {
        use.from = origin.from;
        use.ms = origin.ms;
        break;
      }
    }
  }
}
