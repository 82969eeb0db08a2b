/**
 * A TypeScript module as a rules file (lib/rules/typescript-module.ts): loaded by loadRulesFile like
 * YAML, its document validated, its version covering its code (a changed predicate or helper file
 * changes RulesVersion), refusals as RulesFileError.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { rulesVersion } from "../../../lib/rules/compile.ts";
import { RulesFileError } from "../../../lib/rules/errors.ts";
import { findTestsFileBeside, loadRulesFile } from "../../../lib/rules/load-file.ts";
import { moduleSourceHash, typescriptRulesVersion } from "../../../lib/rules/typescript-module.ts";

const FIXTURES = join(import.meta.dirname, "fixtures");
const POLICY = join(FIXTURES, "typescript-policy.ts");
const API = join(import.meta.dirname, "../../../lib/rules/typescript-api.ts");

describe("a .ts rules file", () => {
  it("loads like YAML: the document, compiled rules with the predicates, the module's sources", async () => {
    const loaded = await loadRulesFile(POLICY);
    expect(loaded.document.preApproval?.rules?.map((r) => r.id)).toEqual([
      "frozen-item",
      "inactive-person",
      "change-ticket",
    ]);
    expect(loaded.module?.sources).toEqual(["typescript-policy-data.ts", "typescript-policy.ts"]);
    expect(loaded.compiled.version).toBe(
      typescriptRulesVersion(loaded.document, loaded.module?.sourceHash as string),
    );
    // Not the document's version alone: the code counts.
    expect(loaded.compiled.version).not.toBe(rulesVersion(loaded.document));
  });

  it("a change in an imported helper changes the source hash; the engine (lib/) does not count", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ts-rules-hash-"));
    cpSync(FIXTURES, dir, { recursive: true });
    const policy = join(dir, "typescript-policy.ts");
    writeFileSync(
      policy,
      readFileSync(policy, "utf8").replace("../../../../lib/rules/typescript-api.ts", API),
    );
    const before = await moduleSourceHash(policy);
    expect(before.sources).toEqual(["typescript-policy-data.ts", "typescript-policy.ts"]);
    writeFileSync(
      join(dir, "typescript-policy-data.ts"),
      'export const FROZEN_ITEMS: readonly string[] = ["Engineering Access", "Wiki"];\n',
    );
    const after = await moduleSourceHash(policy);
    expect(after.hash).not.toBe(before.hash);
    // The same sources elsewhere hash the same (paths relative to the module).
    const copy = mkdtempSync(join(tmpdir(), "ts-rules-hash-"));
    cpSync(dir, copy, { recursive: true });
    expect((await moduleSourceHash(join(copy, "typescript-policy.ts"))).hash).toBe(after.hash);
  });

  it("refuses a module without defineRules rules, and an invalid definition with its paths", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ts-rules-bad-"));
    writeFileSync(join(dir, "none.ts"), "export const x = 1;\n");
    const none = await loadRulesFile(join(dir, "none.ts")).catch((e: unknown) => e);
    expect(none).toBeInstanceOf(RulesFileError);
    expect((none as RulesFileError).issues[0]?.message).toMatch(/exports no rules/);

    writeFileSync(
      join(dir, "invalid.ts"),
      `import { defineRules } from ${JSON.stringify(API)};\nexport default defineRules({ preApproval: { default: { decision: "maybe" } } } as never);\n`,
    );
    const invalid = await loadRulesFile(join(dir, "invalid.ts")).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(RulesFileError);
    expect((invalid as RulesFileError).issues.map((i) => i.path).join(" ")).toContain("preApproval.default");

    const missing = await loadRulesFile(join(dir, "missing.ts")).catch((e: unknown) => e);
    expect((missing as RulesFileError).issues[0]?.message).toMatch(/cannot import the module/);
  });

  it("finds policy.tests.yaml beside policy.ts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ts-rules-tests-"));
    writeFileSync(join(dir, "policy.tests.yaml"), "[]\n");
    expect(await findTestsFileBeside(join(dir, "policy.ts"))).toBe(join(dir, "policy.tests.yaml"));
  });
});
