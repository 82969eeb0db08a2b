/**
 * respond()'s options, dependencies and outcomes (lib/responder/respond.ts re-exports them).
 */

import type { InvocationLedger, LedgerDecision, LedgerState } from "../adapters/types.ts";
import type { DecisionRecordSink } from "../audit/types.ts";
import type { ContextReader } from "../context/types.ts";
import type { IscActionsApi, IscCompletionApi } from "../isc/types.ts";
import type { CompiledRules } from "../rules/types.ts";
import { type ActionOutcome, DEFAULT_ACTION_TIMEOUT_MS } from "./actions.ts";
import type { PipelineLogger, PipelineMetrics } from "./observability.ts";
import type { ShadowSettings } from "./shadow.ts";

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
  /**
   * Where each decided invocation's decision record goes (lib/audit). A failed or slow write never
   * changes the outcome: it is logged and counted (DecisionRecordFailures).
   */
  records?: DecisionRecordSink;
  /** Retention of those records in days (default DEFAULT_RECORD_RETENTION_DAYS). */
  recordRetentionDays?: number;
  /** Triggers in shadow mode and the answer ISC gets meanwhile (lib/responder/shadow.ts); absent: none. */
  shadow?: ShadowSettings;
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
