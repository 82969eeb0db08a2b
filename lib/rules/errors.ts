import { ResponderError, ValidationError, type ValidationIssue } from "../errors.ts";

/** A rules document (JSON, or the object a TypeScript rule set describes) breaks the format. */
export class RulesDocumentError extends ValidationError {
  /** Where the document came from (a file name, "rules.json", "defineRules"), for messages. */
  readonly source: string;

  constructor(source: string, issues: ValidationIssue[]) {
    super(`rules ${source}`, issues, "INVALID_RULES");
    this.source = source;
  }

  /** One line per issue, `source:line: path: message`, the way compilers report. */
  formatIssues(): string[] {
    return this.issues.map(
      (issue) =>
        `${this.source}${issue.line === undefined ? "" : `:${issue.line}`}: ${issue.path || "(root)"}: ${issue.message}`,
    );
  }
}

/** A rules file (YAML or JSON) is unreadable or invalid; issues carry line numbers. */
export class RulesFileError extends RulesDocumentError {}

/** Evaluating rules failed at run time (a custom TypeScript predicate or decision threw or misbehaved). */
export class RulesEvaluationError extends ResponderError {
  readonly ruleId: string;
  constructor(ruleId: string, message: string, cause?: unknown) {
    super("RULES_EVALUATION_FAILED", `rule ${ruleId}: ${message}`, { cause });
    this.ruleId = ruleId;
  }
}
