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
 */
import { createRequire } from "node:module";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { BundlingOptions, ICommandHooks } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogLevel, OutputFormat, SourceMapMode } from "aws-cdk-lib/aws-lambda-nodejs";
import type { BuildOptions } from "esbuild";
import { RE2_MODULE_FILE } from "../lib/rules/load-bundled.ts";

export type FunctionName = "http" | "worker" | "subscriptions";

/** Repository root (infra/..). */
export const PROJECT_ROOT = resolve(fileURLToPath(new URL(".", import.meta.url)), "..");

/** Entry file (relative to the repo root) and exported handler of each function. */
export const FUNCTIONS: Record<FunctionName, { entry: string; handler: string; needsRules: boolean }> = {
  http: { entry: "functions/http.ts", handler: "handler", needsRules: true },
  worker: { entry: "functions/worker.ts", handler: "handler", needsRules: true },
  subscriptions: { entry: "functions/subscriptions.ts", handler: "handler", needsRules: false },
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
 * esbuild options that produce the same `index.mjs` as the stack, into `outdir`. If `rulesJsonPath`
 * is given, copy that file as `<outdir>/rules.json` yourself (the stack does it in afterBundling).
 */
export function esbuildOptions(fn: FunctionName, outdir: string): BuildOptions & { outfile: string } {
  return {
    entryPoints: [join(PROJECT_ROOT, FUNCTIONS[fn].entry)],
    outfile: join(isAbsolute(outdir) ? outdir : resolve(outdir), OUTPUT_FILE),
    bundle: true,
    platform: "node",
    target: NODE_TARGET,
    format: "esm",
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    mainFields: ["module", "main"],
    external: EXTERNAL_MODULES,
    banner: { js: REQUIRE_SHIM_BANNER },
    logLevel: "warning",
  };
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
    outfile: join(isAbsolute(outdir) ? outdir : resolve(outdir), RE2_MODULE_FILE),
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
 * Every file esbuild writes for `fn` into `outdir` (index.mjs first): what the stack ships and the
 * bench measures. rules.json is copied, not built (see esbuildOptions).
 */
export function bundleBuilds(fn: FunctionName, outdir: string): Array<BuildOptions & { outfile: string }> {
  return FUNCTIONS[fn].needsRules
    ? [esbuildOptions(fn, outdir), re2EsbuildOptions(outdir)]
    : [esbuildOptions(fn, outdir)];
}

/**
 * The afterBundling command that builds re2.mjs into `outputDir`: esbuild's API in a child Node with
 * the very options object re2EsbuildOptions returns (JSON), so the stack and the bench cannot differ.
 */
export function re2BuildCommand(outputDir: string): string {
  const esbuildMain = createRequire(import.meta.url).resolve("esbuild");
  const script = `require(${JSON.stringify(esbuildMain)}).build(${JSON.stringify(re2EsbuildOptions(outputDir))}).catch((e) => { console.error(e); process.exit(1); })`;
  return `${shellQuote(process.execPath)} -e ${shellQuote(script)}`;
}

/** NodejsFunction bundling options for `fn`; `rulesJsonPath` (absolute) is copied beside index.mjs, with re2.mjs built beside it. */
export function nodejsBundling(_fn: FunctionName, rulesJsonPath?: string): BundlingOptions {
  const commandHooks: ICommandHooks | undefined =
    rulesJsonPath === undefined
      ? undefined
      : {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir: string, outputDir: string) => [
            `cp ${shellQuote(rulesJsonPath)} ${shellQuote(join(outputDir, "rules.json"))}`,
            re2BuildCommand(outputDir),
          ],
        };
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
    ...(commandHooks ? { commandHooks } : {}),
  };
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
