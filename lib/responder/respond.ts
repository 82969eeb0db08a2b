/**
 * respond(invocation): decide, complete the invocation at ISC before its deadline, run the
 * decision's actions, and record every step in the ledger, so that duplicate deliveries never
 * decide or complete twice and a crash between steps resumes; then write the decision record
 * (lib/audit). Independent of Lambda and AWS: the worker handler and the local runner inject the
 * dependencies. docs/pipeline.md explains the choices. The decision step (decide-step.ts), the paths
 * with nothing to complete (actions-only.ts) and the record step (record-step.ts) live apart.
 */

import { DEADLINE_PASSED } from "../adapters/ledger-record.ts";
import type { InvocationLedger, LedgerDecision, LedgerRecord } from "../adapters/types.ts";
import { iso } from "../audit/build.ts";
import type { RecordTimelineEntry } from "../audit/record.ts";
import type { ContextData } from "../context/types.ts";
import type { CompletionTarget } from "../isc/types.ts";
import type { ActionSpec } from "../rules/types.ts";
import type { Invocation } from "../triggers/invocation.ts";
import { type ActionOutcome, runActions } from "./actions.ts";
import { actionsOnly, fireAndForget } from "./actions-only.ts";
import { boundedLedger } from "./bounded-ledger.ts";
import { type CompletionFailure, classifyCompletionError } from "./completion-errors.ts";
import type { ContextReport } from "./context-decide.ts";
import { decideNow, reuseDecision } from "./decide-step.ts";
import { describeError } from "./describe-error.ts";
import { type LogFields, PipelineMetric } from "./observability.ts";
import { writeDecisionRecord } from "./record-step.ts";
import {
  DEFAULT_RESPOND_OPTIONS,
  type RespondCall,
  type RespondDeps,
  type RespondOptions,
  type RespondOutcome,
} from "./respond-types.ts";
import { accessRequestIdOf, defaultSleep, FINAL_STATES, timeoutSignal } from "./run-support.ts";

export * from "./respond-types.ts";

const MAX_RETRY_DELAY_MS = 8_000;
const MIN_LEASE_POLL_MS = 250;

/** Never throws: every failure becomes an outcome; `retryable` outcomes must be redelivered. */
export async function respond(
  invocation: Invocation,
  deps: RespondDeps,
  call: RespondCall = {},
): Promise<RespondOutcome> {
  const run = new RespondRun(invocation, deps, call);
  let outcome: RespondOutcome;
  try {
    outcome = await run.execute();
  } catch (error) {
    // A bug or an unexpected throw from a dependency: redeliver rather than lose the invocation.
    deps.logger.error("respond failed unexpectedly", { ...run.fields, error: describeError(error) });
    outcome = { status: "retry", retryable: true, reason: `unexpected error: ${describeError(error)}` };
  }
  await writeDecisionRecord(run, outcome);
  run.finish(outcome);
  return outcome;
}

type Attempt = { kind: "ok"; at: number } | CompletionFailure;

/** The ledger outcome of a 400.1.404 taken for our own completion whose 204 was lost. */
export const COMPLETION_REPLY_LOST =
  "completed by an earlier attempt of this delivery whose reply was lost (ISC then answered 400.1.404)";

/** What the decision record needs, gathered along the run. */
export interface RunAudit {
  /** The decision this run completed with (fresh or read back from the ledger). */
  decision?: LedgerDecision;
  decidedAt?: number;
  /** This run's own decision, with the context it read. */
  fresh?: { decision: LedgerDecision; decidedAt: number; context?: ContextReport; contextData?: ContextData };
  completedAt?: number;
  timeline: RecordTimelineEntry[];
  /** The answer went out in a sync reply, and the http function recorded it. */
  recordedElsewhere: boolean;
  /** Completion leases this run took (the ledger counts those of earlier deliveries). */
  claims: number;
}

/** One call of respond(); internal (exported for the step modules). */
export class RespondRun {
  readonly invocation: Invocation;
  readonly deps: RespondDeps;
  readonly call: RespondCall;
  readonly options: RespondOptions;
  readonly now: () => number;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly fields: LogFields;
  readonly startedAt: number;
  /** deps.ledger with every call bounded by this call's time. */
  readonly ledger: InvocationLedger;
  /** An earlier completion attempt of this run failed in a way ISC may have applied all the same. */
  completionMayHaveLanded = false;
  readonly audit: RunAudit = { timeline: [], recordedElsewhere: false, claims: 0 };

  constructor(invocation: Invocation, deps: RespondDeps, call: RespondCall) {
    this.invocation = invocation;
    this.deps = deps;
    this.call = call;
    this.options = { ...DEFAULT_RESPOND_OPTIONS, ...deps.options };
    this.now = deps.clock ?? Date.now;
    this.sleep = deps.sleep ?? defaultSleep;
    this.startedAt = this.now();
    this.ledger = boundedLedger(deps.ledger, {
      now: this.now,
      timeoutMs: this.options.ledgerTimeoutMs,
      completionDeadline: this.effectiveDeadline,
      ...(call.signal === undefined ? {} : { signal: call.signal }),
      ...(call.endsAt === undefined ? {} : { endsAt: call.endsAt }),
    });
    this.fields = {
      invocationId: invocation.invocationId,
      triggerId: invocation.triggerId,
      accessRequestId: accessRequestIdOf(invocation),
      mode: invocation.mode,
    };
  }

  /** A step of the record's timeline. */
  mark(event: string, detail?: string, at = this.now()): void {
    this.audit.timeline.push({ at: iso(at), event, ...(detail === undefined ? {} : { detail }) });
  }

  /** The decision this run goes on with. */
  chose(decision: LedgerDecision): LedgerDecision {
    this.audit.decision = decision;
    // A decision reused from the ledger keeps the time it was made (a ledger without it: now).
    this.audit.decidedAt =
      this.audit.fresh !== undefined && this.audit.fresh.decision === decision
        ? this.audit.fresh.decidedAt
        : (decision.decidedAt ?? this.now());
    return decision;
  }

  /** Completion calls must be over by then. */
  get effectiveDeadline(): number {
    return this.invocation.deadline - this.options.safetyMarginMs;
  }

  isNearDeadline(at = this.now()): boolean {
    return this.effectiveDeadline - at <= this.options.nearDeadlineMs;
  }

  /** True if waiting `ms` still leaves time before the deadline and before the call must return. */
  canWait(ms: number): boolean {
    if (this.call.signal?.aborted) return false;
    const until = this.now() + ms;
    return until < this.effectiveDeadline && (this.call.endsAt === undefined || until < this.call.endsAt);
  }

  async execute(): Promise<RespondOutcome> {
    const invocation = this.invocation;
    this.mark("received", `${invocation.mode} delivery`, invocation.receivedAt);
    if (invocation.triggerType === "fireAndForget") return fireAndForget(this);
    if (invocation.mode === "sync" || invocation.invocationId === undefined) {
      // A sync HTTP invocation: answered in the HTTP reply, queued only so that its decision's actions
      // run (the reply cannot run them). Nothing to complete, even if it carries an id.
      return actionsOnly(this);
    }
    return this.requestResponse(invocation.invocationId);
  }

  /** Steps: record the receipt, decide once (or take the stored decision), then lease and complete. */
  async requestResponse(invocationId: string): Promise<RespondOutcome> {
    const received = await this.recordReceipt(invocationId, this.invocation.deadline);
    if (!("record" in received)) return received;
    if (this.now() >= this.effectiveDeadline) return this.deadlinePassed(true);
    if (this.invocation.secret === undefined) return this.failFinal("no secret to complete with", true);
    const decided = await this.decideOnce(invocationId, received.record);
    if (!("decision" in decided)) return decided;
    return this.completeLoop(invocationId, decided.decision, true);
  }

  /** The ledger's "received" record; a final record means a duplicate delivery. */
  async recordReceipt(
    invocationId: string,
    deadline: number,
  ): Promise<{ record: LedgerRecord } | RespondOutcome> {
    let record: LedgerRecord;
    try {
      ({ record } = await this.ledger.recordReceived({
        invocationId,
        triggerId: this.invocation.triggerId,
        accessRequestId: accessRequestIdOf(this.invocation) ?? "",
        receivedAt: this.invocation.receivedAt,
        deadline,
      }));
    } catch (error) {
      return this.ledgerFailed("recordReceived", error, undefined);
    }
    this.fields.attempts = record.attempts;
    if (FINAL_STATES.has(record.state)) return this.duplicate(record);
    return { record };
  }

  /**
   * The stored decision if a delivery made one, else a fresh one (context read here), stored; the
   * first stored decision wins when deliveries race.
   */
  async decideOnce(
    invocationId: string,
    record: LedgerRecord,
  ): Promise<{ decision: LedgerDecision } | RespondOutcome> {
    if (record.decision !== undefined) return { decision: this.chose(reuseDecision(this, record.decision)) };
    const fresh = await decideNow(this);
    if ("retry" in fresh) return this.retry(fresh.retry);
    let stored: LedgerRecord;
    try {
      stored = await this.ledger.recordDecision(invocationId, fresh);
    } catch (error) {
      return this.ledgerFailed("recordDecision", error, fresh);
    }
    if (FINAL_STATES.has(stored.state)) return this.duplicate(stored);
    return {
      decision: this.chose(
        stored.decision === undefined ? fresh : reuseDecision(this, stored.decision, fresh),
      ),
    };
  }

  /**
   * Claims the lease and sends the completion; near the deadline, retries in process (same output)
   * and waits out another worker's lease instead of handing back to the queue.
   */
  async completeLoop(
    invocationId: string,
    decision: LedgerDecision,
    useLedger: boolean,
  ): Promise<RespondOutcome> {
    const ledger = this.ledger;
    let delay = this.options.retryDelayMs;
    for (;;) {
      const leaseStart = this.now();
      if (leaseStart >= this.effectiveDeadline) return this.deadlinePassed(useLedger);

      if (useLedger) {
        let claimed: boolean;
        try {
          claimed = await ledger.claimCompletion(
            invocationId,
            this.deps.workerId,
            this.options.leaseMs,
            leaseStart,
          );
        } catch (error) {
          return this.ledgerFailed("claimCompletion", error, decision);
        }
        if (claimed) this.audit.claims += 1;
        if (!claimed) {
          let current: LedgerRecord | undefined;
          try {
            current = await ledger.get(invocationId);
          } catch (error) {
            return this.ledgerFailed("get", error, decision);
          }
          if (current !== undefined && FINAL_STATES.has(current.state)) return this.duplicate(current);
          // At least MIN_LEASE_POLL_MS, so an odd record (no lease to wait for) cannot spin on the ledger.
          const wait = Math.max(MIN_LEASE_POLL_MS, (current?.leaseUntil ?? leaseStart) - this.now() + 1);
          if (this.isNearDeadline() && this.canWait(wait)) {
            if (!(await this.pause(wait))) return this.inProgress();
            continue;
          }
          return this.inProgress();
        }
      }

      const attempt = await this.attemptCompletion(decision, useLedger ? leaseStart : undefined);
      this.mark(
        "completion-attempt",
        attempt.kind === "ok" ? "ISC answered 204" : `${attempt.kind}: ${attempt.reason}`,
      );
      switch (attempt.kind) {
        case "ok":
          return this.completed(invocationId, decision, attempt.at, useLedger);
        case "gone":
          return this.gone(invocationId, decision, attempt, useLedger);
        case "final":
          return this.failFinal(attempt.reason, useLedger);
        case "transient": {
          this.deps.metrics.record(PipelineMetric.completionRetries, "Count", 1, this.dims());
          this.completionMayHaveLanded ||= attempt.mayHaveBeenApplied;
          if (useLedger)
            await this.safely("releaseCompletion", () =>
              ledger.releaseCompletion(invocationId, this.deps.workerId),
            );
          if (this.now() >= this.effectiveDeadline) return this.deadlinePassed(useLedger);
          this.deps.logger.warn("completion attempt failed; it will be retried with the same output", {
            ...this.fields,
            error: attempt.reason,
          });
          if (this.isNearDeadline() && this.canWait(delay)) {
            if (!(await this.pause(delay))) return this.retry(`completion failed: ${attempt.reason}`);
            delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
            continue;
          }
          return this.retry(`completion failed: ${attempt.reason}`);
        }
      }
    }
  }

  async attemptCompletion(decision: LedgerDecision, leaseStart: number | undefined): Promise<Attempt> {
    const invocation = this.invocation;
    const secret = invocation.secret;
    if (secret === undefined || invocation.invocationId === undefined) {
      return { kind: "final", reason: "no secret to complete with" };
    }
    const signals: AbortSignal[] = [];
    if (this.call.signal !== undefined) signals.push(this.call.signal);
    if (leaseStart !== undefined) {
      const leaseLeft = leaseStart + this.options.leaseMs - this.options.leaseMarginMs - this.now();
      signals.push(timeoutSignal(leaseLeft));
    }
    if (this.call.endsAt !== undefined) signals.push(timeoutSignal(this.call.endsAt - this.now()));
    const target: CompletionTarget =
      invocation.callbackUrl === undefined
        ? { invocationId: invocation.invocationId }
        : { callbackUrl: invocation.callbackUrl };
    try {
      await this.deps.client.completeInvocation(
        target,
        { secret: secret.reveal(), output: decision.output },
        {
          deadline: this.effectiveDeadline,
          ...(signals.length > 0 ? { signal: AbortSignal.any(signals) } : {}),
        },
      );
      return { kind: "ok", at: this.now() };
    } catch (error) {
      return classifyCompletionError(error);
    }
  }

  async completed(
    invocationId: string,
    decision: LedgerDecision,
    at: number,
    useLedger: boolean,
  ): Promise<RespondOutcome> {
    const { metrics } = this.deps;
    this.audit.completedAt = at;
    this.mark("completed", undefined, at);
    // The ledger may be back even if it failed before; if not, a later duplicate gets 400.1.404.
    await this.safely("markCompleted", () => this.ledger.markCompleted(invocationId, at));
    metrics.record(PipelineMetric.completions, "Count", 1, this.dims());
    metrics.record(PipelineMetric.latency, "Milliseconds", at - this.invocation.receivedAt, this.dims());
    metrics.record(PipelineMetric.deadlineMargin, "Milliseconds", this.invocation.deadline - at, this.dims());
    this.fields.latencyMs = at - this.invocation.receivedAt;
    this.fields.deadlineMarginMs = this.invocation.deadline - at;
    // Actions only after ISC acknowledged the completion, so they never delay it.
    const actions = await this.runDecisionActions(decision);
    return {
      status: "completed",
      retryable: false,
      decision,
      actions,
      ledger: useLedger ? "recorded" : "bypassed",
    };
  }

  /**
   * ISC answered 400.1.404: completed or expired. Under our lease, before the deadline, right after
   * an attempt of ours that ISC may have applied, the completion ISC holds is ours (its 204 was
   * lost), made of the stored decision: its actions run, as after a 204. Otherwise we cannot tell
   * whose answer ISC kept (a crashed delivery's, or none), and they do not. Without the ledger there
   * is no lease: another delivery may have completed and run them, so they do not run either.
   */
  async gone(
    invocationId: string,
    decision: LedgerDecision,
    attempt: Extract<Attempt, { kind: "gone" }>,
    useLedger: boolean,
  ): Promise<RespondOutcome> {
    this.deps.metrics.record(PipelineMetric.invocationGone, "Count", 1, this.dims());
    const ours = useLedger && (attempt.uncertainEarlierAttempt || this.completionMayHaveLanded);
    const reason = ours ? COMPLETION_REPLY_LOST : attempt.reason;
    this.mark("already-completed", reason);
    if (useLedger) {
      await this.safely("markCompleted", () => this.ledger.markCompleted(invocationId, this.now(), reason));
    }
    if (!ours) return { status: "already-completed", retryable: false, reason };
    this.fields.completionReplyLost = true;
    const actions = await this.runDecisionActions(decision);
    return { status: "already-completed", retryable: false, reason, actions };
  }

  async deadlinePassed(useLedger: boolean): Promise<RespondOutcome> {
    this.deps.metrics.record(PipelineMetric.deadlinePassed, "Count", 1, this.dims());
    this.mark("deadline-passed");
    const invocationId = this.invocation.invocationId;
    if (useLedger && invocationId !== undefined) {
      await this.safely("markFailed", () => this.ledger.markFailed(invocationId, DEADLINE_PASSED));
    }
    return { status: "deadline-passed", retryable: false, reason: DEADLINE_PASSED };
  }

  async failFinal(reason: string, useLedger: boolean): Promise<RespondOutcome> {
    this.mark("failed", reason);
    const invocationId = this.invocation.invocationId;
    if (useLedger && invocationId !== undefined) {
      await this.safely("markFailed", () => this.ledger.markFailed(invocationId, reason));
    }
    return { status: "failed", retryable: false, reason };
  }

  duplicate(record: LedgerRecord): RespondOutcome {
    this.fields.ledgerState = record.state;
    if (record.outcome !== undefined) this.fields.ledgerOutcome = record.outcome;
    return { status: "duplicate-skipped", retryable: false, state: record.state };
  }

  inProgress(): RespondOutcome {
    return { status: "in-progress", retryable: true, reason: "another delivery holds the completion lease" };
  }

  retry(reason: string): RespondOutcome {
    return { status: "retry", retryable: true, reason };
  }

  /**
   * The ledger failed. Far from the deadline: hand back to the queue (the ledger is what prevents a
   * double decision). Near it: complete without the ledger rather than let the request time out;
   * ISC itself refuses a second completion (400.1.404), and decide() is deterministic for a rules
   * version, so the worst case is a redundant call, never a second answer.
   */
  async ledgerFailed(
    operation: string,
    error: unknown,
    decision: LedgerDecision | undefined,
  ): Promise<RespondOutcome> {
    const { metrics, logger } = this.deps;
    metrics.record(PipelineMetric.ledgerErrors, "Count", 1, { operation });
    const invocationId = this.invocation.invocationId;
    const near = this.isNearDeadline();
    logger.warn(
      near ? "ledger failed near the deadline; completing without it" : "ledger failed; will retry",
      {
        ...this.fields,
        operation,
        error: describeError(error),
      },
    );
    if (!near || invocationId === undefined)
      return this.retry(`ledger ${operation} failed: ${describeError(error)}`);
    if (this.now() >= this.effectiveDeadline) return this.deadlinePassed(false);
    if (this.invocation.secret === undefined) return this.failFinal("no secret to complete with", false);
    metrics.record(PipelineMetric.ledgerBypassed, "Count", 1, this.dims());
    this.fields.ledgerBypassed = true;
    // Near the deadline a transient context failure is not retried: decideNow gives the fallback.
    this.mark("ledger-bypassed", `the ledger failed near the deadline (${operation})`);
    const chosen = decision ?? (await decideNow(this));
    if ("retry" in chosen) return this.retry(chosen.retry);
    return this.completeLoop(invocationId, this.chose(chosen), false);
  }

  async runDecisionActions(decision: LedgerDecision): Promise<ActionOutcome[]> {
    const actions: ActionSpec[] = Array.isArray(decision.actions) ? decision.actions : [];
    const outcomes = await runActions(
      actions,
      { client: this.deps.client, logger: this.deps.logger, metrics: this.deps.metrics, clock: this.now },
      {
        timeoutMs: this.options.actionTimeoutMs,
        ...(this.call.signal === undefined ? {} : { signal: this.call.signal }),
        logFields: this.fields,
      },
    );
    if (outcomes.length > 0) {
      this.fields.actions = outcomes.map((o) => `${o.type}:${o.ok ? "ok" : "failed"}`);
      this.mark("actions", (this.fields.actions as string[]).join(", "));
    }
    return outcomes;
  }

  /** Sleeps; false if the call's signal aborted meanwhile. */
  async pause(ms: number): Promise<boolean> {
    try {
      await this.sleep(ms, this.call.signal);
      return true;
    } catch {
      return false;
    }
  }

  /** Ledger writes after the outcome is known: a failure is logged and counted, not fatal. */
  async safely(operation: string, write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (error) {
      this.deps.metrics.record(PipelineMetric.ledgerErrors, "Count", 1, { operation });
      this.deps.logger.warn("ledger write failed after the outcome was known", {
        ...this.fields,
        operation,
        error: describeError(error),
      });
    }
  }

  dims(): Record<string, string> {
    return { trigger: this.invocation.triggerId };
  }

  finish(outcome: RespondOutcome): void {
    this.deps.metrics.record(PipelineMetric.outcomes, "Count", 1, {
      ...this.dims(),
      outcome: outcome.status,
    });
    const fields: LogFields = {
      ...this.fields,
      outcome: outcome.status,
      durationMs: this.now() - this.startedAt,
    };
    if ("reason" in outcome) fields.reason = outcome.reason;
    const level =
      outcome.status === "failed" || outcome.status === "deadline-passed"
        ? "error"
        : outcome.retryable
          ? "warn"
          : "info";
    this.deps.logger[level]("invocation handled", fields);
  }
}
