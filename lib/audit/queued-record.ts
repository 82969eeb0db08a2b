/**
 * The queue message that carries a decision record from the http function to the worker, which
 * writes it (the http function has no DynamoDB client: it would cost every cold start).
 *
 * - version 2 (what the http function sends): the record's draft (answer-draft.ts), the materials
 *   only; the worker validates it and builds the record (`recordFromDraft`), so the builder and the
 *   record schema stay out of the http bundle.
 * - version 1: a built record; still read, so messages queued before an update are written.
 */
import * as z from "zod/mini";
import { issuesFromZod, ValidationError } from "../errors.ts";
import type { ContextDecideResult } from "../responder/context-decide.ts";
import { fromQueuedInvocation, QueuedInvocationSchema } from "../triggers/queued-invocation.ts";
import type { AnswerRecordSink } from "./answer-draft.ts";
import { assertNoSecret, buildDecisionRecord } from "./build.ts";
import { type DecisionRecord, DecisionRecordSchema, RecordTimelineEntrySchema } from "./record.ts";
import type { DecisionRecordSink } from "./types.ts";

export const QUEUED_RECORD_KIND = "decision-record";

const object = z.record(z.string(), z.unknown());

/** What the http function holds after answering; see answer-draft.ts. */
export const AnswerDraftSchema = z.object({
  /** The invocation as queued, without secret, callbackURL or `answered` (refused if present). */
  invocation: QueuedInvocationSchema,
  result: z.object({
    decision: z.object({
      output: z.nullable(object),
      explanation: z.looseObject({ ruleId: z.string(), kind: z.string() }),
      actions: z.array(object),
    }),
    fallback: z.boolean(),
    fallbackReason: z.optional(z.string()),
    context: z.optional(
      z.object({
        needs: z.array(z.string()),
        reads: z.array(object),
        cacheHits: z.number(),
        ms: z.number(),
        failure: z.optional(object),
      }),
    ),
    contextData: z.optional(object),
  }),
  /** Shadow mode: what ISC got instead of the rules' output. */
  answer: z.optional(z.object({ output: z.nullable(object), by: z.literal("shadow") })),
  decidedAt: z.number(),
  answeredAt: z.number(),
  timeline: z.array(RecordTimelineEntrySchema).check(z.maxLength(1_000)),
  /** Context data left out of the draft as too large for a record: its size in bytes. */
  contextDataBytes: z.optional(z.number()),
  retentionDays: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(3650))),
});
export type AnswerDraft = z.infer<typeof AnswerDraftSchema>;

export const QueuedDecisionRecordSchema = z.discriminatedUnion("version", [
  z.object({ kind: z.literal(QUEUED_RECORD_KIND), version: z.literal(1), record: DecisionRecordSchema }),
  z.object({ kind: z.literal(QUEUED_RECORD_KIND), version: z.literal(2), draft: AnswerDraftSchema }),
]);
export type QueuedDecisionRecord = z.infer<typeof QueuedDecisionRecordSchema>;

/** A version 1 message (a built record): what earlier http functions queued. */
export function toQueuedRecord(record: DecisionRecord): QueuedDecisionRecord {
  return { kind: QUEUED_RECORD_KIND, version: 1, record };
}

/** Cheap check on a parsed message body: does it claim to be a queued record? */
export function isQueuedRecord(value: unknown): boolean {
  return (
    typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === QUEUED_RECORD_KIND
  );
}

/**
 * The record a message carries (version 1) or its draft builds (version 2); ValidationError naming
 * the fields at fault (never their values), RecordHoldsSecretError for a draft that carries the
 * invocation's secret or callbackURL.
 */
export function fromQueuedRecord(message: unknown): DecisionRecord {
  const result = z.safeParse(QueuedDecisionRecordSchema, message);
  if (!result.success)
    throw new ValidationError("queued decision record", issuesFromZod(result.error.issues));
  const m = result.data;
  return m.version === 1 ? m.record : recordFromDraft(m.draft, "draft.");
}

/** Builds the record of a validated draft (recordedBy "http"), checked against the record schema. */
export function recordFromDraft(draft: AnswerDraft, pathPrefix = ""): DecisionRecord {
  const carried = draft.invocation as { secret?: unknown; callbackUrl?: unknown; answered?: unknown };
  const stowaways = (["secret", "callbackUrl", "answered"] as const).filter((k) => carried[k] !== undefined);
  if (stowaways.length > 0) {
    // The http function never sends these: refused rather than written, without their values.
    throw new ValidationError(
      "decision record draft",
      stowaways.map((k) => ({ path: `${pathPrefix}invocation.${k}`, message: "must not be sent" })),
    );
  }
  const invocation = fromQueuedInvocation(draft.invocation);
  const record = buildDecisionRecord({
    invocation,
    decision: draft.result as unknown as ContextDecideResult,
    ...(draft.answer === undefined ? {} : { answer: draft.answer }),
    ...(draft.contextDataBytes === undefined ? {} : { contextDataBytes: draft.contextDataBytes }),
    completion: { outcome: "answered" },
    decidedAt: draft.decidedAt,
    completedAt: draft.answeredAt,
    timeline: draft.timeline,
    recordedBy: "http",
    ...(draft.retentionDays === undefined ? {} : { retentionDays: draft.retentionDays }),
  });
  assertNoSecret(record, invocation);
  const checked = z.safeParse(DecisionRecordSchema, record);
  if (!checked.success) throw new ValidationError("decision record", issuesFromZod(checked.error.issues));
  return checked.data;
}

/** An AnswerRecordSink that builds each record at once and puts it in `store` (the local runtime). */
export function buildingAnswerSink(store: DecisionRecordSink): AnswerRecordSink {
  return { putAnswer: (draft, options) => store.put(recordFromDraft(draft), options) };
}
