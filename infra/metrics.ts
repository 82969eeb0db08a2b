/**
 * The custom metrics the alarms and the dashboard read: names and dimensions as the pipeline emits
 * them (lib/responder/observability.ts PipelineMetric) through lib/observability/emf.ts, which adds
 * the `service` dimension (POWERTOOLS_SERVICE_NAME). docs/runtime-contract.md "Metrics" lists them.
 * A CloudWatch alarm matches an exact dimension set, so a renamed metric or dimension must change here too.
 */
export const METRIC = {
  /** Count, dimensions {service, trigger, kind: rule|default|fallback}. */
  decisions: "Decisions",
  /** Count, dimensions {service, trigger}: decisions that ended in the trigger's fallback. */
  fallbacks: "Fallbacks",
  /** Count, dimensions {service, trigger}: completions ISC acknowledged. */
  completions: "Completions",
  /** Count, dimensions {service, trigger}: the deadline passed before a completion could be sent. */
  deadlinePassed: "DeadlinePassed",
  /** Count, dimensions {service, trigger}: ISC said already completed or expired (400.1.404). */
  invocationGone: "InvocationGone",
  /** Count, dimensions {service, trigger, outcome}: how deliveries ended (outcome "failed" = could not answer). */
  outcomes: "InvocationOutcomes",
  /** Milliseconds, dimensions {service, trigger}: time left before the deadline when ISC acknowledged. */
  deadlineMargin: "DeadlineMargin",
  /** Milliseconds, dimensions {service, trigger}: receivedAt → completion acknowledged. */
  completionLatency: "CompletionLatency",
  /** Count, dimensions {service, kind}: requests to ISC's read APIs for rule context. */
  contextReads: "ContextReads",
  /** Count, dimensions {service}: context objects served from a container's cache. */
  contextCacheHits: "ContextCacheHits",
  /** Milliseconds, dimensions {service, trigger}: a decision's wait for context. */
  contextLatency: "ContextLatency",
  /** Count, dimensions {service, trigger, reason}: decisions whose context could not be read. */
  contextFailures: "ContextFailures",
  /** Count, dimensions {service, api}: ISC answered 429. */
  throttled: "IscThrottled",
  /** Count, dimensions {service, trigger}: decision records that could not be written (the outcome stands). */
  decisionRecordFailures: "DecisionRecordFailures",
  /** Count, dimensions {service, trigger, differs: yes|no}: decisions of a trigger in shadow mode. */
  shadowDecisions: "ShadowDecisions",
  /** Count, dimensions {service, outcome}: http requests by how the handler answered (lib/http/handler.ts HttpMetric). */
  httpRequests: "HttpRequests",
} as const;

/**
 * HttpRequests outcomes that mean ISC's request failed on our side: a wrong or unreadable token (401,
 * 503: a botched rotation, a Secrets Manager outage), the queue refusing the hand-over (503), a bug
 * (500), and with the CloudFront front a wrong or missing origin header (403: a botched header
 * change refuses every request ISC sends through it). All are ordinary replies, so the Lambda Errors
 * metric never sees them.
 */
export const HTTP_FAILING_OUTCOMES = [
  "unauthorized",
  "origin_refused",
  "credentials_unavailable",
  "enqueue_failed",
  "internal_error",
] as const;

export const DIMENSION = {
  service: "service",
  trigger: "trigger",
  kind: "kind",
  outcome: "outcome",
  reason: "reason",
  api: "api",
  differs: "differs",
} as const;
