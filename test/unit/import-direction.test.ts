/**
 * Imports point down: the CLI (lib/cli) may use the client, local runner, rules and pipeline, never
 * the other way round, so a Lambda bundle or a library user never pulls the CLI in.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(new URL("../../", import.meta.url).pathname);
const LOWER_LAYERS = [
  "lib/isc",
  "lib/local",
  "lib/rules",
  "lib/context",
  "lib/responder",
  "lib/http",
  "lib/worker",
];
const CLI = join(ROOT, "lib/cli");

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...sourceFiles(path));
    else if (/\.(ts|js|mts|mjs)$/.test(name)) files.push(path);
  }
  return files;
}

/** Every module specifier of a file: static imports and re-exports, dynamic import(), require(). */
function specifiers(text: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\sfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
    /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of text.matchAll(pattern)) found.push(match[1] ?? "");
  return found;
}

describe("import direction", () => {
  it("finds the imports it checks (self-test)", () => {
    expect(
      specifiers(
        'import { a } from "../cli/io.ts";\nimport type { B } from \'./b.ts\';\nconst c = await import("../../cli/c.ts");',
      ),
    ).toEqual(["../cli/io.ts", "./b.ts", "../../cli/c.ts"]);
  });

  it.each(LOWER_LAYERS)("%s imports nothing from lib/cli", (layer) => {
    const upward: string[] = [];
    for (const file of sourceFiles(join(ROOT, layer))) {
      for (const specifier of specifiers(readFileSync(file, "utf8"))) {
        if (!specifier.startsWith(".")) continue;
        const target = resolve(dirname(file), specifier);
        if (target === CLI || target.startsWith(`${CLI}/`)) {
          upward.push(`${relative(ROOT, file)} → ${specifier}`);
        }
      }
    }
    expect(upward).toEqual([]);
  });
});
