/**
 * The HTTP (Lambda Function URL, payload format 2.0) handler's core, free of AWS and middy so that it
 * runs the same in Lambda, in the local runner and in tests.
 *
 * Order of work, cheapest refusal first: the front's origin header when one is configured (403), then
 * authenticate (nothing else happens for a wrong caller), method,
 * size, JSON, schema + callbackURL guard, then the mode:
 * - sync: decide and reply 200 with the output;
 * - async and FIRE_AND_FORGET: enqueue, reply 200 `{}`; the worker completes the invocation;
 * - dynamic: decide within `dynamicBudgetMs` of receipt and reply 200 with the output, else enqueue and 202 `{}`.
 *
 * Deciding reads live context only when a rule the payload did not settle needs it
 * (lib/responder/context-decide.ts): sync waits for it within `syncContextBudgetMs` (then the
 * trigger's fallback answers), dynamic within its budget (then the worker decides: 202).
 *
 * The ledger's "received" record is NOT written here. The queue is the durable hand-off (SQS stores
 * the message before it acknowledges), the message carries `receivedAt` and `deadline`, and the
 * worker's `recordReceived` is idempotent, so writing the ledger here would add a DynamoDB round trip
 * and the DynamoDB SDK to every cold start on the reply path without making anything safer: if
 * the enqueue fails we answer 503 and ISC marks the invocation failed, ledger or not.
 */
import type { InvocationQueue } from "../adapters/types.ts";
import type { AnswerRecordSink } from "../audit/answer-draft.ts";
import type { ContextReader } from "../context/types.ts";
import { ResponderError, type ValidationIssue } from "../errors.ts";
import {
  type ContextDecideResult,
  decideFromPayload,
  decideWithReadContext,
  recordContextReport,
} from "../responder/context-decide.ts";
import { PipelineMetric, type PipelineMetrics } from "../responder/observability.ts";
import { applyShadow, type ShadowSettings, shadowNoteOf } from "../responder/shadow.ts";
import type { CompiledRules } from "../rules/types.ts";
import { type Invocation, invocationFromHttpBody } from "../triggers/invocation.ts";
import { toQueuedInvocation } from "../triggers/queued-invocation.ts";
import type { RequestResponseTriggerId } from "../triggers/trigger-ids.ts";
import { isAuthorized, type WebhookCredentials, type WebhookCredentialsProvider } from "./auth.ts";
import { DEFAULT_MAX_BODY_BYTES, parseJsonObject, readBodyText } from "./body.ts";
import { ORIGIN_VERIFY_HEADER, type OriginVerifyProvider, originVerified } from "./origin-check.ts";
import { answerRecorder } from "./record-answer.ts";
import {
  describeError,
  errorReply,
  type HttpEvent,
  type HttpResult,
  header,
  invocationFields,
  jsonReply,
  MAX_ISSUES_IN_REPLY,
  withTimeout,
} from "./replies.ts";

export { errorReply, type HttpEvent, type HttpResult, jsonReply } from "./replies.ts";

/** Structured logger; lib/observability's logger and Powertools' Logger both fit. */
export interface HttpLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Metrics as the pipeline records them (lib/responder/observability.ts), so one sink serves both. */
export type HttpMetrics = PipelineMetrics;

/** Metric names the HTTP handler emits; `outcome` is one of the fixed strings passed to `count`. */
export const HttpMetric = {
  /** Requests by `outcome`: unauthorized, 4xx codes, enqueued, answered, deferred, enqueue_failed, ... */
  requests: "HttpRequests",
  /** Handler time from receipt to reply, by `outcome`. */
  replyLatency: "HttpReplyLatency",
} as const;

export interface HttpHandlerDeps {
  rules: CompiledRules;
  credentials: WebhookCredentialsProvider;
  queue: InvocationQueue;
  logger: HttpLogger;
  metrics?: HttpMetrics;
  /** Reads live context for rules that need it; absent: such a decision falls back. */
  context?: ContextReader;
  /** Triggers in shadow mode and the answer ISC gets meanwhile (lib/responder/shadow.ts); absent: none. */
  shadow?: ShadowSettings;
  /** `SAIL_BASE_URL`: callbackURLs must have its origin. */
  tenantBaseUrl: string;
  /** The subscription's responseDeadline in ms, per trigger. */
  responseDeadlineMs: (triggerId: RequestResponseTriggerId) => number;
  /** dynamic mode: reply with the decision only if it is ready this many ms after receipt (default 2000). */
  dynamicBudgetMs?: number;
  /**
   * sync mode: context must be read this many ms after receipt (default 5000), else the fallback
   * answers; the reply budget bounds it too.
   */
  syncContextBudgetMs?: number;
  /** Request body limit (default 262144) → 413. */
  maxBodyBytes?: number;
  /** Reading the credentials may take this long before we answer 503 (default 3000). */
  credentialsTimeoutMs?: number;
  /**
   * With the CloudFront front (ORIGIN_VERIFY_SECRET_ID): the `x-origin-verify` values; a request
   * without the right one is refused 403 before its credentials are looked at. Absent: no check.
   */
  originVerify?: OriginVerifyProvider;
  /** Enqueueing may take this long before we answer 503 (default 4000): the reply must leave within 10 s. */
  enqueueTimeoutMs?: number;
  /**
   * Every wait is also cut so that the reply leaves within this many ms of receipt (default 8000,
   * inside ISC's 10 s window with room for the network), whatever the step timeouts add up to.
   */
  replyBudgetMs?: number;
  /**
   * Where the decision records of answers given in the reply go (sync, dynamic answered in time);
   * in AWS the queue (lib/audit/queue-sink.ts), the worker writes them. A failure costs the record,
   * never the answer. Deferred invocations are recorded by the worker.
   */
  records?: AnswerRecordSink;
  /** Retention of those records in days (default DEFAULT_RECORD_RETENTION_DAYS). */
  recordRetentionDays?: number;
  /** Handing a record over may take this long (default 1000), cut to the reply budget. */
  recordTimeoutMs?: number;
  clock?: () => number;
}

export type HttpHandler = (event: HttpEvent) => Promise<HttpResult>;

export function createHttpHandler(deps: HttpHandlerDeps): HttpHandler {
  const clock = deps.clock ?? Date.now;
  const maxBodyBytes = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const dynamicBudgetMs = deps.dynamicBudgetMs ?? 2000;
  const syncContextBudgetMs = deps.syncContextBudgetMs ?? 5000;
  const credentialsTimeoutMs = deps.credentialsTimeoutMs ?? 3000;
  const enqueueTimeoutMs = deps.enqueueTimeoutMs ?? 4000;
  const replyBudgetMs = deps.replyBudgetMs ?? 8000;
  const recordTimeoutMs = deps.recordTimeoutMs ?? 1000;
  const recordAnswer = answerRecorder({
    ...deps,
    clock,
    timeoutMs: (receivedAt) => bounded(recordTimeoutMs, receivedAt),
  });
  /** A step's timeout, shortened to what is left of the reply budget (at least 1 ms: the step then times out). */
  const bounded = (stepMs: number, receivedAt: number) =>
    Math.max(1, Math.min(stepMs, receivedAt + replyBudgetMs - clock()));
  const { logger, metrics } = deps;
  const count = (outcome: string) => metrics?.record(HttpMetric.requests, "Count", 1, { outcome });

  /** Receipt is when the Function URL got the request (before any cold start), if that is plausible. */
  function receiptTime(event: HttpEvent): number {
    const now = clock();
    const timeEpoch = event.requestContext?.timeEpoch;
    return typeof timeEpoch === "number" && timeEpoch <= now && now - timeEpoch < 60_000 ? timeEpoch : now;
  }

  /** The front's header: 403 without the right one (a wrong one re-reads the secret, rate-limited). */
  async function checkOrigin(
    origin: OriginVerifyProvider,
    event: HttpEvent,
    receivedAt: number,
  ): Promise<HttpResult | undefined> {
    const given = header(event, ORIGIN_VERIFY_HEADER);
    try {
      let expected =
        origin.peek() ??
        (await withTimeout(
          origin.get(),
          bounded(credentialsTimeoutMs, receivedAt),
          "reading the origin secret",
        ));
      if (given !== undefined && !originVerified(given, expected)) {
        // The value may have been changed since we cached it.
        expected = await withTimeout(
          origin.get({ forceRefresh: true }),
          bounded(credentialsTimeoutMs, receivedAt),
          "reading the origin secret",
        );
      }
      if (originVerified(given, expected)) return undefined;
    } catch (error) {
      logger.error("origin secret unavailable", describeError(error));
      count("credentials_unavailable");
      return errorReply(503, "CREDENTIALS_UNAVAILABLE", "the responder cannot check requests right now");
    }
    // Neither the header's value nor its length is logged.
    logger.warn("request refused: not through the front", {
      originHeaderPresent: given !== undefined,
      sourceIp: event.requestContext?.http?.sourceIp,
    });
    count("origin_refused");
    return errorReply(403, "FORBIDDEN", "requests must come through the responder's front");
  }

  async function authenticate(event: HttpEvent, receivedAt: number): Promise<HttpResult | undefined> {
    if (deps.originVerify !== undefined) {
      const refused = await checkOrigin(deps.originVerify, event, receivedAt);
      if (refused !== undefined) return refused;
    }
    const authorization = header(event, "authorization");
    let credentials: WebhookCredentials;
    try {
      // Warm path: the cached value, synchronously (no promise, no timer).
      credentials =
        deps.credentials.peek?.() ??
        (await withTimeout(
          deps.credentials.get(),
          bounded(credentialsTimeoutMs, receivedAt),
          "reading the webhook credentials",
        ));
      if (authorization !== undefined && !isAuthorized(authorization, credentials)) {
        // The token may have been rotated since we cached it: re-read once (rate-limited by the provider).
        credentials = await withTimeout(
          deps.credentials.get({ forceRefresh: true }),
          bounded(credentialsTimeoutMs, receivedAt),
          "reading the webhook credentials",
        );
      }
    } catch (error) {
      logger.error("webhook credentials unavailable", describeError(error));
      count("credentials_unavailable");
      return errorReply(503, "CREDENTIALS_UNAVAILABLE", "the responder cannot check credentials right now");
    }
    if (isAuthorized(authorization, credentials)) return undefined;
    logger.warn("request refused: missing or wrong credentials", {
      authorizationPresent: authorization !== undefined,
      sourceIp: event.requestContext?.http?.sourceIp,
    });
    count("unauthorized");
    const challenge = credentials.type === "basic" ? 'Basic realm="isc-trigger-responder"' : "Bearer";
    return errorReply(401, "UNAUTHORIZED", "missing or wrong credentials", {
      headers: { "www-authenticate": challenge },
    });
  }

  function refuseMethod(event: HttpEvent): HttpResult | undefined {
    if ((event.requestContext?.http?.method ?? "") === "POST") return undefined;
    count("method_not_allowed");
    return errorReply(405, "METHOD_NOT_ALLOWED", "only POST is accepted", { headers: { allow: "POST" } });
  }

  /** Size, JSON, schema and the callbackURL guard: the invocation, or the 4xx reply saying what is wrong. */
  function parse(event: HttpEvent, receivedAt: number): Invocation | HttpResult {
    try {
      const text = readBodyText(
        {
          body: event.body,
          isBase64Encoded: event.isBase64Encoded,
          contentLength: header(event, "content-length"),
        },
        maxBodyBytes,
      );
      return invocationFromHttpBody(parseJsonObject(text), {
        tenantBaseUrl: deps.tenantBaseUrl,
        responseDeadlineMs: deps.responseDeadlineMs,
        receivedAt,
      });
    } catch (error) {
      if (error instanceof ResponderError && error.httpStatus >= 400 && error.httpStatus < 500) {
        const issues = (error as { issues?: ValidationIssue[] }).issues;
        logger.warn("request refused", {
          status: error.httpStatus,
          errorCode: error.code,
          issues: issues?.slice(0, MAX_ISSUES_IN_REPLY).map((issue) => issue.path),
        });
        count(error.code.toLowerCase());
        return errorReply(
          error.httpStatus,
          error.code,
          error.message,
          issues === undefined ? {} : { issues },
        );
      }
      throw error;
    }
  }

  /** Hands the invocation to the worker; the error if that failed (logged by the caller, which knows what it costs). */
  async function handOver(invocation: Invocation): Promise<unknown> {
    try {
      await withTimeout(
        deps.queue.enqueue(toQueuedInvocation(invocation)),
        bounded(enqueueTimeoutMs, invocation.receivedAt),
        "enqueueing",
      );
      return undefined;
    } catch (error) {
      return error ?? new Error("enqueue failed");
    }
  }

  async function enqueue(invocation: Invocation, okStatus: 200 | 202): Promise<HttpResult> {
    const error = await handOver(invocation);
    if (error !== undefined) {
      // ISC marks the invocation failed on a 5xx; nothing is lost silently.
      logger.error("enqueue failed", { ...invocationFields(invocation), ...describeError(error) });
      count("enqueue_failed");
      return errorReply(503, "ENQUEUE_FAILED", "the invocation could not be queued");
    }
    logger.info("invocation enqueued", { ...invocationFields(invocation), status: okStatus });
    count("enqueued");
    return jsonReply(okStatus, {});
  }

  /** The answer goes out whatever happens here: a failed hand-over costs the actions, never the answer. */
  function actionsLost(invocation: Invocation, error: unknown): void {
    logger.error("actions not handed to the worker: the answer is sent, its actions will not run", {
      ...invocationFields(invocation),
      ...describeError(error),
    });
    count("actions_enqueue_failed");
  }

  /**
   * Decides over the payload, and over live context when a rule needs it, reading until `deadline`.
   * Synchronous (no promise) when the payload settles it.
   */
  function decideBy(
    invocation: Invocation,
    deadline: number,
  ): ContextDecideResult | Promise<ContextDecideResult> {
    const first = decideFromPayload(invocation, deps.rules);
    if (!("contextRequired" in first)) return logged(invocation, shadowed(invocation, first));
    return decideWithReadContext(invocation, deps.rules, first.contextRequired, {
      reader: deps.context,
      deadline,
      clock,
    }).then((result) => logged(invocation, shadowed(invocation, result)));
  }

  /** Shadow mode: the trigger's shadow answer goes out, the rules' own stays in the explanation (counted once sent). */
  function shadowed(invocation: Invocation, result: ContextDecideResult): ContextDecideResult {
    return deps.shadow === undefined ? result : applyShadow(invocation, result, deps.shadow);
  }

  function logged(invocation: Invocation, result: ContextDecideResult): ContextDecideResult {
    const explanation = result.decision.explanation;
    const fields: Record<string, unknown> = {
      ...invocationFields(invocation),
      ruleId: explanation.ruleId,
      kind: explanation.kind,
      fallback: result.fallback,
      fallbackReason: result.fallbackReason,
      rulesVersion: explanation.rulesVersion,
      evaluationMicros: explanation.evaluationMicros,
    };
    if (result.context !== undefined) {
      fields.context = recordContextReport(metrics, result.context, { trigger: invocation.triggerId });
    }
    (result.fallback ? logger.warn : logger.info).call(logger, "invocation decided", fields);
    if (result.fallback) count("fallback");
    return result;
  }

  /**
   * The reply carries the decision: counted as the worker counts its own (same names and dimensions),
   * so the Fallbacks alarm and the decisions dashboard see sync and dynamic answers too. A deferred
   * dynamic decision is not counted here: the worker decides and counts it.
   */
  function answered(invocation: Invocation, result: ContextDecideResult): HttpResult {
    const trigger = { trigger: invocation.triggerId };
    const kind = result.fallback ? "fallback" : result.decision.explanation.kind;
    metrics?.record(PipelineMetric.decisions, "Count", 1, { ...trigger, kind });
    if (result.fallback) metrics?.record(PipelineMetric.fallbacks, "Count", 1, trigger);
    const shadow = shadowNoteOf(result.decision.explanation);
    if (shadow !== undefined) {
      metrics?.record(PipelineMetric.shadowDecisions, "Count", 1, {
        ...trigger,
        differs: shadow.differs ? "yes" : "no",
      });
    }
    return jsonReply(200, result.decision.output);
  }

  async function answerSync(invocation: Invocation): Promise<HttpResult> {
    const contextDeadline = Math.min(
      invocation.receivedAt + syncContextBudgetMs,
      invocation.receivedAt + replyBudgetMs - 500,
    );
    const result = await decideBy(invocation, contextDeadline);
    const decidedAt = clock();
    count("sync_answered");
    // The record is handed over while the actions are (both bounded by the reply budget).
    const recorded = recordAnswer(invocation, result, decidedAt);
    // The reply is the answer; the worker runs the decision's actions (this function cannot run
    // anything after replying), with the answer's own actions: deciding again there (live context
    // may have changed) could run another decision's actions. Queued without id, callbackURL or
    // secret (a sync body may carry them): the worker must not complete it.
    if (result.decision.actions.length > 0) {
      const explanation = result.decision.explanation;
      const actionsOnly: Invocation = {
        ...invocation,
        invocationId: undefined,
        callbackUrl: undefined,
        secret: undefined,
        ...(invocation.triggerType === "requestResponse"
          ? {
              answered: {
                ruleId: explanation.ruleId,
                rulesVersion: explanation.rulesVersion,
                actions: result.decision.actions,
              },
            }
          : {}),
      } as Invocation;
      const error = await handOver(actionsOnly);
      if (error === undefined) logger.info("actions handed to the worker", invocationFields(invocation));
      else actionsLost(invocation, error);
    }
    await recorded;
    return answered(invocation, result);
  }

  async function answerDynamic(invocation: Invocation): Promise<HttpResult> {
    const budgetEnd = invocation.receivedAt + dynamicBudgetMs;
    // A cold start or a slow secret read may already have used the budget; then do not decide here.
    if (clock() > budgetEnd) return defer(invocation, "dynamic_deferred");
    const result = await decideBy(invocation, budgetEnd);
    const decidedAt = clock();
    // Context that was slow or briefly unavailable: the worker has until the deadline to read it.
    if (result.context?.failure?.transient === true) return defer(invocation, "dynamic_deferred_for_context");
    // An async predicate that did not settle within the dynamic budget: the worker has until the deadline.
    if (result.retryable === true) return defer(invocation, "dynamic_deferred_for_predicate");
    if (result.decision.actions.length > 0) {
      // Actions run after ISC acknowledged the completion: the worker completes this one (202) and
      // runs them once, under the ledger, instead of answering here and losing them. If it cannot be
      // queued, answer here all the same: that costs the actions, never the answer.
      const error = await handOver(invocation);
      if (error === undefined) {
        logger.info("invocation enqueued", { ...invocationFields(invocation), status: 202 });
        count("dynamic_deferred_for_actions");
        return jsonReply(202, {});
      }
      actionsLost(invocation, error);
      await recordAnswer(invocation, result, decidedAt);
      return answered(invocation, result);
    }
    if (clock() > budgetEnd) return defer(invocation, "dynamic_deferred");
    count("dynamic_answered");
    await recordAnswer(invocation, result, decidedAt);
    return answered(invocation, result);
  }

  function defer(invocation: Invocation, outcome: string): Promise<HttpResult> {
    count(outcome);
    return enqueue(invocation, 202);
  }

  async function handle(event: HttpEvent): Promise<HttpResult> {
    const receivedAt = receiptTime(event);
    const refused = (await authenticate(event, receivedAt)) ?? refuseMethod(event);
    if (refused !== undefined) return refused;
    const invocation = parse(event, receivedAt);
    if (!("triggerType" in invocation)) return invocation;
    if (invocation.triggerType === "fireAndForget" || invocation.mode === "async") {
      return enqueue(invocation, 200);
    }
    return invocation.mode === "sync" ? answerSync(invocation) : answerDynamic(invocation);
  }

  return async (event) => {
    const started = clock();
    let result: HttpResult;
    try {
      result = await handle(event);
    } catch (error) {
      logger.error("unexpected error in the HTTP handler", describeError(error));
      count("internal_error");
      result = errorReply(500, "INTERNAL", "internal error");
    }
    metrics?.record(HttpMetric.replyLatency, "Milliseconds", clock() - started, {
      status: String(result.statusCode),
    });
    return result;
  };
}
