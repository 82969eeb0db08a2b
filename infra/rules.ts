/**
 * Synth-time validation of the rules file, so a broken rules file fails `cdk synth` with the same
 * messages as `isc-responder rules check`; the validated document is what goes into each bundle as
 * rules.json (docs/runtime-contract.md).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ValidationError } from "../lib/errors.ts";

export interface ValidatedRules {
  /** The validated rules document, as JSON text (what the functions load). */
  json: string;
  /** `sha256:<hex>` of that text; changes whenever the rules change. */
  sha256: string;
}

/** A rules file the rules engine refused. Its message is the engine's, plus the file path. */
export class RulesFileError extends ValidationError {
  readonly file: string;
  constructor(file: string, issues: ValidationError["issues"]) {
    super(`rules file ${file}`, issues, "INVALID_RULES_FILE");
    this.file = file;
  }
}

interface RulesLoaderModule {
  loadRulesFile(path: string): unknown | Promise<unknown>;
}

const LOADER = resolve(dirname(fileURLToPath(import.meta.url)), "../lib/rules/load-file.ts");

/**
 * Validates the rules file with lib/rules/load-file.ts (`loadRulesFile`, the code behind
 * `isc-responder rules check`) and returns the validated document.
 */
export async function validateRulesFile(file: string): Promise<ValidatedRules> {
  if (!existsSync(file)) {
    throw new RulesFileError(file, [
      {
        path: "rulesFile",
        message: "does not exist: set rulesFile in responder.config.json (or -c rulesFile=...)",
      },
    ]);
  }
  if (!existsSync(LOADER)) {
    // SEAM: lib/rules/load-file.ts is being written; without it the rules cannot be validated here.
    throw new RulesFileError(file, [
      {
        path: "(rules engine)",
        message: "lib/rules/load-file.ts is missing, so the rules cannot be validated",
      },
    ]);
  }
  const loader = (await import(LOADER)) as RulesLoaderModule;
  let loaded: unknown;
  try {
    loaded = await loader.loadRulesFile(file);
  } catch (error) {
    if (error instanceof ValidationError) throw new RulesFileError(file, error.issues);
    throw error;
  }
  const document = documentOf(loaded);
  const json = JSON.stringify(document);
  return { json, sha256: `sha256:${createHash("sha256").update(json).digest("hex")}` };
}

/** `loadRulesFile` may return the document itself or a wrapper `{document, ...}`. */
function documentOf(loaded: unknown): unknown {
  if (typeof loaded === "object" && loaded !== null && "document" in loaded) {
    return (loaded as { document: unknown }).document;
  }
  return loaded;
}

/**
 * Writes rules.json into a folder of its own (named by content hash) for the bundling hook to copy
 * beside index.mjs. The folder lives under the OS temp dir, never in the source tree.
 */
export function writeRulesForBundling(rules: ValidatedRules): string {
  const folder = join(tmpdir(), "isc-responder-rules", rules.sha256.slice(7, 23));
  mkdirSync(folder, { recursive: true });
  const path = join(folder, "rules.json");
  writeFileSync(path, rules.json);
  return path;
}
