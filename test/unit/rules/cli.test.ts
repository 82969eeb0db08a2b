import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import rulesCommand from "../../../lib/cli/commands/rules.ts";
import type { CliIo } from "../../../lib/cli/io.ts";
import { defaultDirectoryFile } from "../../../lib/context/default-directory.ts";
import { rulesJsonSchema } from "../../../lib/rules/schema.ts";
import { startSandbox } from "../../../lib/sandbox/index.ts";
import { EXAMPLES_DIR } from "../../helpers/reference.ts";

const ROOT = join(import.meta.dirname, "../../..");

/** The sandbox's default directory as a file, for `rules eval --context`. */
function defaultDirectoryPath(): string {
  const path = join(mkdtempSync(join(tmpdir(), "rules-dir-")), "directory.json");
  writeFileSync(path, JSON.stringify(defaultDirectoryFile()));
  return path;
}
const EXAMPLES = EXAMPLES_DIR.replace(/\/$/, "");

async function run(
  argv: string[],
  cwd = ROOT,
  env: Record<string, string | undefined> = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIo = {
    stdout: (t) => {
      out += `${t}\n`;
    },
    stderr: (t) => {
      err += `${t}\n`;
    },
    env,
    cwd,
  };
  const code = await rulesCommand.run(argv, io);
  return { code, out, err };
}

describe("isc-responder rules", () => {
  it("check accepts the example and prints its version", async () => {
    const result = await run(["check", "rules/example.yaml"]);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^rules\/example\.yaml: OK \(preApproval: 5 rules, dynamicApprover: 2 rules/);
  });

  it("check --json prints the validated document", async () => {
    const result = await run(["check", "rules/example.yaml", "--json"]);
    expect(JSON.parse(result.out)).toMatchObject({ approver: "svc-isc-responder" });
  });

  it("check refuses a broken file with file:line: path: message and exit 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rules-cli-"));
    writeFileSync(
      join(dir, "bad.yaml"),
      "approver: svc\npreApproval:\n  default:\n    decision: approve\n    comment: ok\n    colour: blue\n",
    );
    const result = await run(["check", "bad.yaml"], dir);
    expect(result.code).toBe(1);
    expect(result.err).toContain('bad.yaml:6: preApproval.default.colour: unknown key "colour"');
    expect(result.err).toContain("bad.yaml: 1 problem");
  });

  it("test runs the example's test cases and passes", async () => {
    const result = await run(["test", "rules/example.yaml"]);
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/\d+ passed, 0 failed/);
  });

  it("test fails with exit 1 and says what differed, reading a tests file beside the rules", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rules-cli-"));
    writeFileSync(
      join(dir, "p.yaml"),
      "approver: svc\npreApproval:\n  default: { decision: approve, comment: ok }\n",
    );
    writeFileSync(
      join(dir, "p.tests.yaml"),
      "- name: expects a deny\n  trigger: preApproval\n  input: { accessRequestId: a, requestedFor: { id: i, name: n, type: IDENTITY }, requestedBy: { id: i, name: n, type: IDENTITY }, requestedItems: [{ id: x, name: X, type: ROLE, operation: Add }] }\n  expect: { output: { approved: false } }\n",
    );
    const result = await run(["test", "p.yaml"], dir);
    expect(result.code).toBe(1);
    expect(result.err).toContain("FAIL  expects a deny");
    expect(result.err).toContain("output.approved: expected false, got true");
  });

  it("eval decides the shared HTTP pre-approval example over a directory: approved by default", async () => {
    const result = await run([
      "eval",
      "rules/example.yaml",
      "--input",
      `@${EXAMPLES}/http-async-pre-approval.request.json`,
      "--context",
      defaultDirectoryPath(),
    ]);
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.out);
    expect(printed).toMatchObject({
      triggerId: "idn:access-request-pre-approval",
      output: { approved: true, approver: "svc-isc-responder" },
      explanation: { ruleId: "default", kind: "default", rulesEvaluated: 4 },
      actions: [],
      context: { needs: expect.arrayContaining(["identity", "sod"]), cacheHits: 0 },
    });
    expect(printed.context.reads.map((read: { kind: string }) => read.kind)).toContain("sodPrediction");
    expect(printed.explanation.context).toContainEqual(
      // Where it came from: this read brought it from the tenant (a directory here), with its latency.
      expect.objectContaining({
        source: "identity",
        id: "2c91808568c529c60168cca6f90c1313",
        from: "api",
        ms: expect.any(Number),
      }),
    );
    expect(result.out).not.toContain("c1c60493"); // the invocation secret is never printed
  });

  it("eval decides the shared EventBridge dynamic-approver example: Ed's manager", async () => {
    const result = await run([
      "eval",
      "rules/example.yaml",
      "--input",
      `@${EXAMPLES}/eventbridge-dynamic-approver.event.json`,
      "--context",
      defaultDirectoryPath(),
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toMatchObject({
      triggerId: "idn:access-request-dynamic-approver",
      output: { id: "2c91808568c529c60168cca6f90c1314", name: "Rob Robertson", type: "IDENTITY" },
      explanation: { ruleId: "default", kind: "default" },
    });
  });

  it("eval without context falls back (never approves) and says why", async () => {
    const result = await run([
      "eval",
      "rules/example.yaml",
      "--input",
      `@${EXAMPLES}/http-async-pre-approval.request.json`,
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toMatchObject({
      output: { approved: false },
      explanation: { kind: "fallback", fallbackReason: expect.stringContaining("no context reader") },
    });
    expect(result.err).toContain("--context");
  });

  it("eval --live reads the tenant in SAIL_*; a missing scope names it and falls back", async () => {
    const sandbox = await startSandbox({ deniedScopes: ["idn:sod-violation:read"] });
    try {
      const env = {
        SAIL_BASE_URL: sandbox.baseUrl,
        SAIL_CLIENT_ID: sandbox.clientId,
        SAIL_CLIENT_SECRET: sandbox.clientSecret,
      };
      const args = ["eval", "rules/example.yaml", "--live", "--input"];
      const denied = await run([...args, `@${EXAMPLES}/http-async-pre-approval.request.json`], ROOT, env);
      const printed = JSON.parse(denied.out);
      expect(printed.output).toMatchObject({ approved: false });
      expect(printed.explanation.fallbackReason).toContain("idn:sod-violation:read");
      expect(printed.context.failure).toMatchObject({ kind: "sodPrediction", status: 403 });
      expect(denied.err).toContain("lacks scope idn:sod-violation:read");
      expect(denied.out).not.toContain(sandbox.clientSecret);

      sandbox.setDeniedScopes([]);
      const allowed = await run([...args, `@${EXAMPLES}/http-async-pre-approval.request.json`], ROOT, env);
      expect(JSON.parse(allowed.out)).toMatchObject({
        output: { approved: true },
        explanation: { ruleId: "default" },
      });
    } finally {
      await sandbox.close();
    }
  });

  it("eval takes a bare input with --trigger", async () => {
    const body = JSON.parse(readFileSync(`${EXAMPLES}/http-async-pre-approval.request.json`, "utf8"));
    delete body._metadata;
    body.requestedItems[0].operation = "Remove";
    const result = await run([
      "eval",
      "rules/example.yaml",
      "--trigger",
      "idn:access-request-pre-approval",
      "--input",
      JSON.stringify(body),
    ]);
    expect(JSON.parse(result.out).explanation.ruleId).toBe("approve-removals");
  });

  it("schema prints the JSON Schema, and the committed rules/rules.schema.json is current", async () => {
    const result = await run(["schema"]);
    expect(JSON.parse(result.out)).toEqual(rulesJsonSchema());
    const committed = JSON.parse(readFileSync(join(ROOT, "rules/rules.schema.json"), "utf8"));
    expect(committed, "regenerate with: isc-responder rules schema > rules/rules.schema.json").toEqual(
      rulesJsonSchema(),
    );
  });

  it("the published JSON Schema accepts the example file", () => {
    const ajv = new Ajv2020({ strict: false });
    const validate = ajv.compile(rulesJsonSchema());
    const example = parse(readFileSync(join(ROOT, "rules/example.yaml"), "utf8"), { merge: true });
    expect(validate(example), JSON.stringify(validate.errors)).toBe(true);
  });

  it("prints help and refuses usage errors", async () => {
    expect((await run(["eval", "--help"])).out).toContain("usage: isc-responder rules eval");
    expect((await run([])).code).toBe(2);
    expect((await run(["nope"])).code).toBe(2);
    await expect(run(["eval", "rules/example.yaml"])).rejects.toThrow(/--input/);
    await expect(run(["eval", "rules/example.yaml", "--trigger", "x", "--input", "{}"])).rejects.toThrow(
      /--trigger/,
    );
  });
});
