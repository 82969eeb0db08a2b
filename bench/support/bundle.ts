/**
 * Builds each function's bundle exactly as the stack does (infra/bundling.ts bundleBuilds: index.mjs,
 * its chunks where the function is split, re2.mjs where rules load), and the baselines with the same
 * options and another entry, into .bench-out/bundles/<name>/.
 */
import { existsSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Metafile } from "esbuild";
import { bundleBuilds, esbuildOptions, type FunctionName, mainFile } from "../../infra/bundling.ts";

export const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const BENCH_OUT = join(REPO_ROOT, ".bench-out");

export interface BuiltBundle {
  name: string;
  /** index.mjs, what the cold start imports. */
  file: string;
  /** Size of index.mjs (source maps excluded: they are not code). */
  bytes: number;
  /**
   * index.mjs and the chunks it imports statically: what init reads and parses (the lazily imported
   * chunks and re2.mjs excluded). Equal to `bytes` for an unsplit bundle.
   */
  initBytes: number;
  /** Every .mjs file the function's own build wrote (re2.mjs excluded), by name. */
  files: Record<string, number>;
}

export type BaselineName = "bare-handler" | "sdk-handler" | "client-handler";

/** Builds a function (`http`, `worker`, ...) or a baseline. Returns undefined if its entry does not exist yet. */
export async function buildBundle(name: FunctionName | BaselineName): Promise<BuiltBundle | undefined> {
  const outdir = join(BENCH_OUT, "bundles", name);
  const isBaseline = name.endsWith("-handler");
  // Baselines borrow the worker's options (unsplit: one file, like the bare handlers they stand for) and swap the entry.
  const builds = isBaseline ? [esbuildOptions("worker", outdir)] : bundleBuilds(name as FunctionName, outdir);
  const own = builds[0] as (typeof builds)[number];
  if (isBaseline) own.entryPoints = [join(REPO_ROOT, "bench", "baselines", `${name}.ts`)];
  const entry = (own.entryPoints as string[])[0] as string;
  if (!existsSync(entry)) return undefined;
  // Chunk names carry content hashes: a fresh folder, so no stale chunk is counted.
  rmSync(outdir, { recursive: true, force: true });
  let metafile: Metafile | undefined;
  for (const [index, options] of builds.entries()) {
    const result = await build({ ...options, logLevel: "error", metafile: index === 0 });
    if (index === 0) metafile = result.metafile;
  }
  const file = mainFile(outdir);
  return { name, file, bytes: statSync(file).size, ...chunkSizes(metafile as Metafile, outdir) };
}

/** Sizes of the build's .mjs outputs, and of index.mjs with the chunks it imports statically (transitively). */
function chunkSizes(metafile: Metafile, outdir: string): Pick<BuiltBundle, "initBytes" | "files"> {
  const outputs = Object.entries(metafile.outputs).filter(([path]) => path.endsWith(".mjs"));
  const byPath = new Map(outputs);
  const files: Record<string, number> = {};
  for (const [path, output] of outputs) files[path.split("/").at(-1) as string] = output.bytes;
  const main = outputs.find(([path]) => resolve(path) === mainFile(outdir))?.[0];
  const seen = new Set<string>();
  const visit = (path: string | undefined) => {
    if (path === undefined || seen.has(path)) return;
    seen.add(path);
    for (const imported of byPath.get(path)?.imports ?? []) {
      if (imported.kind === "import-statement" && byPath.has(imported.path)) visit(imported.path);
    }
  };
  visit(main);
  let initBytes = 0;
  for (const path of seen) initBytes += byPath.get(path)?.bytes ?? 0;
  return { initBytes, files };
}
