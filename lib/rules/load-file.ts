/**
 * Rules files (YAML, JSON, or a TypeScript module: typescript-module.ts) for tools: the CLI, the local runner, the CDK synth. Not for Lambda
 * handlers, which load the validated JSON document through compile.ts (no yaml in their bundle).
 *
 * Both formats go through the yaml parser (JSON is YAML), so every issue gets the line of the key or
 * value at fault.
 */
import { access, readFile } from "node:fs/promises";
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import * as z from "zod/mini";
import type { ValidationIssue } from "../errors.ts";
import { formatPath } from "../errors.ts";
import { type CompileOptions, compileRules } from "./compile.ts";
import { RulesDocumentError, RulesFileError } from "./errors.ts";
// Tools match `matches` with RE2 (linear time), and `rules check` asks RE2 whether it can run a pattern.
import "./regex-re2.ts";
import { type RulesDocument, type RulesTestCase, RulesTestCaseSchema } from "./schema.ts";
import type { CompiledRules } from "./types.ts";
import { isRulesModulePath, loadRulesModule, type RulesModuleInfo } from "./typescript-module.ts";
import { type IssuePath, validateRulesDocument } from "./validate.ts";

export interface LoadedRules {
  document: RulesDocument;
  compiled: CompiledRules;
  /** What may not mean what its author meant (`rules check` prints them), with lines; never fatal. */
  warnings: ValidationIssue[];
  /** Set for a TypeScript module (`policy.ts` exporting defineRules): its path and source hash. */
  module?: RulesModuleInfo;
}

interface ParsedText {
  value: unknown;
  lineOf(path: IssuePath): number | undefined;
}

/** Parses YAML or JSON text, keeping a way back from JSON paths to lines. Throws RulesFileError on syntax errors. */
export function parseYamlWithLines(text: string, filename: string): ParsedText {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  if (doc.errors.length > 0) {
    throw new RulesFileError(
      filename,
      doc.errors.slice(0, 20).map((error) => ({
        path: "",
        line: error.linePos?.[0].line ?? lineCounter.linePos(error.pos[0]).line,
        message: syntaxMessage(error.code, error.message),
      })),
    );
  }
  const lineOf = (path: IssuePath): number | undefined => {
    let node: unknown = doc.contents;
    let offset: number | undefined = (doc.contents as Node | null)?.range?.[0];
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find(
          (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(key),
        );
        if (pair === undefined) break;
        offset = (pair.key as Node).range?.[0] ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof key === "number") {
        const item = node.items[key] as Node | undefined;
        if (item === undefined) break;
        offset = item.range?.[0] ?? offset;
        node = item;
      } else {
        break;
      }
    }
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  };
  return { value: doc.toJS({ maxAliasCount: 100 }), lineOf };
}

function syntaxMessage(code: string, message: string): string {
  // yaml's messages may quote source text; keep the first line, which names the problem.
  const first = message.split("\n")[0] ?? code;
  return `syntax error: ${first.replace(/ at line \d+, column \d+.*$/, "")}`;
}

/** YAML or JSON text → a validated RulesDocument; throws RulesFileError with {path, line, message} issues. */
export function parseRulesFile(text: string, filename: string): RulesDocument {
  return parseRulesFileWithWarnings(text, filename).document;
}

/** parseRulesFile, with the warnings (lines included) of a valid file. */
export function parseRulesFileWithWarnings(
  text: string,
  filename: string,
): { document: RulesDocument; warnings: ValidationIssue[] } {
  const parsed = parseYamlWithLines(text, filename);
  const result = validateRulesDocument(parsed.value);
  if (!result.ok) {
    throw new RulesFileError(
      filename,
      byLine(
        result.issues.map((issue) => ({
          path: formatPath(issue.path),
          line: parsed.lineOf(issue.path),
          message: issue.message,
        })),
      ),
    );
  }
  const warnings = result.warnings.map((issue) => ({
    path: formatPath(issue.path),
    line: parsed.lineOf(issue.path),
    message: issue.message,
  }));
  return { document: result.document, warnings: byLine(warnings) };
}

/**
 * Reads, validates and compiles a rules file. Compile problems (unregistered custom names) carry lines too.
 * A `.ts`/`.js` module exporting defineRules(...) is imported instead (typescript-module.ts; `options`
 * do not apply: its functions are its own).
 */
export async function loadRulesFile(path: string, options: CompileOptions = {}): Promise<LoadedRules> {
  if (isRulesModulePath(path)) return loadRulesModule(path);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new RulesFileError(path, [
      { path: "", message: `cannot read the file (${(error as NodeJS.ErrnoException).code ?? "error"})` },
    ]);
  }
  return compileRulesText(text, path, options);
}

/** parseRulesFile + compileRules, with compile problems mapped to lines. */
export function compileRulesText(text: string, filename: string, options: CompileOptions = {}): LoadedRules {
  const { document, warnings } = parseRulesFileWithWarnings(text, filename);
  try {
    return { document, compiled: compileRules(document, { ...options, source: filename }), warnings };
  } catch (error) {
    if (!(error instanceof RulesDocumentError)) throw error;
    const parsed = parseYamlWithLines(text, filename);
    const issues: ValidationIssue[] = error.issues.map((issue) => ({
      ...issue,
      line: parsed.lineOf(pathFromString(issue.path)),
    }));
    throw new RulesFileError(filename, byLine(issues));
  }
}

/** Issues in file order, as a person reads the file (stable for issues on the same line). */
function byLine(issues: ValidationIssue[]): ValidationIssue[] {
  return issues
    .map((issue, index) => ({ issue, index }))
    .sort((a, b) => (a.issue.line ?? 0) - (b.issue.line ?? 0) || a.index - b.index)
    .map(({ issue }) => issue);
}

/** `a.b[0].c` → `["a", "b", 0, "c"]` (the inverse of formatPath, for keys without dots). */
function pathFromString(path: string): IssuePath {
  const out: IssuePath = [];
  for (const segment of path.split(".")) {
    const match = /^([^[]*)((?:\[\d+\])*)$/.exec(segment);
    if (match === null) {
      out.push(segment);
      continue;
    }
    if (match[1] !== "") out.push(match[1] as string);
    for (const index of (match[2] ?? "").matchAll(/\[(\d+)\]/g)) out.push(Number(index[1]));
  }
  return out;
}

const TestCasesFileSchema = z.union([
  z.array(RulesTestCaseSchema),
  z.strictObject({ $schema: z.optional(z.string()), tests: z.array(RulesTestCaseSchema) }),
]);

/** Test cases from a separate file: a list of cases, or `{tests: [...]}` (YAML or JSON). */
export function parseRulesTestsFile(text: string, filename: string): RulesTestCase[] {
  const parsed = parseYamlWithLines(text, filename);
  const result = z.safeParse(TestCasesFileSchema, parsed.value);
  if (!result.success) {
    // Re-validate as a document with only tests, for the same messages as in a rules file.
    const asDocument = Array.isArray(parsed.value) ? { tests: parsed.value } : parsed.value;
    const check = validateRulesDocument(asDocument);
    const issues = check.ok
      ? [{ path: [] as IssuePath, message: "expected a list of test cases" }]
      : check.issues;
    throw new RulesFileError(
      filename,
      issues.map((issue) => {
        const path =
          Array.isArray(parsed.value) && issue.path[0] === "tests" ? issue.path.slice(1) : issue.path;
        return { path: formatPath(path), line: parsed.lineOf(path), message: issue.message };
      }),
    );
  }
  return Array.isArray(result.data) ? result.data : result.data.tests;
}

/** `rules/policy.yaml` (or `policy.ts`) → the first of `rules/policy.tests.yaml|.yml|.json` that exists. */
export async function findTestsFileBeside(rulesPath: string): Promise<string | undefined> {
  const base = rulesPath.replace(/\.(ya?ml|json|[cm]?[jt]s)$/i, "");
  for (const ext of [".tests.yaml", ".tests.yml", ".tests.json"]) {
    try {
      await access(base + ext);
      return base + ext;
    } catch {
      // not there: try the next
    }
  }
  return undefined;
}
