/**
 * respond()'s decision step: decide now (payload first, live context when a rule needs it) or take
 * the decision a delivery stored in the ledger. Each notes what the decision record needs (the
 * context report and data, when it was decided) on the run.
 */
import type { LedgerDecision } from "../adapters/types.ts";
import type { ActionSpec } from "../rules/types.ts";
import {
  type ContextDecideResult,
  decideFromPayload,
  decideWithReadContext,
  describeContextFailure,
  recordContextReport,
} from "./context-decide.ts";
import { isValidOutput } from "./decide.ts";
import { PipelineMetric } from "./observability.ts";
import type { RespondRun } from "./respond.ts";
import { canonicalJson, decisionFields, sameDecision } from "./run-support.ts";
import { applyShadow } from "./shadow.ts";

/**
 * Decides over the payload and, when a rule needs it, live context. A transient context failure
 * (timeout, 429, 5xx) far from the deadline asks for a redelivery instead of a fallback: nothing is
 * recorded, the next delivery reads again. `counted: false` for a decision the http function
 * already counted (a sync one, here for its actions).
 */
export async function decideNow(
  run: RespondRun,
  counted = true,
): Promise<LedgerDecision | { retry: string }> {
  const first = decideFromPayload(run.invocation, run.deps.rules);
  let result: ContextDecideResult;
  if ("contextRequired" in first) {
    result = await decideWithReadContext(run.invocation, run.deps.rules, first.contextRequired, {
      reader: run.deps.context,
      deadline: contextDeadline(run),
      ...(run.call.signal === undefined ? {} : { signal: run.call.signal }),
      clock: run.now,
    });
    const report = result.context;
    if (report !== undefined) {
      run.fields.context = recordContextReport(run.deps.metrics, report, run.dims());
      run.mark("context-read", contextSummary(report));
      const failure = report.failure;
      if (failure?.transient === true && mayRetryContext(run)) {
        run.deps.logger.warn("context could not be read; the invocation will be retried", {
          ...run.fields,
          reason: describeContextFailure(failure),
        });
        return { retry: describeContextFailure(failure) };
      }
    }
    // An async predicate out of time (the context deadline), far from the invocation's: redeliver.
    if (result.retryable === true && mayRetryContext(run)) {
      run.deps.logger.warn("a custom predicate did not settle in time; the invocation will be retried", {
        ...run.fields,
        reason: result.fallbackReason,
      });
      return { retry: result.fallbackReason ?? "a custom predicate did not settle in time" };
    }
  } else {
    result = first;
  }
  // Shadow mode: ISC gets the trigger's shadow answer, the rules' own is kept in the explanation and
  // their actions do not run, counted or not (a sync reply's actions decided again here included).
  result = applyShadow(run.invocation, result, run.deps.shadow, counted ? run.deps.metrics : undefined);
  const { decision, fallback, fallbackReason } = result;
  const kind = fallback ? "fallback" : decision.explanation.kind;
  if (counted) run.deps.metrics.record(PipelineMetric.decisions, "Count", 1, { ...run.dims(), kind });
  if (fallback) {
    if (counted) run.deps.metrics.record(PipelineMetric.fallbacks, "Count", 1, run.dims());
    run.deps.logger.warn("decision fell back", { ...run.fields, reason: fallbackReason });
  }
  Object.assign(run.fields, decisionFields(run.invocation.triggerId, decision.output, decision.explanation));
  const decidedAt = run.now();
  const decided: LedgerDecision = {
    // FIRE_AND_FORGET decisions have no output; the ledger stores an empty one.
    output: decision.output ?? {},
    explanation: decision.explanation,
    fallback,
    actions: decision.actions,
    decidedAt,
  };
  run.audit.fresh = {
    decision: decided,
    decidedAt,
    ...(result.context === undefined ? {} : { context: result.context }),
    ...(result.contextData === undefined ? {} : { contextData: result.contextData }),
  };
  run.mark(
    "decided",
    fallback
      ? `fallback: ${fallbackReason ?? "unknown"}`
      : `${decision.explanation.kind} ${decision.explanation.ruleId}`,
  );
  return decided;
}

/** `identity, manager: 2 reads, 1 from cache, 34 ms` or the failure. */
function contextSummary(report: NonNullable<ContextDecideResult["context"]>): string {
  const base = `${report.needs.join(", ")}: ${report.reads.length} reads, ${report.cacheHits} from cache, ${report.ms} ms`;
  return report.failure === undefined ? base : `${base}; ${describeContextFailure(report.failure)}`;
}

/** Context reads end in time to complete: before the completion deadline and the call's end, minus a reserve. */
function contextDeadline(run: RespondRun): number {
  const reserve = run.options.contextReserveMs;
  let deadline = Math.min(run.now() + run.options.contextTimeoutMs, run.effectiveDeadline - reserve);
  if (run.call.endsAt !== undefined) deadline = Math.min(deadline, run.call.endsAt - reserve);
  return deadline;
}

/** A redelivery can still read and complete in time: a request-response invocation far from its deadline. */
function mayRetryContext(run: RespondRun): boolean {
  return (
    run.invocation.triggerType === "requestResponse" &&
    run.invocation.mode !== "sync" &&
    run.invocation.invocationId !== undefined &&
    !run.isNearDeadline()
  );
}

/** A decision read back from the ledger; refused (→ fallback) only if it no longer passes the schema. */
export function reuseDecision(
  run: RespondRun,
  stored: LedgerDecision,
  fresh?: LedgerDecision,
): LedgerDecision {
  if (fresh === undefined || !sameDecision(stored, fresh)) {
    run.fields.decisionReused = true;
    run.mark("decision-reused", "the decision an earlier delivery stored in the ledger");
  }
  if (
    run.invocation.triggerType === "requestResponse" &&
    !isValidOutput(run.invocation.triggerId, stored.output)
  ) {
    const reason = "the stored decision fails the output schema";
    run.deps.logger.error("stored decision is invalid; completing with the fallback", {
      ...run.fields,
      reason,
    });
    const fallback = run.deps.rules.fallback(run.invocation.triggerId, reason);
    return {
      output: fallback.output ?? {},
      explanation: fallback.explanation,
      fallback: true,
      actions: [],
    };
  }
  Object.assign(run.fields, decisionFields(run.invocation.triggerId, stored.output, stored.explanation));
  if (stored.actions === undefined && fresh === undefined)
    return { ...stored, actions: recoverActions(run, stored) };
  return stored;
}

/**
 * For a ledger that does not keep a decision's actions: the same rules version gives the same
 * decision, so its actions are taken from a re-evaluation, but only if it yields the stored output.
 */
function recoverActions(run: RespondRun, stored: LedgerDecision): ActionSpec[] {
  const version = (stored.explanation as { rulesVersion?: unknown } | undefined)?.rulesVersion;
  if (version !== run.deps.rules.version) return [];
  try {
    const again = run.deps.rules.decide(run.invocation);
    return canonicalJson(again.output ?? {}) === canonicalJson(stored.output) ? again.actions : [];
  } catch {
    return [];
  }
}
