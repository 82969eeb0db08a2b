/**
 * The CDK app (`npx cdk synth`, run by cdk.json). Reads responder.config.json (overridable with
 * `-c key=value`), validates it and the rules file, and fails synth with a message that says what to fix.
 * Synth is offline: no lookups, no Docker.
 */
import { App } from "aws-cdk-lib";
import { buildResponderApp, describeSynthError } from "./build.ts";

const app = new App();
try {
  await buildResponderApp(app);
} catch (error) {
  process.stderr.write(`\n${describeSynthError(error)}\n\n`);
  process.exit(1);
}
app.synth();
