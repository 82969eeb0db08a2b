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
 */
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { BundlingOptions, ICommandHooks } from "aws-cdk-lib/aws-lambda-nodejs";
import { OutputFormat, SourceMapMode } from "aws-cdk-lib/aws-lambda-nodejs";
import type { BuildOptions } from "esbuild";

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

/** NodejsFunction bundling options for `fn`; `rulesJsonPath` (absolute) is copied beside index.mjs. */
export function nodejsBundling(_fn: FunctionName, rulesJsonPath?: string): BundlingOptions {
  const commandHooks: ICommandHooks | undefined =
    rulesJsonPath === undefined
      ? undefined
      : {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir: string, outputDir: string) => [
            `cp ${shellQuote(rulesJsonPath)} ${shellQuote(join(outputDir, "rules.json"))}`,
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
    forceDockerBundling: false,
    ...(commandHooks ? { commandHooks } : {}),
  };
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
