/**
 * A TypeScript (or JavaScript) module as a rules file: `rules check|test|eval`, `dev --rules`,
 * `serve --rules` and the synth load `policy.ts` as they load a YAML file. The module's default export
 * (or its export `rules`) is what `defineRules(...)` returned.
 *
 * The module is imported, not type-checked (a type check of the module and everything it imports
 * takes seconds; run `tsc --noEmit` in CI). Its document is validated by defineRules like a file.
 * Its rules version covers the document and the module's code: `sha256` over the document's version
 * and the text of every local file the module imports (not node_modules, not this project's lib/,
 * the engine), so changing a predicate changes RulesVersion while moving the checkout does not.
 * "Local" is where the file resolves, as the stack's bundle resolves it: a workspace package linked
 * into node_modules or a tsconfig `paths` alias is local; an installed package is not (its lockfile
 * versions it).
 *
 * The CLI imports .ts through tsx (bin/isc-responder.js registers it), the synth runs under tsx,
 * vitest imports .ts itself.
 */
import { readFile } from "node:fs/promises";
import { dirname, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Plugin } from "esbuild";
import type { ValidationIssue } from "../errors.ts";
import { formatPath } from "../errors.ts";
import { definedRulesOf } from "./bundled-module.ts";
import { rulesVersion } from "./compile.ts";
import { RulesDocumentError, RulesFileError } from "./errors.ts";
import type { RulesDocument } from "./schema.ts";
import type { CompiledRules } from "./types.ts";
import { validateRulesDocument } from "./validate.ts";

/** `.ts`, `.mts`, `.cts`, `.js`, `.mjs`, `.cjs`: a module, not a YAML or JSON file. */
export function isRulesModulePath(path: string): boolean {
  return /\.(?:[cm]?ts|[cm]?js)$/i.test(path) && !/\.d\.[cm]?ts$/i.test(path);
}

export interface RulesModuleInfo {
  /** Absolute path of the module. */
  path: string;
  /** `sha256:<hex>` over the module's local sources (see the header). */
  sourceHash: string;
  /** The local files hashed, relative to the module's folder (for messages and tests). */
  sources: string[];
}

export interface LoadedRulesModule {
  document: RulesDocument;
  compiled: CompiledRules;
  warnings: ValidationIssue[];
  module: RulesModuleInfo;
}

/** The version of a module's rules: its document's and its code's. */
export function typescriptRulesVersion(document: RulesDocument, sourceHash: string): string {
  const { createHash } = process.getBuiltinModule("node:crypto");
  const digest = createHash("sha256")
    .update(`${rulesVersion(document)}\n${sourceHash}`)
    .digest("hex");
  return `sha256:${digest}`;
}

/** Imports, validates and versions a rules module. Throws RulesFileError (path, message) when it cannot. */
export async function loadRulesModule(path: string): Promise<LoadedRulesModule> {
  const absolute = resolve(path);
  let exports: unknown;
  try {
    exports = await import(pathToFileURL(absolute).href);
  } catch (error) {
    if (error instanceof RulesDocumentError) throw new RulesFileError(path, error.issues);
    throw new RulesFileError(path, [{ path: "", message: `cannot import the module: ${brief(error)}` }]);
  }
  const defined = definedRulesOf(exports, path);
  const { hash, sources } = await moduleSourceHash(absolute);
  const version = typescriptRulesVersion(defined.document, hash);
  const checked = validateRulesDocument(defined.document);
  const warnings = checked.ok
    ? checked.warnings.map((w) => ({ path: formatPath(w.path), message: w.message }))
    : [];
  return {
    document: defined.document,
    compiled: defined.withVersion(version),
    warnings,
    module: { path: absolute, sourceHash: hash, sources },
  };
}

/** The responder's own lib/ (the engine): versioned with the code, like the YAML rules' engine. */
const ENGINE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Where a resolved file is not hashed (nor followed): an installed package, or the engine. */
function outsideSources(file: string): boolean {
  return file.split(sep).includes("node_modules") || file.startsWith(ENGINE_DIR + sep);
}

/**
 * Resolves every import as the stack's bundling does (infra/bundling.ts: tsconfig paths, symlinks
 * followed, `module` before `main`), then leaves out what outsideSources() names instead of bundling
 * it. Not `packages: "external"`: that leaves out every bare specifier, workspace packages included.
 */
const LOCAL_SOURCES_ONLY: Plugin = {
  name: "local-sources-only",
  setup(build) {
    const again = Symbol("resolving");
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === again) return undefined;
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: again,
      });
      // Unresolved: esbuild reports it (the stack's bundling would fail the same way).
      if (resolved.errors.length > 0) return undefined;
      if (resolved.external || outsideSources(resolved.path)) return { path: args.path, external: true };
      return resolved;
    });
  },
};

/**
 * `sha256:` over the module's local sources: the files esbuild resolves from it, installed
 * packages and the engine left out. Without esbuild (it comes with tsx), the module file alone.
 */
export async function moduleSourceHash(path: string): Promise<{ hash: string; sources: string[] }> {
  const base = dirname(path);
  let files: string[];
  try {
    const esbuild = await import("esbuild");
    const result = await esbuild.build({
      entryPoints: [path],
      bundle: true,
      write: false,
      metafile: true,
      platform: "node",
      format: "esm",
      target: "node22",
      mainFields: ["module", "main"],
      plugins: [LOCAL_SOURCES_ONLY],
      logLevel: "silent",
    });
    const cwd = process.cwd();
    files = Object.keys(result.metafile?.inputs ?? {})
      .map((input) => resolve(cwd, input))
      .filter((file) => !outsideSources(file));
  } catch (error) {
    if ((error as { errors?: unknown }).errors !== undefined) {
      throw new RulesFileError(path, [{ path: "", message: `cannot bundle the module: ${brief(error)}` }]);
    }
    files = [path];
  }
  const { createHash } = process.getBuiltinModule("node:crypto");
  const hash = createHash("sha256");
  const sources = files
    .map((file) => ({ file, name: relative(base, file).split(sep).join("/") }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const { file, name } of sources) {
    hash
      .update(name)
      .update("\0")
      .update(await readFile(file))
      .update("\0");
  }
  return { hash: `sha256:${hash.digest("hex")}`, sources: sources.map((s) => s.name) };
}

function brief(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return (text.split("\n")[0] ?? "").slice(0, 300);
}
