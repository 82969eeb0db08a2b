/**
 * The phases of the live-context bench, each on its own sandbox client (own rate-limit windows):
 * - requests per decision and sustained decisions/s: ours (CachedContextReader + IscContextFetcher
 *   over the ISC client) from a cold cache, then warm; the naive resolver on a sample of the same
 *   requests (it keeps nothing between invocations, so a sample gives its per-decision cost);
 * - a sync decision with all its context cached against the same rules over the payload alone;
 * - a sync decision from a cold cache with the sandbox answering each read in 50 ms.
 */
import { IscContextFetcher } from "../../lib/context/isc-fetcher.ts";
import { CachedContextReader } from "../../lib/context/reader.ts";
import type { ContextKind } from "../../lib/context/types.ts";
import type { HttpHandler } from "../../lib/http/handler.ts";
import type { CompiledRules } from "../../lib/rules/types.ts";
import type { ContextRouteKind } from "../../lib/sandbox/index.ts";
import {
  type Answer,
  benchHandler,
  type ContextHarness,
  contextCounts,
  drive,
  type HandlerLog,
  type PhaseClient,
  type RateLimit,
  send,
  served429,
  syncEvent,
} from "./context-harness.ts";
import { NaiveContextReader } from "./context-naive.ts";
import type { ContextRequest } from "./context-workload.ts";
import { round, type Summary, summarize } from "./stats.ts";

/** The API version each counted kind is limited under (ISC counts per version). */
const VERSION_OF_KIND: Record<string, "v2025" | "v3"> = {
  identities: "v2025",
  entitlements: "v2025",
  accessProfiles: "v3",
  roles: "v3",
  sources: "v3",
  sodPrediction: "v3",
  sodPolicy: "v3",
  accessRequestStatus: "v3",
};

export interface PassFigures {
  decisions: number;
  /** Decisions that needed context (the others were settled from the payload, with no read). */
  withContext: number;
  /** Context read requests the sandbox received, 429s included (its counters). */
  iscRequests: number;
  /** Of those, answered 429 (a 429 is sent again, so it is not a request the resolver needed). */
  context429: number;
  /** (iscRequests - context429) / decisions. */
  perDecision: number;
  /** The same without SoD predictions (one per person and set of added entitlements: rarely a repeat). */
  perDecisionWithoutSod: number;
  byKind: Record<string, number>;
  /** ISC requests answered (not 429) per second per API version over the pass, against the limit's requests/s. */
  requestsPerSecondByVersion: Record<string, number>;
  fallbacks: number;
  fallbackReasons: string[];
  /** 429s the sandbox served to this phase's client, on any path (token requests too). */
  status429: number;
  elapsedSeconds: number;
  decisionsPerSecond: number;
  /** After the first rate-limit window, whose burst would flatter the figure (as the throughput bench does). */
  sustainedDecisionsPerSecond: number;
}

function passFigures(
  harness: ContextHarness,
  phase: PhaseClient,
  requests: readonly ContextRequest[],
  answers: readonly Answer[],
  log: HandlerLog,
  started: number,
  limit: RateLimit,
): PassFigures {
  const counts = contextCounts(harness.sandbox);
  const last = Math.max(...answers.map((a) => a.at));
  const elapsed = (last - started) / 1000;
  const steadyFrom = started + limit.windowMs;
  const steady = answers.filter((a) => a.at >= steadyFrom).length;
  const byVersion: Record<string, number> = {};
  for (const [kind, count] of Object.entries(counts.byKind)) {
    const version = VERSION_OF_KIND[kind] ?? "other";
    const answered =
      count - served429(harness.sandbox, harness.clientId(phase), started, kind as ContextRouteKind);
    byVersion[version] = (byVersion[version] ?? 0) + answered;
  }
  const context429 = served429(harness.sandbox, harness.clientId(phase), started, true);
  const needed = counts.total - context429;
  const sod429 = served429(harness.sandbox, harness.clientId(phase), started, "sodPrediction");
  const sod = (counts.byKind.sodPrediction ?? 0) - sod429;
  const bad = answers.filter((a) => a.status !== 200).length;
  if (bad > 0) throw new Error(`${phase}: ${bad} replies were not 200`);
  return {
    decisions: answers.length,
    withContext: requests.filter((r) => r.input.requestedItems.some((i) => i.operation === "Add")).length,
    iscRequests: counts.total,
    context429,
    perDecision: round(needed / answers.length, 3),
    perDecisionWithoutSod: round((needed - sod) / answers.length, 3),
    byKind: counts.byKind,
    requestsPerSecondByVersion: Object.fromEntries(
      Object.entries(byVersion).map(([version, count]) => [version, round(count / elapsed, 1)]),
    ),
    fallbacks: log.fallbacks,
    fallbackReasons: log.reasons,
    status429: served429(harness.sandbox, harness.clientId(phase), started),
    elapsedSeconds: round(elapsed, 2),
    decisionsPerSecond: round(answers.length / elapsed, 1),
    sustainedDecisionsPerSecond: round(
      last > steadyFrom ? steady / ((last - steadyFrom) / 1000) : answers.length / elapsed,
      1,
    ),
  };
}

export interface OursFigures {
  cold: PassFigures;
  warm: PassFigures;
  /** The reader's own counters over both passes (cache hits include reads shared in flight). */
  cacheHits: number;
  cacheMisses: number;
  ttlMs: Record<ContextKind, number>;
  answers: Answer[];
}

/** Ours: `cold` from an empty cache, then `warm` (fresh requests of the same distribution) on what it left. */
export async function runOurs(
  harness: ContextHarness,
  rules: CompiledRules,
  cold: readonly ContextRequest[],
  warm: readonly ContextRequest[],
  options: { concurrency: number; limit: RateLimit; ttlMs: Record<ContextKind, number>; maxEntries: number },
): Promise<OursFigures> {
  const reader = new CachedContextReader(new IscContextFetcher(harness.client("ours")), {
    ttlMs: options.ttlMs,
    maxEntries: options.maxEntries,
  });
  const passes: PassFigures[] = [];
  let coldAnswers: Answer[] = [];
  for (const requests of [cold, warm]) {
    const { handler, log } = benchHandler(rules, reader);
    harness.sandbox.state.resetContextRequests();
    const started = Date.now();
    const answers = await drive(handler, requests, options.concurrency);
    if (passes.length === 0) coldAnswers = answers;
    passes.push(passFigures(harness, "ours", requests, answers, log, started, options.limit));
  }
  const stats = reader.stats.snapshot();
  return {
    cold: passes[0]!,
    warm: passes[1]!,
    cacheHits: stats.cacheHits,
    cacheMisses: stats.cacheMisses,
    ttlMs: options.ttlMs,
    answers: coldAnswers,
  };
}

export interface NaiveFigures extends PassFigures {
  /** Which requests of ours' cold pass it answered (every k-th). */
  sampledEvery: number;
  /** Its replies equal ours for the same requests (the rules saw the same context). */
  sameDecisions: number;
}

export async function runNaive(
  harness: ContextHarness,
  rules: CompiledRules,
  requests: readonly ContextRequest[],
  ours: readonly Answer[],
  options: { concurrency: number; limit: RateLimit; sample: number },
): Promise<NaiveFigures> {
  const every = Math.max(1, Math.round(requests.length / options.sample));
  const sample = requests.filter((_, i) => i % every === 0);
  const { handler, log } = benchHandler(rules, new NaiveContextReader(harness.client("naive")));
  harness.sandbox.state.resetContextRequests();
  const started = Date.now();
  const answers = await drive(handler, sample, options.concurrency);
  const oursByN = new Map(ours.map((a) => [a.n, a.body]));
  return {
    ...passFigures(harness, "naive", sample, answers, log, started, options.limit),
    sampledEvery: every,
    sameDecisions: answers.filter((a) => oursByN.get(a.n) === a.body).length,
  };
}

export interface SyncLatencyFigures {
  /** µs per sync decision, context rules with every object cached. */
  cached: Summary;
  /** µs per sync decision, the same rules over the payload and exported tables. */
  payload: Summary;
  /** ISC requests made while the cached calls were timed (0: everything came from the cache). */
  requestsWhileTimed: number;
  fallbacks: number;
  events: number;
}

/** Per-call µs of `handler` over `events` (round robin). */
async function timeSync(handler: HttpHandler, events: ReturnType<typeof syncEvent>[], calls: number) {
  const samples: number[] = [];
  for (let i = 0; i < calls; i++) {
    const started = process.hrtime.bigint();
    const result = await send(handler, events[i % events.length]!);
    samples.push(Number(process.hrtime.bigint() - started) / 1000);
    if (result.statusCode !== 200) throw new Error(`sync call answered ${result.statusCode}`);
  }
  return samples;
}

/**
 * Warm sync latency in process, interleaved in blocks of 1,000 calls so both see the same machine
 * state: the context rules with a reader whose cache holds everything `requests` need (the shipped
 * TTLs, far longer than the run), against the payload twin without a reader.
 */
export async function runWarmSync(
  harness: ContextHarness,
  contextRules: CompiledRules,
  payloadRules: CompiledRules,
  requests: readonly ContextRequest[],
  options: { iterations: number; ttlMs: Record<ContextKind, number>; maxEntries: number },
): Promise<SyncLatencyFigures> {
  const reader = new CachedContextReader(new IscContextFetcher(harness.client("latency")), {
    ttlMs: options.ttlMs,
    maxEntries: options.maxEntries,
  });
  const cached = benchHandler(contextRules, reader);
  const payload = benchHandler(payloadRules, undefined);
  const events = requests.map(syncEvent);
  await drive(cached.handler, requests, 8);
  await timeSync(cached.handler, events, 2_000);
  await timeSync(payload.handler, events, 2_000);
  const before = harness.sandbox.state.contextRequestsTotal();
  const cachedSamples: number[] = [];
  const payloadSamples: number[] = [];
  const block = 1_000;
  for (let done = 0; done < options.iterations; done += block) {
    cachedSamples.push(...(await timeSync(cached.handler, events, block)));
    payloadSamples.push(...(await timeSync(payload.handler, events, block)));
  }
  return {
    cached: roundSummary(summarize(cachedSamples)),
    payload: roundSummary(summarize(payloadSamples)),
    requestsWhileTimed: harness.sandbox.state.contextRequestsTotal() - before,
    fallbacks: cached.log.fallbacks + payload.log.fallbacks,
    events: events.length,
  };
}

export interface ColdSyncFigures {
  latencyMs: number;
  /** ms per sync decision from an empty cache. */
  ms: Summary;
  requestsPerDecision: number;
  fallbacks: number;
}

/** One sync decision at a time, the cache emptied before each, every read answered after `latencyMs`. */
export async function runColdSync(
  harness: ContextHarness,
  rules: CompiledRules,
  requests: readonly ContextRequest[],
  options: { latencyMs: number },
): Promise<ColdSyncFigures> {
  const reader = new CachedContextReader(new IscContextFetcher(harness.client("latency")));
  const { handler, log } = benchHandler(rules, reader);
  const events = requests.map(syncEvent);
  harness.sandbox.setContextLatency(options.latencyMs);
  harness.sandbox.state.resetContextRequests();
  const samples: number[] = [];
  try {
    for (const event of events) {
      reader.cache.clear();
      const started = performance.now();
      const result = await send(handler, event);
      samples.push(performance.now() - started);
      if (result.statusCode !== 200) throw new Error(`cold sync call answered ${result.statusCode}`);
    }
  } finally {
    harness.sandbox.setContextLatency(0);
  }
  const s = summarize(samples);
  return {
    latencyMs: options.latencyMs,
    ms: {
      n: s.n,
      p50: round(s.p50, 1),
      p90: round(s.p90, 1),
      p99: round(s.p99, 1),
      p999: round(s.p999, 1),
      mean: round(s.mean, 1),
    },
    requestsPerDecision: round(harness.sandbox.state.contextRequestsTotal() / events.length, 2),
    fallbacks: log.fallbacks,
  };
}

function roundSummary(s: Summary): Summary {
  return {
    n: s.n,
    p50: round(s.p50, 1),
    p90: round(s.p90, 1),
    p99: round(s.p99, 1),
    p999: round(s.p999, 1),
    mean: round(s.mean, 1),
  };
}
