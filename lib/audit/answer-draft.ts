/**
 * The materials of a decision record for an answer the http function gave in its reply: what it
 * holds after answering, before any record is built. The http function hands a draft to an
 * AnswerRecordSink (in AWS the queue: the worker builds and writes the record; locally a sink that
 * builds at once), so the record builder (build.ts) and its schema stay out of the http bundle.
 *
 * No zod here (the http bundle). The draft's schema, the single source of its type, is the worker's
 * (queued-record.ts); this file imports it as a type only.
 */
import type { ContextDecideResult } from "../responder/context-decide.ts";
import type { Invocation } from "../triggers/invocation.ts";
import { toQueuedInvocation } from "../triggers/queued-invocation.ts";
import type { AnswerDraft } from "./queued-record.ts";
import type { RecordTimelineEntry } from "./record.ts";
import type { RecordCallOptions } from "./types.ts";

export type { AnswerDraft } from "./queued-record.ts";

/** Context data above this many bytes of JSON is left out of the record (`dataOmitted`). */
export const MAX_RECORD_CONTEXT_DATA_BYTES = 65_536;

/** Takes the drafts of answered invocations; the record is built and written by whoever stands behind it. */
export interface AnswerRecordSink {
  putAnswer(draft: AnswerDraft, options?: RecordCallOptions): Promise<void>;
}

/** The draft is about to carry the invocation's secret or callbackURL: a bug, and the hand-over is refused. */
export class DraftHoldsSecretError extends Error {
  override readonly name = "DraftHoldsSecretError";
}

export interface AnswerDraftParams {
  invocation: Invocation;
  result: ContextDecideResult;
  decidedAt: number;
  answeredAt: number;
  timeline: RecordTimelineEntry[];
  /** Shadow mode: what ISC got instead of the rules' output. */
  answer?: { output: Record<string, unknown> | null; by: "shadow" };
  retentionDays?: number;
}

/**
 * The draft of an answered invocation: its envelope and input (never its secret, callbackURL or
 * `answered`), the decide result, the times and the timeline. Context data too large for a record is
 * left out here already (its size travels instead), so the queue message stays small. Throws
 * DraftHoldsSecretError if the secret or the callbackURL would travel anyway.
 */
export function answerDraft(params: AnswerDraftParams): AnswerDraft {
  const { invocation, result } = params;
  const {
    secret: _secret,
    callbackUrl: _callbackUrl,
    answered: _answered,
    ...queued
  } = toQueuedInvocation({
    ...invocation,
    secret: undefined,
    callbackUrl: undefined,
  } as Invocation) as ReturnType<typeof toQueuedInvocation> & {
    secret?: string;
    callbackUrl?: string;
    answered?: unknown;
  };
  const draftResult: Record<string, unknown> = {
    decision: {
      output: result.decision.output,
      explanation: result.decision.explanation,
      actions: result.decision.actions,
    },
    fallback: result.fallback,
  };
  if (result.fallbackReason !== undefined) draftResult.fallbackReason = result.fallbackReason;
  if (result.context !== undefined) draftResult.context = result.context;
  let contextDataBytes: number | undefined;
  if (result.contextData !== undefined) {
    // The record keeps the values, not their provenance (build.ts): measured the same way.
    const { provenance: _where, ...values } = result.contextData;
    const bytes = Buffer.byteLength(JSON.stringify(values), "utf8");
    if (bytes > MAX_RECORD_CONTEXT_DATA_BYTES) contextDataBytes = bytes;
    else draftResult.contextData = values;
  }
  const draft = {
    invocation: queued,
    result: draftResult,
    decidedAt: params.decidedAt,
    answeredAt: params.answeredAt,
    timeline: params.timeline,
    ...(params.answer === undefined ? {} : { answer: params.answer }),
    ...(contextDataBytes === undefined ? {} : { contextDataBytes }),
    ...(params.retentionDays === undefined ? {} : { retentionDays: params.retentionDays }),
  } as unknown as AnswerDraft;
  if (holdsSecret(JSON.stringify(draft), invocation)) {
    throw new DraftHoldsSecretError("the decision record's draft holds the invocation's secret");
  }
  return draft;
}

/** True if `json` contains the invocation's secret or callbackURL (raw or JSON-escaped). */
export function holdsSecret(json: string, invocation: Pick<Invocation, "secret" | "callbackUrl">): boolean {
  const forbidden = [invocation.secret?.reveal(), invocation.callbackUrl];
  for (const value of forbidden) {
    if (value === undefined || value.length < 4) continue;
    if (json.includes(value) || json.includes(JSON.stringify(value).slice(1, -1))) return true;
  }
  return false;
}

/** Epoch ms → ISO 8601 (a bad clock gives the epoch rather than a RangeError). */
export function iso(epochMs: number): string {
  const date = new Date(epochMs);
  return Number.isNaN(date.getTime()) ? new Date(0).toISOString() : date.toISOString();
}
