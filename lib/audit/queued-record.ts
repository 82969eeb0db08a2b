/**
 * The queue message that carries a decision record from the http function to the worker, which
 * writes it (the http function has no DynamoDB client: it would cost every cold start). The http
 * side only builds it (`toQueuedRecord`, no parse); the worker validates it (`fromQueuedRecord`).
 */
import * as z from "zod/mini";
import { issuesFromZod, ValidationError } from "../errors.ts";
import { type DecisionRecord, DecisionRecordSchema } from "./record.ts";

export const QUEUED_RECORD_KIND = "decision-record";

export const QueuedDecisionRecordSchema = z.object({
  kind: z.literal(QUEUED_RECORD_KIND),
  version: z.literal(1),
  record: DecisionRecordSchema,
});
export type QueuedDecisionRecord = z.infer<typeof QueuedDecisionRecordSchema>;

export function toQueuedRecord(record: DecisionRecord): QueuedDecisionRecord {
  return { kind: QUEUED_RECORD_KIND, version: 1, record };
}

/** Cheap check on a parsed message body: does it claim to be a queued record? */
export function isQueuedRecord(value: unknown): boolean {
  return (
    typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === QUEUED_RECORD_KIND
  );
}

/** The record a message carries; ValidationError naming the fields at fault (never their values). */
export function fromQueuedRecord(message: unknown): DecisionRecord {
  const result = z.safeParse(QueuedDecisionRecordSchema, message);
  if (!result.success)
    throw new ValidationError("queued decision record", issuesFromZod(result.error.issues));
  return result.data.record;
}
