/**
 * The decision record's constants, apart from its zod schema (record.ts) so that the http function,
 * which builds records but never parses one, does not construct the schema at every cold start.
 */

export const DECISION_RECORD_VERSION = 1;

/** Default retention of a decision record, in days (configurable per deployment). */
export const DEFAULT_RECORD_RETENTION_DAYS = 400;

/**
 * The decision in one word, for lists and filters:
 * pre-approval approve | deny; dynamic approver approver (one was named) | no-approver;
 * FIRE_AND_FORGET actions.
 */
export const DECISION_LABELS = ["approve", "deny", "approver", "no-approver", "actions"] as const;
export type DecisionLabel = (typeof DECISION_LABELS)[number];

/**
 * How the invocation ended, as far as this responder knows:
 * - `answered`: the decision went back in the HTTP reply (sync, or dynamic answered in time);
 * - `completed`: ISC accepted the completion (204);
 * - `already-completed`: ISC answered 400.1.404 (completed earlier or expired); `reason` says which it took it for;
 * - `deadline-passed`, `failed`: ISC never got this decision (`reason`);
 * - `actions-only`: FIRE_AND_FORGET, or a sync reply's actions run by the worker.
 */
export const COMPLETION_OUTCOMES = [
  "answered",
  "completed",
  "already-completed",
  "deadline-passed",
  "failed",
  "actions-only",
] as const;
export type CompletionOutcome = (typeof COMPLETION_OUTCOMES)[number];
