/**
 * The rules engine for tools and the TypeScript route. Lambda handlers import ./compile.ts only
 * (this module pulls in yaml through load-file.ts).
 */
export {
  type CompileOptions,
  type CustomDecision,
  compileRules,
  DEFAULT_PRE_APPROVAL_FALLBACK_COMMENT,
  rulesVersion,
} from "./compile.ts";
export type { CustomPredicate } from "./conditions.ts";
export {
  ContextRequiredError,
  RulesDocumentError,
  RulesEvaluationError,
  RulesFileError,
} from "./errors.ts";
export {
  compileRulesText,
  findTestsFileBeside,
  type LoadedRules,
  loadRulesFile,
  parseRulesFile,
  parseRulesTestsFile,
} from "./load-file.ts";
export { parseRulesDocument } from "./parse.ts";
export { type RegexEngine, regexEngine, useRegexEngine } from "./regex.ts";
export { MAX_PATTERN_LENGTH, regexProblem } from "./regex-guard.ts";
export { re2Engine } from "./regex-re2.ts";
export {
  formatRulesTestReport,
  invocationForTools,
  PLACEHOLDER_TENANT,
  type RulesTestReport,
  type RulesTestResult,
  runRulesTests,
} from "./run-tests.ts";
export * from "./schema.ts";
export * from "./types.ts";
export * from "./typescript-api.ts";
export { TRIGGER_ALIASES, validateRulesDocument } from "./validate.ts";
export { MAX_CONTEXT_FIELDS } from "./view.ts";
