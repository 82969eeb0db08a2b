/**
 * Synth-time validation of the rules file, so a broken rules file fails `cdk synth` with the same
 * messages as `isc-responder rules check`; the validated document is what goes into each bundle as
 * rules.json (docs/runtime-contract.md).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RulesFileError } from "../lib/rules/errors.ts";
import { loadRulesFile } from "../lib/rules/load-file.ts";
import { DYNAMIC_APPROVER, POST_APPROVAL, PRE_APPROVAL } from "../lib/triggers/trigger-ids.ts";

export { RulesFileError };

export interface ValidatedRules {
  /** The validated rules document, as JSON text (what the functions load). */
  json: string;
  /** `sha256:<hex>` of that text; changes whenever the rules change. */
  sha256: string;
  /**
   * The rules version the functions report (CompiledRules.version, in every decision's explanation,
   * log line and ledger record): the stack's RulesVersion output, so a deployment matches its decisions.
   */
  version: string;
  /** Some rule reads live ISC context: the http function then needs the ISC API credentials too. */
  usesContext: boolean;
}

/**
 * Validates (and compiles) the rules file with `loadRulesFile`, the code behind
 * `isc-responder rules check`, so the errors are the same (RulesFileError, with lines), and returns
 * the validated document.
 */
export async function validateRulesFile(file: string): Promise<ValidatedRules> {
  if (!existsSync(file)) {
    throw new RulesFileError(file, [
      {
        path: "",
        message: "does not exist: set rulesFile in responder.config.json (or -c rulesFile=<path>)",
      },
    ]);
  }
  const { document, compiled } = await loadRulesFile(file);
  // Tests and their context stay out of the bundle: the version excludes them, the functions never read them.
  const { tests: _tests, testContext: _testContext, ...deployed } = document;
  const json = JSON.stringify(deployed);
  return {
    json,
    sha256: `sha256:${createHash("sha256").update(json).digest("hex")}`,
    version: compiled.version,
    usesContext: ([PRE_APPROVAL, DYNAMIC_APPROVER, POST_APPROVAL] as const).some(
      (trigger) => compiled.contextNeeds(trigger).size > 0,
    ),
  };
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
