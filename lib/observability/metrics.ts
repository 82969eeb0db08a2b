/**
 * Business metrics as CloudWatch Embedded Metric Format lines (Powertools Metrics): one metric name
 * per outcome rather than an `outcome` dimension, so everything of one invocation lands in a single
 * EMF blob (Powertools dimensions apply to a whole blob) with the `service` dimension only.
 *
 * Call the helpers while handling an invocation, then `flush()` once at the end of the Lambda
 * invocation (or use Powertools' logMetrics middleware on `metrics.powertools`).
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { SinkConsole } from "./sink.ts";

export type DecisionOutcome = "approved" | "denied" | "approver" | "none";
export type CompletionResult = "ok" | "gone" | "failed";
export type ActionResult = "ok" | "failed" | "skipped";

export const METRIC_NAMES = {
  decision: {
    approved: "DecisionApproved",
    denied: "DecisionDenied",
    approver: "DecisionApprover",
    none: "DecisionNone",
  },
  decisionLatency: "DecisionLatency",
  fallback: "Fallback",
  completion: { ok: "CompletionOk", gone: "CompletionGone", failed: "CompletionFailed" },
  deadlineMargin: "DeadlineMargin",
  action: { ok: "ActionOk", failed: "ActionFailed", skipped: "ActionSkipped" },
} as const;

export interface ResponderMetrics {
  /** The underlying Powertools instance (for logMetrics middleware, cold-start metric). */
  readonly powertools: Metrics;
  /** A decision was made (rules or fallback) in `latencyMs`. */
  decision(outcome: DecisionOutcome, latencyMs: number): void;
  /** The trigger's configured fallback answered (rules error, timeout, invalid output). */
  fallback(): void;
  /** A completion call ended: ok (204), gone (already completed or expired), failed. */
  completion(result: CompletionResult, deadlineMarginMs?: number): void;
  /** A follow-up action (task-status patch, campaign completion, ...) ended. */
  action(result: ActionResult): void;
  /** Writes the stored metrics as one EMF line (no line when nothing was recorded). */
  flush(): void;
}

/** approved/denied for pre-approval outputs, approver/none for dynamic-approver outputs. */
export function decisionOutcomeOf(output: Record<string, unknown>): DecisionOutcome {
  if (typeof output.approved === "boolean") return output.approved ? "approved" : "denied";
  return typeof output.id === "string" && output.id !== "" ? "approver" : "none";
}

class SinkMetrics extends Metrics {
  constructor(options: ConstructorParameters<typeof Metrics>[0], sink: SinkConsole | undefined) {
    super(sink === undefined ? options : { ...options, logger: sink });
    // Powertools writes EMF through a private Console; the test/local sink replaces it.
    if (sink !== undefined) (this as unknown as { console: SinkConsole }).console = sink;
  }
}

export interface CreateMetricsOptions {
  /** Defaults to POWERTOOLS_METRICS_NAMESPACE, then "IscTriggerResponder". */
  namespace?: string;
  /** Defaults to POWERTOOLS_SERVICE_NAME, then "isc-trigger-responder". */
  serviceName?: string;
  sink?: SinkConsole;
}

export function createMetrics(options: CreateMetricsOptions = {}): ResponderMetrics {
  const metrics = new SinkMetrics(
    {
      namespace: options.namespace ?? process.env.POWERTOOLS_METRICS_NAMESPACE ?? "IscTriggerResponder",
      serviceName: options.serviceName ?? process.env.POWERTOOLS_SERVICE_NAME ?? "isc-trigger-responder",
    },
    options.sink,
  );
  return {
    powertools: metrics,
    decision(outcome, latencyMs) {
      metrics.addMetric(METRIC_NAMES.decision[outcome], MetricUnit.Count, 1);
      metrics.addMetric(METRIC_NAMES.decisionLatency, MetricUnit.Milliseconds, Math.max(0, latencyMs));
    },
    fallback() {
      metrics.addMetric(METRIC_NAMES.fallback, MetricUnit.Count, 1);
    },
    completion(result, deadlineMarginMs) {
      metrics.addMetric(METRIC_NAMES.completion[result], MetricUnit.Count, 1);
      // Negative margins are kept: they show completions attempted after the deadline.
      if (deadlineMarginMs !== undefined) {
        metrics.addMetric(METRIC_NAMES.deadlineMargin, MetricUnit.Milliseconds, deadlineMarginMs);
      }
    },
    action(result) {
      metrics.addMetric(METRIC_NAMES.action[result], MetricUnit.Count, 1);
    },
    flush() {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    },
  };
}
