/**
 * respond()'s paths with nothing to complete: a sync reply's actions (queued by the http function)
 * and FIRE_AND_FORGET triggers.
 */
import type { LedgerDecision } from "../adapters/types.ts";
import { decideNow, reuseDecision } from "./decide-step.ts";
import { describeError } from "./describe-error.ts";
import { PipelineMetric } from "./observability.ts";
import type { RespondRun } from "./respond.ts";
import type { RespondOutcome } from "./respond-types.ts";
import { accessRequestIdOf, FINAL_STATES } from "./run-support.ts";

/**
 * Decide and run the decision's actions, nothing to complete. Not ledgered: without an invocation
 * id a duplicate delivery cannot be recognised, so its actions may run again (docs/pipeline.md).
 */
export async function actionsOnly(run: RespondRun): Promise<RespondOutcome> {
  // A sync invocation's answer went out in the HTTP reply, and the http function recorded it.
  if (run.invocation.mode === "sync") run.audit.recordedElsewhere = true;
  const answered = run.invocation.triggerType === "requestResponse" ? run.invocation.answered : undefined;
  // Only a decision of these rules: a message from another version (or not from our http
  // function) is decided again, as before, so it cannot run actions the rules do not have.
  if (answered !== undefined && answered.rulesVersion === run.deps.rules.version) {
    // A sync reply's actions, as decided for that reply: run exactly those, decide nothing again.
    Object.assign(run.fields, { ruleId: answered.ruleId, rulesVersion: answered.rulesVersion });
    const decision: LedgerDecision = {
      output: {},
      explanation: { ruleId: answered.ruleId, rulesVersion: answered.rulesVersion, kind: "answered" },
      fallback: false,
      actions: answered.actions,
    };
    const actions = await run.runDecisionActions(decision);
    return { status: "completed", retryable: false, decision, actions, ledger: "none" };
  }
  const decision = await decideNow(run, run.invocation.mode !== "sync");
  if ("retry" in decision) return run.retry(decision.retry);
  run.chose(decision);
  const actions = await run.runDecisionActions(decision);
  return { status: "completed", retryable: false, decision, actions, ledger: "none" };
}

/** FIRE_AND_FORGET: nothing to complete; decide, run the actions once, record. */
export async function fireAndForget(run: RespondRun): Promise<RespondOutcome> {
  const invocationId = run.invocation.invocationId;
  const ledger = run.ledger;
  if (invocationId === undefined) return actionsOnly(run);
  try {
    const { record } = await ledger.recordReceived({
      invocationId,
      triggerId: run.invocation.triggerId,
      accessRequestId: accessRequestIdOf(run.invocation) ?? "",
      receivedAt: run.invocation.receivedAt,
      deadline: run.invocation.receivedAt + run.options.fireAndForgetWindowMs,
    });
    if (FINAL_STATES.has(record.state)) return run.duplicate(record);
    let decision: LedgerDecision;
    if (record.decision !== undefined) {
      decision = reuseDecision(run, record.decision);
    } else {
      const fresh = await decideNow(run);
      if ("retry" in fresh) return run.retry(fresh.retry);
      const stored = await ledger.recordDecision(invocationId, fresh);
      if (FINAL_STATES.has(stored.state)) return run.duplicate(stored);
      decision = stored.decision === undefined ? fresh : reuseDecision(run, stored.decision, fresh);
    }
    run.chose(decision);
    const now = run.now();
    if (!(await ledger.claimCompletion(invocationId, run.deps.workerId, run.options.leaseMs, now))) {
      const current = await ledger.get(invocationId);
      if (current !== undefined && FINAL_STATES.has(current.state)) return run.duplicate(current);
      return run.inProgress();
    }
    const actions = await run.runDecisionActions(decision);
    const failed = actions.filter((a) => !a.ok).length;
    const summary = `actions: ${actions.length - failed} ok, ${failed} failed`;
    await run.safely("markCompleted", () => ledger.markCompleted(invocationId, run.now(), summary));
    return { status: "completed", retryable: false, decision, actions, ledger: "recorded" };
  } catch (error) {
    run.deps.metrics.record(PipelineMetric.ledgerErrors, "Count", 1, { operation: "fireAndForget" });
    return run.retry(`ledger failed: ${describeError(error)}`);
  }
}
