/**
 * The Lambda functions' side of `matches`: RE2 (re2js, ~147 KB minified) is not in index.mjs but in
 * re2.mjs beside it (infra/bundling.ts builds both), imported at init only when the rules document
 * uses `matches`. Rules without a regex pay nothing; rules with one pay the re2.mjs load at cold
 * start (docs/performance.md). If the document needs RE2 and it does not load, init fails: a bundling
 * mistake must not turn into backtracking over a requester's comment (regex.ts has no fallback).
 */
import { ResponderError } from "../errors.ts";
import { type RegexEngine, registeredRegexEngine, useRegexEngine } from "./regex.ts";

/** The file infra/bundling.ts writes beside index.mjs (entry lib/rules/regex-re2-engine.ts). */
export const RE2_MODULE_FILE = "re2.mjs";

/** Deeper than any valid document (the schema nests conditions far less); a bound for the walk. */
const MAX_DEPTH = 64;

/**
 * Whether any object in the document has a `matches` key. Errs towards yes (a test case's input
 * with such a key also counts): a false yes costs a load, a false no would fail at compile.
 */
export function usesMatches(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== "object" || depth > MAX_DEPTH) return false;
  if (Array.isArray(value)) return value.some((v) => usesMatches(v, depth + 1));
  if (Object.hasOwn(value, "matches")) return true;
  return Object.values(value).some((v) => usesMatches(v, depth + 1));
}

/** Loads a module that exports `re2Engine`. */
export type Re2ModuleLoader = () => Promise<unknown>;

/**
 * re2.mjs beside the bundle. Run from the sources (tests, tsx) this module is a .ts file and the
 * engine module is its neighbour. The specifier is computed, so esbuild leaves the import alone.
 */
function re2ModuleUrl(): string {
  const here = import.meta.url;
  const file = here.endsWith(".ts") ? "./regex-re2-engine.ts" : `./${RE2_MODULE_FILE}`;
  return new URL(file, here).href;
}

const importRe2: Re2ModuleLoader = () => import(re2ModuleUrl());

/**
 * Registers RE2 when `document` (rules.json, parsed) uses `matches` and no engine is registered yet.
 * Returns whether it loaded RE2 now. Throws REGEX_ENGINE_MISSING when it is needed and cannot load.
 */
export async function prepareRegexEngine(
  document: unknown,
  load: Re2ModuleLoader = importRe2,
): Promise<boolean> {
  if (registeredRegexEngine() !== undefined || !usesMatches(document)) return false;
  let engine: RegexEngine;
  try {
    engine = checkedEngine(await load());
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ResponderError(
      "REGEX_ENGINE_MISSING",
      `the rules use \`matches\` but RE2 did not load from ${RE2_MODULE_FILE} beside the bundle (${reason.slice(0, 200)}): check the bundling (infra/bundling.ts)`,
      { cause: error },
    );
  }
  useRegexEngine(engine);
  return true;
}

/** The module's engine, proven to compile and match before any rule relies on it. */
function checkedEngine(module: unknown): RegexEngine {
  const engine = (module as { re2Engine?: RegexEngine } | null)?.re2Engine;
  if (engine?.name !== "re2" || typeof engine.compile !== "function") {
    throw new Error("the module does not export re2Engine");
  }
  if (!engine.compile("^a+b$", true)("AAB")) throw new Error("re2Engine does not match as RE2");
  return engine;
}
