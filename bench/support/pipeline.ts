/**
 * The full local pipeline for the throughput and soak runs: the sandbox tenant → the local HTTP
 * endpoint (the real HTTP handler behind the Function URL adapter) → MemoryQueue → the real worker
 * → IscClient → sandbox completion; EventBridge deliveries go through the sink onto the same queue.
 * Every log line of every part is captured, so the soak can check that none carries a secret.
 *
 * Context: the handler and the worker share one context reader over the ISC client (what `npm
 * start` and the functions use: contextReaderForClient), reading from the directory the sandbox
 * serves, so rules over live context read through the same faults, limits and retries.
 *
 * Duplicate deliveries are injected here: the endpoint in front of the handler calls it a second
 * time for a fraction of requests (ISC's at-least-once HTTP delivery), and the EventBridge sink puts
 * a fraction of events twice (EventBridge's at-least-once delivery).
 */
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { Directory } from "../../lib/context/directory.ts";
import { contextReaderForClient } from "../../lib/context/for-client.ts";
import type { CachedContextReader } from "../../lib/context/reader.ts";
import { IscClient } from "../../lib/isc/client.ts";
import type { RetryEvent } from "../../lib/isc/http.ts";
import { type ServedHandler, serveHandler } from "../../lib/local/function-url.ts";
import { createLineLogger } from "../../lib/local/log.ts";
import { type LocalResponder, startLocalResponder, type WorkerFactory } from "../../lib/local/responder.ts";
import { compileRules } from "../../lib/rules/compile.ts";
// `matches` needs RE2 registered, as the tools and the functions (load-bundled.ts) have it.
import "../../lib/rules/regex-re2.ts";
import { parseRulesDocument } from "../../lib/rules/parse.ts";
import type { CompiledRules } from "../../lib/rules/types.ts";
import {
  CONTEXT_READ_PATHS,
  type FaultOptions,
  type Sandbox,
  startSandbox,
} from "../../lib/sandbox/index.ts";
import { responseDeadlineMs } from "../../lib/triggers/duration.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../../lib/triggers/trigger-ids.ts";

export const PIPELINE_BEARER = "pipelineWebhookToken0123456789abcdefghijklmnopq";

export interface PipelineOptions {
  /** The rules as a document; or `rules`, already compiled (rules/example.yaml, say). */
  rulesDocument?: Record<string, unknown>;
  rules?: CompiledRules;
  /** What the sandbox's context reads serve (default: its default directory). */
  directory?: Directory;
  /** Delay before the sandbox answers each context read (a tenant's read latency; default 0). */
  contextLatencyMs?: number;
  /** The sandbox's (ISC's) limit per client id; the client's own limiter is set to the same. */
  rateLimit: { requests: number; windowMs: number };
  faults?: FaultOptions;
  /** ISO-8601 responseDeadline of both subscriptions (PT1M is the shortest ISC keeps). */
  responseDeadline: string;
  /** Pre-approval subscription mode; dynamic-approver always goes through EventBridge. */
  preApprovalMode: "ASYNC" | "DYNAMIC" | "SYNC";
  visibilityTimeoutMs: number;
  maxReceiveCount: number;
  /** Fraction (0..1) of HTTP deliveries and EventBridge events delivered twice. */
  duplicateRate: number;
  seedRandom: () => number;
}

export interface Pipeline {
  sandbox: Sandbox;
  responder: LocalResponder;
  rules: CompiledRules;
  endpoint: ServedHandler;
  preApprovalSubscriptionId: string;
  /** Every line logged by the handler, the worker, the sandbox and the adapters. */
  logLines: string[];
  duplicates: { http: number; eventbridge: number };
  /** The context reader the handler and the worker share (its `stats`: reads, calls, cache hits, failures). */
  context: CachedContextReader;
  /** The ISC client's retries by reason, for context reads and for every other request. */
  retries: { context: Record<string, number>; other: Record<string, number> };
  setPreApprovalMode(mode: "ASYNC" | "DYNAMIC" | "SYNC"): Promise<void>;
  close(): Promise<void>;
}

/**
 * The real worker: lib/worker/handler.ts's createWorkerHandler, which functions/worker.ts wraps for
 * Lambda. Built from the core rather than imported from the entry, whose module scope reads the
 * Lambda environment.
 */
const realWorker: WorkerFactory = async (deps) => {
  const { createWorkerHandler } = await import("../../lib/worker/handler.ts");
  const handler = createWorkerHandler(deps);
  return (event) => handler(event);
};

export async function startPipeline(options: PipelineOptions): Promise<Pipeline> {
  const logLines: string[] = [];
  const write = (line: string) => {
    logLines.push(line);
  };
  const logger = createLineLogger(write, { level: "debug", service: "soak" });
  const rules = pipelineRules(options);
  const duplicates = { http: 0, eventbridge: 0 };
  const retries: Pipeline["retries"] = { context: {}, other: {} };
  const countRetry = (event: RetryEvent) => {
    const path = event.operation.slice(event.operation.indexOf(" ") + 1);
    const into = CONTEXT_READ_PATHS.test(path) ? retries.context : retries.other;
    into[event.reason] = (into[event.reason] ?? 0) + 1;
  };

  // The sink needs the responder, which needs the sandbox's URL: bind it late.
  let sink: ((event: Parameters<LocalResponder["eventBridgeSink"]>[0]) => void) | undefined;
  const sandbox = await startSandbox({
    rateLimit: options.rateLimit,
    ...(options.directory === undefined ? {} : { directory: options.directory }),
    ...(options.contextLatencyMs === undefined ? {} : { contextLatencyMs: options.contextLatencyMs }),
    log: write,
    eventBridgeSink: (event) => {
      sink?.(event);
      if (options.seedRandom() < options.duplicateRate) {
        duplicates.eventbridge++;
        setTimeout(() => sink?.(event), Math.floor(options.seedRandom() * 200));
      }
    },
  });

  const deadlineMs = responseDeadlineMs(options.responseDeadline);
  const client = new IscClient({
    baseUrl: sandbox.baseUrl,
    clientId: sandbox.clientId,
    clientSecret: sandbox.clientSecret,
    rateLimit: { ...options.rateLimit },
    onRetry: countRetry,
  } as ConstructorParameters<typeof IscClient>[0]);
  // One reader per container, as in Lambda: the handler and the worker share its cache.
  const context = contextReaderForClient(client);
  const responder = await startLocalResponder({
    createWorker: realWorker,
    rules,
    tenantBaseUrl: sandbox.baseUrl,
    credentials: { type: "bearer", current: PIPELINE_BEARER },
    client,
    context,
    logger,
    responseDeadlineMs: () => deadlineMs,
    visibilityTimeoutMs: options.visibilityTimeoutMs,
    maxReceiveCount: options.maxReceiveCount,
  });
  sink = (event) => responder.eventBridgeSink(event);

  // ISC's side of at-least-once HTTP delivery: the same request handled twice.
  const endpoint = await serveHandler(async (event: APIGatewayProxyEventV2) => {
    const first = await responder.handler(event);
    if (options.seedRandom() < options.duplicateRate) {
      duplicates.http++;
      await responder.handler(event);
    }
    return first;
  });

  // Subscriptions are set up before any fault is injected.
  const setup = new IscClient({
    baseUrl: sandbox.baseUrl,
    clientId: sandbox.clientId,
    clientSecret: sandbox.clientSecret,
    rateLimit: false,
  } as ConstructorParameters<typeof IscClient>[0]);
  const httpConfig = (mode: "ASYNC" | "DYNAMIC" | "SYNC") => ({
    url: endpoint.url,
    httpDispatchMode: mode,
    httpAuthenticationType: "BEARER_TOKEN",
    bearerTokenAuthConfig: { bearerToken: PIPELINE_BEARER },
  });
  const pre = (await setup.createSubscription({
    name: "soak pre-approval",
    triggerId: PRE_APPROVAL,
    type: "HTTP",
    responseDeadline: options.responseDeadline,
    httpConfig: httpConfig(options.preApprovalMode),
    enabled: true,
  } as unknown as Parameters<IscClient["createSubscription"]>[0])) as { id: string };
  await setup.createSubscription({
    name: "soak dynamic approver",
    triggerId: DYNAMIC_APPROVER,
    type: "EVENTBRIDGE",
    responseDeadline: options.responseDeadline,
    eventBridgeConfig: { awsAccount: "123456789012", awsRegion: "us-east-1" },
    enabled: true,
  } as unknown as Parameters<IscClient["createSubscription"]>[0]);
  if (options.faults !== undefined) sandbox.setFaults(options.faults);

  return {
    sandbox,
    responder,
    rules,
    endpoint,
    preApprovalSubscriptionId: pre.id,
    logLines,
    duplicates,
    context,
    retries,
    async setPreApprovalMode(mode) {
      // Straight into the sandbox's store: an API call here would draw from the fault injector.
      const stored = sandbox.state.subscriptions.get(pre.id);
      if (stored?.httpConfig !== undefined) stored.httpConfig.httpDispatchMode = mode;
    },
    async close() {
      await endpoint.close();
      await responder.close();
      await sandbox.close();
    },
  };
}

function pipelineRules(options: PipelineOptions): CompiledRules {
  if (options.rules !== undefined) return options.rules;
  if (options.rulesDocument === undefined) throw new TypeError("startPipeline needs rules or rulesDocument");
  return compileRules(parseRulesDocument(options.rulesDocument, "bench rules"));
}
