import type { ContextNeeds } from "../context/types.ts";
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
  /** A later attempt with more time may decide (an async predicate that did not settle in time). */
  readonly retryable: boolean;
  constructor(ruleId: string, message: string, cause?: unknown, options: { retryable?: boolean } = {}) {
    super("RULES_EVALUATION_FAILED", `rule ${ruleId}: ${message}`, { cause });
    this.ruleId = ruleId;
    this.retryable = options.retryable ?? false;
  }
}

/**
 * decide() reached a rule that reads context it was not given (evaluate() returns ContextRequired
 * instead). Callers that know nothing of context fall back on it, never decide without it.
 */
export class ContextRequiredError extends ResponderError {
  readonly triggerId: string;
  /** The sources of that rule and of every rule and default after it. */
  readonly needs: ContextNeeds;
  constructor(triggerId: string, needs: ContextNeeds) {
    super(
      "CONTEXT_REQUIRED",
      `the ${triggerId} rules need context that was not read: ${[...needs].join(", ")}`,
    );
    this.triggerId = triggerId;
    this.needs = needs;
  }
}
