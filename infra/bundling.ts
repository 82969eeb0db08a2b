/**
 * The one place that says how each Lambda function is bundled. The stack (NodejsFunction) and the
 * benchmarks (esbuild directly) both build from these settings, so what is measured is what ships.
 *
 * Choices (see docs/deploy.md "Bundles"):
 * - ESM (`index.mjs`), minified, linked source maps, target node22, arm64.
 * - `@aws-sdk/*` is external: the nodejs22.x runtime provides AWS SDK v3, and Node's ESM loader finds
 *   it through NODE_PATH on Lambda's Node 18+ runtimes. The code imports the SDK lazily
 *   (`await import(...)`), so a request that does not touch AWS never loads it, and bundles stay small.
 *   esbuild without `splitting` would inline a bundled SDK into index.mjs: keeping it external is what
 *   keeps the lazy import lazy.
 * - A `require` shim banner: some CommonJS dependencies call `require("node:…")` inside an ESM bundle.
 * - `re2.mjs` beside `index.mjs` for the functions that load rules: RE2 (re2js, ~147 KB minified)
 *   for `matches`, imported at init only when the rules use it (lib/rules/load-bundled.ts), so
 *   index.mjs stays within its size budget and rules without a regex never load it.
 * - The http function is split (esbuild `splitting`): what it imports dynamically (the live-context
 *   reader and its ISC client, lib/http/context-reader.ts) is a chunk beside index.mjs, read and
 *   parsed on the first context read only; code shared with index.mjs is one more chunk it imports.
 *   NodejsFunction bundles to a single file, so the stack's afterBundling hook builds the split
 *   bundle over it from these very options (bundleBuildCommand), as it builds re2.mjs.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { BundlingOptions, ICommandHooks } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogLevel, OutputFormat, SourceMapMode } from "aws-cdk-lib/aws-lambda-nodejs";
import type { BuildOptions } from "esbuild";
import { RE2_MODULE_FILE } from "../lib/rules/load-bundled.ts";
import { PRECOMPILED_FILE, precompiledPathOf } from "../lib/rules/precompiled.ts";

export type FunctionName = "http" | "worker" | "subscriptions";

/** Repository root (infra/..). */
export const PROJECT_ROOT = resolve(fileURLToPath(new URL(".", import.meta.url)), "..");

/** Entry file (relative to the repo root) and exported handler of each function. */
export const FUNCTIONS: Record<
  FunctionName,
  { entry: string; handler: string; needsRules: boolean; split: boolean }
> = {
  http: { entry: "functions/http.ts", handler: "handler", needsRules: true, split: true },
  // The worker loads everything it imports on its first batch anyway; nothing to split off.
  worker: { entry: "functions/worker.ts", handler: "handler", needsRules: true, split: false },
  subscriptions: { entry: "functions/subscriptions.ts", handler: "handler", needsRules: false, split: false },
};

export const NODE_TARGET = "node22";
export const EXTERNAL_MODULES = ["@aws-sdk/*"];
export const OUTPUT_FILE = "index.mjs";
/**
 * The functions' NODE_OPTIONS: stack traces in the logs point at the TypeScript sources (the maps carry
 * no sources' text, see nodejsBundling). The cold-start bench runs its processes with the same flags.
 */
export const FUNCTION_NODE_OPTIONS = "--enable-source-maps";
/** Lets bundled CommonJS code `require` Node built-ins from inside the ESM output. */
export const REQUIRE_SHIM_BANNER =
  "import { createRequire as __iscCreateRequire } from 'node:module'; const require = __iscCreateRequire(import.meta.url);";

/**
 * esbuild options that produce the same files as the stack into `outdir`: `index.mjs` (the handler)
 * and, for a split function, its chunks beside it, each with its source map. rules.json is copied
 * beside them, not built (the stack does it in afterBundling; the bench writes its own).
 */
export function esbuildOptions(fn: FunctionName, outdir: string): BuildOptions & { outdir: string } {
  return {
    entryPoints: [join(PROJECT_ROOT, FUNCTIONS[fn].entry)],
    outdir: absolute(outdir),
    // index.mjs; chunks keep esbuild's `[name]-[hash]` (content hashes: the same build, the same names).
    entryNames: "index",
    outExtension: { ".js": ".mjs" },
    splitting: FUNCTIONS[fn].split,
    bundle: true,
    platform: "node",
    target: NODE_TARGET,
    format: "esm",
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    mainFields: ["module", "main"],
    external: EXTERNAL_MODULES,
    // On every output file: a chunk may hold the CommonJS code that calls `require`.
    banner: { js: REQUIRE_SHIM_BANNER },
    logLevel: "warning",
  };
}

/** The handler file in `outdir` (what Lambda imports, `index.handler`). */
export function mainFile(outdir: string): string {
  return join(absolute(outdir), OUTPUT_FILE);
}

/** The engine module re2.mjs is built from: re2js and nothing of ours that holds state. */
export const RE2_ENTRY = "lib/rules/regex-re2-engine.ts";

/**
 * esbuild options for `<outdir>/re2.mjs`. No source map: its frames are re2js's, its errors are
 * caught and reworded, and Node would parse a map at load (--enable-source-maps) for nothing.
 */
export function re2EsbuildOptions(outdir: string): BuildOptions & { outfile: string } {
  return {
    entryPoints: [join(PROJECT_ROOT, RE2_ENTRY)],
    outfile: join(absolute(outdir), RE2_MODULE_FILE),
    bundle: true,
    platform: "node",
    target: NODE_TARGET,
    format: "esm",
    minify: true,
    sourcemap: false,
    mainFields: ["module", "main"],
    logLevel: "warning",
  };
}

/**
 * Every build of `fn` into `outdir` (the function's own first, then re2.mjs where rules load): what
 * the stack ships and the bench measures. rules.json is copied, not built (see esbuildOptions).
 */
export function bundleBuilds(fn: FunctionName, outdir: string, rulesModuleInject?: string): BuildOptions[] {
  if (!FUNCTIONS[fn].needsRules) return [esbuildOptions(fn, outdir)];
  // A TypeScript rules module: the file infra/typescript-rules.ts wrote is injected into the function's build.
  const own = esbuildOptions(fn, outdir);
  return [
    rulesModuleInject === undefined ? own : { ...own, inject: [rulesModuleInject] },
    re2EsbuildOptions(outdir),
  ];
}

/**
 * What the stack's afterBundling hook builds into NodejsFunction's `outputDir`: the function's own
 * build when it is split (over the single index.mjs CDK wrote), and re2.mjs where rules load.
 * Undefined when CDK's own output is all (CDK's options below mirror esbuildOptions).
 */
export function afterBundlingBuilds(
  fn: FunctionName,
  outputDir: string,
  rulesModuleInject?: string,
): BuildOptions[] | undefined {
  const builds = bundleBuilds(fn, outputDir, rulesModuleInject).filter(
    (build, index) => index > 0 || build.splitting === true,
  );
  return builds.length === 0 ? undefined : builds;
}

/**
 * The command that runs `builds`: esbuild's API in a child Node with the very options objects the
 * bench passes (JSON), so the stack and the bench cannot differ.
 */
export function bundleBuildCommand(builds: readonly BuildOptions[]): string {
  const esbuildMain = createRequire(import.meta.url).resolve("esbuild");
  const script = `const esbuild = require(${JSON.stringify(esbuildMain)}); Promise.all(${JSON.stringify(builds)}.map((options) => esbuild.build(options))).catch((e) => { console.error(e); process.exit(1); })`;
  return `${shellQuote(process.execPath)} -e ${shellQuote(script)}`;
}

/**
 * NodejsFunction bundling options for `fn`; `rulesJsonPath` (absolute) is copied beside index.mjs,
 * with the rules.precompiled.json written beside it (infra/rules.ts), if there is one. afterBundling
 * then builds what CDK's single-file bundling cannot (afterBundlingBuilds).
 */
export function nodejsBundling(
  fn: FunctionName,
  rulesJsonPath?: string,
  rulesModuleInject?: string,
): BundlingOptions {
  const afterBundling = (_inputDir: string, outputDir: string): string[] => {
    const builds = afterBundlingBuilds(fn, outputDir, rulesModuleInject);
    const precompiled = rulesJsonPath === undefined ? undefined : precompiledPathOf(rulesJsonPath);
    return [
      ...(rulesJsonPath === undefined
        ? []
        : [`cp ${shellQuote(rulesJsonPath)} ${shellQuote(join(outputDir, "rules.json"))}`]),
      ...(precompiled === undefined || !existsSync(precompiled)
        ? []
        : [`cp ${shellQuote(precompiled)} ${shellQuote(join(outputDir, PRECOMPILED_FILE))}`]),
      ...(builds === undefined ? [] : [bundleBuildCommand(builds)]),
    ];
  };
  const commandHooks: ICommandHooks | undefined =
    rulesJsonPath === undefined && afterBundlingBuilds(fn, "/") === undefined
      ? undefined
      : { beforeBundling: () => [], beforeInstall: () => [], afterBundling };
  return {
    format: OutputFormat.ESM,
    target: NODE_TARGET,
    minify: true,
    sourceMap: true,
    sourceMapMode: SourceMapMode.DEFAULT,
    // Stack traces need file:line only. With --enable-source-maps Node parses the map at load: the
    // sources' text made it 4.6x larger (534 KB for http) and cost ~12 ms of every cold start.
    sourcesContent: false,
    mainFields: ["module", "main"],
    externalModules: EXTERNAL_MODULES,
    banner: REQUIRE_SHIM_BANNER,
    // As esbuildOptions: esbuild's CLI would otherwise print its size table on every synth and test.
    logLevel: LogLevel.WARNING,
    forceDockerBundling: false,
    ...(rulesModuleInject === undefined ? {} : { inject: [rulesModuleInject] }),
    ...(commandHooks ? { commandHooks } : {}),
  };
}

function absolute(dir: string): string {
  return isAbsolute(dir) ? dir : resolve(dir);
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
