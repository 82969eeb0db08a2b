/**
 * rules.precompiled.json from synth to the function: infra/rules.ts computes it with the validated
 * document, writeRulesForBundling puts it beside rules.json, the bundling hook copies it beside
 * index.mjs, and the bundled http function compiles with it, or ignores it (logged) when it is not
 * this document's, answering the same either way.
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeExtension } from "../../../bench/support/fake-extension.ts";
import { functionUrlEvent } from "../../../bench/support/function-url-event.ts";
import { bundleBuilds, nodejsBundling, PROJECT_ROOT } from "../../../infra/bundling.ts";
import { validateRulesFile, writeRulesForBundling } from "../../../infra/rules.ts";
import { parseRulesDocument } from "../../../lib/rules/parse.ts";
import { PRECOMPILED_FILE, precompiledPathOf, usablePlans } from "../../../lib/rules/precompiled.ts";

const EXAMPLE = join(PROJECT_ROOT, "rules/example.yaml");
const BEARER = "precompiledTestWebhookToken0123456789abcdefghij";

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "precompiled-infra-"));
  for (const options of bundleBuilds("http", join(dir, "http")))
    await build({ ...options, logLevel: "error" });
}, 60_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("synth writes rules.precompiled.json beside rules.json", () => {
  it("for a YAML policy: the plan of the very document and version the functions load", async () => {
    const rules = await validateRulesFile(EXAMPLE);
    expect(rules.precompiled).toBeDefined();
    const document = parseRulesDocument(JSON.parse(rules.json), "rules.json");
    const plans = usablePlans(JSON.parse(rules.precompiled as string), document, rules.version);
    expect(typeof plans).toBe("object");
    const path = writeRulesForBundling(rules);
    expect(readFileSync(precompiledPathOf(path), "utf8")).toBe(rules.precompiled);
    // The bundling hook copies both beside index.mjs.
    const commands = nodejsBundling("worker", path).commandHooks?.afterBundling("/in", "/out") ?? [];
    expect(commands.slice(0, 2)).toEqual([
      `cp '${path}' '/out/rules.json'`,
      `cp '${precompiledPathOf(path)}' '/out/${PRECOMPILED_FILE}'`,
    ]);
  });

  it("for a TypeScript module: none (the functions run the module's own compiled rules)", async () => {
    const rules = await validateRulesFile(join(PROJECT_ROOT, "examples/typescript/policy.ts"));
    expect(rules.module).toBeDefined();
    expect(rules.precompiled).toBeUndefined();
    const path = writeRulesForBundling(rules);
    expect(existsSync(precompiledPathOf(path))).toBe(false);
    const commands = nodejsBundling("worker", path).commandHooks?.afterBundling("/in", "/out") ?? [];
    expect(commands.some((command) => command.includes(PRECOMPILED_FILE))).toBe(false);
  });
});

describe("the bundled http function with rules.precompiled.json", () => {
  const ann = {
    accessRequestId: "ar-1",
    requestedFor: { type: "IDENTITY", id: "i1", name: "Ann" },
    requestedBy: { type: "IDENTITY", id: "i2", name: "Rob" },
    requestedItems: [{ id: "it", name: "Payroll Admin", type: "ROLE", operation: "Add" }],
    _metadata: {
      triggerId: "idn:access-request-pre-approval",
      triggerType: "requestResponse",
      responseMode: "sync",
    },
  };
  // Two rules whose order decides: a plan in another order would answer "approved".
  const YAML = `
approver: svc
preApproval:
  rules:
    - { id: deny-ann, priority: 2, when: { field: requestedFor.name, equals: Ann }, then: { decision: deny, comment: "no {{requestedFor.name}}" } }
    - { id: approve-a, priority: 1, when: { field: requestedFor.name, startsWith: A }, then: { decision: approve, comment: yes } }
  default: { decision: approve, comment: default }
`;

  async function run(precompiled: string | undefined): Promise<{ body: unknown; warnings: string[] }> {
    const rulesFile = join(dir, "policy.yaml");
    writeFileSync(rulesFile, YAML);
    const rules = await validateRulesFile(rulesFile);
    const fnDir = mkdtempSync(join(dir, "fn-"));
    cpSync(join(dir, "http"), fnDir, { recursive: true });
    writeFileSync(join(fnDir, "rules.json"), rules.json);
    if (precompiled !== undefined) {
      writeFileSync(
        join(fnDir, PRECOMPILED_FILE),
        precompiled.replace("@plan@", rules.precompiled as string),
      );
    }
    writeFileSync(
      join(fnDir, "event.json"),
      JSON.stringify(functionUrlEvent(ann, { authorization: `Bearer ${BEARER}` })),
    );
    const extension = await startFakeExtension({
      webhook: JSON.stringify({ type: "bearer", current: BEARER }),
    });
    try {
      const script = `
        const { readFileSync } = await import("node:fs");
        const { handler } = await import("./index.mjs");
        const reply = await handler(JSON.parse(readFileSync("event.json", "utf8")), {});
        process.stdout.write("\\n@@RUN@@" + reply.body + "\\n");`;
      const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
        cwd: fnDir,
        timeout: 20_000,
        env: {
          PATH: process.env.PATH ?? "",
          AWS_REGION: "us-east-1",
          SAIL_BASE_URL: "https://acme.api.identitynow.com",
          WEBHOOK_CREDENTIALS_SECRET_ID: "webhook",
          QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/q",
          PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(extension.port),
          AWS_SESSION_TOKEN: extension.sessionToken,
          // As the stack sets it.
          RULES_VERSION: rules.version,
          POWERTOOLS_LOG_LEVEL: "WARN",
        },
      });
      const lines = stdout.split("\n");
      const body = JSON.parse((lines.find((l) => l.startsWith("@@RUN@@")) ?? "").slice("@@RUN@@".length));
      const warnings = lines.filter((l) => l.includes("precompiled rules ignored"));
      return { body, warnings };
    } finally {
      await extension.close();
    }
  }

  it("uses the plan written at synth, silently", async () => {
    const { body, warnings } = await run("@plan@");
    expect(body).toEqual({ approved: false, comment: "no Ann", approver: "svc" });
    expect(warnings).toEqual([]);
  });

  it("without one, compiles in full and answers the same", async () => {
    expect(await run(undefined)).toEqual({
      body: { approved: false, comment: "no Ann", approver: "svc" },
      warnings: [],
    });
  });

  it("ignores another document's plan (its rules in the other order: trusted, it would approve Ann), warns, answers the same", async () => {
    const plan = JSON.parse((await validateRulesFile(join(dir, "policy.yaml"))).precompiled as string);
    plan.sections.preApproval.rules.reverse();
    const { body, warnings } = await run(JSON.stringify(plan));
    expect(body).toEqual({ approved: false, comment: "no Ann", approver: "svc" });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/not in evaluation order/);
  });

  it("ignores a truncated file, warns, answers the same", async () => {
    const { body, warnings } = await run('{"format":"precompiled/1","rulesVersion":');
    expect(body).toEqual({ approved: false, comment: "no Ann", approver: "svc" });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/not an object/);
  });
});
