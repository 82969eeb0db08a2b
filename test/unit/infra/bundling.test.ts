/**
 * The functions' bundles as infra/bundling.ts describes them (the stack and the bench build the same
 * files): RE2 lives in re2.mjs beside index.mjs, loaded at init only when the rules use `matches`; the
 * http function is split, its live-context reader a chunk loaded on the first context read.
 * Builds the http and worker bundles with esbuild, then starts them in fresh Node processes.
 */
import { execFile, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { type BuildOptions, build, type Metafile } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeExtension } from "../../../bench/support/fake-extension.ts";
import { functionUrlEvent } from "../../../bench/support/function-url-event.ts";
import {
  afterBundlingBuilds,
  bundleBuildCommand,
  bundleBuilds,
  esbuildOptions,
  mainFile,
  nodejsBundling,
  PROJECT_ROOT,
  RE2_ENTRY,
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
/** By `<fn>/<main file of the build>`: `http/index.mjs` (with its chunks' outputs), `http/re2.mjs`. */
const metafiles: Record<string, Metafile> = {};

/** The file a build's options name as its main output. */
function mainOf(options: BuildOptions): string {
  return options.outfile ?? mainFile(options.outdir as string);
}

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
      metafiles[relative(dir, mainOf(options))] = result.metafile;
    }
  }
  // The probe is one file of its own (unsplit), with the http options otherwise.
  const {
    entryPoints: _entry,
    outdir: _outdir,
    entryNames: _names,
    splitting: _split,
    ...probe
  } = esbuildOptions("http", join(dir, "http"));
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
    expect(bundleBuilds("worker", dir).map(mainOf)).toEqual([
      join(dir, "index.mjs"),
      join(dir, RE2_MODULE_FILE),
    ]);
    expect(bundleBuilds("subscriptions", dir).map(mainOf)).toEqual([join(dir, "index.mjs")]);
  });

  it("the stack's afterBundling builds the same files as the bench (one options object per build)", () => {
    const hooks = nodejsBundling("http", "/rules/rules.json").commandHooks;
    const outputDir = join(dir, "stack-out");
    const commands = hooks?.afterBundling(PROJECT_ROOT, outputDir) ?? [];
    expect(commands[0]).toBe(`cp '/rules/rules.json' '${join(outputDir, "rules.json")}'`);
    // The split http build (over CDK's single index.mjs) and re2.mjs, in one child process.
    expect(commands[1]).toBe(bundleBuildCommand(afterBundlingBuilds("http", outputDir) ?? []));
    expect(commands).toHaveLength(2);
    const result = spawnSync("bash", ["-c", commands[1] as string], { encoding: "utf8", timeout: 30_000 });
    expect(result.status, result.stderr).toBe(0);
    const mjs = (folder: string) =>
      readdirSync(folder)
        .filter((f) => f.endsWith(".mjs"))
        .sort();
    expect(mjs(outputDir)).toEqual(mjs(join(dir, "http")).filter((f) => f !== "probe.mjs"));
    for (const file of mjs(outputDir)) {
      expect(readFileSync(join(outputDir, file)), file).toEqual(readFileSync(join(dir, "http", file)));
    }
    expect(readFileSync(join(outputDir, RE2_MODULE_FILE))).toEqual(
      readFileSync(re2EsbuildOptions(join(dir, "http")).outfile),
    );
    // The worker is not split: CDK's index.mjs stays, the hook builds re2.mjs only; subscriptions has no hook.
    expect(afterBundlingBuilds("worker", outputDir)?.map(mainOf)).toEqual([join(outputDir, RE2_MODULE_FILE)]);
    expect(nodejsBundling("subscriptions").commandHooks).toBeUndefined();
  });
});

describe("the http bundle, split", () => {
  const outputs = () =>
    Object.entries((metafiles["http/index.mjs"] as Metafile).outputs).filter(([f]) => f.endsWith(".mjs"));
  const named = (path: string) => basename(path);
  /** index.mjs and what it imports statically (transitively): what init parses. */
  const atInit = () => {
    const byPath = new Map(outputs());
    const seen = new Set<string>();
    const visit = (path: string) => {
      if (seen.has(path)) return;
      seen.add(path);
      for (const i of byPath.get(path)?.imports ?? [])
        if (i.kind === "import-statement" && byPath.has(i.path)) visit(i.path);
    };
    visit(outputs().find(([f]) => named(f) === "index.mjs")?.[0] as string);
    return [...seen];
  };
  const inputsAt = (paths: string[]) =>
    paths.flatMap((path) => Object.keys(new Map(outputs()).get(path)?.inputs ?? {}));

  it("index.mjs loads one shared chunk at init; the context reader and ISC client are a chunk of their own", () => {
    const init = atInit();
    expect(init.map(named)).toHaveLength(2);
    expect(init.map(named)[0]).toBe("index.mjs");
    expect(init.map(named)[1]).toMatch(/^chunk-\w+\.mjs$/);
    const initInputs = inputsAt(init);
    expect(
      initInputs.filter((input) =>
        /^lib\/(context\/(reader|read-run|batch|isc-fetcher)|isc\/(http|auth|context-client))\.ts$/.test(
          input,
        ),
      ),
    ).toEqual([]);
    const lazy = outputs().find(([f]) => named(f).startsWith("context-reader-"));
    expect(lazy).toBeDefined();
    const lazyInputs = Object.keys(lazy?.[1].inputs ?? {});
    expect(lazyInputs).toEqual(
      expect.arrayContaining([
        "lib/context/reader.ts",
        "lib/isc/context-client.ts",
        "lib/http/context-reader.ts",
      ]),
    );
    // Within its budget (docs/performance.md): what init reads stays under 150 KB.
    const initBytes = init.reduce((sum, path) => sum + (new Map(outputs()).get(path)?.bytes ?? 0), 0);
    expect(initBytes).toBeLessThan(150 * 1024);
  });

  it("every chunk has its source map (stack traces name the TypeScript files), the worker none but index.mjs", () => {
    for (const [path] of outputs()) {
      expect(existsSync(join(dir, "http", `${named(path)}.map`)), named(path)).toBe(true);
      expect(readFileSync(join(dir, "http", named(path)), "utf8")).toContain(
        `//# sourceMappingURL=${named(path)}.map`,
      );
    }
    expect(
      readdirSync(join(dir, "worker"))
        .filter((f) => f.endsWith(".mjs"))
        .sort(),
    ).toEqual(["index.mjs", RE2_MODULE_FILE]);
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

describe("the bundled http function, split, at run time", () => {
  // A rule over live context: the first decision reads the identity, so the reader chunk loads then.
  const CONTEXT_RULES = rulesJson({ field: "identity.identityStatus", equals: "INACTIVE" });
  const BEARER = "bundlingTestWebhookToken0123456789abcdefghijkl";

  it("loads the context chunk on the first context read, not at init, and answers from it", async () => {
    const extension = await startFakeExtension({
      webhook: JSON.stringify({ type: "bearer", current: BEARER }),
      isc: JSON.stringify({ clientId: "cid", clientSecret: "csecret" }),
    });
    try {
      const fnDir = join(dir, "http-context");
      cpSync(join(dir, "http"), fnDir, { recursive: true });
      writeFileSync(join(fnDir, "rules.json"), CONTEXT_RULES);
      const event = functionUrlEvent(
        {
          accessRequestId: "ar-1",
          requestedFor: { type: "IDENTITY", id: "i1", name: "A" },
          requestedBy: { type: "IDENTITY", id: "i2", name: "B" },
          requestedItems: [{ id: "it", name: "It", type: "ROLE", operation: "Add" }],
          _metadata: {
            triggerId: "idn:access-request-pre-approval",
            triggerType: "requestResponse",
            responseMode: "sync",
          },
        },
        { authorization: `Bearer ${BEARER}` },
      );
      writeFileSync(join(fnDir, "event.json"), JSON.stringify(event));
      // Which of our files the process loaded, before and after the first invocation.
      const script = `
        const { readdirSync, readFileSync } = await import("node:fs");
        const ours = () => readdirSync(".").filter((f) => f.endsWith(".mjs"));
        const loaded = new Set();
        const { registerHooks } = await import("node:module");
        registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); loaded.add(r.url.split("/").pop()); return r; } });
        const { handler } = await import("./index.mjs");
        const atInit = ours().filter((f) => loaded.has(f));
        const reply = await handler(JSON.parse(readFileSync("event.json", "utf8")), {});
        process.stdout.write("\\n@@RUN@@" + JSON.stringify({ atInit, after: ours().filter((f) => loaded.has(f)), status: reply.statusCode, body: JSON.parse(reply.body) }));`;
      const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
        cwd: fnDir,
        timeout: 20_000,
        env: {
          PATH: process.env.PATH ?? "",
          AWS_REGION: "us-east-1",
          // A closed loopback port: the context read fails fast and the rules fall back.
          SAIL_BASE_URL: "http://127.0.0.1:9",
          WEBHOOK_CREDENTIALS_SECRET_ID: "webhook",
          ISC_CREDENTIALS_SECRET_ID: "isc",
          QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/q",
          PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(extension.port),
          AWS_SESSION_TOKEN: extension.sessionToken,
          POWERTOOLS_LOG_LEVEL: "ERROR",
        },
      });
      // Its log and metric lines go to stdout too.
      const line = stdout.split("\n").find((l) => l.startsWith("@@RUN@@")) ?? "";
      const run = JSON.parse(line.slice("@@RUN@@".length)) as {
        atInit: string[];
        after: string[];
        status: number;
        body: unknown;
      };
      expect(run.atInit.some((f) => f.startsWith("context-reader-"))).toBe(false);
      expect(run.atInit).toContain("index.mjs");
      expect(run.after.some((f) => f.startsWith("context-reader-"))).toBe(true);
      expect(run.status).toBe(200);
      // The read failed (no tenant there): the rules' fallback answered, built by the chunk's reader.
      expect(run.body).toMatchObject({ approved: false });
    } finally {
      await extension.close();
    }
  }, 30_000);
});
