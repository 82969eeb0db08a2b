/**
 * Synth-time validation of the rules file, so a broken rules file fails `cdk synth` with the same
 * messages as `isc-responder rules check`; the validated document is what goes into each bundle as
 * rules.json, with rules.precompiled.json beside it: what compiling it derives, computed here once
 * instead of at every cold start (docs/runtime-contract.md).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RulesFileError } from "../lib/rules/errors.ts";
import { loadRulesFile } from "../lib/rules/load-file.ts";
import { precompiledPathOf, precompiledRules } from "../lib/rules/precompiled.ts";
import { SECTION_OF_TRIGGER } from "../lib/rules/schema.ts";
import { DYNAMIC_APPROVER, POST_APPROVAL, PRE_APPROVAL } from "../lib/triggers/trigger-ids.ts";
import { PROJECT_ROOT } from "./bundling.ts";
import type { RulesModuleBundle } from "./typescript-rules.ts";

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
  /** The trigger ids the file has a section for. */
  sections: string[];
  /** `rules check`'s warnings, as `file:line: path: message` lines. */
  warnings: string[];
  /** A TypeScript rules module: the stack bundles it into the functions (infra/typescript-rules.ts). */
  module?: RulesModuleBundle;
  /**
   * rules.precompiled.json's text (lib/rules/precompiled.ts): what compiling derives at cold start,
   * computed here for this document and version. Absent for a module (the functions compile its own).
   */
  precompiled?: string;
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
  const loaded = await loadRulesFile(file);
  const { document, compiled, warnings } = loaded;
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
    sections: Object.entries(SECTION_OF_TRIGGER)
      .filter(([, section]) => document[section] !== undefined)
      .map(([trigger]) => trigger),
    warnings: warnings.map(
      (w) => `${file}${w.line === undefined ? "" : `:${w.line}`}: ${w.path || "(root)"}: ${w.message}`,
    ),
    ...(loaded.module === undefined
      ? { precompiled: JSON.stringify(precompiledRules(document, compiled.version)) }
      : { module: { path: loaded.module.path, version: compiled.version } }),
  };
}

/** The tenant every example and test uses: a deployment pointing at it answers no real tenant. */
export const PLACEHOLDER_TENANT_URL = "https://acme.api.identitynow.com";
/** The policy the project ships, against which a deployment's rules are compared. */
export const EXAMPLE_RULES_FILE = join(PROJECT_ROOT, "rules/example.yaml");

export interface DeploymentFindings {
  /** Fail synth. */
  errors: string[];
  /** Printed by synth. */
  warnings: string[];
}

/**
 * What the configuration and the rules say together, checked at synth: every enabled trigger has a
 * section (else every invocation of it would get the fallback), the tenant is not the placeholder
 * (unless the CDK context `allowPlaceholderTenant=true` says so: tests, trying synth out), and the
 * example policy is not deployed unchanged (a warning: it is a real policy, but someone else's).
 */
export async function deploymentFindings(
  rules: ValidatedRules,
  deployment: { triggerIds: readonly string[]; tenantBaseUrl: string; allowPlaceholderTenant: boolean },
): Promise<DeploymentFindings> {
  const errors: string[] = [];
  const warnings = [...rules.warnings];
  for (const triggerId of deployment.triggerIds) {
    const section = SECTION_OF_TRIGGER[triggerId as keyof typeof SECTION_OF_TRIGGER];
    if (section !== undefined && !rules.sections.includes(triggerId)) {
      errors.push(
        `the rules file has no ${section} section, but the ${triggerId} trigger is enabled: every invocation would get the fallback (add the section, or disable the trigger in responder.config.json)`,
      );
    }
  }
  if (
    new URL(deployment.tenantBaseUrl).origin === PLACEHOLDER_TENANT_URL &&
    !deployment.allowPlaceholderTenant
  ) {
    errors.push(
      `tenant.baseUrl is the placeholder ${PLACEHOLDER_TENANT_URL}: set your tenant's API URL in responder.config.json (or -c tenant.baseUrl=...); -c allowPlaceholderTenant=true synthesizes anyway`,
    );
  }
  if (existsSync(EXAMPLE_RULES_FILE)) {
    const example = await validateRulesFile(EXAMPLE_RULES_FILE);
    if (example.version === rules.version) {
      warnings.push(
        "the rules are the example policy (rules/example.yaml) unchanged: its groups, lists and wording are Acme's; copy it and adapt it to your tenant",
      );
    }
  }
  return { errors, warnings };
}

/**
 * Writes rules.json, and rules.precompiled.json beside it, into a folder of its own (named by content
 * hash) for the bundling hook to copy beside index.mjs. The folder lives under the OS temp dir, never
 * in the source tree.
 */
export function writeRulesForBundling(rules: ValidatedRules): string {
  const folder = join(tmpdir(), "isc-responder-rules", rules.sha256.slice(7, 23));
  mkdirSync(folder, { recursive: true });
  const path = join(folder, "rules.json");
  writeFileSync(path, rules.json);
  const precompiled = precompiledPathOf(path);
  // A module's rules.json may equal a YAML file's: never leave a plan behind that is not this build's.
  if (rules.precompiled === undefined) rmSync(precompiled, { force: true });
  else writeFileSync(precompiled, rules.precompiled);
  return path;
}
