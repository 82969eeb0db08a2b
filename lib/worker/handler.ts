/**
 * The worker's testable core: an SQS batch handler with partial batch failures. Each record is a
 * QueuedInvocation (from the HTTP handler) or an EventBridge event (rule → SQS target); it goes
 * through respond(). Final outcomes succeed (SQS deletes them). A retryable request-response
 * invocation goes back on the queue with a delay inside its deadline (`redelivery`); otherwise (no
 * redelivery queue, FIRE_AND_FORGET, deadline too close or passed, the send failed) it is reported in
 * batchItemFailures and SQS redelivers it after the visibility timeout. Poison messages (not JSON,
 * failing their schema) are reported as failures too, so SQS moves them to the DLQ after
 * maxReceiveCount; they are logged by message id and issue paths only, never with their body (it
 * holds the invocation secret). The same handler accepts an EventBridge event invoked directly.
 */

import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { untilAborted } from "../adapters/abortable.ts";
import type { InvocationLedger, RedeliveryQueue } from "../adapters/types.ts";
import { RecordHoldsSecretError } from "../audit/build.ts";
import { fromQueuedRecord, isQueuedRecord } from "../audit/queued-record.ts";
import type { DecisionRecord } from "../audit/record.ts";
import type { DecisionRecordSink } from "../audit/types.ts";
import type { ContextReader } from "../context/types.ts";
import { ResponderError, ValidationError } from "../errors.ts";
import { CallbackUrlRefusedError, checkCallbackUrl } from "../isc/callback-url.ts";
import type { IscActionsApi, IscCompletionApi } from "../isc/types.ts";
import { describeError } from "../responder/describe-error.ts";
import { type PipelineLogger, PipelineMetric, type PipelineMetrics } from "../responder/observability.ts";
import {
  DEFAULT_RESPOND_OPTIONS,
  type RespondCall,
  type RespondDeps,
  type RespondOptions,
  type RespondOutcome,
  respond,
} from "../responder/respond.ts";
import type { ShadowSettings } from "../responder/shadow.ts";
import type { CompiledRules } from "../rules/types.ts";
import {
  type Invocation,
  invocationFromEventBridgeEvent,
  looksLikeEventBridgeEvent,
} from "../triggers/invocation.ts";
import {
  fromQueuedInvocation,
  isQueuedInvocation,
  toQueuedInvocation,
} from "../triggers/queued-invocation.ts";
import type { RequestResponseTriggerId } from "../triggers/trigger-ids.ts";

export interface WorkerDeps {
  rules: CompiledRules;
  client: IscCompletionApi & IscActionsApi;
  ledger: InvocationLedger;
  /** Reads live context for rules that need it (shared by the records of a batch: one read per kind). */
  context?: ContextReader;
  logger: PipelineLogger;
  metrics: PipelineMetrics;
  /** `SAIL_BASE_URL`: callbackURLs must have its origin. */
  tenantBaseUrl: string;
  /** The subscription's responseDeadline per trigger (for EventBridge events, which carry none). */
  responseDeadlineMs: (triggerId: RequestResponseTriggerId) => number;
  /**
   * Where a retryable invocation goes back with a delay the worker picks inside its deadline (the
   * worker's own queue). Without it, SQS redelivers after the visibility timeout, and a message can
   * reach the DLQ (maxReceiveCount) or come back after the deadline while time was left.
   */
  redelivery?: RedeliveryQueue;
  /** Prefix of completion lease owners; each delivery adds its message id and a nonce. Default host:pid:random. */
  workerId?: string;
  clock?: () => number;
  sleep?: RespondDeps["sleep"];
  respondOptions?: Partial<RespondOptions>;
  /** Time kept back from the Lambda's remaining time to report the batch response (default 3 s). */
  reserveMs?: number;
  /**
   * Where decision records go: the worker's own (respond()) and those the http function queues
   * (`decision-record` messages). Absent: none is written, and queued ones are dropped with a warning.
   */
  records?: DecisionRecordSink;
  /** Retention of the worker's own records in days (default DEFAULT_RECORD_RETENTION_DAYS). */
  recordRetentionDays?: number;
  /** Triggers in shadow mode (SHADOW_MODE): ISC gets their shadow answer, the records the rules' one. */
  shadow?: ShadowSettings;
}

/** The subset of the Lambda context the worker reads. */
export interface WorkerContext {
  getRemainingTimeInMillis?: () => number;
  awsRequestId?: string;
}

/** An EventBridge event delivered to the function directly (rule → Lambda target). */
export type DirectEventBridgeEvent = { "detail-type": string; detail: unknown } & Record<string, unknown>;

export type WorkerHandler = (
  event: SQSEvent | DirectEventBridgeEvent,
  context?: WorkerContext,
) => Promise<SQSBatchResponse | undefined>;

/** The message cannot become an invocation: retrying cannot help; it belongs in the DLQ. */
export class PoisonMessageError extends ResponderError {
  readonly messageId: string;
  /** Field paths at fault (never values). */
  readonly issuePaths: string[];
  readonly reason: string;

  constructor(messageId: string, reason: string, issuePaths: string[] = []) {
    super("POISON_MESSAGE", `message ${messageId} is not a processable invocation: ${reason}`, {
      httpStatus: 400,
    });
    this.messageId = messageId;
    this.reason = reason;
    this.issuePaths = issuePaths;
  }
}

/** The invocation must be redelivered (SQS: batchItemFailures; direct invoke: Lambda's async retry). */
export class RetryableOutcomeError extends ResponderError {
  readonly outcome: RespondOutcome;
  constructor(invocationId: string | undefined, outcome: RespondOutcome) {
    const reason = "reason" in outcome ? `: ${outcome.reason}` : "";
    super("RETRY_LATER", `invocation ${invocationId ?? "(none)"} ${outcome.status}${reason}`, {
      httpStatus: 503,
    });
    this.outcome = outcome;
  }
}

/** A queued decision record could not be written: SQS redelivers the message. */
export class RecordWriteFailedError extends ResponderError {
  constructor(messageId: string, options: { cause?: unknown } = {}) {
    super("RECORD_WRITE_FAILED", `message ${messageId}: the decision record could not be written`, {
      httpStatus: 503,
      ...options,
    });
  }
}

export const WorkerMetric = {
  /** Messages that could not become an invocation (they end in the DLQ). */
  poisonMessages: "PoisonMessages",
  /** Retryable invocations put back on the queue with a delay (dimension: outcome). */
  redeliveries: "Redeliveries",
} as const;

/** When ISC sent the invocation: the event's `time`, else when SQS got the message, else now. */
function eventReceivedAt(event: unknown, record: SQSRecord | undefined, now: number): number {
  const time = (event as { time?: unknown }).time;
  if (typeof time === "string") {
    const parsed = Date.parse(time);
    if (Number.isFinite(parsed)) return parsed;
  }
  const sent = Number(record?.attributes?.SentTimestamp);
  return Number.isFinite(sent) && sent > 0 ? sent : now;
}

/**
 * A record body (or a directly delivered event) → Invocation, or PoisonMessageError. The
 * callbackURL of a queued message is checked against the tenant again: the queue is trusted, but a
 * tampered message must not be able to send the secret elsewhere.
 */
export function invocationFromMessage(
  body: unknown,
  messageId: string,
  deps: Pick<WorkerDeps, "tenantBaseUrl" | "responseDeadlineMs">,
  record?: SQSRecord,
  now = Date.now(),
): Invocation {
  try {
    if (isQueuedInvocation(body)) {
      const invocation = fromQueuedInvocation(body);
      if (invocation.callbackUrl !== undefined) {
        const checked = checkCallbackUrl(invocation.callbackUrl, deps.tenantBaseUrl);
        if (invocation.invocationId === undefined) {
          // The callbackURL names the invocation: without its id the message would be taken for a
          // sync one and dropped as "nothing to complete".
          return { ...invocation, invocationId: checked.invocationId };
        }
        if (checked.invocationId !== invocation.invocationId) {
          throw new CallbackUrlRefusedError("its invocation id does not match the message's invocationId");
        }
      }
      return invocation;
    }
    if (looksLikeEventBridgeEvent(body)) {
      return invocationFromEventBridgeEvent(body, {
        tenantBaseUrl: deps.tenantBaseUrl,
        responseDeadlineMs: deps.responseDeadlineMs,
        receivedAt: eventReceivedAt(body, record, now),
      });
    }
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new PoisonMessageError(
        messageId,
        "schema validation failed",
        error.issues.map((issue) => issue.path || "(root)"),
      );
    }
    if (error instanceof ResponderError) throw new PoisonMessageError(messageId, error.code);
    throw error;
  }
  throw new PoisonMessageError(messageId, "neither a queued invocation nor an EventBridge event");
}

/**
 * When a retryable invocation should come back, or undefined to leave it to SQS (batchItemFailures:
 * visibility timeout, then the DLQ after maxReceiveCount). Only a request-response invocation with
 * at least 2 s before its safety-adjusted deadline is put back: its deadline bounds the retries.
 * FIRE_AND_FORGET has no deadline, and past the deadline nothing is left to win, so those keep the
 * DLQ as their end. Another delivery's lease ends within leaseMs; a failed attempt backs off by an
 * eighth of the time left (1 s to 5 min), so retries get closer together towards the deadline and
 * the last minute is retried in process (respond's nearDeadlineMs).
 */
export function redeliveryDelaySeconds(
  invocation: Invocation,
  outcome: RespondOutcome,
  now: number,
  options: Pick<RespondOptions, "safetyMarginMs" | "leaseMs"> = DEFAULT_RESPOND_OPTIONS,
): number | undefined {
  if (invocation.triggerType !== "requestResponse") return undefined;
  const timeLeftMs = invocation.deadline - options.safetyMarginMs - now;
  if (!Number.isFinite(timeLeftMs) || timeLeftMs < MIN_TIME_LEFT_MS) return undefined;
  const delayMs =
    outcome.status === "in-progress"
      ? Math.min(options.leaseMs, timeLeftMs / 2)
      : Math.min(MAX_BACKOFF_MS, timeLeftMs / 8);
  return Math.max(1, Math.floor(delayMs / 1000));
}

const MIN_TIME_LEFT_MS = 2_000;
/** Bound of the SendMessage that puts an invocation back (the batch response must still go out). */
const REDELIVERY_SEND_TIMEOUT_MS = 2_000;
const MAX_BACKOFF_MS = 300_000;

export function createWorkerHandler(deps: WorkerDeps): WorkerHandler {
  // Unique per container (Lambda sandboxes may share a host name and pid); each delivery adds its own nonce.
  const workerId = deps.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const respondOptions = { ...DEFAULT_RESPOND_OPTIONS, ...deps.respondOptions };
  const now = deps.clock ?? Date.now;
  const reserveMs = deps.reserveMs ?? 3_000;
  const respondDeps = (owner: string): RespondDeps => ({
    rules: deps.rules,
    client: deps.client,
    ledger: deps.ledger,
    ...(deps.context === undefined ? {} : { context: deps.context }),
    logger: deps.logger,
    metrics: deps.metrics,
    workerId: owner,
    ...(deps.clock === undefined ? {} : { clock: deps.clock }),
    ...(deps.sleep === undefined ? {} : { sleep: deps.sleep }),
    ...(deps.respondOptions === undefined ? {} : { options: deps.respondOptions }),
    ...(deps.records === undefined ? {} : { records: deps.records }),
    ...(deps.recordRetentionDays === undefined ? {} : { recordRetentionDays: deps.recordRetentionDays }),
    ...(deps.shadow === undefined ? {} : { shadow: deps.shadow }),
  });

  function callBounds(context: WorkerContext | undefined): RespondCall {
    const remaining = context?.getRemainingTimeInMillis?.();
    if (remaining === undefined) return {};
    const usable = Math.max(1, remaining - reserveMs);
    return { endsAt: now() + usable, signal: AbortSignal.timeout(usable) };
  }

  function poison(error: PoisonMessageError, receiveCount: string | undefined): void {
    deps.metrics.record(WorkerMetric.poisonMessages, "Count", 1);
    deps.logger.error("poison message: reported as failed so that SQS moves it to the DLQ", {
      messageId: error.messageId,
      reason: error.reason,
      issuePaths: error.issuePaths.slice(0, 20),
      receiveCount,
    });
  }

  async function handleInvocation(invocation: Invocation, owner: string, call: RespondCall): Promise<void> {
    const outcome = await respond(invocation, respondDeps(owner), call);
    if (outcome.retryable) throw new RetryableOutcomeError(invocation.invocationId, outcome);
  }

  async function handleRecord(record: SQSRecord, call: RespondCall): Promise<void> {
    let invocation: Invocation;
    try {
      let body: unknown;
      try {
        body = JSON.parse(record.body);
      } catch {
        // Not the SyntaxError's message: it quotes the body.
        throw new PoisonMessageError(record.messageId, "body is not JSON");
      }
      if (isQueuedRecord(body)) return await writeQueuedRecord(record, body, call);
      invocation = invocationFromMessage(body, record.messageId, deps, record, now());
    } catch (error) {
      if (error instanceof PoisonMessageError) {
        poison(error, record.attributes?.ApproximateReceiveCount);
        throw error;
      }
      // A record write that failed is logged and counted where it failed.
      if (error instanceof RecordWriteFailedError) throw error;
      deps.logger.error("message could not be read", {
        messageId: record.messageId,
        error: describeError(error),
      });
      throw error;
    }
    // A nonce per delivery: two copies of one message (SQS delivers at least once) never share a lease.
    const owner = `${workerId}/${record.messageId}/${randomUUID().slice(0, 8)}`;
    try {
      await handleInvocation(invocation, owner, call);
    } catch (error) {
      if (!(error instanceof RetryableOutcomeError)) throw error;
      await redeliver(record, invocation, error);
    }
  }

  /**
   * A decision record the http function queued, as a draft (built here: recordedBy http) or, from
   * earlier versions, built: validated (a bad one is poison: DLQ), then written; a failed write is a
   * batch item failure, so SQS redelivers it (a put of the same id replaces).
   */
  async function writeQueuedRecord(message: SQSRecord, body: unknown, call: RespondCall): Promise<void> {
    let decisionRecord: DecisionRecord;
    try {
      decisionRecord = fromQueuedRecord(body);
    } catch (error) {
      if (error instanceof ValidationError) {
        throw new PoisonMessageError(
          message.messageId,
          "decision record failed its schema",
          error.issues.map((issue) => issue.path || "(root)"),
        );
      }
      // Redelivering would build the same record again: to the DLQ, named, never quoted.
      if (error instanceof RecordHoldsSecretError) {
        throw new PoisonMessageError(message.messageId, "decision record holds the invocation's secret");
      }
      throw error;
    }
    const fields = {
      messageId: message.messageId,
      invocationId: decisionRecord.invocationId,
      triggerId: decisionRecord.triggerId,
    };
    if (deps.records === undefined) {
      deps.logger.warn("decision record dropped: no decision records store is configured", fields);
      return;
    }
    const timeout = AbortSignal.timeout(respondOptions.ledgerTimeoutMs);
    const signal = call.signal === undefined ? timeout : AbortSignal.any([call.signal, timeout]);
    try {
      await untilAborted(
        deps.records.put(decisionRecord, { signal }),
        signal,
        () => new Error("the decision record write did not finish in time"),
      );
    } catch (error) {
      deps.metrics.record(PipelineMetric.decisionRecordFailures, "Count", 1, {
        trigger: decisionRecord.triggerId,
      });
      deps.logger.warn("decision record not written: SQS redelivers it", {
        ...fields,
        error: describeError(error),
      });
      throw new RecordWriteFailedError(message.messageId, { cause: error });
    }
  }

  /**
   * Puts the invocation back with a delay and lets SQS delete this copy; if it cannot (see
   * redeliveryDelaySeconds) or the send fails, rethrows so that SQS redelivers it. It goes back as
   * a queued invocation, whatever it arrived as: its receive time and deadline travel with it (an
   * EventBridge event without `time` would otherwise take a new one from each copy's SentTimestamp).
   */
  async function redeliver(record: SQSRecord, invocation: Invocation, retry: RetryableOutcomeError) {
    const delaySeconds = redeliveryDelaySeconds(invocation, retry.outcome, now(), respondOptions);
    if (delaySeconds === undefined || deps.redelivery === undefined) throw retry;
    try {
      await deps.redelivery.redeliverLater(
        toQueuedInvocation(invocation),
        delaySeconds,
        AbortSignal.timeout(REDELIVERY_SEND_TIMEOUT_MS),
      );
    } catch (error) {
      deps.logger.warn("could not put the invocation back on the queue: SQS redelivers it instead", {
        invocationId: invocation.invocationId,
        messageId: record.messageId,
        error: describeError(error),
      });
      throw retry;
    }
    deps.metrics.record(WorkerMetric.redeliveries, "Count", 1, { outcome: retry.outcome.status });
    deps.logger.info("invocation put back on the queue", {
      invocationId: invocation.invocationId,
      triggerId: invocation.triggerId,
      outcome: retry.outcome.status,
      delaySeconds,
    });
  }

  return async (event, context) => {
    const call = callBounds(context);
    if (!("Records" in event) && looksLikeEventBridgeEvent(event)) {
      // Direct target: a thrown error makes Lambda retry the async invocation (then its DLQ/destination).
      const id = typeof event.id === "string" ? event.id : (context?.awsRequestId ?? "direct");
      let invocation: Invocation;
      try {
        invocation = invocationFromMessage(event, id, deps, undefined, now());
      } catch (error) {
        if (error instanceof PoisonMessageError) poison(error, undefined);
        throw error;
      }
      await handleInvocation(invocation, `${workerId}/${id}/${randomUUID().slice(0, 8)}`, call);
      return undefined;
    }
    // One processor per call: its state is per batch, and the local runner calls concurrently.
    const processor = new BatchProcessor(EventType.SQS);
    return processPartialResponse(
      event as SQSEvent,
      (record: SQSRecord) => handleRecord(record, call),
      processor,
      {
        ...(context === undefined ? {} : { context: context as never }),
        throwOnFullBatchFailure: false,
      },
    );
  };
}
