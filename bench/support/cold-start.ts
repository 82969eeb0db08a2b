/**
 * Cold start, measured as Lambda pays it: a fresh Node process imports the bundle and serves one
 * invocation. The child reports import time and first-invocation time (performance.now around
 * each); the parent also times the whole process (spawn to exit, Node's own boot included). Each
 * process gets the functions' NODE_OPTIONS (infra/bundling.ts FUNCTION_NODE_OPTIONS), as in Lambda.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { FUNCTION_NODE_OPTIONS } from "../../infra/bundling.ts";
import { BENCH_OUT } from "./bundle.ts";
import { median, quantile, round } from "./stats.ts";

// Runs inside the fresh process: argv[1] = bundle, argv[2] = event file (JSON), argv[3] = "sqs"|"url".
const CHILD = `
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const t0 = performance.now();
const mod = await import(pathToFileURL(process.argv[1]).href);
const t1 = performance.now();
const event = JSON.parse(readFileSync(process.argv[2], "utf8"));
const context = {
  functionName: "bench", functionVersion: "$LATEST", awsRequestId: "bench-request", memoryLimitInMB: "1024",
  invokedFunctionArn: "arn:aws:lambda:local:000000000000:function:bench", logGroupName: "bench", logStreamName: "bench",
  callbackWaitsForEmptyEventLoop: false, getRemainingTimeInMillis: () => 10000,
};
const result = await mod.handler(event, context);
const t2 = performance.now();
process.stdout.write("\\n@@COLD@@" + JSON.stringify({ importMs: t1 - t0, invokeMs: t2 - t1, totalMs: t2 - t0,
  status: result && result.statusCode, failures: result && result.batchItemFailures && result.batchItemFailures.length }) + "\\n");
process.exit(0);
`;

export interface ColdSample {
  importMs: number;
  invokeMs: number;
  totalMs: number;
  wallMs: number;
  status: number | undefined;
}

export interface ColdStartFigures {
  runs: number;
  /** import + first invocation, in the child (the part our code controls). */
  totalMs: { median: number; p90: number };
  importMs: { median: number; p90: number };
  invokeMs: { median: number; p90: number };
  /** spawn to exit, Node's boot included. */
  wallMs: { median: number; p90: number };
  statuses: Array<number | undefined>;
}

function runOnce(bundleFile: string, eventFile: string, env: Record<string, string>): Promise<ColdSample> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ["--input-type=module", "-e", CHILD, bundleFile, eventFile], {
      // The functions' NODE_OPTIONS (source maps parsed at load): every bundle starts as in Lambda.
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        NODE_OPTIONS: FUNCTION_NODE_OPTIONS,
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    child.stderr.on("data", (chunk) => {
      err += chunk;
    });
    child.on("error", reject);
    child.on("exit", () => {
      clearTimeout(timer);
      const wallMs = performance.now() - started;
      const line = out.split("\n").find((l) => l.startsWith("@@COLD@@"));
      if (line === undefined) {
        // The error line, not the minified source line Node prints above it.
        const lines = `${err}\n${out}`.split("\n").filter((l) => l.trim() !== "" && l.length < 400);
        const reason =
          lines.find((l) => /^[A-Z]\w*(Error|Exception)?: /.test(l)) ?? lines.at(-1) ?? "no output";
        reject(new Error(`cold start failed: ${reason.slice(0, 200)}`));
        return;
      }
      const parsed = JSON.parse(line.slice("@@COLD@@".length)) as Omit<ColdSample, "wallMs">;
      resolve({ ...parsed, wallMs });
    });
  });
}

function spread(values: number[]): { median: number; p90: number } {
  return { median: round(median(values)), p90: round(quantile(values, 0.9)) };
}

/** `runs` fresh processes, one after another (parallel runs would compete for the 2 cores). */
export async function measureColdStart(
  name: string,
  bundleFile: string,
  event: unknown,
  env: Record<string, string>,
  runs: number,
): Promise<ColdStartFigures> {
  const eventFile = join(BENCH_OUT, `cold-event-${name}.json`);
  // Each run gets a fresh request time: the handler's reply budget counts from requestContext.timeEpoch,
  // so a stale one would make a late run answer 503 instead of measuring a reply.
  const freshEvent = () => writeFileSync(eventFile, JSON.stringify(withRequestTime(event, Date.now())));
  // One unmeasured run warms the OS file cache, as a Lambda host's cache would be.
  freshEvent();
  await runOnce(bundleFile, eventFile, env);
  const samples: ColdSample[] = [];
  for (let i = 0; i < runs; i++) {
    freshEvent();
    samples.push(await runOnce(bundleFile, eventFile, env));
  }
  return {
    runs,
    totalMs: spread(samples.map((s) => s.totalMs)),
    importMs: spread(samples.map((s) => s.importMs)),
    invokeMs: spread(samples.map((s) => s.invokeMs)),
    wallMs: spread(samples.map((s) => s.wallMs)),
    statuses: [...new Set(samples.map((s) => s.status))],
  };
}

/** A copy of a Function URL event with `requestContext.timeEpoch` set to `now` (other events unchanged). */
function withRequestTime(event: unknown, now: number): unknown {
  if (typeof event !== "object" || event === null || !("requestContext" in event)) return event;
  const { requestContext } = event as { requestContext: Record<string, unknown> };
  if (typeof requestContext !== "object" || requestContext === null || !("timeEpoch" in requestContext))
    return event;
  return { ...event, requestContext: { ...requestContext, timeEpoch: now } };
}
