/**
 * Builds each function's bundle exactly as the stack does (infra/bundling.ts esbuildOptions), and the
 * baselines with the same options and another entry, into .bench-out/bundles/<name>/index.mjs.
 */
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { bundleBuilds, esbuildOptions, type FunctionName } from "../../infra/bundling.ts";

export const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const BENCH_OUT = join(REPO_ROOT, ".bench-out");

export interface BuiltBundle {
  name: string;
  file: string;
  /** Size of index.mjs (source map excluded: it is not loaded at cold start). */
  bytes: number;
}

export type BaselineName = "bare-handler" | "sdk-handler" | "client-handler";

/** Builds a function (`http`, `worker`, ...) or a baseline. Returns undefined if its entry does not exist yet. */
export async function buildBundle(name: FunctionName | BaselineName): Promise<BuiltBundle | undefined> {
  const outdir = join(BENCH_OUT, "bundles", name);
  const isBaseline = name.endsWith("-handler");
  // Baselines borrow the http function's options and swap the entry.
  const options = esbuildOptions(isBaseline ? "http" : (name as FunctionName), outdir);
  if (isBaseline) options.entryPoints = [join(REPO_ROOT, "bench", "baselines", `${name}.ts`)];
  const entry = (options.entryPoints as string[])[0] as string;
  if (!existsSync(entry)) return undefined;
  await build({ ...options, logLevel: "error" });
  // The files beside index.mjs the stack builds too (re2.mjs for the functions that load rules).
  if (!isBaseline) {
    for (const extra of bundleBuilds(name as FunctionName, outdir).slice(1)) {
      await build({ ...extra, logLevel: "error" });
    }
  }
  return { name, file: options.outfile, bytes: statSync(options.outfile).size };
}
