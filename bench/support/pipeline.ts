/**
 * The full local pipeline for the throughput and soak runs: the sandbox tenant → the local HTTP
 * endpoint (the real HTTP handler behind the Function URL adapter) → MemoryQueue → the real worker
 * → IscClient → sandbox completion; EventBridge deliveries go through the sink onto the same queue.
 * Every log line of every part is captured, so the soak can check that none carries a secret.
 *
 * Duplicate deliveries are injected here: the endpoint in front of the handler calls it a second
 * time for a fraction of requests (ISC's at-least-once HTTP delivery), and the EventBridge sink puts
 * a fraction of events twice (EventBridge's at-least-once delivery).
 */
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { IscClient } from "../../lib/isc/client.ts";
import { type ServedHandler, serveHandler } from "../../lib/local/function-url.ts";
import { createLineLogger } from "../../lib/local/log.ts";
import { type LocalResponder, startLocalResponder, type WorkerFactory } from "../../lib/local/responder.ts";
import { compileRules } from "../../lib/rules/compile.ts";
import { parseRulesDocument } from "../../lib/rules/parse.ts";
import type { CompiledRules } from "../../lib/rules/types.ts";
import { type FaultOptions, type Sandbox, startSandbox } from "../../lib/sandbox/index.ts";
import { responseDeadlineMs } from "../../lib/triggers/duration.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../../lib/triggers/trigger-ids.ts";

export const PIPELINE_BEARER = "pipelineWebhookToken0123456789abcdefghijklmnopq";

export interface PipelineOptions {
  rulesDocument: Record<string, unknown>;
  /** The sandbox's (ISC's) limit per client id; the client's own limiter is set to the same. */
  rateLimit: { requests: number; windowMs: number };
  faults?: FaultOptions;
  /** ISO-8601 responseDeadline of both subscriptions (PT1M is the shortest ISC keeps). */
  responseDeadline: string;
  /** Pre-approval subscription mode; dynamic-approver always goes through EventBridge. */
  preApprovalMode: "ASYNC" | "DYNAMIC";
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
  setPreApprovalMode(mode: "ASYNC" | "DYNAMIC"): Promise<void>;
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
  const rules = compileRules(parseRulesDocument(options.rulesDocument, "bench rules"));
  const duplicates = { http: 0, eventbridge: 0 };

  // The sink needs the responder, which needs the sandbox's URL: bind it late.
  let sink: ((event: Parameters<LocalResponder["eventBridgeSink"]>[0]) => void) | undefined;
  const sandbox = await startSandbox({
    rateLimit: options.rateLimit,
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
  } as ConstructorParameters<typeof IscClient>[0]);
  const responder = await startLocalResponder({
    createWorker: realWorker,
    rules,
    tenantBaseUrl: sandbox.baseUrl,
    credentials: { type: "bearer", current: PIPELINE_BEARER },
    client,
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
  const httpConfig = (mode: "ASYNC" | "DYNAMIC") => ({
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
