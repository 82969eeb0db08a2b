/**
 * The responder running in one process: the SAME HTTP handler as the Lambda (createHttpHandler)
 * served through the Function URL adapter, with local adapters (MemoryQueue, MemoryInvocationLedger,
 * a MemorySecretsStore holding the inbound credentials), and the worker's SQS-shaped handler
 * draining the queue as Lambda's event source mapping would. EventBridge deliveries go onto the
 * same queue as the full event, as an EventBridge rule with an SQS target puts them.
 */

import { hostname } from "node:os";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { MemoryInvocationLedger } from "../adapters/local/memory-ledger.ts";
import { type Consumer, MemoryQueue } from "../adapters/local/memory-queue.ts";
import { MemorySecretsStore } from "../adapters/local/secrets.ts";
import type { RedeliveryQueue } from "../adapters/types.ts";
import { buildingAnswerSink } from "../audit/queued-record.ts";
import type { DecisionRecordStore, WatchableRecords } from "../audit/types.ts";
import type { ContextReader } from "../context/types.ts";
import { createCachedCredentialsProvider, type WebhookCredentials } from "../http/auth.ts";
import { createHttpHandler, type HttpHandler } from "../http/handler.ts";
import type { IscActionsApi, IscCompletionApi } from "../isc/types.ts";
import type { PipelineLogger, PipelineMetrics } from "../responder/observability.ts";
import type { ShadowSettings } from "../responder/shadow.ts";
import type { CompiledRules } from "../rules/types.ts";
import type { EventBridgeTriggerEvent } from "../triggers/schemas.ts";
import type { RequestResponseTriggerId } from "../triggers/trigger-ids.ts";
import { createWorkerHandler } from "../worker/handler.ts";
import { type ServedHandler, serveHandler } from "./function-url.ts";

/** What the worker factory gets: a subset of createWorkerHandler's WorkerDeps. */
export interface LocalWorkerDeps {
  rules: CompiledRules;
  client: IscCompletionApi & IscActionsApi;
  ledger: MemoryInvocationLedger;
  context?: ContextReader;
  logger: PipelineLogger;
  metrics: PipelineMetrics;
  tenantBaseUrl: string;
  responseDeadlineMs: (triggerId: RequestResponseTriggerId) => number;
  /** The local queue itself: retryable invocations go back on it with a delay, as on SQS. */
  redelivery: RedeliveryQueue;
  workerId: string;
  /** Where the worker writes decision records (the same store as the http handler's). */
  records?: LocalRecords;
  /** Triggers in shadow mode (the same settings as the http handler's). */
  shadow?: ShadowSettings;
}

/** A local decision records store: the file (dev, serve) or memory (tests); the console subscribes to it. */
export type LocalRecords = DecisionRecordStore & WatchableRecords;

export type SqsBatchHandler = (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;
export type WorkerFactory = (deps: LocalWorkerDeps) => SqsBatchHandler | Promise<SqsBatchHandler>;

export const WEBHOOK_SECRET_ID = "local/webhook-credentials";

export interface LocalResponderOptions {
  rules: CompiledRules;
  /** The tenant (sandbox or SAIL_BASE_URL): callbackURLs must have its origin. */
  tenantBaseUrl: string;
  /** What ISC must send in `Authorization` (bearer token or basic user/password). */
  credentials: WebhookCredentials;
  /** Completes invocations (an IscClient on the tenant). */
  client: IscCompletionApi & IscActionsApi;
  /** Reads live context for the rules (one reader, as one container would have; shared by http and worker). */
  context?: ContextReader;
  /** Builds the worker's SQS handler; default: createWorkerHandler (lib/worker/handler.ts), as in Lambda. */
  createWorker?: WorkerFactory;
  port?: number;
  host?: string;
  responseDeadlineMs?: (triggerId: RequestResponseTriggerId) => number;
  dynamicBudgetMs?: number;
  /** MemoryQueue visibility timeout (default 30 s, as SQS); tests shorten it to see redeliveries. */
  visibilityTimeoutMs?: number;
  maxReceiveCount?: number;
  logger: PipelineLogger;
  metrics?: PipelineMetrics;
  /**
   * Decision records: the http handler and the worker both write here directly (recordedBy
   * "http"/"worker"; in AWS the http function queues its records instead). Absent: none are kept.
   */
  records?: LocalRecords;
  /** Triggers in shadow mode (`--shadow`): ISC gets their shadow answer, the records the rules' one. */
  shadow?: ShadowSettings;
}

export interface LocalResponder {
  /** `http://127.0.0.1:<port>/`: where ISC (the sandbox) delivers. */
  url: string;
  port: number;
  handler: HttpHandler;
  queue: MemoryQueue;
  ledger: MemoryInvocationLedger;
  /** The decision records store both write to (undefined when none was given). */
  records: LocalRecords | undefined;
  /** For the sandbox's `eventBridgeSink`: the event goes onto the queue as an EventBridge rule → SQS target puts it. */
  eventBridgeSink(event: EventBridgeTriggerEvent): void;
  /** Kills the worker mid-flight (messages in flight come back after the visibility timeout) and starts a new one. */
  crashAndRestartWorker(): void;
  /** Resolves when the queue holds nothing (delivered, in flight or waiting), or rejects after timeoutMs. */
  waitForDrain(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const ONE_HOUR = 3_600_000;
const noMetrics: PipelineMetrics = { record() {} };

const defaultWorkerFactory: WorkerFactory = (deps) => createWorkerHandler(deps);

export async function startLocalResponder(options: LocalResponderOptions): Promise<LocalResponder> {
  const metrics = options.metrics ?? noMetrics;
  const responseDeadlineMs = options.responseDeadlineMs ?? (() => ONE_HOUR);
  const queue = new MemoryQueue({
    name: "local-invocations",
    visibilityTimeoutMs: options.visibilityTimeoutMs ?? 30_000,
    maxReceiveCount: options.maxReceiveCount ?? 5,
  });
  // As on SQS, but a redelivery waits at most the visibility timeout, which tests and the soak shorten.
  const redelivery: RedeliveryQueue = {
    redeliverLater: async (message, delaySeconds) => {
      queue.sendLater(message, Math.min(delaySeconds * 1000, queue.visibilityTimeoutMs));
    },
  };
  const ledger = new MemoryInvocationLedger();
  const secrets = new MemorySecretsStore({ [WEBHOOK_SECRET_ID]: JSON.stringify(options.credentials) });

  const handler = createHttpHandler({
    rules: options.rules,
    credentials: createCachedCredentialsProvider(() => secrets.getSecretString(WEBHOOK_SECRET_ID)),
    queue,
    logger: options.logger,
    metrics,
    tenantBaseUrl: options.tenantBaseUrl,
    responseDeadlineMs,
    ...(options.context === undefined ? {} : { context: options.context }),
    ...(options.dynamicBudgetMs === undefined ? {} : { dynamicBudgetMs: options.dynamicBudgetMs }),
    // Built at once here (the local runtime is not size-bound), through the sink the http code knows.
    ...(options.records === undefined ? {} : { records: buildingAnswerSink(options.records) }),
    ...(options.shadow === undefined ? {} : { shadow: options.shadow }),
  });

  const workerId = `${hostname()}:${process.pid}`;
  let generation = 0;
  const newWorker = async () =>
    (options.createWorker ?? defaultWorkerFactory)({
      rules: options.rules,
      client: options.client,
      ledger,
      ...(options.context === undefined ? {} : { context: options.context }),
      logger: options.logger,
      metrics,
      tenantBaseUrl: options.tenantBaseUrl,
      responseDeadlineMs,
      redelivery,
      workerId: `${workerId}:${++generation}`,
      ...(options.records === undefined ? {} : { records: options.records }),
      ...(options.shadow === undefined ? {} : { shadow: options.shadow }),
    });

  const startConsumer = (worker: SqsBatchHandler): Consumer =>
    queue.startConsumer((records) => worker({ Records: records }), {
      batchSize: 10,
      pollMs: 20,
      concurrency: 2,
      onError: (error) =>
        options.logger.error("worker batch failed; its messages will be redelivered", {
          errorName: error instanceof Error ? error.name : typeof error,
        }),
    });

  let consumer = startConsumer(await newWorker());
  let restarting: Promise<void> | undefined;
  let served: ServedHandler;
  try {
    served = await serveHandler(handler, {
      port: options.port ?? 0,
      host: options.host ?? "127.0.0.1",
      onError: (error) =>
        options.logger.error("local Function URL adapter error", {
          errorName: error instanceof Error ? error.name : typeof error,
        }),
    });
  } catch (error) {
    await consumer.stop();
    throw error;
  }

  return {
    url: served.url,
    port: served.port,
    handler,
    queue,
    ledger,
    records: options.records,
    eventBridgeSink(event) {
      queue.send(JSON.stringify(event));
    },
    crashAndRestartWorker() {
      consumer.crash();
      const previous = restarting;
      restarting = (async () => {
        await previous;
        consumer = startConsumer(await newWorker());
      })();
    },
    async waitForDrain(timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      while (!queue.isDrained()) {
        if (Date.now() > until) throw new Error(`the local queue did not drain within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async close() {
      await served.close();
      await restarting;
      await consumer.stop();
    },
  };
}
