/**
 * Runs the rules engineer's bench (bench/rules.bench.ts) in its own process and reads what it
 * writes to .bench-out/rules.json, so its figures land in the same report without coupling to its
 * internals. Renders whatever it reports: a `markdown` field if present, else its top-level figures.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BENCH_OUT, REPO_ROOT } from "./bundle.ts";

export interface RulesFigures {
  source: string;
  figures: unknown;
  table: string;
}

function tableOf(figures: unknown): string {
  if (typeof figures === "object" && figures !== null) {
    const md = (figures as { markdown?: unknown }).markdown;
    if (typeof md === "string") return md;
    const rows = Object.entries(figures as Record<string, unknown>)
      .filter(([, v]) => typeof v !== "object" || v === null)
      .map(([k, v]) => `| ${k} | ${String(v)} |`);
    const nested = Object.entries(figures as Record<string, unknown>).filter(
      ([, v]) => typeof v === "object" && v !== null,
    );
    for (const [k, v] of nested) rows.push(`| ${k} | \`${JSON.stringify(v).slice(0, 300)}\` |`);
    return ["| figure | value |", "|---|---|", ...rows].join("\n");
  }
  return String(figures);
}

export async function runRulesBench(timeoutMs = 180_000): Promise<RulesFigures | { skipped: string }> {
  const script = join(REPO_ROOT, "bench", "rules.bench.ts");
  if (!existsSync(script)) return { skipped: "bench/rules.bench.ts does not exist yet" };
  const out = join(BENCH_OUT, "rules.json");
  rmSync(out, { force: true });
  const tsx = join(REPO_ROOT, "node_modules", "tsx", "dist", "cli.mjs");
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [tsx, script], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "ignore", "inherit"],
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  if (!existsSync(out))
    return { skipped: `bench/rules.bench.ts exited ${code} without writing .bench-out/rules.json` };
  const figures = JSON.parse(readFileSync(out, "utf8")) as unknown;
  return { source: "bench/rules.bench.ts → .bench-out/rules.json", figures, table: tableOf(figures) };
}
