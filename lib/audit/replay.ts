/**
 * `rules replay`: re-decides recorded invocations with a candidate rule set and classifies each
 * against the decision the recorded rules made. Offline by default: the candidate evaluates over the
 * context the record kept (record.context.data), so the replay asks the tenant nothing and answers
 * as the candidate would have then. A record lacking a source the candidate needs is `undecidable`
 * (never guessed), unless a live reader is given: then every source of that record is read live
 * (today's context, not a mix of then and now).
 *
 * Outcomes carry names, comments and ids from the records (personal data, as the records); never a
 * secret: records hold none and nothing here reads one.
 */
import * as z from "zod/mini";
import type { ContextData, ContextReader, ContextSource } from "../context/types.ts";
import { issuesFromZod, ValidationError } from "../errors.ts";
import {
  decideFromPayload,
  decideWithReadContext,
  describeContextFailure,
} from "../responder/context-decide.ts";
import { validatedDecision } from "../responder/decide.ts";
import { maskOf, needsOf } from "../rules/context-needs.ts";
import type { CompiledRules, ContextRequired, Decision } from "../rules/types.ts";
import { loadedMask } from "../rules/view.ts";
import { type Invocation, UnknownTriggerError } from "../triggers/invocation.ts";
import { AccessRequestInputSchema, FireAndForgetInputSchema } from "../triggers/schemas.ts";
import { isKnownTrigger, isRequestResponseTrigger } from "../triggers/trigger-ids.ts";
import { decisionLabel } from "./build.ts";
import type { DecisionLabel, DecisionRecord, RecordItem, RecordPerson } from "./record.ts";

/**
 * - `unchanged`: same answer (label and output), same rule;
 * - `changed`: another answer (label or output: a reworded comment counts);
 * - `same-answer-different-rule`: the same answer, reached by another rule;
 * - `undecidable`: the candidate needs context the record did not keep (or a live read failed).
 */
export type ReplayClass = "unchanged" | "changed" | "same-answer-different-rule" | "undecidable";

/** What the candidate decided over: the payload alone, the record's context, or context read live now. */
export type ContextBasis = "payload" | "recorded" | "live";

/** A decision as replay compares it (the recorded one, or the candidate's). */
export interface ReplayedDecision {
  label: DecisionLabel;
  output: Record<string, unknown> | null;
  ruleId: string;
  kind: string;
  rulesVersion: string;
  fallback: boolean;
  fallbackReason?: string;
  /** FIRE_AND_FORGET: the action types (what such a decision amounts to). */
  actions?: string[];
}

export interface ReplayOutcome {
  invocationId: string;
  triggerId: string;
  accessRequestId?: string;
  requestedBy?: RecordPerson;
  people: RecordPerson[];
  items: RecordItem[];
  /** When the recorded decision was made (ISO). */
  decidedAt: string;
  class: ReplayClass;
  recorded: ReplayedDecision;
  /** Absent when undecidable. */
  candidate?: ReplayedDecision;
  /** Absent when undecidable. */
  context?: ContextBasis;
  /** The recorded decision was a fallback: compared all the same, and flagged. */
  recordedFallback: boolean;
  /** Undecidable: the sources the candidate needs that the record lacks. */
  missing?: ContextSource[];
  /** Undecidable: why, in one line (no payload values). */
  reason?: string;
}

export interface ReplayOptions {
  /** `--live`: records lacking a source the candidate needs are re-decided over context read now. */
  reader?: ContextReader;
  /** Per record, the live read's time limit in ms (default 20 s, as `rules eval --live`). */
  readTimeoutMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_READ_TIMEOUT_MS = 20_000;

/**
 * The invocation a record stands for, without any secret or callback (replay completes nothing).
 * Its receivedAt is the record's, so rules over time ("in the last 24 hours") see the time then.
 */
export function invocationOfRecord(record: DecisionRecord): Invocation {
  const triggerId = record.triggerId;
  if (!isKnownTrigger(triggerId)) throw new UnknownTriggerError(triggerId);
  const receivedAt = timeOf(record.timings.receivedAt) ?? timeOf(record.timings.decidedAt) ?? 0;
  const deadline = timeOf(record.timings.deadline) ?? receivedAt;
  const base = { invocationId: record.invocationId, mode: record.mode, receivedAt, deadline };
  if (isRequestResponseTrigger(triggerId)) {
    const parsed = z.safeParse(AccessRequestInputSchema, record.input);
    if (!parsed.success) throw new ValidationError("recorded input", issuesFromZod(parsed.error.issues));
    return {
      ...base,
      triggerType: "requestResponse",
      triggerId,
      input: parsed.data,
      callbackUrl: undefined,
      secret: undefined,
    };
  }
  const parsed = z.safeParse(FireAndForgetInputSchema, record.input);
  if (!parsed.success) throw new ValidationError("recorded input", issuesFromZod(parsed.error.issues));
  return {
    ...base,
    triggerType: "fireAndForget",
    triggerId,
    input: parsed.data,
    callbackUrl: undefined,
    secret: undefined,
  };
}

function timeOf(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Re-decides one record with the candidate. Never throws for a record's content; an abort rejects. */
export async function replayRecord(
  record: DecisionRecord,
  candidate: CompiledRules,
  options: ReplayOptions = {},
): Promise<ReplayOutcome> {
  const recorded = recordedDecision(record);
  const base = {
    invocationId: record.invocationId,
    triggerId: record.triggerId,
    ...(record.accessRequestId === undefined ? {} : { accessRequestId: record.accessRequestId }),
    ...(record.requestedBy === undefined ? {} : { requestedBy: record.requestedBy }),
    people: record.people,
    items: record.items,
    decidedAt: record.timings.decidedAt,
    recorded,
    recordedFallback: recorded.fallback,
  };
  const undecidable = (reason: string, missing?: ContextSource[]): ReplayOutcome => ({
    ...base,
    class: "undecidable",
    reason,
    ...(missing === undefined ? {} : { missing }),
  });

  let invocation: Invocation;
  try {
    invocation = invocationOfRecord(record);
  } catch (error) {
    return undecidable(`the recorded input cannot be replayed: ${(error as Error).message}`);
  }
  // Over the payload first: a rule that needs no context decides as it would have then and now.
  const first = decideFromPayload(invocation, candidate);
  if (!("contextRequired" in first)) {
    return compared(base, candidateDecision(first.decision, first.fallback, first.fallbackReason), "payload");
  }
  const data = record.context?.data as ContextData | undefined;
  let evaluated: Decision | ContextRequired = first;
  if (data !== undefined) {
    try {
      evaluated = candidate.evaluate(invocation, data);
    } catch (error) {
      // A candidate rule that throws is the candidate's answer: its fallback, as in production.
      const reason = `rules evaluation failed: ${error instanceof Error ? error.name : "error"}`;
      const decision = candidate.fallback(invocation.triggerId, reason);
      return compared(base, candidateDecision(decision, true, reason), "recorded");
    }
    if (!("contextRequired" in evaluated)) {
      const result = validatedDecision(invocation, candidate, evaluated);
      return compared(
        base,
        candidateDecision(result.decision, result.fallback, result.fallbackReason),
        "recorded",
      );
    }
  }

  const missing = missingSources(invocation, evaluated, data);
  if (
    "contextRequired" in evaluated &&
    evaluated.pending !== undefined &&
    evaluated.contextRequired.size === 0
  ) {
    // Only a TypeScript policy's async predicates are pending (evaluation already called them):
    // await them as the pipeline does, over the same recorded context, within the read timeout.
    const settled = await decideWithReadContext(invocation, candidate, evaluated.contextRequired, {
      reader: undefined,
      deadline: Date.now() + (options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    return compared(
      base,
      candidateDecision(settled.decision, settled.fallback, settled.fallbackReason),
      data === undefined ? "payload" : "recorded",
    );
  }
  if (options.reader === undefined) {
    const omitted = record.context?.dataOmitted;
    const why =
      omitted !== undefined
        ? `the record kept no context data (${omitted})`
        : data === undefined
          ? "the record kept no context (the recorded rules read none)"
          : "the recorded rules did not read it";
    return undecidable(`needs ${missing.join(", ")}: ${why}; --live reads it from the tenant`, missing);
  }
  // Live: every source is read now, never today's objects mixed with the record's.
  options.signal?.throwIfAborted();
  const result = await decideWithReadContext(invocation, candidate, first.contextRequired, {
    reader: options.reader,
    deadline: Date.now() + (options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  options.signal?.throwIfAborted();
  const failure = result.context?.failure;
  if (failure !== undefined) {
    return undecidable(`the live read failed: ${describeContextFailure(failure)}`, missing);
  }
  return compared(base, candidateDecision(result.decision, result.fallback, result.fallbackReason), "live");
}

/** Replays records in order (sequentially: live reads stay inside the client's rate limit). */
export async function replayRecords(
  records: Iterable<DecisionRecord> | AsyncIterable<DecisionRecord>,
  candidate: CompiledRules,
  options: ReplayOptions = {},
): Promise<ReplayOutcome[]> {
  const outcomes: ReplayOutcome[] = [];
  for await (const record of records) {
    options.signal?.throwIfAborted();
    outcomes.push(await replayRecord(record, candidate, options));
  }
  return outcomes;
}

/** The sources the candidate asked for that `data` does not hold (for this input's people and items). */
function missingSources(
  invocation: Invocation,
  required: ContextRequired,
  data: ContextData | undefined,
): ContextSource[] {
  const asked = maskOf([...required.contextRequired]);
  const loaded = data === undefined ? 0 : loadedMask(invocation.input, data);
  const missing = [...needsOf(asked & ~loaded)];
  // Custom code asks for everything; name what it asked if nothing specific is absent.
  return missing.length > 0 ? missing : [...required.contextRequired];
}

function recordedDecision(record: DecisionRecord): ReplayedDecision {
  const d = record.decision;
  return {
    label: d.label,
    output: d.output,
    ruleId: d.ruleId,
    kind: d.kind,
    rulesVersion: d.rulesVersion,
    fallback: d.fallback,
    ...(d.fallbackReason === undefined ? {} : { fallbackReason: d.fallbackReason }),
    ...(record.decision.output === null
      ? { actions: (d.actions ?? []).map((action) => String(action.type ?? "")) }
      : {}),
  };
}

function candidateDecision(decision: Decision, fallback: boolean, fallbackReason?: string): ReplayedDecision {
  const output = decision.output as Record<string, unknown> | null;
  return {
    label: decisionLabel(decision.triggerId, output),
    output,
    ruleId: decision.explanation.ruleId,
    kind: decision.explanation.kind,
    rulesVersion: decision.explanation.rulesVersion,
    fallback,
    ...(fallbackReason === undefined ? {} : { fallbackReason }),
    ...(output === null ? { actions: decision.actions.map((action) => action.type) } : {}),
  };
}

function compared(
  base: Omit<ReplayOutcome, "class">,
  candidate: ReplayedDecision,
  context: ContextBasis,
): ReplayOutcome {
  const recorded = base.recorded;
  const sameAnswer =
    recorded.label === candidate.label &&
    canonical(recorded.output) === canonical(candidate.output) &&
    canonical(recorded.actions ?? null) === canonical(candidate.actions ?? null);
  const cls: ReplayClass = !sameAnswer
    ? "changed"
    : recorded.ruleId === candidate.ruleId
      ? "unchanged"
      : "same-answer-different-rule";
  return { ...base, class: cls, candidate, context };
}

/** JSON with sorted keys: outputs compare by value, whatever order a store kept their keys in. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}
