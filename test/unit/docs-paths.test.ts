/**
 * The docs name files the repository has: every `path` under lib/, test/, docs/, functions/, infra/,
 * bin/ or bench/ written in README.md or docs/*.md exists (a `*` matches any name), and none points
 * at a machine's own checkout (`/work/...`) or at the steering repo's shared/ data instead of the
 * copy the tests use (test/fixtures/isc-reference/).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const REPO_DIRS = ["lib/", "test/", "docs/", "functions/", "infra/", "bin/", "bench/"];

const docs = ["README.md", ...readdirSync(join(ROOT, "docs")).map((name) => `docs/${name}`)].filter((file) =>
  file.endsWith(".md"),
);

/** Every `code span` of a markdown file with its line number. */
function codeSpans(file: string): Array<{ text: string; line: number }> {
  const spans: Array<{ text: string; line: number }> = [];
  readFileSync(join(ROOT, file), "utf8")
    .split("\n")
    .forEach((line, index) => {
      for (const match of line.matchAll(/`([^`\s]+)`/g))
        spans.push({ text: match[1] ?? "", line: index + 1 });
    });
  return spans;
}

/** True if the path exists; `*` in a segment matches any name in that directory. */
function exists(path: string): boolean {
  const segments = path.replace(/\/$/, "").split("/");
  let candidates = [ROOT];
  for (const segment of segments) {
    const next: string[] = [];
    for (const dir of candidates) {
      if (!segment.includes("*")) {
        if (existsSync(join(dir, segment))) next.push(join(dir, segment));
        continue;
      }
      const pattern = new RegExp(`^${segment.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*")}$`);
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir)) if (pattern.test(name)) next.push(join(dir, name));
    }
    candidates = next;
  }
  return candidates.length > 0;
}

describe("paths named in the docs", () => {
  it.each(docs)("%s names only files the repository has", (file) => {
    const wrong: string[] = [];
    for (const { text, line } of codeSpans(file)) {
      const path = text.replace(/[.,:;)]+$/, "").split(/[#:]/)[0] ?? "";
      if (/^\/work\/|(^|\/)shared\/reference\//.test(path)) wrong.push(`${file}:${line} ${text}`);
      else if (REPO_DIRS.some((dir) => path.startsWith(dir)) && !/[<>{}]/.test(path) && !exists(path))
        wrong.push(`${file}:${line} ${text}`);
    }
    expect(wrong).toEqual([]);
  });
});
