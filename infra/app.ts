/**
 * The CDK app (`npx cdk synth`, run by cdk.json). Reads responder.config.json (overridable with
 * `-c key=value`), validates it and the rules file, and fails synth with a message that says what to fix.
 * Synth is offline: no lookups, no Docker.
 */
import { App } from "aws-cdk-lib";
import { buildResponderApp, describeSynthError } from "./build.ts";
import { enabledTriggers } from "./config.ts";
import { deploymentFindings, validateRulesFile } from "./rules.ts";

const app = new App();
try {
  const { config } = await buildResponderApp(app);
  // What the configuration and the rules say together (an enabled trigger without a section, the
  // placeholder tenant, the example policy unchanged): after both were validated on their own.
  const findings = await deploymentFindings(await validateRulesFile(config.rulesFilePath), {
    triggerIds: enabledTriggers(config).map((t) => t.triggerId),
    tenantBaseUrl: config.tenant.baseUrl,
    allowPlaceholderTenant: String(app.node.tryGetContext("allowPlaceholderTenant")) === "true",
  });
  for (const warning of findings.warnings) process.stderr.write(`warning: ${warning}\n`);
  if (findings.errors.length > 0) {
    process.stderr.write(
      `\nThe deployment cannot work as configured:\n${findings.errors.map((e) => `  - ${e}`).join("\n")}\n\n`,
    );
    process.exit(1);
  }
} catch (error) {
  process.stderr.write(`\n${describeSynthError(error)}\n\n`);
  process.exit(1);
}
app.synth();
