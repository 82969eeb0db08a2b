/**
 * The live-context bench's figures (what bench/context.bench.ts writes to .bench-out/context.json)
 * and their markdown tables, which `npm run bench` embeds in its own report.
 */
import type { ContextKind } from "../../lib/context/types.ts";
import type {
  ColdSyncFigures,
  NaiveFigures,
  OursFigures,
  PassFigures,
  SyncLatencyFigures,
} from "./context-phases.ts";

export interface ContextGoal {
  goal: string;
  value: number | undefined;
  met: boolean | undefined;
}

export interface ContextFigures {
  generatedAt: string;
  node: string;
  platform: string;
  cpus: number;
  cpuModel: string;
  command: string;
  workload: {
    directory: string;
    requests: number;
    warmRequests: number;
    zipfS: number;
    concurrency: number;
    preApproval: number;
    withContext: number;
    distinctPeople: number;
    distinctItems: number;
  };
  limit: { requests: number; windowMs: number; timeScale: number; iscWindowMs: number };
  ours: Omit<OursFigures, "answers"> & { ttlMs: Record<ContextKind, number> };
  naive: NaiveFigures;
  throughput: {
    decisionsPerSecond: number;
    warmDecisionsPerSecond: number;
    ceilingPerSecond: number;
    ratioToCeiling: number;
    warmRatioToCeiling: number;
  };
  warmSync: SyncLatencyFigures;
  coldSync: ColdSyncFigures;
  ratios: Record<string, number | undefined>;
  goals: Record<string, ContextGoal>;
  wallSeconds: number;
}

function fmt(value: number | undefined, unit = ""): string {
  return value === undefined ? "n/a" : `${value}${unit}`;
}

function kinds(byKind: Record<string, number>): string {
  return Object.entries(byKind)
    .map(([kind, count]) => `${kind} ${count}`)
    .join(", ");
}

function passRow(name: string, pass: PassFigures): string {
  return `| ${name} | ${pass.decisions} (${pass.withContext} read context) | ${pass.iscRequests - pass.context429} (+${pass.context429} answered 429) | **${pass.perDecision}** | ${pass.perDecisionWithoutSod} | ${kinds(pass.byKind)} | ${pass.status429} | ${pass.fallbacks} | ${pass.elapsedSeconds} s |`;
}

/** The tables; `summary` adds the ratio and goal tables (bench/run.ts prints those with its own). */
export function contextMarkdown(f: ContextFigures, summary = true): string {
  const w = f.workload;
  const l = f.limit;
  const lines: string[] = [];
  lines.push(
    `Workload: ${w.requests} access requests (then ${w.warmRequests} more on the warm cache) over ${w.directory}, ` +
      `people and items Zipf s=${w.zipfS} (${w.distinctPeople} people, ${w.distinctItems} items used), 1–3 items each, ` +
      `${w.preApproval} pre-approval / ${w.requests - w.preApproval} dynamic approver, sync through createHttpHandler, ` +
      `${w.concurrency} in flight, sandbox over loopback limiting ${l.requests} requests / ${l.windowMs} ms per client id and API version ` +
      `(ISC: / ${l.iscWindowMs} ms; cache TTLs scaled by ${l.timeScale} with it).`,
    "",
    "| resolver | decisions | ISC requests | per decision | per decision without SoD predictions | received by kind (429s included) | 429s served | fallbacks | elapsed |",
    "|---|---|---|---|---|---|---|---|---|",
    passRow("ours, cold cache (warm-up included)", f.ours.cold),
    passRow("ours, warm cache", f.ours.warm),
    passRow(`naive (every ${f.naive.sampledEvery}th request of the cold pass)`, f.naive),
    "",
    `Naive and ours gave the same reply for ${f.naive.sameDecisions} of ${f.naive.decisions} sampled requests. ` +
      `Ours' reader: ${f.ours.cacheHits} cache hits (including reads shared in flight), ${f.ours.cacheMisses} misses.`,
    "",
    "| throughput (ours) | decisions/s, sustained | completions-only ceiling | ratio |",
    "|---|---|---|---|",
    `| cold cache | ${f.throughput.decisionsPerSecond} | ${f.throughput.ceilingPerSecond} /s | ${f.throughput.ratioToCeiling} |`,
    `| warm cache | ${f.throughput.warmDecisionsPerSecond} | ${f.throughput.ceilingPerSecond} /s | ${f.throughput.warmRatioToCeiling} |`,
    "",
    `ISC requests answered per second by version, cold pass (averaged over the pass; the limit is per sliding window): ${kinds(f.ours.cold.requestsPerSecondByVersion)} (limit ${round1((l.requests / l.windowMs) * 1000)} /s each). ` +
      `The ratio does not depend on the window: at ISC's ${l.requests} / ${l.iscWindowMs} ms it is ` +
      `${round1(f.throughput.ratioToCeiling * ((l.requests / l.iscWindowMs) * 1000))} decisions/s against a ceiling of ${round1((l.requests / l.iscWindowMs) * 1000)} /s.`,
    "",
    "| sync decision (createHttpHandler) | p50 | p99 | p99.9 | calls |",
    "|---|---|---|---|---|",
    `| context rules, all context cached | ${f.warmSync.cached.p50} µs | ${f.warmSync.cached.p99} µs | ${f.warmSync.cached.p999} µs | ${f.warmSync.cached.n} |`,
    `| the same rules over the payload alone | ${f.warmSync.payload.p50} µs | ${f.warmSync.payload.p99} µs | ${f.warmSync.payload.p999} µs | ${f.warmSync.payload.n} |`,
    `| cold cache, sandbox reads ${f.coldSync.latencyMs} ms | ${f.coldSync.ms.p50} ms | ${f.coldSync.ms.p99} ms | | ${f.coldSync.ms.n} (${f.coldSync.requestsPerDecision} requests each) |`,
    "",
    `ISC requests while the cached calls were timed: ${f.warmSync.requestsWhileTimed}; fallbacks: ${f.warmSync.fallbacks + f.coldSync.fallbacks}. ` +
      `Context section wall time: ${f.wallSeconds} s.`,
  );
  if (!summary) return lines.join("\n");
  lines.push("", "| ratio (same run) | value |", "|---|---|");
  for (const [name, value] of Object.entries(f.ratios)) lines.push(`| ${name} | ${fmt(value, "x")} |`);
  lines.push("", "| goal | value | met |", "|---|---|---|");
  for (const g of Object.values(f.goals)) {
    lines.push(`| ${g.goal} | ${fmt(g.value)} | ${g.met === undefined ? "n/a" : g.met ? "yes" : "no"} |`);
  }
  return lines.join("\n");
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
