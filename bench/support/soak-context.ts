/**
 * What the soak learns about live context from a run: the faults the sandbox put on context reads
 * (from its own log lines), the reads the reader made and its cache hits, the 429s, and the context
 * failures and fallbacks the handler and the worker logged (their JSON lines, by invocation id).
 */
import type { ContextReadStatsSnapshot } from "../../lib/context/stats.ts";
import type { Pipeline } from "./pipeline.ts";

export interface ContextFigures {
  /** Requests the sandbox received per context kind (what the reader sent, faults and 429s included). */
  requestsByKind: Record<string, number>;
  requests: number;
  /** Faults the sandbox injected into context reads, by fault kind and by read kind. */
  faults: { total: number; byFault: Record<string, number>; byRead: Record<string, number> };
  /** The shared reader's counters: read() calls, fetcher calls, cache hits and misses, failures. */
  reader: ContextReadStatsSnapshot;
  /** 429s: the sandbox's rate limiter (real) and injected, on context reads and on every request. */
  status429: { rateLimiterAll: number; injectedOnContext: number; injectedAll: number };
  /** The ISC client's retries of context reads and of other requests, by reason. */
  clientRetries: Pipeline["retries"];
  /** Context failures the handler and the worker logged (a decision attempt each), `kind reason`. */
  failuresLogged: Record<string, number>;
  /** Dynamic invocations the handler deferred to the worker because context was not ready in its budget. */
  deferredForContext: number;
  /** Deliveries the worker put back on the queue to read context again (transient failure, time left). */
  workerContextRetries: number;
}

/** The lines that report a decision attempt (handler; worker fallback; worker context retry). */
const DECISION_MESSAGES = new Set([
  "invocation decided",
  "decision fell back",
  "context could not be read; the invocation will be retried",
]);

const SANDBOX_LINE = /^\[sandbox\] \S+ \S+ \S+ \d+ms fault=(\w+) read=(\w+)/;

interface LogEntry {
  message?: unknown;
  accessRequestId?: unknown;
  mode?: unknown;
  fallback?: unknown;
  fallbackReason?: unknown;
  reason?: unknown;
  context?: { failure?: { kind?: unknown; reason?: unknown; transient?: unknown } };
}

function parsed(line: string): LogEntry | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    return JSON.parse(line) as LogEntry;
  } catch {
    return undefined;
  }
}

const add = (into: Record<string, number>, key: string) => {
  into[key] = (into[key] ?? 0) + 1;
};

/**
 * The figures, and per access request id the last fallback reason logged for it (the decision it
 * was completed with is the last one made: a deferred or retried attempt logs first). Keyed by the
 * access request, not the invocation: a sync body carries no invocation id (the soak's access
 * request ids are unique per invocation).
 */
export function contextFigures(pipeline: Pipeline): {
  figures: ContextFigures;
  fallbackReasons: Map<string, string>;
} {
  const { sandbox } = pipeline;
  const faults: ContextFigures["faults"] = { total: 0, byFault: {}, byRead: {} };
  const failuresLogged: Record<string, number> = {};
  const fallbackReasons = new Map<string, string>();
  let deferredForContext = 0;
  let workerContextRetries = 0;
  for (const line of pipeline.logLines) {
    const fault = SANDBOX_LINE.exec(line);
    if (fault !== null) {
      faults.total++;
      add(faults.byFault, fault[1] as string);
      add(faults.byRead, fault[2] as string);
      continue;
    }
    const entry = parsed(line);
    if (entry === undefined) continue;
    const id = typeof entry.accessRequestId === "string" ? entry.accessRequestId : undefined;
    const failure = entry.context?.failure;
    // Once per decision attempt: the worker repeats the context fields on "invocation handled".
    if (failure !== undefined && DECISION_MESSAGES.has(String(entry.message)))
      add(failuresLogged, `${String(failure.kind)} ${String(failure.reason)}`);
    if (entry.message === "invocation decided" && entry.fallback === true) {
      // The handler logs its decision before deferring a dynamic one: a transient failure there is a deferral.
      if (entry.mode === "dynamic" && failure?.transient === true) deferredForContext++;
      else if (id !== undefined) fallbackReasons.set(id, String(entry.fallbackReason));
    } else if (entry.message === "decision fell back" && id !== undefined) {
      fallbackReasons.set(id, String(entry.reason));
    } else if (entry.message === "context could not be read; the invocation will be retried") {
      workerContextRetries++;
    }
  }
  const requestsByKind = Object.fromEntries(
    Object.entries(sandbox.state.contextRequests).filter(([, count]) => count > 0),
  );
  return {
    figures: {
      requestsByKind,
      requests: sandbox.state.contextRequestsTotal(),
      faults,
      reader: pipeline.context.stats.snapshot(),
      status429: {
        rateLimiterAll: sandbox.state.rateLimited,
        injectedOnContext: faults.byFault.status429 ?? 0,
        injectedAll: sandbox.state.faultsInjected.status429,
      },
      clientRetries: pipeline.retries,
      failuresLogged,
      deferredForContext,
      workerContextRetries,
    },
    fallbackReasons,
  };
}

/** `a 3, b 1` (largest first). */
export function tally(counts: Readonly<Record<string, number>>): string {
  const entries = Object.entries(counts).sort(([, a], [, b]) => b - a);
  return entries.length === 0 ? "none" : entries.map(([key, count]) => `${key} ${count}`).join(", ");
}
