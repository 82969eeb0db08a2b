/** Builds the responder app from configuration: shared by infra/app.ts and the tests. */
import type { App } from "aws-cdk-lib";
import { RulesDocumentError } from "../lib/rules/errors.ts";
import { ConfigurationError, loadResponderConfig, type ResponderConfig } from "./config.ts";
import { addNagChecks } from "./nag.ts";
import { validateRulesFile, writeRulesForBundling } from "./rules.ts";
import { ResponderStack } from "./stack.ts";
import { writeRulesModuleInject } from "./typescript-rules.ts";

export interface BuiltResponderApp {
  config: ResponderConfig;
  stack: ResponderStack;
}

/**
 * Loads the configuration (file + the app's context), validates the rules, adds the stack and the
 * cdk-nag checks. Throws ConfigurationError / RulesFileError with every path at fault.
 */
export async function buildResponderApp(
  app: App,
  options: { configFile?: string } = {},
): Promise<BuiltResponderApp> {
  const context = app.node.getAllContext() as Record<string, unknown>;
  const config = loadResponderConfig({
    ...(options.configFile ? { configFile: options.configFile } : {}),
    context,
  });
  const rules = await validateRulesFile(config.rulesFilePath);
  const stack = new ResponderStack(app, config.stackName, {
    config,
    rulesJsonPath: writeRulesForBundling(rules),
    ...(rules.module === undefined ? {} : { rulesModuleInject: writeRulesModuleInject(rules.module) }),
    rulesVersion: rules.version,
    rulesUseContext: rules.usesContext,
    description: "ISC trigger responder: answers SailPoint ISC REQUEST_RESPONSE event triggers",
  });
  addNagChecks(app);
  return { config, stack };
}

/** What `cdk synth` prints for a configuration or rules error: the summary, then one line per issue. */
export function describeSynthError(error: unknown): string {
  if (error instanceof RulesDocumentError) {
    return [
      `The rules file is invalid (same checks as \`isc-responder rules check\`):`,
      ...error.formatIssues(),
    ].join("\n  ");
  }
  if (error instanceof ConfigurationError) {
    return `The configuration is invalid: ${error.issues.length} problem(s) in ${error.source}\n${error.describe()}`;
  }
  return error instanceof Error ? error.message : String(error);
}
