/**
 * The logging and metrics surface the pipeline needs, kept this small so that the project's
 * logger and metrics (lib/observability), Powertools, or a test recorder all fit.
 */

import type { RetryEvent } from "../isc/http.ts";
import { apiVersionOf } from "../isc/rate-limiter.ts";

export type LogFields = Record<string, unknown>;

export interface PipelineLogger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export type MetricUnitName = "Count" | "Milliseconds";

export interface PipelineMetrics {
  /** One data point; `dimensions` select the series (keep their values low-cardinality). */
  record(name: string, unit: MetricUnitName, value: number, dimensions?: Record<string, string>): void;
}

export const silentLogger: PipelineLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

export const noMetrics: PipelineMetrics = { record() {} };

/** Metric names the pipeline emits (dashboards and alarms refer to them). */
export const PipelineMetric = {
  /** Decisions evaluated, by `trigger` and `kind` (rule | default | fallback). */
  decisions: "Decisions",
  /** Decisions that ended in the trigger's fallback, by `trigger`. */
  fallbacks: "Fallbacks",
  /** How deliveries ended, by `outcome` (the RespondOutcome status). */
  outcomes: "InvocationOutcomes",
  /** Successful completions at ISC, by `trigger`. */
  completions: "Completions",
  /** ISC answered 400.1.404 (already completed or expired), by `trigger`. */
  invocationGone: "InvocationGone",
  /** The deadline passed before a completion could be sent, by `trigger`. */
  deadlinePassed: "DeadlinePassed",
  /** Completion attempts that failed transiently (5xx, 429, network), by `trigger`. */
  completionRetries: "CompletionRetries",
  /** receivedAt → completion acknowledged by ISC. */
  latency: "CompletionLatency",
  /** Time left before the deadline when ISC acknowledged the completion. */
  deadlineMargin: "DeadlineMargin",
  /** Ledger calls that failed (the pipeline retries or degrades), by `operation`. */
  ledgerErrors: "LedgerErrors",
  /** Completions sent without the ledger because it failed near the deadline. */
  ledgerBypassed: "LedgerBypassed",
  /** Actions run, by `action` and `result` (ok | failed). */
  actions: "Actions",
  /** Requests to ISC's read APIs for rule context, by `kind` (identities, roles, sodPrediction, ...). */
  contextReads: "ContextReads",
  /** Context objects served from the container's cache (or another invocation's read in flight). */
  contextCacheHits: "ContextCacheHits",
  /** Time a decision waited for its context. */
  contextLatency: "ContextLatency",
  /** Decisions whose context could not be read (they fell back), by `reason`. */
  contextFailures: "ContextFailures",
  /** ISC answered 429 to a request (context or completion), by `api` version. */
  throttled: "IscThrottled",
  /** Decisions of a trigger in shadow mode, by `trigger` and `differs` (yes: the rules' answer is not what ISC got). */
  shadowDecisions: "ShadowDecisions",
  /** Decision records that could not be written (the outcome stands; the audit trail misses one), by `trigger`. */
  decisionRecordFailures: "DecisionRecordFailures",
} as const;

/** An ISC client's onRetry that counts the 429s it met, by API version (`IscThrottled`). */
export function countThrottles(metrics: PipelineMetrics): (event: RetryEvent) => void {
  return (event) => {
    if (event.status !== 429) return;
    const path = event.operation.split(" ")[1] ?? "";
    metrics.record(PipelineMetric.throttled, "Count", 1, { api: apiVersionOf(path) });
  };
}
