/**
 * The sources a TypeScript rules module's version covers (moduleSourceHash): every local file the
 * stack's bundle would take from it, bare specifiers included (a workspace package linked into
 * node_modules, a tsconfig `paths` alias), but not installed packages nor this project's lib/.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { moduleSourceHash } from "../../../lib/rules/typescript-module.ts";

const API = join(import.meta.dirname, "../../../lib/rules/typescript-api.ts");

function write(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** A checkout with a workspace package, a `paths` alias and an installed package, and policy.ts using all three. */
function project(): string {
  const dir = mkdtempSync(join(tmpdir(), "ts-rules-sources-"));
  write(
    join(dir, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { baseUrl: ".", paths: { "@shared/*": ["shared/*"] } } }),
  );
  write(join(dir, "shared/frozen.ts"), 'export const FROZEN = ["Wiki"];\n');
  write(
    join(dir, "packages/helpers/package.json"),
    JSON.stringify({ name: "@acme/helpers", main: "index.ts" }),
  );
  write(join(dir, "packages/helpers/index.ts"), "export const LIMIT = 3;\n");
  mkdirSync(join(dir, "node_modules/@acme"), { recursive: true });
  symlinkSync(join(dir, "packages/helpers"), join(dir, "node_modules/@acme/helpers"), "dir");
  write(
    join(dir, "node_modules/installed/package.json"),
    JSON.stringify({ name: "installed", main: "index.js" }),
  );
  write(join(dir, "node_modules/installed/index.js"), "exports.answer = 42;\n");
  write(
    join(dir, "policy.ts"),
    [
      `import { defineRules } from ${JSON.stringify(API)};`,
      'import { LIMIT } from "@acme/helpers";',
      'import { FROZEN } from "@shared/frozen";',
      'import { answer } from "installed";',
      "export default defineRules({",
      '  approver: "svc",',
      "  preApproval: {",
      '    rules: [{ id: "frozen", when: (v) => FROZEN.length + LIMIT + answer > 0 && v.accessRequestId === "x",',
      '      then: { decision: "deny", comment: "Frozen." } }],',
      '    default: { decision: "approve", comment: "OK" },',
      "  },",
      "});",
      "",
    ].join("\n"),
  );
  return dir;
}

describe("a rules module's sources", () => {
  it("include a workspace package and a tsconfig paths alias; not an installed package, not lib/", async () => {
    const dir = project();
    const policy = join(dir, "policy.ts");
    const before = await moduleSourceHash(policy);
    expect(before.sources).toEqual(["packages/helpers/index.ts", "policy.ts", "shared/frozen.ts"]);

    write(join(dir, "packages/helpers/index.ts"), "export const LIMIT = 4;\n");
    const helperChanged = await moduleSourceHash(policy);
    expect(helperChanged.hash).not.toBe(before.hash);

    write(join(dir, "shared/frozen.ts"), 'export const FROZEN = ["Wiki", "Payroll"];\n');
    const aliasChanged = await moduleSourceHash(policy);
    expect(aliasChanged.hash).not.toBe(helperChanged.hash);

    // Installed packages are versioned by the lockfile, not hashed.
    write(join(dir, "node_modules/installed/index.js"), "exports.answer = 43;\n");
    expect((await moduleSourceHash(policy)).hash).toBe(aliasChanged.hash);
  });

  it("a bare import that does not resolve is refused, as the stack's bundling would refuse it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ts-rules-sources-"));
    write(join(dir, "policy.ts"), 'import { x } from "not-installed-anywhere";\nexport default x;\n');
    await expect(moduleSourceHash(join(dir, "policy.ts"))).rejects.toThrow(/cannot bundle the module/);
  });
});
