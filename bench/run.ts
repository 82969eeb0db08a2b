/**
 * `npm run bench`: figures, not pass/fail. Every figure is measured beside its baseline in the same
 * run and reported as a ratio; writes .bench-out/bench.json and prints a markdown table.
 *
 *   npm run bench -- [--cold-runs 15] [--warm-iterations 20000] [--throughput-n 300]
 *                    [--limit 100/10000] [--skip cold,warm,rules,throughput,context]
 *                    [--only context] [--context-args="--requests 2000 --limit 100/1000"]
 *
 * `--only` runs just the sections named (bundles are built only when cold or warm runs);
 * `npm run bench:context` is `--only context`. `--context-args` go to bench/context.bench.ts.
 *
 * Sections that need a piece not built yet (a function entry, the rules bench) are reported as
 * skipped with the reason, so the bench runs at every stage of the project.
 */

import { closeSync, cpSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { rulesVersion } from "../lib/rules/compile.ts";
import { parseRulesDocument } from "../lib/rules/parse.ts";
import { PRECOMPILED_FILE, precompiledRules } from "../lib/rules/precompiled.ts";
import { BENCH_OUT, type BuiltBundle, buildBundle } from "./support/bundle.ts";
import { type ColdStartFigures, measureColdStart } from "./support/cold-start.ts";
import { type ContextSection, runContextBench } from "./support/context-figures.ts";
import type { ContextFigures } from "./support/context-report.ts";
import { startFakeExtension } from "./support/fake-extension.ts";
import { startFakeTenant } from "./support/fake-tenant.ts";
import { functionUrlEvent } from "./support/function-url-event.ts";
import { runRulesBench } from "./support/rules-figures.ts";
import { ratio, round, type Summary, summarize } from "./support/stats.ts";
import { runThroughput, type ThroughputFigures } from "./support/throughput.ts";
import { benchInput, benchRulesDocument, seededRandom } from "./support/workload.ts";

const { values: args } = parseArgs({
  options: {
    "cold-runs": { type: "string", default: "15" },
    "warm-iterations": { type: "string", default: "20000" },
    "throughput-n": { type: "string", default: "300" },
    limit: { type: "string", default: "100/10000" },
    skip: { type: "string", default: "" },
    only: { type: "string", default: "" },
    "context-args": { type: "string", default: "" },
  },
});
const SECTIONS = ["cold", "warm", "rules", "throughput", "context"] as const;
const only = new Set((args.only ?? "").split(",").filter(Boolean));
const skip = new Set([
  ...(args.skip ?? "").split(",").filter(Boolean),
  ...(only.size === 0 ? [] : SECTIONS.filter((section) => !only.has(section))),
]);
const CONTEXT_ARGS = (args["context-args"] ?? "").split(" ").filter(Boolean);
const COLD_RUNS = Number(args["cold-runs"]);
const WARM_ITERATIONS = Number(args["warm-iterations"]);
const THROUGHPUT_N = Number(args["throughput-n"]);
const [limitRequests, limitWindowMs] = (args.limit ?? "100/10000").split("/").map(Number) as [number, number];

const BUNDLES = ["http", "worker", "subscriptions", "bare-handler", "client-handler", "sdk-handler"] as const;

const BEARER = "benchWebhookToken0123456789abcdefghijklmnopqrstu";
const WEBHOOK_SECRET_ID = "bench/webhook";

interface Report {
  generatedAt: string;
  node: string;
  platform: string;
  cpus: number;
  command: string;
  /** kb: index.mjs; initKb: with the chunks it imports statically; chunks: every .mjs file of a split build. */
  bundles: Record<string, BundleFigures | { skipped: string }>;
  coldStart: Record<string, ColdStartFigures | { skipped: string }>;
  warmSync: Record<string, Summary | { skipped: string }>;
  rules: unknown;
  throughput: ThroughputFigures | { skipped: string };
  context: ContextSection;
  ratios: Record<string, number | undefined>;
  goals: Record<string, { goal: string; value: number | undefined; met: boolean | undefined }>;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function syncBody(n: number): Record<string, unknown> {
  return {
    ...benchInput(n, seededRandom(n + 1)),
    _metadata: {
      triggerId: "idn:access-request-pre-approval",
      triggerType: "requestResponse",
      responseMode: "sync",
    },
  };
}

type Handler = (event: unknown, context?: unknown) => Promise<{ statusCode?: number }>;

/** Per-call latency of `handler` over prepared events, in µs. Interleaving is the caller's job. */
async function timeCalls(handler: Handler, events: unknown[], iterations: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const event = events[i % events.length];
    const started = process.hrtime.bigint();
    const result = await handler(event);
    samples.push(Number(process.hrtime.bigint() - started) / 1000);
    if (result.statusCode !== 200) throw new Error(`warm call answered ${result.statusCode}`);
  }
  return samples;
}

async function main(): Promise<void> {
  mkdirSync(BENCH_OUT, { recursive: true });
  const report: Report = {
    generatedAt: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
    cpus: (await import("node:os")).availableParallelism(),
    command: `npm run bench -- ${process.argv.slice(2).join(" ")}`.trim(),
    bundles: {},
    coldStart: {},
    warmSync: {},
    rules: { skipped: "not run" },
    throughput: { skipped: "not run" },
    context: { skipped: "not run" },
    ratios: {},
    goals: {},
  };

  // 1. Bundles, as CDK builds them; rules.json beside the functions that load it.
  const built: Record<string, BuiltBundle | undefined> = {};
  const rulesJson = JSON.stringify(benchRulesDocument());
  // As the stack writes it beside rules.json at synth (lib/rules/precompiled.ts).
  const benchDocument = parseRulesDocument(benchRulesDocument(), "bench rules");
  const precompiledJson = JSON.stringify(precompiledRules(benchDocument, rulesVersion(benchDocument)));
  // With --only and neither cold nor warm to run, nothing needs a bundle.
  const buildBundles = !(only.size > 0 && skip.has("cold") && skip.has("warm"));
  if (buildBundles) log("building bundles ...");
  else report.bundles.all = { skipped: `not built (--only ${[...only].join(",")})` };
  for (const name of buildBundles ? BUNDLES : []) {
    try {
      built[name] = await buildBundle(name);
      const b = built[name];
      report.bundles[name] = b === undefined ? { skipped: "entry missing" } : bundleFigures(b);
      if (b !== undefined && (name === "http" || name === "worker")) {
        writeFileSync(join(b.file, "..", "rules.json"), rulesJson);
        writeFileSync(join(b.file, "..", PRECOMPILED_FILE), precompiledJson);
      }
      // The same http bundle without rules.precompiled.json: the rules compiled in full at cold start.
      if (b !== undefined && name === "http") {
        const fullDir = join(dirname(dirname(b.file)), "http-no-precompiled");
        rmSync(fullDir, { recursive: true, force: true });
        cpSync(dirname(b.file), fullDir, { recursive: true });
        rmSync(join(fullDir, PRECOMPILED_FILE));
        built["http-no-precompiled"] = {
          ...b,
          name: "http-no-precompiled",
          file: join(fullDir, "index.mjs"),
        };
      }
    } catch (error) {
      report.bundles[name] = { skipped: `build failed: ${brief(error)}` };
    }
  }

  const extension = await startFakeExtension({
    [WEBHOOK_SECRET_ID]: JSON.stringify({ type: "bearer", current: BEARER }),
  });
  const tenant = await startFakeTenant();
  const httpEnv: Record<string, string> = {
    SAIL_BASE_URL: tenant.baseUrl,
    WEBHOOK_CREDENTIALS_SECRET_ID: WEBHOOK_SECRET_ID,
    QUEUE_URL: "https://sqs.local.amazonaws.com/000000000000/bench",
    PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(extension.port),
    AWS_SESSION_TOKEN: extension.sessionToken,
    AWS_REGION: "us-east-1",
    POWERTOOLS_LOG_LEVEL: "WARN",
    // As the stack sets it: the bundled rules.json's version, computed once at synth.
    RULES_VERSION: rulesVersion(benchRulesDocument()),
  };
  const clientEnv = {
    SAIL_BASE_URL: tenant.baseUrl,
    SAIL_CLIENT_ID: "bench-client",
    SAIL_CLIENT_SECRET: "bench-secret",
  };
  const asyncBody = {
    ...benchInput(0, seededRandom(1)),
    _metadata: {
      triggerId: "idn:access-request-pre-approval",
      triggerType: "requestResponse",
      responseMode: "async",
      callbackURL: `${tenant.baseUrl}/beta/trigger-invocations/e9103ca9-02c4-bb0f-9441-94b3af012345/complete`,
      secret: "bench-invocation-secret",
    },
  };

  try {
    // 2. Cold start in fresh processes.
    if (!skip.has("cold")) {
      const runs: Array<[string, object, Record<string, string>]> = [
        ["bare-handler", functionUrlEvent(syncBody(1)), {}],
        ["http", functionUrlEvent(syncBody(1), { authorization: `Bearer ${BEARER}` }), httpEnv],
        [
          "http-no-precompiled",
          functionUrlEvent(syncBody(1), { authorization: `Bearer ${BEARER}` }),
          httpEnv,
        ],
        ["client-handler", functionUrlEvent(asyncBody), clientEnv],
        ["sdk-handler", functionUrlEvent(asyncBody), clientEnv],
        // The worker needs DynamoDB for its ledger: an empty batch times the import and handler setup only.
        [
          "worker",
          { Records: [] },
          { ...httpEnv, ...clientEnv, LEDGER_TABLE_NAME: "bench", ISC_CREDENTIALS_SECRET_ID: "x" },
        ],
      ];
      for (const [name, event, env] of runs) {
        const bundle = built[name];
        if (bundle === undefined) {
          report.coldStart[name] = { skipped: "bundle not built" };
          continue;
        }
        log(`cold start: ${name} x${COLD_RUNS} ...`);
        try {
          report.coldStart[name] = await measureColdStart(name, bundle.file, event, env, COLD_RUNS);
        } catch (error) {
          report.coldStart[name] = { skipped: brief(error) };
        }
      }
    }

    // 3. Warm sync latency, in process: the shipped http bundle against the bare one, interleaved.
    if (!skip.has("warm")) {
      if (built.http === undefined || built["bare-handler"] === undefined) {
        report.warmSync.http = { skipped: "http bundle not built" };
      } else {
        log(`warm sync: ${WARM_ITERATIONS} calls each ...`);
        Object.assign(process.env, httpEnv);
        const http = await importHandler(built.http.file);
        const bare = await importHandler(built["bare-handler"].file);
        if (typeof http === "string" || typeof bare === "string") {
          report.warmSync.http = {
            skipped: `import failed: ${String(typeof http === "string" ? http : bare)}`,
          };
        } else {
          const authorization = `Bearer ${BEARER}`;
          const events = Array.from({ length: 500 }, (_, n) =>
            functionUrlEvent(syncBody(n), authorization === undefined ? {} : { authorization }),
          );
          const ctx = { getRemainingTimeInMillis: () => 10_000, awsRequestId: "bench" };
          const httpCall: Handler = (event) => http.handler(event, ctx);
          const bareCall: Handler = (event) => bare.handler(event, ctx);
          const httpSamples: number[] = [];
          const bareSamples: number[] = [];
          // The handler's log and EMF lines still cost one write(2) each, as in Lambda, but go to
          // /dev/null: into a terminal, a file or a slow pipe they would measure the reader instead
          // (and print 60,000 lines).
          const restoreStdout = stdoutToDevNull();
          try {
            await timeCalls(httpCall, events, 2_000);
            await timeCalls(bareCall, events, 2_000);
            const chunk = 1_000;
            for (let done = 0; done < WARM_ITERATIONS; done += chunk) {
              httpSamples.push(...(await timeCalls(httpCall, events, chunk)));
              bareSamples.push(...(await timeCalls(bareCall, events, chunk)));
            }
          } finally {
            restoreStdout();
          }
          report.warmSync.http = roundSummary(summarize(httpSamples));
          report.warmSync["bare-handler"] = roundSummary(summarize(bareSamples));
        }
      }
    }

    // 4. Rules evaluation (the rules engineer's bench).
    if (!skip.has("rules")) {
      log("rules bench ...");
      report.rules = await runRulesBench();
    }

    // 5. Async throughput through the local pipeline against a rate-limited sandbox.
    if (!skip.has("throughput")) {
      log(`async throughput: ${THROUGHPUT_N} invocations, limit ${limitRequests}/${limitWindowMs} ms ...`);
      report.throughput = await runThroughput({
        n: THROUGHPUT_N,
        rateLimit: { requests: limitRequests, windowMs: limitWindowMs },
        rulesDocument: benchRulesDocument(),
      });
    }

    // 6. Live context: ISC reads per decision (ours vs naive), decisions/s under the limit, sync latency.
    if (!skip.has("context")) {
      log("live context bench (bench/context.bench.ts) ...");
      report.context = await runContextBench(CONTEXT_ARGS);
    }
  } finally {
    await extension.close();
    await tenant.close();
  }

  computeRatios(report);
  writeFileSync(join(BENCH_OUT, "bench.json"), `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${markdown(report)}\n`);
  // Imported bundles may hold timers or sockets (keep-alive); the figures are written.
  process.exit(0);
}

interface BundleFigures {
  kb: number;
  initKb?: number;
  totalKb?: number;
  chunks?: Record<string, number>;
}

/** index.mjs's size; for a split bundle also what init loads and every chunk's KB. */
function bundleFigures(b: BuiltBundle): BundleFigures {
  const names = Object.keys(b.files);
  if (names.length <= 1) return { kb: round(b.bytes / 1024, 1) };
  const chunks = Object.fromEntries(
    names.filter((n) => n !== "index.mjs").map((n) => [n, round((b.files[n] as number) / 1024, 1)]),
  );
  const total = Object.values(b.files).reduce((sum, bytes) => sum + bytes, 0);
  return {
    kb: round(b.bytes / 1024, 1),
    initKb: round(b.initBytes / 1024, 1),
    totalKb: round(total / 1024, 1),
    chunks,
  };
}

/** Short, single-line error text: a minified bundle's stack would otherwise print the whole file. */
function brief(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.split("\n")[0]!.slice(0, 200);
}

/** Sends process.stdout's writes to /dev/null, synchronously (one write(2) per call); returns the undo. */
function stdoutToDevNull(): () => void {
  const fd = openSync("/dev/null", "w");
  const original = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof chunk === "string") writeSync(fd, chunk);
    else writeSync(fd, chunk);
    // write(chunk, [encoding], [callback]): a caller waiting on the callback must not hang.
    const callback = rest.find((argument) => typeof argument === "function") as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stdout.write;
  return () => {
    process.stdout.write = original;
    closeSync(fd);
  };
}

async function importHandler(file: string): Promise<{ handler: Handler } | string> {
  try {
    return (await import(pathToFileURL(file).href)) as { handler: Handler };
  } catch (error) {
    return brief(error);
  }
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

function figure<T>(value: T | { skipped: string } | undefined): T | undefined {
  return value === undefined || (typeof value === "object" && value !== null && "skipped" in value)
    ? undefined
    : (value as T);
}

function computeRatios(report: Report): void {
  const cold = (name: string) => figure<ColdStartFigures>(report.coldStart[name]);
  const warm = (name: string) => figure<Summary>(report.warmSync[name]);
  const kb = (name: string) => figure<{ kb: number }>(report.bundles[name])?.kb;
  report.ratios = {
    "cold start wall, http / bare (median)": ratio(
      cold("http")?.wallMs.median,
      cold("bare-handler")?.wallMs.median,
    ),
    "cold start wall, http / bare (p90)": ratio(cold("http")?.wallMs.p90, cold("bare-handler")?.wallMs.p90),
    "cold start wall, http without rules.precompiled.json / bare (median)": ratio(
      cold("http-no-precompiled")?.wallMs.median,
      cold("bare-handler")?.wallMs.median,
    ),
    "cold import+first reply, http / bare (median)": ratio(
      cold("http")?.totalMs.median,
      cold("bare-handler")?.totalMs.median,
    ),
    "cold start wall, our client / SDK (median)": ratio(
      cold("client-handler")?.wallMs.median,
      cold("sdk-handler")?.wallMs.median,
    ),
    "bundle KB, our client / SDK": ratio(kb("client-handler"), kb("sdk-handler")),
    "warm sync p50, http / bare": ratio(warm("http")?.p50, warm("bare-handler")?.p50),
    "warm sync p99, http / bare": ratio(warm("http")?.p99, warm("bare-handler")?.p99),
    "warm sync p99.9, http / bare": ratio(warm("http")?.p999, warm("bare-handler")?.p999),
  };
  const throughput = figure<ThroughputFigures>(report.throughput);
  if (throughput !== undefined) {
    report.ratios["async completions/s / rate-limit ceiling"] = throughput.ratioToCeiling;
  }
  const goal = (text: string, value: number | undefined, max: number) => ({
    goal: text,
    value,
    met: value === undefined ? undefined : value <= max,
  });
  const context = figure<ContextFigures>(report.context);
  if (context !== undefined) Object.assign(report.ratios, context.ratios);
  report.goals = {
    coldStart: goal(
      "http cold start <= 1.3x bare (wall, median)",
      report.ratios["cold start wall, http / bare (median)"],
      1.3,
    ),
    bundle: goal("http bundle <= 150 KB", kb("http"), 150),
    warmP99: goal("warm sync p99 <= 3x bare", report.ratios["warm sync p99, http / bare"], 3),
    // Live context: the context bench judges its own goals (some are "at least").
    ...Object.fromEntries(Object.entries(context?.goals ?? {}).map(([name, g]) => [`context.${name}`, g])),
  };
}

function markdown(report: Report): string {
  const lines: string[] = [];
  const fmt = (v: number | undefined, unit = "") => (v === undefined ? "n/a" : `${v}${unit}`);
  lines.push(`### Bench ${report.generatedAt} (${report.node}, ${report.platform}, ${report.cpus} CPUs)`, "");
  lines.push("| bundle | size |", "|---|---|");
  for (const [name, b] of Object.entries(report.bundles)) {
    const split =
      "chunks" in b && b.chunks !== undefined
        ? ` (${b.initKb} KB at init with the chunks it imports; ${Object.keys(b.chunks).length} chunks, ${b.totalKb} KB in all)`
        : "";
    lines.push(`| ${name} | ${"kb" in b ? `${b.kb} KB${split}` : `skipped: ${b.skipped}`} |`);
  }
  lines.push(
    "",
    "| cold start (fresh process) | import+first reply median / p90 | wall (spawn→exit) median / p90 | runs |",
  );
  lines.push("|---|---|---|---|");
  for (const [name, c] of Object.entries(report.coldStart)) {
    if ("skipped" in c) lines.push(`| ${name} | skipped: ${c.skipped} | | |`);
    else
      lines.push(
        `| ${name} | ${c.totalMs.median} / ${c.totalMs.p90} ms | ${c.wallMs.median} / ${c.wallMs.p90} ms | ${c.runs} |`,
      );
  }
  lines.push("", "| warm sync (in process) | p50 | p99 | p99.9 | calls |", "|---|---|---|---|---|");
  for (const [name, w] of Object.entries(report.warmSync)) {
    if ("skipped" in w) lines.push(`| ${name} | skipped: ${w.skipped} | | | |`);
    else lines.push(`| ${name} | ${w.p50} µs | ${w.p99} µs | ${w.p999} µs | ${w.n} |`);
  }
  const rules = report.rules as { table?: string; skipped?: string };
  lines.push("", "#### Rules", "", rules.table ?? `skipped: ${rules.skipped ?? "n/a"}`);
  const t = report.throughput;
  lines.push("", "#### Async throughput (local endpoint → queue → worker → sandbox)", "");
  if ("skipped" in t) lines.push(`skipped: ${t.skipped}`);
  else {
    lines.push("| invocations | completed | completions/s | ceiling/s | ratio | 429s received | elapsed |");
    lines.push("|---|---|---|---|---|---|---|");
    lines.push(
      `| ${t.n} | ${t.completed} | ${t.completionsPerSecond} | ${t.ceilingPerSecond} | ${t.ratioToCeiling} | ${t.status429} | ${t.elapsedSeconds} s |`,
    );
  }
  const c = report.context;
  lines.push("", "#### Live context (ISC reads for the rules; bench/context.bench.ts)", "");
  lines.push("skipped" in c ? `skipped: ${c.skipped}` : c.section);
  lines.push("", "| ratio (same run) | value |", "|---|---|");
  for (const [name, value] of Object.entries(report.ratios)) lines.push(`| ${name} | ${fmt(value, "x")} |`);
  lines.push("", "| goal | value | met |", "|---|---|---|");
  for (const g of Object.values(report.goals)) {
    lines.push(`| ${g.goal} | ${fmt(g.value)} | ${g.met === undefined ? "n/a" : g.met ? "yes" : "no"} |`);
  }
  return lines.join("\n");
}

await main();
