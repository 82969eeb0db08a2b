import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import rulesCommand from "../../../lib/cli/commands/rules.ts";
import type { CliIo } from "../../../lib/cli/io.ts";
import { rulesJsonSchema } from "../../../lib/rules/schema.ts";
import { EXAMPLES_DIR } from "../../helpers/reference.ts";

const ROOT = join(import.meta.dirname, "../../..");
const EXAMPLES = EXAMPLES_DIR.replace(/\/$/, "");

async function run(argv: string[], cwd = ROOT): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIo = {
    stdout: (t) => {
      out += `${t}\n`;
    },
    stderr: (t) => {
      err += `${t}\n`;
    },
    env: {},
    cwd,
  };
  const code = await rulesCommand.run(argv, io);
  return { code, out, err };
}

describe("isc-responder rules", () => {
  it("check accepts the example and prints its version", async () => {
    const result = await run(["check", "rules/example.yaml"]);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^rules\/example\.yaml: OK \(preApproval: 3 rules, dynamicApprover: 3 rules/);
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

  it("eval decides the shared HTTP pre-approval example: approved by default", async () => {
    const result = await run([
      "eval",
      "rules/example.yaml",
      "--input",
      `@${EXAMPLES}/http-async-pre-approval.request.json`,
    ]);
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.out);
    expect(printed).toMatchObject({
      triggerId: "idn:access-request-pre-approval",
      output: { approved: true, approver: "svc-isc-responder" },
      explanation: { ruleId: "default", kind: "default", rulesEvaluated: 3 },
      actions: [],
    });
    expect(result.out).not.toContain("c1c60493"); // the invocation secret is never printed
  });

  it("eval decides the shared EventBridge dynamic-approver example: the item's owners", async () => {
    const result = await run([
      "eval",
      "rules/example.yaml",
      "--input",
      `@${EXAMPLES}/eventbridge-dynamic-approver.event.json`,
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toMatchObject({
      triggerId: "idn:access-request-dynamic-approver",
      output: {
        id: "2c9180867a0f1e2d017a0f1e2d3c0201",
        name: "Engineering Access Owners",
        type: "GOVERNANCE_GROUP",
      },
      explanation: { ruleId: "item-owner-approves", kind: "rule" },
    });
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
