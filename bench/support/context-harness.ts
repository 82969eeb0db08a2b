/**
 * What every phase of the live-context bench shares: the sandbox over loopback, one ISC client per
 * phase (its own sandbox client id, so each phase has its own rate-limit windows on both sides), the
 * HTTP handler as the http function builds it (JSON-line logger, EMF metrics, both written nowhere),
 * Function URL events, and a driver that keeps N invocations in flight.
 */

import type { Directory } from "../../lib/context/directory.ts";
import type { ContextReader } from "../../lib/context/types.ts";
import { createCachedCredentialsProvider } from "../../lib/http/auth.ts";
import { createHttpHandler, type HttpEvent, type HttpHandler } from "../../lib/http/handler.ts";
import { createJsonLineLogger } from "../../lib/http/logger.ts";
import { IscClient } from "../../lib/isc/client.ts";
import { emfMetrics } from "../../lib/observability/emf.ts";
import type { CompiledRules } from "../../lib/rules/types.ts";
import { type ContextRouteKind, type Sandbox, startSandbox } from "../../lib/sandbox/index.ts";
import type { ContextRequest } from "./context-workload.ts";
import { functionUrlEvent } from "./function-url-event.ts";

export const BENCH_BEARER = "benchWebhookToken0123456789abcdefghijklmnopqrstu";
const TENANT = "https://acme.api.identitynow.com";
export const PHASE_CLIENTS = ["ours", "naive", "latency"] as const;
export type PhaseClient = (typeof PHASE_CLIENTS)[number];

export interface RateLimit {
  requests: number;
  windowMs: number;
}

export interface ContextHarness {
  sandbox: Sandbox;
  client(phase: PhaseClient): IscClient;
  clientId(phase: PhaseClient): string;
  close(): Promise<void>;
}

/** The sandbox with `directory`, `limit` per client id and API version, and one client per phase. */
export async function startContextHarness(directory: Directory, limit: RateLimit): Promise<ContextHarness> {
  const secrets = Object.fromEntries(
    PHASE_CLIENTS.map((phase) => [
      phase,
      { clientId: `bench-${phase}`, clientSecret: `bench-${phase}-secret` },
    ]),
  ) as Record<PhaseClient, { clientId: string; clientSecret: string }>;
  const sandbox = await startSandbox({
    directory,
    rateLimit: { ...limit },
    clients: Object.values(secrets),
  });
  const clients = new Map<PhaseClient, IscClient>();
  return {
    sandbox,
    clientId: (phase) => secrets[phase].clientId,
    client(phase) {
      let client = clients.get(phase);
      if (client === undefined) {
        // The same limit on the client's side as the tenant's: what a container with the whole budget runs.
        client = new IscClient({ baseUrl: sandbox.baseUrl, ...secrets[phase], rateLimit: { ...limit } });
        clients.set(phase, client);
      }
      return client;
    },
    close: () => sandbox.close(),
  };
}

/** What a handler's log said that matters here: fallbacks (WARN "invocation decided") and errors. */
export interface HandlerLog {
  fallbacks: number;
  errors: number;
  /** The first few fallback reasons, for the report. */
  reasons: string[];
}

/** The http function's handler core over `rules` and `reader`, logging and metrics as in Lambda but written nowhere. */
export function benchHandler(
  rules: CompiledRules,
  reader: ContextReader | undefined,
): { handler: HttpHandler; log: HandlerLog } {
  const log: HandlerLog = { fallbacks: 0, errors: 0, reasons: [] };
  const logger = createJsonLineLogger("bench-http", "INFO", (level, line) => {
    if (level === "ERROR") log.errors++;
    if (level !== "WARN" || !line.includes('"invocation decided"')) return;
    log.fallbacks++;
    if (log.reasons.length < 5) {
      const reason = (JSON.parse(line) as { fallbackReason?: string }).fallbackReason;
      log.reasons.push(String(reason));
    }
  });
  const credentialsJson = JSON.stringify({ type: "bearer", current: BENCH_BEARER });
  const handler = createHttpHandler({
    rules,
    credentials: createCachedCredentialsProvider(async () => credentialsJson),
    queue: {
      async enqueue() {
        throw new Error("the bench's rules have no actions and answer sync: nothing is queued");
      },
    },
    logger,
    metrics: emfMetrics("IscTriggerResponderBench", "bench-http", () => {}),
    ...(reader === undefined ? {} : { context: reader }),
    tenantBaseUrl: TENANT,
    responseDeadlineMs: () => 3_600_000,
  });
  return { handler, log };
}

/** A sync Function URL event for `request`; `timeEpoch` is set again when it is sent (see send()). */
export function syncEvent(request: ContextRequest): HttpEvent {
  const body = {
    ...request.input,
    _metadata: { triggerId: request.triggerId, triggerType: "requestResponse", responseMode: "sync" },
  };
  return functionUrlEvent(body, { authorization: `Bearer ${BENCH_BEARER}`, contentLength: true });
}

/** Sends a prepared event now: the handler measures its budgets from `timeEpoch`, as in Lambda. */
export function send(handler: HttpHandler, event: HttpEvent): ReturnType<HttpHandler> {
  event.requestContext.timeEpoch = Date.now();
  return handler(event);
}

export interface Answer {
  n: number;
  status: number;
  /** The reply body (the trigger's output), as sent. */
  body: string;
  /** Epoch ms the reply was ready. */
  at: number;
  ms: number;
}

/** Sends every request through `handler`, `concurrency` at a time, in order; the answers by request. */
export async function drive(
  handler: HttpHandler,
  requests: readonly ContextRequest[],
  concurrency: number,
): Promise<Answer[]> {
  const events = requests.map(syncEvent);
  const answers: Answer[] = new Array(requests.length);
  let next = 0;
  const lane = async () => {
    while (next < requests.length) {
      const index = next++;
      const started = performance.now();
      const result = await send(handler, events[index]!);
      answers[index] = {
        n: requests[index]!.n,
        status: result.statusCode ?? 0,
        body: String(result.body ?? ""),
        at: Date.now(),
        ms: performance.now() - started,
      };
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
  return answers;
}

/**
 * 429s the sandbox served to a client id since `since`: on any path, on context reads (`true`), or
 * on one kind of read. Its records keep the last 100,000 requests.
 */
export function served429(
  sandbox: Sandbox,
  clientId: string,
  since: number,
  reads: boolean | ContextRouteKind = false,
): number {
  return sandbox.state.requests.filter(
    (r) =>
      r.at >= since &&
      r.clientId === clientId &&
      r.status === 429 &&
      (reads === false || (reads === true ? r.kind !== undefined : r.kind === reads)),
  ).length;
}

/** The sandbox's context-read counters by kind (only the kinds with a request), and their total. */
export function contextCounts(sandbox: Sandbox): { total: number; byKind: Record<string, number> } {
  const byKind = Object.fromEntries(
    Object.entries(sandbox.state.contextRequests).filter(([, count]) => count > 0),
  );
  return { total: sandbox.state.contextRequestsTotal(), byKind };
}
