/**
 * The live-context figures (issue 16 section 6), side by side in one run, ratios not pass/fail:
 * ISC requests per decision (ours vs a naive resolver), decisions per second under the rate limit
 * against the completions-only ceiling, a sync decision with its context cached vs the same rules
 * over the payload, and a cold-cache sync decision with 50 ms reads. Writes .bench-out/context.json
 * (`markdown`: every table; `section`: without the ratio and goal tables) and prints the tables;
 * `npm run bench` embeds `section` in its report and bench.json.
 *
 *   tsx bench/context.bench.ts [--requests 2000] [--warm-requests 1000] [--naive-sample 400]
 *     [--limit 100/1000] [--concurrency 8] [--sync-iterations 20000] [--cold-n 40] [--seed 16]
 *
 * `--limit` is the sandbox's and both clients' limit per client id and API version. ISC's is
 * 100/10000; the default 100/1000 runs ten times faster, and the cache TTLs are scaled by the same
 * factor, so the cache sees as many decisions per TTL as it would at ISC's limit.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { syntheticDirectory } from "../lib/context/directory.ts";
import { DEFAULT_CONTEXT_SETTINGS, ttlMsByKind } from "../lib/context/settings.ts";
import type { ContextKind } from "../lib/context/types.ts";
import { compileRules } from "../lib/rules/compile.ts";
// `matches` needs RE2 registered, as the tools and the functions (load-bundled.ts) have it.
import "../lib/rules/regex-re2.ts";
import { parseRulesDocument } from "../lib/rules/parse.ts";
import { BENCH_OUT } from "./support/bundle.ts";
import { type RateLimit, startContextHarness } from "./support/context-harness.ts";
import { runColdSync, runNaive, runOurs, runWarmSync } from "./support/context-phases.ts";
import { type ContextFigures, contextMarkdown } from "./support/context-report.ts";
import {
  addsAccess,
  contextRulesDocument,
  contextWorkload,
  payloadRulesDocument,
} from "./support/context-workload.ts";
import { ratio, round } from "./support/stats.ts";

const { values: args } = parseArgs({
  options: {
    requests: { type: "string", default: "2000" },
    "warm-requests": { type: "string", default: "1000" },
    "naive-sample": { type: "string", default: "400" },
    limit: { type: "string", default: "100/1000" },
    concurrency: { type: "string", default: "8" },
    "sync-iterations": { type: "string", default: "20000" },
    "cold-n": { type: "string", default: "40" },
    seed: { type: "string", default: "16" },
  },
});
const IDENTITIES = 500;
const ITEMS = 200;
const ZIPF_S = 1.1;
const ISC_WINDOW_MS = 10_000;

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function main(): Promise<void> {
  const started = Date.now();
  const [requests, windowMs] = String(args.limit).split("/").map(Number) as [number, number];
  const limit: RateLimit = { requests, windowMs };
  const seed = Number(args.seed);
  const concurrency = Number(args.concurrency);
  // The deployment's TTLs, compressed with the rate-limit window.
  const timeScale = windowMs / ISC_WINDOW_MS;
  const shippedTtl = ttlMsByKind(DEFAULT_CONTEXT_SETTINGS);
  const scaledTtl = Object.fromEntries(
    Object.entries(shippedTtl).map(([kind, ms]) => [kind, Math.round(ms * timeScale)]),
  ) as Record<ContextKind, number>;

  const directory = syntheticDirectory({ identities: IDENTITIES, items: ITEMS, seed });
  const cold = contextWorkload(directory, { requests: Number(args.requests), seed, zipfS: ZIPF_S });
  const warm = contextWorkload(directory, {
    requests: Number(args["warm-requests"]),
    seed: seed + 1,
    zipfS: ZIPF_S,
  });
  const compile = (document: Record<string, unknown>, name: string) =>
    compileRules(parseRulesDocument(document, name));
  const contextRules = compile(contextRulesDocument(), "bench context rules");
  const payloadRules = compile(payloadRulesDocument(directory), "bench payload rules");

  const harness = await startContextHarness(directory, limit);
  try {
    // Latency first, on a fresh heap: the counting phases leave the sandbox with thousands of records.
    const latencyRequests = cold.filter(addsAccess).slice(0, 200);
    log(`context: sync latency, ${args["sync-iterations"]} calls each, cached context vs payload only ...`);
    const warmSync = await runWarmSync(harness, contextRules, payloadRules, latencyRequests, {
      iterations: Number(args["sync-iterations"]),
      ttlMs: shippedTtl,
      maxEntries: DEFAULT_CONTEXT_SETTINGS.maxEntries,
    });
    log(`context: cold-cache sync decisions with 50 ms reads x${args["cold-n"]} ...`);
    const coldSync = await runColdSync(
      harness,
      contextRules,
      latencyRequests.slice(0, Number(args["cold-n"])),
      {
        latencyMs: 50,
      },
    );

    log(
      `context: ours, ${cold.length} requests from a cold cache then ${warm.length} warm, limit ${requests}/${windowMs} ms ...`,
    );
    const ours = await runOurs(harness, contextRules, cold, warm, {
      concurrency,
      limit,
      ttlMs: scaledTtl,
      maxEntries: DEFAULT_CONTEXT_SETTINGS.maxEntries,
    });
    log(
      `context: naive resolver on every ${Math.round(cold.length / Number(args["naive-sample"]))}th request ...`,
    );
    const naive = await runNaive(harness, contextRules, cold, ours.answers, {
      concurrency,
      limit,
      sample: Number(args["naive-sample"]),
    });
    const ceilingPerSecond = round((limit.requests / limit.windowMs) * 1000, 2);
    const fewer = ratio(naive.perDecision, ours.cold.perDecision);
    const p99Ratio = ratio(warmSync.cached.p99, warmSync.payload.p99);
    const status429 = ours.cold.status429 + ours.warm.status429;
    const { answers: _answers, ...oursFigures } = ours;
    const figures: ContextFigures = {
      generatedAt: new Date().toISOString(),
      node: process.version,
      platform: `${process.platform}/${process.arch}`,
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? "unknown",
      command: `tsx bench/context.bench.ts ${process.argv.slice(2).join(" ")}`.trim(),
      workload: {
        directory: `syntheticDirectory({identities: ${IDENTITIES}, items: ${ITEMS}, seed: ${seed}})`,
        requests: cold.length,
        warmRequests: warm.length,
        zipfS: ZIPF_S,
        concurrency,
        preApproval: cold.filter((r) => r.triggerId === "idn:access-request-pre-approval").length,
        withContext: cold.filter(addsAccess).length,
        distinctPeople: new Set(cold.map((r) => r.input.requestedFor.id)).size,
        distinctItems: new Set(cold.flatMap((r) => r.input.requestedItems.map((i) => i.id))).size,
      },
      limit: { ...limit, timeScale, iscWindowMs: ISC_WINDOW_MS },
      ours: oursFigures,
      naive,
      throughput: {
        decisionsPerSecond: ours.cold.sustainedDecisionsPerSecond,
        warmDecisionsPerSecond: ours.warm.sustainedDecisionsPerSecond,
        ceilingPerSecond,
        ratioToCeiling: round(ours.cold.sustainedDecisionsPerSecond / ceilingPerSecond, 2),
        warmRatioToCeiling: round(ours.warm.sustainedDecisionsPerSecond / ceilingPerSecond, 2),
      },
      warmSync,
      coldSync,
      ratios: {
        "ISC requests per decision, naive / ours (cold cache, warm-up included)": fewer,
        "ISC requests per decision, naive / ours (warm cache)": ratio(
          naive.perDecision,
          ours.warm.perDecision,
        ),
        "sync decision p50, cached context / payload only": ratio(warmSync.cached.p50, warmSync.payload.p50),
        "sync decision p99, cached context / payload only": p99Ratio,
        "decisions/s under the limit / completions-only ceiling": round(
          ours.cold.sustainedDecisionsPerSecond / ceilingPerSecond,
          2,
        ),
      },
      goals: {
        fewerRequests: {
          goal: "ISC requests per decision >= 5x fewer than naive",
          value: fewer,
          met: fewer === undefined ? undefined : fewer >= 5,
        },
        warmPerDecision: {
          goal: "<= 0.5 ISC requests per decision, warm cache",
          value: ours.warm.perDecision,
          met: ours.warm.perDecision <= 0.5,
        },
        no429: { goal: "no 429 served to ours", value: status429, met: status429 === 0 },
        sameDecisions: {
          goal: "naive and ours decide the same",
          value: naive.sameDecisions,
          met: naive.sameDecisions === naive.decisions,
        },
        cachedP99: {
          goal: "cached-context sync p99 <= 2x payload only",
          value: p99Ratio,
          met: p99Ratio === undefined ? undefined : p99Ratio <= 2,
        },
      },
      wallSeconds: 0,
    };
    figures.wallSeconds = round((Date.now() - started) / 1000, 1);
    const markdown = contextMarkdown(figures);
    const section = contextMarkdown(figures, false);
    mkdirSync(BENCH_OUT, { recursive: true });
    writeFileSync(
      join(BENCH_OUT, "context.json"),
      `${JSON.stringify({ ...figures, markdown, section }, null, 2)}\n`,
    );
    process.stdout.write(`${markdown}\n`);
  } finally {
    await harness.close();
  }
}

await main();
process.exit(0);
