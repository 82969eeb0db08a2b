/**
 * The TypeScript route through the commands: `rules check|test|eval` and `dev --rules x.ts --once`
 * take a module exporting defineRules(...) as they take a YAML file.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../../lib/cli/main.ts";
import { defaultDirectoryFile } from "../../../lib/context/default-directory.ts";
import { DEFAULT_DIRECTORY_IDS } from "../../../lib/context/directory.ts";
import { loadRulesFile } from "../../../lib/rules/load-file.ts";

const ROOT = join(import.meta.dirname, "../../..");
const POLICY = "test/unit/rules/fixtures/typescript-policy.ts";
const EXAMPLE = "examples/typescript/policy.ts";

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const controller = new AbortController();
  const code = await main(argv, {
    stdout: (text: string) => out.push(text),
    stderr: (text: string) => err.push(text),
    env: {},
    cwd: ROOT,
    signal: controller.signal,
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

function payload(itemName: string, comment?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "rules-ts-cli-"));
  const file = join(dir, "payload.json");
  writeFileSync(
    file,
    JSON.stringify({
      accessRequestId: "ar-1",
      requestedFor: { type: "IDENTITY", id: DEFAULT_DIRECTORY_IDS.william, name: "William Wilson" },
      requestedBy: { type: "IDENTITY", id: DEFAULT_DIRECTORY_IDS.rob, name: "Rob Robertson" },
      requestedItems: [
        {
          id: "i1",
          name: itemName,
          type: "ACCESS_PROFILE",
          operation: "Add",
          ...(comment ? { comment } : {}),
        },
      ],
    }),
  );
  return file;
}

describe("rules commands with a .ts module", () => {
  it("check prints OK with the module's version (document and code)", async () => {
    const result = await run(["rules", "check", POLICY]);
    expect(result.code, result.err).toBe(0);
    const version = (await loadRulesFile(join(ROOT, POLICY))).compiled.version;
    expect(result.out).toContain(`${POLICY}: OK (preApproval: 3 rules`);
    expect(result.out).toContain(version.slice(0, 23));
  });

  it("test runs the module's test cases (an async predicate decides)", async () => {
    const result = await run(["rules", "test", POLICY]);
    expect(result.code, `${result.out}\n${result.err}`).toBe(0);
    expect(result.out).toContain("PASS  a frozen item is denied");
  });

  it("eval decides with the async predicate, then with context from a directory file", async () => {
    const frozen = await run([
      "rules",
      "eval",
      POLICY,
      "--trigger",
      "preApproval",
      "--input",
      `@${payload("Engineering Access")}`,
    ]);
    expect(frozen.code, frozen.err).toBe(0);
    expect(JSON.parse(frozen.out)).toMatchObject({
      output: { approved: false, comment: "Engineering Access is frozen this week." },
      explanation: { ruleId: "frozen-item" },
    });
    const dir = mkdtempSync(join(tmpdir(), "rules-ts-dir-"));
    writeFileSync(join(dir, "directory.json"), JSON.stringify(defaultDirectoryFile()));
    const read = await run([
      "rules",
      "eval",
      POLICY,
      "--trigger",
      "preApproval",
      "--input",
      `@${payload("Wiki")}`,
      "--context",
      join(dir, "directory.json"),
    ]);
    expect(read.code, read.err).toBe(0);
    expect(JSON.parse(read.out)).toMatchObject({
      explanation: { ruleId: "default" },
      context: { needs: ["identity"] },
    });
  });

  it("check refuses a module that exports no rules, exit 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rules-ts-bad-"));
    writeFileSync(join(dir, "empty.ts"), "export const nothing = 1;\n");
    const result = await run(["rules", "check", join(dir, "empty.ts")]);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/exports no rules/);
  });
});

describe("dev --rules x.ts --once", () => {
  it("runs the samples against the example TypeScript policy, all completed", async () => {
    const records = join(mkdtempSync(join(tmpdir(), "dev-ts-")), "decisions.jsonl");
    const result = await run([
      "dev",
      "--rules",
      EXAMPLE,
      "--once",
      "--log-level",
      "silent",
      "--records",
      records,
    ]);
    expect(result.code, `${result.out}\n${result.err}`).toBe(0);
    expect(result.out).toContain("all 8 invocations completed correctly");
    // The async risk predicate and the sync one over declared context decided some of them.
    expect(result.out).toMatch(
      /pre-approval\s+eventbridge\s+.*deny: Production Database Admin is rated high risk.*deny-high-risk/,
    );
    expect(result.out).toMatch(/pre-approval\s+async\s+.*deny-inactive-person/);
  }, 90_000);
});
