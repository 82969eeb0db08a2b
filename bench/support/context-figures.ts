/**
 * Runs the live-context bench (bench/context.bench.ts) in its own process, as the rules bench is
 * run: its sandbox, timers and heap stay out of the other sections' timings. Reads what it writes to
 * .bench-out/context.json.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BENCH_OUT, REPO_ROOT } from "./bundle.ts";
import type { ContextFigures } from "./context-report.ts";

/** `markdown`: every table; `section`: without the ratio and goal tables. */
export type ContextSection = (ContextFigures & { markdown: string; section: string }) | { skipped: string };

/** `args`: passed to bench/context.bench.ts (e.g. `--requests 4000 --limit 100/10000`). */
export async function runContextBench(args: readonly string[], timeoutMs = 300_000): Promise<ContextSection> {
  const script = join(REPO_ROOT, "bench", "context.bench.ts");
  const out = join(BENCH_OUT, "context.json");
  rmSync(out, { force: true });
  const tsx = join(REPO_ROOT, "node_modules", "tsx", "dist", "cli.mjs");
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [tsx, script, ...args], {
      cwd: REPO_ROOT,
      // Its table is printed once, by bench/run.ts; its progress lines go to stderr.
      stdio: ["ignore", "ignore", "inherit"],
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  if (!existsSync(out))
    return { skipped: `bench/context.bench.ts exited ${code} without writing .bench-out/context.json` };
  return JSON.parse(readFileSync(out, "utf8")) as ContextFigures & { markdown: string; section: string };
}
