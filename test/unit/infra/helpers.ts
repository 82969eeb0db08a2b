import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { App } from "aws-cdk-lib";
import { type BuiltResponderApp, buildResponderApp } from "../../../infra/build.ts";

export const REPO_ROOT = resolve(import.meta.dirname, "../../..");
export const EXAMPLE_RULES = join(REPO_ROOT, "rules/example.yaml");

/** A valid configuration object (HTTP delivery for both triggers). */
export function baseConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    tenant: {
      baseUrl: "https://acme.api.identitynow.com",
      credentialsSecret: "isc-trigger-responder/isc-api-client",
    },
    rulesFile: EXAMPLE_RULES,
    triggers: {
      preApproval: { enabled: true, delivery: "HTTP", httpDispatchMode: "DYNAMIC" },
      dynamicApprover: {
        enabled: true,
        delivery: "HTTP",
        httpDispatchMode: "ASYNC",
        responseDeadline: "PT2H",
      },
    },
    ...overrides,
  };
}

/** Writes `config` as a configuration file in a fresh temp folder; returns its path. */
export function writeConfig(config: unknown, name = "responder.config.json"): string {
  const dir = mkdtempSync(join(tmpdir(), "isc-infra-test-"));
  const file = join(dir, name);
  writeFileSync(file, typeof config === "string" ? config : JSON.stringify(config, null, 2));
  return file;
}

/**
 * Builds the app into a temp cloud assembly. `bundle: false` skips NodejsFunction bundling (CDK's
 * `aws:cdk:bundling-stacks` context), for tests that only look at configuration or resources.
 */
export async function buildApp(
  config: unknown,
  options: { bundle?: boolean; context?: Record<string, unknown> } = {},
): Promise<BuiltResponderApp & { app: App; outdir: string }> {
  const outdir = mkdtempSync(join(tmpdir(), "isc-infra-cdkout-"));
  const app = new App({
    outdir,
    context: {
      ...(options.bundle === false ? { "aws:cdk:bundling-stacks": [] } : {}),
      ...options.context,
    },
  });
  const built = await buildResponderApp(app, { configFile: writeConfig(config) });
  return { ...built, app, outdir };
}
