import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { App } from "aws-cdk-lib";
import { type BuiltResponderApp, buildResponderApp } from "../../../infra/build.ts";

export const REPO_ROOT = resolve(import.meta.dirname, "../../..");
export const EXAMPLE_RULES = join(REPO_ROOT, "rules/example.yaml");

/**
 * cdk.json's `context` (the feature flags): `npx cdk synth` hands it to the app, `new App()` in a
 * test does not, so without it the tests would assert a template other than the one deployed.
 */
export const CDK_JSON_CONTEXT = (
  JSON.parse(readFileSync(join(REPO_ROOT, "cdk.json"), "utf8")) as { context: Record<string, unknown> }
).context;

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
      ...CDK_JSON_CONTEXT,
      ...(options.bundle === false ? { "aws:cdk:bundling-stacks": [] } : {}),
      ...options.context,
    },
  });
  const build = () => buildResponderApp(app, { configFile: writeConfig(config) });
  const built = options.bundle === false ? await build() : await withoutBundlingNotices(build);
  return { ...built, app, outdir };
}

/**
 * Runs `build` with CDK's "Bundling asset <path>..." progress lines (written straight to stderr, one
 * per function) left out of the test output; anything else written to stderr still passes.
 */
async function withoutBundlingNotices<T>(build: () => Promise<T>): Promise<T> {
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof chunk === "string" && /^Bundling asset \S+\.\.\.\n$/.test(chunk)) {
      const callback = rest.find((arg) => typeof arg === "function") as (() => void) | undefined;
      callback?.();
      return true;
    }
    return (write as (...args: unknown[]) => boolean).call(process.stderr, chunk, ...rest);
  }) as typeof process.stderr.write;
  try {
    return await build();
  } finally {
    process.stderr.write = write;
  }
}
