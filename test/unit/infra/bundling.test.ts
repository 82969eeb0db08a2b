/**
 * The functions' bundles as infra/bundling.ts describes them (the stack and the bench build the same
 * files): RE2 lives in re2.mjs beside index.mjs, loaded at init only when the rules use `matches`.
 * Builds the http bundle with esbuild, then starts it in fresh Node processes.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { build, type Metafile } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bundleBuilds,
  esbuildOptions,
  nodejsBundling,
  PROJECT_ROOT,
  RE2_ENTRY,
  re2BuildCommand,
  re2EsbuildOptions,
} from "../../../infra/bundling.ts";
import { RE2_MODULE_FILE } from "../../../lib/rules/load-bundled.ts";

/** A rules document as rules.json holds it; JSON text, since `then` may not be an object key here. */
function rulesJson(when: unknown): string {
  return `{"approver":"svc","preApproval":{"rules":[{"id":"hit","when":${JSON.stringify(when)},"then":{"decision":"deny","comment":"matched"}}],"default":{"decision":"approve","comment":"nope"}}}`;
}
const RE2JS_TEXT = "invalid nested repetition operator";
const WITH_REGEX = rulesJson({ anyItem: { field: "comment", matches: "a*a*a*b" } });
const WITHOUT_REGEX = rulesJson({ anyItem: { field: "comment", equals: "b" } });

/** The function's rules loading, bundled with the http options, beside re2.mjs. */
const PROBE = `
import { compileRules } from "./lib/rules/compile.ts";
import { prepareRegexEngine } from "./lib/rules/load-bundled.ts";
import { regexEngine } from "./lib/rules/regex.ts";
import { invocationFromAnyPayload } from "./lib/triggers/invocation.ts";
export async function run(document, comment) {
  const loaded = await prepareRegexEngine(document);
  const rules = compileRules(document);
  const invocation = invocationFromAnyPayload(
    { accessRequestId: "ar-1", requestedFor: { type: "IDENTITY", id: "i1", name: "A" },
      requestedBy: { type: "IDENTITY", id: "i2", name: "B" },
      requestedItems: [{ id: "it", name: "It", type: "ROLE", operation: "Add", comment }] },
    { tenantBaseUrl: "https://t.example", responseDeadlineMs: () => 60000 },
    "idn:access-request-pre-approval",
  );
  rules.decide(invocation);
  const start = performance.now();
  const decision = rules.decide(invocation);
  return { loaded, engine: regexEngine().name, ms: performance.now() - start, ruleId: decision.explanation.ruleId };
}
`;

let dir: string;
const metafiles: Record<string, Metafile> = {};

/** Inputs of one output, as repo-relative paths (node_modules packages by their path). */
function inputsOf(metafile: Metafile): string[] {
  return Object.values(metafile.outputs).flatMap((output) => Object.keys(output.inputs));
}

function runNode(script: string, cwd: string, env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd,
    env: { PATH: process.env.PATH ?? "", AWS_REGION: "us-east-1", ...env },
    encoding: "utf8",
    timeout: 20_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Imports <fnDir>/index.mjs in a fresh process (init runs at import), with rules.json beside it. */
function startHttp(fnDir: string, rules: string) {
  writeFileSync(join(fnDir, "rules.json"), rules);
  return runNode(`await import(${JSON.stringify(pathToFileURL(join(fnDir, "index.mjs")).href)});`, fnDir, {
    SAIL_BASE_URL: "https://acme.api.identitynow.com",
    WEBHOOK_CREDENTIALS_SECRET_ID: "webhook",
    QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/q",
    POWERTOOLS_LOG_LEVEL: "ERROR",
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "bundling-"));
  for (const fn of ["http", "worker"] as const) {
    for (const options of bundleBuilds(fn, join(dir, fn))) {
      const result = await build({ ...options, metafile: true, logLevel: "error" });
      metafiles[relative(dir, options.outfile)] = result.metafile;
    }
  }
  const probe = esbuildOptions("http", join(dir, "http"));
  delete probe.entryPoints;
  await build({
    ...probe,
    stdin: { contents: PROBE, resolveDir: PROJECT_ROOT, sourcefile: "probe.ts", loader: "ts" },
    outfile: join(dir, "http", "probe.mjs"),
    logLevel: "error",
  });
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("bundles: RE2 beside index.mjs, not in it", () => {
  it.each(["http", "worker"])(
    "%s: index.mjs without re2js, re2.mjs with re2js and none of our modules but the engine",
    (fn) => {
      expect(Object.keys(metafiles).filter((file) => file.startsWith(`${fn}/`))).toEqual([
        `${fn}/index.mjs`,
        `${fn}/${RE2_MODULE_FILE}`,
      ]);
      const indexInputs = inputsOf(metafiles[`${fn}/index.mjs`] as Metafile);
      expect(indexInputs.some((input) => input.includes("node_modules/re2js/"))).toBe(false);
      expect(indexInputs).toContain("lib/rules/load-bundled.ts");
      // One of re2js's own messages (index.mjs may hold regex-guard.ts, which rewords them).
      expect(readFileSync(join(dir, fn, "index.mjs"), "utf8").includes(RE2JS_TEXT)).toBe(false);
      expect(readFileSync(join(dir, fn, RE2_MODULE_FILE), "utf8").includes(RE2JS_TEXT)).toBe(true);
      const re2Inputs = inputsOf(metafiles[`${fn}/${RE2_MODULE_FILE}`] as Metafile);
      expect(re2Inputs.filter((input) => !input.includes("node_modules/"))).toEqual([RE2_ENTRY]);
      expect(re2Inputs.some((input) => input.includes("node_modules/re2js/"))).toBe(true);
    },
  );

  it("builds re2.mjs for the functions that load rules only", () => {
    expect(bundleBuilds("worker", dir).map((o) => o.outfile)).toEqual([
      join(dir, "index.mjs"),
      join(dir, RE2_MODULE_FILE),
    ]);
    expect(bundleBuilds("subscriptions", dir).map((o) => o.outfile)).toEqual([join(dir, "index.mjs")]);
  });

  it("the stack's afterBundling builds the same re2.mjs as the bench (one options object)", () => {
    const hooks = nodejsBundling("http", "/rules/rules.json").commandHooks;
    const outputDir = join(dir, "stack-out");
    const commands = hooks?.afterBundling(PROJECT_ROOT, outputDir) ?? [];
    expect(commands[0]).toBe(`cp '/rules/rules.json' '${join(outputDir, "rules.json")}'`);
    expect(commands[1]).toBe(re2BuildCommand(outputDir));
    const result = spawnSync("bash", ["-c", commands[1] as string], { encoding: "utf8", timeout: 30_000 });
    expect(result.status, result.stderr).toBe(0);
    expect(readFileSync(join(outputDir, RE2_MODULE_FILE))).toEqual(
      readFileSync(re2EsbuildOptions(join(dir, "http")).outfile),
    );
  });
});

describe("the bundled http function at init", () => {
  it("loads RE2 from re2.mjs for rules with `matches`: a polynomial pattern on 1,000 characters in under 10 ms", () => {
    const probe = pathToFileURL(join(dir, "http", "probe.mjs")).href;
    const run = (rules: string, comment: string) => {
      const result = runNode(
        `const { run } = await import(${JSON.stringify(probe)});
         process.stdout.write(JSON.stringify(await run(${rules}, ${JSON.stringify(comment)})));`,
        dir,
      );
      expect(result.status, result.stderr).toBe(0);
      return JSON.parse(result.stdout) as { loaded: boolean; engine: string; ms: number; ruleId: string };
    };
    const slow = run(WITH_REGEX, "a".repeat(1000));
    expect(slow).toMatchObject({ loaded: true, engine: "re2", ruleId: "default" });
    expect(slow.ms).toBeLessThan(10);
    expect(run(WITH_REGEX, `${"a".repeat(20)}b`)).toMatchObject({ ruleId: "hit" });
  });

  it("starts with rules using `matches`, and fails loudly when re2.mjs is missing", () => {
    const fnDir = join(dir, "http-copy");
    cpSync(join(dir, "http"), fnDir, { recursive: true });
    expect(startHttp(fnDir, WITH_REGEX).status).toBe(0);
    rmSync(join(fnDir, RE2_MODULE_FILE));
    const failed = startHttp(fnDir, WITH_REGEX);
    expect(failed.status).not.toBe(0);
    expect(failed.stderr).toMatch(/REGEX_ENGINE_MISSING|RE2 did not load from re2\.mjs/);
  });

  it("never needs re2.mjs for rules without `matches`", () => {
    const fnDir = join(dir, "http-no-regex");
    cpSync(join(dir, "http"), fnDir, { recursive: true });
    rmSync(join(fnDir, RE2_MODULE_FILE));
    const started = startHttp(fnDir, WITHOUT_REGEX);
    expect(started.status, started.stderr).toBe(0);
  });
});
