/**
 * respond()'s last step: the decision record of a terminal outcome that has a decision (lib/audit).
 * Bounded like a ledger write after the outcome (ledgerTimeoutMs, the call's end and signal), and it
 * never changes the outcome: a failure is logged (without the record's content) and counted.
 * Duplicates, retries and in-progress deliveries write none: the delivery that ends it does.
 */
import { untilAborted } from "../adapters/abortable.ts";
import { assertNoSecret, buildDecisionRecord } from "../audit/build.ts";
import type { RecordCompletion } from "../audit/record.ts";
import { describeError } from "./describe-error.ts";
import { PipelineMetric } from "./observability.ts";
import type { RespondRun } from "./respond.ts";
import type { RespondOutcome } from "./respond-types.ts";
import { sameDecision, timeoutSignal } from "./run-support.ts";

export class RecordWriteAbandonedError extends Error {
  override readonly name = "RecordWriteAbandonedError";
}

/** Never throws. */
export async function writeDecisionRecord(run: RespondRun, outcome: RespondOutcome): Promise<void> {
  const sink = run.deps.records;
  const decision = run.audit.decision;
  if (sink === undefined || decision === undefined || run.audit.recordedElsewhere) return;
  const completion = completionOf(run, outcome);
  if (completion === undefined) return;
  try {
    const fresh = run.audit.fresh;
    const ours = fresh !== undefined && sameDecision(fresh.decision, decision);
    const record = buildDecisionRecord({
      invocation: run.invocation,
      decision,
      ...(ours && fresh.context !== undefined ? { context: fresh.context } : {}),
      ...(ours && fresh.contextData !== undefined ? { contextData: fresh.contextData } : {}),
      completion,
      decidedAt: run.audit.decidedAt ?? run.now(),
      ...(run.audit.completedAt === undefined ? {} : { completedAt: run.audit.completedAt }),
      timeline: run.audit.timeline,
      recordedBy: "worker",
      ...(run.deps.recordRetentionDays === undefined ? {} : { retentionDays: run.deps.recordRetentionDays }),
    });
    if (!ours && record.context === undefined && (record.decision.contextUsed?.length ?? 0) > 0) {
      // Decided by an earlier delivery: the ledger keeps the decision, not the context it was read
      // over, so replay must say it cannot re-decide offline rather than "context never read".
      record.context = {
        needs: [...new Set((record.decision.contextUsed ?? []).map((use) => use.source))],
        reads: [],
        cacheHits: 0,
        ms: 0,
        dataOmitted: "decided by an earlier delivery: the ledger keeps the decision, not its context data",
      };
    }
    assertNoSecret(record, run.invocation);
    let ms = run.options.ledgerTimeoutMs;
    if (run.call.endsAt !== undefined) ms = Math.min(ms, run.call.endsAt - run.now());
    if (ms <= 0 || run.call.signal?.aborted === true) {
      throw new RecordWriteAbandonedError("no time left to write the decision record");
    }
    const timeout = timeoutSignal(ms);
    const signal = run.call.signal === undefined ? timeout : AbortSignal.any([run.call.signal, timeout]);
    await untilAborted(
      sink.put(record, { signal }),
      signal,
      () => new RecordWriteAbandonedError("the decision record write did not finish in time"),
    );
    run.fields.recorded = true;
  } catch (error) {
    run.fields.recorded = false;
    run.deps.metrics.record(PipelineMetric.decisionRecordFailures, "Count", 1, run.dims());
    run.deps.logger.warn("decision record not written; the outcome stands", {
      invocationId: run.invocation.invocationId,
      triggerId: run.invocation.triggerId,
      error: describeError(error),
    });
  }
}

/** The record's completion for a terminal outcome with a decision; undefined for the others. */
function completionOf(run: RespondRun, outcome: RespondOutcome): RecordCompletion | undefined {
  // Completion attempts under the ledger: earlier deliveries' (counted at receipt) and this one's.
  const earlier = typeof run.fields.attempts === "number" ? run.fields.attempts : 0;
  const attempts = earlier + run.audit.claims;
  const base: Pick<RecordCompletion, "attempts"> = attempts > 0 ? { attempts } : {};
  switch (outcome.status) {
    case "completed": {
      const nothingToComplete = outcome.ledger === "none" || run.invocation.triggerType === "fireAndForget";
      return {
        ...base,
        outcome: nothingToComplete ? "actions-only" : "completed",
        ...(outcome.ledger === "bypassed" ? { ledgerBypassed: true } : {}),
        ...actionsOf(outcome.actions),
      };
    }
    case "already-completed":
      return {
        ...base,
        outcome: "already-completed",
        reason: outcome.reason,
        ...actionsOf(outcome.actions),
      };
    case "deadline-passed":
    case "failed":
      return {
        ...base,
        outcome: outcome.status,
        reason: outcome.reason,
        ...(run.fields.ledgerBypassed === true ? { ledgerBypassed: true } : {}),
      };
    default:
      // duplicate-skipped, in-progress, retry: another delivery ends it (and records it).
      return undefined;
  }
}

function actionsOf(
  actions: Array<{ type: string; ok: boolean }> | undefined,
): Pick<RecordCompletion, "actions"> {
  if (actions === undefined || actions.length === 0) return {};
  return { actions: actions.map((a) => `${a.type}:${a.ok ? "ok" : "failed"}`) };
}
