/**
 * Validation of a rules document given as JSON, for tools, the worker and the TypeScript route.
 * Apart from compile.ts so that a handler that compiles an already validated document (the http
 * function: rules.json is validated at synth) neither bundles nor constructs the rules zod schemas.
 */
import { formatPath } from "../errors.ts";
import { RulesDocumentError } from "./errors.ts";
import type { RulesDocument } from "./schema.ts";
import { validateRulesDocument } from "./validate.ts";

/** Validates JSON against the rules format; throws RulesDocumentError listing every issue by path. */
export function parseRulesDocument(json: unknown, source = "rules document"): RulesDocument {
  const result = validateRulesDocument(json);
  if (!result.ok) {
    throw new RulesDocumentError(
      source,
      result.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
    );
  }
  return result.document;
}
