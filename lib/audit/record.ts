/**
 * A decision record: one per decided invocation, kept for the audit retention (default 400 days),
 * long after the ledger's record has expired. It answers "why was request X denied on 3 March, by
 * which rules version, over which context", and it is what `rules replay` re-decides.
 *
 * It holds personal data (names, comments, the context objects read): retention is configurable
 * and docs/audit.md says so. It never holds the invocation secret, the callback URL or a token: the
 * builder (build.ts) copies named fields only, and `assertNoSecret` is the last check before a write.
 *
 * zod/mini schema, the single source of the type: every store validates what it reads back.
 */
import * as z from "zod/mini";

import { COMPLETION_OUTCOMES, DECISION_LABELS, DECISION_RECORD_VERSION } from "./constants.ts";

// The constants live apart (constants.ts) so the http bundle builds records without this schema.
export {
  COMPLETION_OUTCOMES,
  type CompletionOutcome,
  DECISION_LABELS,
  DECISION_RECORD_VERSION,
  DEFAULT_RECORD_RETENTION_DAYS,
  type DecisionLabel,
} from "./constants.ts";

const isoTime = z.string().check(z.maxLength(40));
const shortText = z.string().check(z.maxLength(2_000));
const id = z.string().check(z.minLength(1), z.maxLength(200));

export const RecordPersonSchema = z.object({ id, name: z.optional(shortText) });
export type RecordPerson = z.infer<typeof RecordPersonSchema>;

export const RecordItemSchema = z.object({
  id,
  name: z.optional(shortText),
  type: z.optional(z.string().check(z.maxLength(40))),
  operation: z.optional(z.string().check(z.maxLength(40))),
  comment: z.optional(z.nullable(shortText)),
});
export type RecordItem = z.infer<typeof RecordItemSchema>;

/** One context value a rule used (lib/rules Explanation.context), with where it came from. */
export const RecordContextUseSchema = z.object({
  source: z.string().check(z.maxLength(40)),
  id: z.string().check(z.maxLength(200)),
  fields: z.record(z.string(), z.unknown()),
  from: z.optional(z.enum(["api", "cache"])),
  ms: z.optional(z.number()),
});

/** The rules' decision: what they decided, by which rule and version, and why. */
export const RecordDecisionSchema = z.object({
  label: z.enum(DECISION_LABELS),
  /** The trigger output the rules produced (null for FIRE_AND_FORGET). */
  output: z.nullable(z.record(z.string(), z.unknown())),
  ruleId: z.string().check(z.maxLength(200)),
  kind: z.string().check(z.maxLength(40)),
  matched: z.array(z.string().check(z.maxLength(2_000))),
  rulesVersion: z.string().check(z.maxLength(100)),
  rulesEvaluated: z.optional(z.number()),
  evaluationMicros: z.optional(z.number()),
  fallback: z.boolean(),
  fallbackReason: z.optional(shortText),
  /** Context values the deciding rule used. */
  contextUsed: z.optional(z.array(RecordContextUseSchema)),
  /**
   * Rules with `enforce: false` that matched before the deciding rule: recorded, not deciding. One
   * that could not be evaluated has `error` (its code failed, its context was not read).
   */
  notEnforced: z.optional(
    z.array(
      z.object({
        ruleId: z.string().check(z.maxLength(200)),
        matched: z.array(z.string()),
        error: z.optional(z.string().check(z.maxLength(2_000))),
      }),
    ),
  ),
  actions: z.optional(z.array(z.record(z.string(), z.unknown()))),
});
export type RecordDecision = z.infer<typeof RecordDecisionSchema>;

/** What ISC received (or would have, had the completion gone through): the rules' output, or the shadow answer. */
export const RecordAnswerSchema = z.object({
  output: z.nullable(z.record(z.string(), z.unknown())),
  label: z.enum(DECISION_LABELS),
  /** `rules`: the decision above was sent; `shadow`: the trigger runs in shadow mode and ISC got the configured answer. */
  by: z.enum(["rules", "shadow"]),
  /** Shadow mode only: the rules' decision differs from what ISC got. */
  differs: z.optional(z.boolean()),
});
export type RecordAnswer = z.infer<typeof RecordAnswerSchema>;

/**
 * The context read for the decision: costs and failure (as logged), and the data the rules
 * evaluated over (ISC objects, provenance removed), which `rules replay` re-decides with.
 * `data` is left out (`dataOmitted`) above the store's size bound.
 */
export const RecordContextSchema = z.object({
  needs: z.array(z.string().check(z.maxLength(40))),
  reads: z.array(z.record(z.string(), z.unknown())),
  cacheHits: z.number(),
  ms: z.number(),
  failure: z.optional(z.record(z.string(), z.unknown())),
  /** The read failed but only rules with `enforce: false` needed it: the decision stands without it. */
  ignoredFailure: z.optional(z.record(z.string(), z.unknown())),
  data: z.optional(z.record(z.string(), z.unknown())),
  dataOmitted: z.optional(z.string().check(z.maxLength(200))),
});
export type RecordContext = z.infer<typeof RecordContextSchema>;

export const RecordCompletionSchema = z.object({
  outcome: z.enum(COMPLETION_OUTCOMES),
  reason: z.optional(shortText),
  /** Deliveries of this invocation the ledger counted (worker only). */
  attempts: z.optional(z.number()),
  /** The ledger was bypassed near the deadline. */
  ledgerBypassed: z.optional(z.boolean()),
  /** Each action's result, `type:ok|failed`. */
  actions: z.optional(z.array(z.string().check(z.maxLength(200)))),
});
export type RecordCompletion = z.infer<typeof RecordCompletionSchema>;

/** Times of one decision (ISO 8601, UTC). */
export const RecordTimingsSchema = z.object({
  receivedAt: isoTime,
  decidedAt: isoTime,
  /** ISC's deadline for a completion (absent for sync and FIRE_AND_FORGET). */
  deadline: z.optional(isoTime),
  completedAt: z.optional(isoTime),
  /** Receipt to decision, ms (context reads included). */
  decisionMs: z.number(),
});

/** One step of the invocation's life as this responder saw it (received, context read, decided, each completion attempt, completed, actions). */
export const RecordTimelineEntrySchema = z.object({
  at: isoTime,
  event: z.string().check(z.maxLength(60)),
  detail: z.optional(shortText),
});
export type RecordTimelineEntry = z.infer<typeof RecordTimelineEntrySchema>;

export const DecisionRecordSchema = z.object({
  recordVersion: z.literal(DECISION_RECORD_VERSION),
  /**
   * ISC's invocation id; a sync HTTP invocation without one gets `sync:<accessRequestId>:<receivedAt>`
   * (a record key, never sent anywhere).
   */
  invocationId: id,
  triggerId: z.string().check(z.maxLength(100)),
  mode: z.enum(["sync", "async", "dynamic", "eventbridge"]),
  accessRequestId: z.optional(id),
  requestedBy: z.optional(RecordPersonSchema),
  /** requestedFor, always a list. */
  people: z.array(RecordPersonSchema),
  items: z.array(RecordItemSchema),
  /** The trigger input as received (replay rebuilds the invocation from it); never the envelope's secret or callbackURL. */
  input: z.record(z.string(), z.unknown()),
  decision: RecordDecisionSchema,
  answer: RecordAnswerSchema,
  context: z.optional(RecordContextSchema),
  timings: RecordTimingsSchema,
  completion: RecordCompletionSchema,
  timeline: z.optional(z.array(RecordTimelineEntrySchema).check(z.maxLength(100))),
  /** Which component wrote it. */
  recordedBy: z.enum(["http", "worker", "local"]),
  /** Epoch seconds after which the store may delete it (DynamoDB TTL). */
  expiresAt: z.number(),
});
export type DecisionRecord = z.infer<typeof DecisionRecordSchema>;

export class DecisionRecordInvalidError extends Error {
  override readonly name = "DecisionRecordInvalidError";
}

/** Parses a stored record; throws DecisionRecordInvalidError naming the first bad field. */
export function parseDecisionRecord(value: unknown, where: string): DecisionRecord {
  const parsed = z.safeParse(DecisionRecordSchema, value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue === undefined ? "" : issue.path.map(String).join(".");
  throw new DecisionRecordInvalidError(
    `${where}: not a decision record (${path === "" ? "" : `${path}: `}${issue?.message ?? "invalid"})`,
  );
}
