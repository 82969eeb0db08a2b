/**
 * respond(invocation): decide, complete the invocation at ISC before its deadline, run the
 * decision's actions, and record every step in the ledger, so that duplicate deliveries never
 * decide or complete twice and a crash between steps resumes. Independent of Lambda and AWS: the
 * worker handler and the local runner inject the dependencies. docs/pipeline.md explains the choices.
 */

import { DEADLINE_PASSED } from "../adapters/ledger-record.ts";
import type { InvocationLedger, LedgerDecision, LedgerRecord, LedgerState } from "../adapters/types.ts";
import type { ContextReader } from "../context/types.ts";
import type { CompletionTarget, IscActionsApi, IscCompletionApi } from "../isc/types.ts";
import type { ActionSpec, CompiledRules } from "../rules/types.ts";
import type { Invocation } from "../triggers/invocation.ts";
import { type ActionOutcome, DEFAULT_ACTION_TIMEOUT_MS, runActions } from "./actions.ts";
import { boundedLedger } from "./bounded-ledger.ts";
import { type CompletionFailure, classifyCompletionError } from "./completion-errors.ts";
import {
  type ContextDecideResult,
  decideFromPayload,
  decideWithReadContext,
  describeContextFailure,
  recordContextReport,
} from "./context-decide.ts";
import { isValidOutput } from "./decide.ts";
import { describeError } from "./describe-error.ts";
import {
  type LogFields,
  type PipelineLogger,
  PipelineMetric,
  type PipelineMetrics,
} from "./observability.ts";
import {
  accessRequestIdOf,
  canonicalJson,
  decisionFields,
  defaultSleep,
  sameDecision,
  timeoutSignal,
} from "./run-support.ts";

export interface RespondOptions {
  /** Completion calls stop this long before the invocation's deadline (clock skew, ISC's own latency). */
  safetyMarginMs: number;
  /**
   * Within this much of the (safety-adjusted) deadline, the pipeline stops relying on a later
   * redelivery, which could come too late: it retries the completion in process, waits out another
   * worker's lease, and completes without the ledger if the ledger fails.
   */
  nearDeadlineMs: number;
  /** Completion lease; a crashed holder blocks other deliveries this long at most. */
  leaseMs: number;
  /** A completion attempt is abandoned this long before the lease ends, so it never runs unleased. */
  leaseMarginMs: number;
  /** Per-action bound, retries included. */
  actionTimeoutMs: number;
  /** FIRE_AND_FORGET has no deadline; its ledger record gets receivedAt + this as one (for retention). */
  fireAndForgetWindowMs: number;
  /** First pause between in-process completion retries near the deadline (doubles up to 8 s). */
  retryDelayMs: number;
  /**
   * One delivery waits at most this long for rule context (the ISC client retries within it). A
   * transient failure far from the deadline is retried by redelivery; near it, the fallback answers.
   */
  contextTimeoutMs: number;
  /** Context reads end this long before the completion deadline or the call's end: room to complete. */
  contextReserveMs: number;
  /**
   * The longest one ledger call may take; it is also bounded by the call's end, and before the
   * completion by half the time left (lib/responder/bounded-ledger.ts), so the bypass can still complete.
   */
  ledgerTimeoutMs: number;
}

export const DEFAULT_RESPOND_OPTIONS: RespondOptions = {
  safetyMarginMs: 5_000,
  nearDeadlineMs: 60_000,
  leaseMs: 60_000,
  leaseMarginMs: 5_000,
  actionTimeoutMs: DEFAULT_ACTION_TIMEOUT_MS,
  fireAndForgetWindowMs: 3_600_000,
  retryDelayMs: 1_000,
  contextTimeoutMs: 20_000,
  contextReserveMs: 3_000,
  ledgerTimeoutMs: 5_000,
};

const MAX_RETRY_DELAY_MS = 8_000;
const MIN_LEASE_POLL_MS = 250;

export interface RespondDeps {
  rules: CompiledRules;
  client: IscCompletionApi & IscActionsApi;
  ledger: InvocationLedger;
  /** Reads live context for rules that need it; absent: such a decision falls back. */
  context?: ContextReader;
  logger: PipelineLogger;
  metrics: PipelineMetrics;
  /** Owner name of completion leases (e.g. the Lambda request id, or host:pid locally). */
  workerId: string;
  /** Epoch ms; default Date.now. */
  clock?: () => number;
  /** Rejects when `signal` aborts; default setTimeout. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  options?: Partial<RespondOptions>;
}

/** Bounds of one call: the worker passes the Lambda's remaining time. */
export interface RespondCall {
  /** Aborts ISC calls and in-process waits. */
  signal?: AbortSignal;
  /** Epoch ms by which respond() must have returned (no in-process wait goes past it). */
  endsAt?: number;
}

export type RespondStatus =
  | "completed"
  | "already-completed"
  | "duplicate-skipped"
  | "in-progress"
  | "retry"
  | "deadline-passed"
  | "failed";

export type RespondOutcome =
  | {
      status: "completed";
      retryable: false;
      decision: LedgerDecision;
      actions: ActionOutcome[];
      /** "bypassed": completed without the ledger (it failed near the deadline); "none": nothing to ledger. */
      ledger: "recorded" | "bypassed" | "none";
    }
  | {
      status: "already-completed";
      retryable: false;
      reason: string;
      /** Run when ISC's 400.1.404 answered a retry of our own completion (its 204 was lost). */
      actions?: ActionOutcome[];
    }
  | { status: "duplicate-skipped"; retryable: false; state: LedgerState }
  | { status: "in-progress"; retryable: true; reason: string }
  | { status: "retry"; retryable: true; reason: string }
  | { status: "deadline-passed"; retryable: false; reason: string }
  | { status: "failed"; retryable: false; reason: string };

const FINAL_STATES: ReadonlySet<LedgerState> = new Set(["completed", "failed"]);

/** Never throws: every failure becomes an outcome; `retryable` outcomes must be redelivered. */
export async function respond(
  invocation: Invocation,
  deps: RespondDeps,
  call: RespondCall = {},
): Promise<RespondOutcome> {
  const run = new Run(invocation, deps, call);
  let outcome: RespondOutcome;
  try {
    outcome = await run.execute();
  } catch (error) {
    // A bug or an unexpected throw from a dependency: redeliver rather than lose the invocation.
    deps.logger.error("respond failed unexpectedly", { ...run.fields, error: describeError(error) });
    outcome = { status: "retry", retryable: true, reason: `unexpected error: ${describeError(error)}` };
  }
  run.finish(outcome);
  return outcome;
}

type Attempt = { kind: "ok"; at: number } | CompletionFailure;

/** The ledger outcome of a 400.1.404 taken for our own completion whose 204 was lost. */
export const COMPLETION_REPLY_LOST =
  "completed by an earlier attempt of this delivery whose reply was lost (ISC then answered 400.1.404)";

class Run {
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
    if (invocation.triggerType === "fireAndForget") return this.fireAndForget();
    if (invocation.mode === "sync" || invocation.invocationId === undefined) {
      // A sync HTTP invocation: answered in the HTTP reply, queued only so that its decision's actions
      // run (the reply cannot run them). Nothing to complete, even if it carries an id.
      return this.actionsOnly();
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
    if (record.decision !== undefined) return { decision: this.reuse(record.decision) };
    const fresh = await this.decideNow();
    if ("retry" in fresh) return this.retry(fresh.retry);
    let stored: LedgerRecord;
    try {
      stored = await this.ledger.recordDecision(invocationId, fresh);
    } catch (error) {
      return this.ledgerFailed("recordDecision", error, fresh);
    }
    if (FINAL_STATES.has(stored.state)) return this.duplicate(stored);
    return { decision: stored.decision === undefined ? fresh : this.reuse(stored.decision, fresh) };
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
    const invocationId = this.invocation.invocationId;
    if (useLedger && invocationId !== undefined) {
      await this.safely("markFailed", () => this.ledger.markFailed(invocationId, DEADLINE_PASSED));
    }
    return { status: "deadline-passed", retryable: false, reason: DEADLINE_PASSED };
  }

  async failFinal(reason: string, useLedger: boolean): Promise<RespondOutcome> {
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
    const chosen = decision ?? (await this.decideNow());
    if ("retry" in chosen) return this.retry(chosen.retry);
    return this.completeLoop(invocationId, chosen, false);
  }

  /**
   * Decides over the payload and, when a rule needs it, live context. A transient context failure
   * (timeout, 429, 5xx) far from the deadline asks for a redelivery instead of a fallback: nothing is
   * recorded, the next delivery reads again. `counted: false` for a decision the http function
   * already counted (a sync one, here for its actions).
   */
  async decideNow(counted = true): Promise<LedgerDecision | { retry: string }> {
    const first = decideFromPayload(this.invocation, this.deps.rules);
    let result: ContextDecideResult;
    if ("contextRequired" in first) {
      result = await decideWithReadContext(this.invocation, this.deps.rules, first.contextRequired, {
        reader: this.deps.context,
        deadline: this.contextDeadline(),
        ...(this.call.signal === undefined ? {} : { signal: this.call.signal }),
        clock: this.now,
      });
      const report = result.context;
      if (report !== undefined) {
        this.fields.context = recordContextReport(this.deps.metrics, report, this.dims());
        const failure = report.failure;
        if (failure?.transient === true && this.mayRetryContext()) {
          this.deps.logger.warn("context could not be read; the invocation will be retried", {
            ...this.fields,
            reason: describeContextFailure(failure),
          });
          return { retry: describeContextFailure(failure) };
        }
      }
    } else {
      result = first;
    }
    const { decision, fallback, fallbackReason } = result;
    const kind = fallback ? "fallback" : decision.explanation.kind;
    if (counted) this.deps.metrics.record(PipelineMetric.decisions, "Count", 1, { ...this.dims(), kind });
    if (fallback) {
      if (counted) this.deps.metrics.record(PipelineMetric.fallbacks, "Count", 1, this.dims());
      this.deps.logger.warn("decision fell back", { ...this.fields, reason: fallbackReason });
    }
    Object.assign(
      this.fields,
      decisionFields(this.invocation.triggerId, decision.output, decision.explanation),
    );
    return {
      // FIRE_AND_FORGET decisions have no output; the ledger stores an empty one.
      output: decision.output ?? {},
      explanation: decision.explanation,
      fallback,
      actions: decision.actions,
    };
  }

  /** Context reads end in time to complete: before the completion deadline and the call's end, minus a reserve. */
  contextDeadline(): number {
    const reserve = this.options.contextReserveMs;
    let deadline = Math.min(this.now() + this.options.contextTimeoutMs, this.effectiveDeadline - reserve);
    if (this.call.endsAt !== undefined) deadline = Math.min(deadline, this.call.endsAt - reserve);
    return deadline;
  }

  /** A redelivery can still read and complete in time: a request-response invocation far from its deadline. */
  mayRetryContext(): boolean {
    return (
      this.invocation.triggerType === "requestResponse" &&
      this.invocation.mode !== "sync" &&
      this.invocation.invocationId !== undefined &&
      !this.isNearDeadline()
    );
  }

  /** A decision read back from the ledger; refused (→ fallback) only if it no longer passes the schema. */
  reuse(stored: LedgerDecision, fresh?: LedgerDecision): LedgerDecision {
    if (fresh === undefined || !sameDecision(stored, fresh)) this.fields.decisionReused = true;
    if (
      this.invocation.triggerType === "requestResponse" &&
      !isValidOutput(this.invocation.triggerId, stored.output)
    ) {
      const reason = "the stored decision fails the output schema";
      this.deps.logger.error("stored decision is invalid; completing with the fallback", {
        ...this.fields,
        reason,
      });
      const fallback = this.deps.rules.fallback(this.invocation.triggerId, reason);
      return {
        output: fallback.output ?? {},
        explanation: fallback.explanation,
        fallback: true,
        actions: [],
      };
    }
    Object.assign(this.fields, decisionFields(this.invocation.triggerId, stored.output, stored.explanation));
    if (stored.actions === undefined && fresh === undefined)
      return { ...stored, actions: this.recoverActions(stored) };
    return stored;
  }

  /**
   * For a ledger that does not keep a decision's actions: the same rules version gives the same
   * decision, so its actions are taken from a re-evaluation, but only if it yields the stored output.
   */
  recoverActions(stored: LedgerDecision): ActionSpec[] {
    const version = (stored.explanation as { rulesVersion?: unknown } | undefined)?.rulesVersion;
    if (version !== this.deps.rules.version) return [];
    try {
      const again = this.deps.rules.decide(this.invocation);
      return canonicalJson(again.output ?? {}) === canonicalJson(stored.output) ? again.actions : [];
    } catch {
      return [];
    }
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
    }
    return outcomes;
  }

  /**
   * Decide and run the decision's actions, nothing to complete. Not ledgered: without an invocation
   * id a duplicate delivery cannot be recognised, so its actions may run again (docs/pipeline.md).
   */
  async actionsOnly(): Promise<RespondOutcome> {
    const answered = this.invocation.triggerType === "requestResponse" ? this.invocation.answered : undefined;
    // Only a decision of these rules: a message from another version (or not from our http
    // function) is decided again, as before, so it cannot run actions the rules do not have.
    if (answered !== undefined && answered.rulesVersion === this.deps.rules.version) {
      // A sync reply's actions, as decided for that reply: run exactly those, decide nothing again.
      Object.assign(this.fields, { ruleId: answered.ruleId, rulesVersion: answered.rulesVersion });
      const decision: LedgerDecision = {
        output: {},
        explanation: { ruleId: answered.ruleId, rulesVersion: answered.rulesVersion, kind: "answered" },
        fallback: false,
        actions: answered.actions,
      };
      const actions = await this.runDecisionActions(decision);
      return { status: "completed", retryable: false, decision, actions, ledger: "none" };
    }
    const decision = await this.decideNow(this.invocation.mode !== "sync");
    if ("retry" in decision) return this.retry(decision.retry);
    const actions = await this.runDecisionActions(decision);
    return { status: "completed", retryable: false, decision, actions, ledger: "none" };
  }

  /** FIRE_AND_FORGET: nothing to complete; decide, run the actions once, record. */
  async fireAndForget(): Promise<RespondOutcome> {
    const invocationId = this.invocation.invocationId;
    const ledger = this.ledger;
    if (invocationId === undefined) return this.actionsOnly();
    try {
      const { record } = await ledger.recordReceived({
        invocationId,
        triggerId: this.invocation.triggerId,
        accessRequestId: accessRequestIdOf(this.invocation) ?? "",
        receivedAt: this.invocation.receivedAt,
        deadline: this.invocation.receivedAt + this.options.fireAndForgetWindowMs,
      });
      if (FINAL_STATES.has(record.state)) return this.duplicate(record);
      let decision: LedgerDecision;
      if (record.decision !== undefined) {
        decision = this.reuse(record.decision);
      } else {
        const fresh = await this.decideNow();
        if ("retry" in fresh) return this.retry(fresh.retry);
        const stored = await ledger.recordDecision(invocationId, fresh);
        if (FINAL_STATES.has(stored.state)) return this.duplicate(stored);
        decision = stored.decision === undefined ? fresh : this.reuse(stored.decision, fresh);
      }
      const now = this.now();
      if (!(await ledger.claimCompletion(invocationId, this.deps.workerId, this.options.leaseMs, now))) {
        const current = await ledger.get(invocationId);
        if (current !== undefined && FINAL_STATES.has(current.state)) return this.duplicate(current);
        return this.inProgress();
      }
      const actions = await this.runDecisionActions(decision);
      const failed = actions.filter((a) => !a.ok).length;
      const summary = `actions: ${actions.length - failed} ok, ${failed} failed`;
      await this.safely("markCompleted", () => ledger.markCompleted(invocationId, this.now(), summary));
      return { status: "completed", retryable: false, decision, actions, ledger: "recorded" };
    } catch (error) {
      this.deps.metrics.record(PipelineMetric.ledgerErrors, "Count", 1, { operation: "fireAndForget" });
      return this.retry(`ledger failed: ${describeError(error)}`);
    }
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
