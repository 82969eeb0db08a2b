/**
 * Builds a decision record from what the pipeline holds after deciding and answering. Named fields
 * are copied one by one, each clipped to the schema's bounds (so that every store can read back what
 * was written); nothing is spread from the invocation, so its secret, callbackURL and the request's
 * Authorization cannot come along. `assertNoSecret` runs before every put all the same.
 *
 * The worker builds the http function's records from their drafts (answer-draft.ts, queued-record.ts):
 * this builder is not in the http bundle.
 */
import type { LedgerDecision } from "../adapters/types.ts";
import type { ContextData } from "../context/types.ts";
import { ResponderError } from "../errors.ts";
import type { ContextDecideResult, ContextReport } from "../responder/context-decide.ts";
import { shadowNoteOf } from "../responder/shadow.ts";
import type { Invocation } from "../triggers/invocation.ts";
import { DYNAMIC_APPROVER, isRequestResponseTrigger, PRE_APPROVAL } from "../triggers/trigger-ids.ts";
import { holdsSecret, iso, MAX_RECORD_CONTEXT_DATA_BYTES } from "./answer-draft.ts";
import { DECISION_RECORD_VERSION, DEFAULT_RECORD_RETENTION_DAYS, type DecisionLabel } from "./constants.ts";
import type {
  DecisionRecord,
  RecordCompletion,
  RecordContext,
  RecordDecision,
  RecordItem,
  RecordPerson,
  RecordTimelineEntry,
} from "./record.ts";

export { iso, MAX_RECORD_CONTEXT_DATA_BYTES } from "./answer-draft.ts";
/** The schema's bound on timeline entries. */
export const MAX_TIMELINE_ENTRIES = 100;

const DAY_SECONDS = 86_400;

/** The rules' decision as the pipeline holds it: fresh (with its context) or read back from the ledger. */
export type RecordedDecision = ContextDecideResult | LedgerDecision;

export interface BuildRecordParams {
  invocation: Invocation;
  decision: RecordedDecision;
  /** What ISC got instead of the rules' output (shadow mode); default: the rules' output (`by: "rules"`). */
  answer?: { output: Record<string, unknown> | null; by: "shadow" };
  /** Default: the ContextDecideResult's own `context`. */
  context?: ContextReport;
  /** The data the rules evaluated over; default: the ContextDecideResult's own `contextData`. */
  contextData?: ContextData;
  /** The size of context data the sender left out as too large (an http draft): the record says so. */
  contextDataBytes?: number;
  completion: RecordCompletion;
  /** Epoch ms. */
  decidedAt: number;
  completedAt?: number;
  timeline?: RecordTimelineEntry[];
  recordedBy: DecisionRecord["recordedBy"];
  /** Default DEFAULT_RECORD_RETENTION_DAYS. */
  retentionDays?: number;
}

/** The record is about to carry the invocation's secret or callbackURL: a bug, and the write is refused. */
export class RecordHoldsSecretError extends ResponderError {
  constructor(invocationId: string) {
    super("RECORD_HOLDS_SECRET", `the decision record of ${invocationId} holds the invocation's secret`);
  }
}

/** pre-approval approve | deny; dynamic approver approver | no-approver; FIRE_AND_FORGET actions. */
export function decisionLabel(triggerId: string, output: unknown): DecisionLabel {
  const o = (typeof output === "object" && output !== null ? output : {}) as Record<string, unknown>;
  if (triggerId === PRE_APPROVAL) return o.approved === true ? "approve" : "deny";
  if (triggerId === DYNAMIC_APPROVER)
    return typeof o.id === "string" && o.id !== "" ? "approver" : "no-approver";
  return "actions";
}

/**
 * The record's key: ISC's invocation id, or for a sync HTTP invocation without one
 * `sync:<accessRequestId>:<receivedAt ISO>` (a FIRE_AND_FORGET without id likewise, by its mode).
 */
export function recordKey(invocation: Invocation): string {
  if (invocation.invocationId !== undefined) return clip(invocation.invocationId, 200);
  const accessRequestId = (invocation.input as { accessRequestId?: unknown }).accessRequestId;
  const id = typeof accessRequestId === "string" ? clip(accessRequestId, 100) : "-";
  return `${invocation.mode}:${id}:${iso(invocation.receivedAt)}`;
}

export function buildDecisionRecord(params: BuildRecordParams): DecisionRecord {
  const { invocation } = params;
  const sent = normalize(params.decision, invocation.triggerId);
  // Shadow mode: what was sent is the shadow answer; the rules' own decision travels in the explanation.
  const note = params.answer === undefined ? shadowNoteOf(sent.explanation) : undefined;
  const decided =
    note === undefined
      ? sent
      : {
          ...sent,
          output: note.rulesOutput,
          actions: Array.isArray(note.rulesActions) ? note.rulesActions : [],
        };
  const answered =
    params.answer ?? (note === undefined ? undefined : { output: sent.output, by: "shadow" as const });
  const report = params.context ?? ("decision" in params.decision ? params.decision.context : undefined);
  const data =
    params.contextData ?? ("decision" in params.decision ? params.decision.contextData : undefined);
  const decision = recordDecision(decided, invocation.triggerId);
  const answerOutput =
    answered === undefined ? decision.output : (clone(answered.output) as Record<string, unknown> | null);
  const answer: DecisionRecord["answer"] = {
    output: answerOutput,
    label: decisionLabel(invocation.triggerId, answerOutput),
    by: answered?.by ?? "rules",
  };
  if (answered !== undefined) answer.differs = canonical(answerOutput) !== canonical(decision.output);
  const days = params.retentionDays ?? DEFAULT_RECORD_RETENTION_DAYS;

  const record: DecisionRecord = {
    recordVersion: DECISION_RECORD_VERSION,
    invocationId: recordKey(invocation),
    triggerId: clip(invocation.triggerId, 100),
    mode: invocation.mode,
    people: [],
    items: [],
    input: (clone(invocation.input) ?? {}) as Record<string, unknown>,
    decision,
    answer,
    timings: timings(invocation, params),
    completion: completion(params.completion),
    recordedBy: params.recordedBy,
    expiresAt: Math.floor(params.decidedAt / 1000) + Math.round(days * DAY_SECONDS),
  };
  if (invocation.triggerType === "requestResponse") {
    const input = invocation.input;
    record.accessRequestId = clip(input.accessRequestId, 200);
    record.requestedBy = person(input.requestedBy);
    const people = Array.isArray(input.requestedFor) ? input.requestedFor : [input.requestedFor];
    record.people = people.map(person);
    record.items = input.requestedItems.map(item);
  }
  if (report !== undefined) record.context = recordContext(report, data, params.contextDataBytes);
  if (params.timeline !== undefined && params.timeline.length > 0)
    record.timeline = timeline(params.timeline);
  return record;
}

/**
 * Throws RecordHoldsSecretError if the record's JSON contains the invocation's secret (or its
 * callbackURL): the last check before any write. The message names the record, never the value.
 */
export function assertNoSecret(record: DecisionRecord, invocation: Invocation): void {
  if (holdsSecret(JSON.stringify(record), invocation)) throw new RecordHoldsSecretError(record.invocationId);
}

interface NormalizedDecision {
  output: Record<string, unknown> | null;
  explanation: Record<string, unknown>;
  fallback: boolean;
  fallbackReason: string | undefined;
  actions: unknown[];
}

function normalize(decision: RecordedDecision, triggerId: string): NormalizedDecision {
  if ("decision" in decision) {
    return {
      output: decision.decision.output as Record<string, unknown> | null,
      explanation: decision.decision.explanation as unknown as Record<string, unknown>,
      fallback: decision.fallback,
      fallbackReason: decision.fallbackReason,
      actions: decision.decision.actions,
    };
  }
  const explanation = (
    typeof decision.explanation === "object" && decision.explanation !== null ? decision.explanation : {}
  ) as Record<string, unknown>;
  return {
    // The ledger stores FIRE_AND_FORGET's null output as {}.
    output: isRequestResponseTrigger(triggerId) ? decision.output : null,
    explanation,
    fallback: decision.fallback,
    fallbackReason: typeof explanation.fallbackReason === "string" ? explanation.fallbackReason : undefined,
    actions: Array.isArray(decision.actions) ? decision.actions : [],
  };
}

function recordDecision(d: NormalizedDecision, triggerId: string): RecordDecision {
  const e = d.explanation;
  const output = clone(d.output) as Record<string, unknown> | null;
  const decision: RecordDecision = {
    label: decisionLabel(triggerId, output),
    output,
    ruleId: clip(text(e.ruleId) ?? "unknown", 200),
    kind: clip(text(e.kind) ?? "unknown", 40),
    matched: strings(e.matched, 2_000),
    rulesVersion: clip(text(e.rulesVersion) ?? "unknown", 100),
    fallback: d.fallback,
  };
  if (typeof e.rulesEvaluated === "number") decision.rulesEvaluated = e.rulesEvaluated;
  if (typeof e.evaluationMicros === "number") decision.evaluationMicros = e.evaluationMicros;
  const reason = d.fallbackReason ?? text(e.fallbackReason);
  if (d.fallback && reason !== undefined) decision.fallbackReason = clip(reason, 2_000);
  if (Array.isArray(e.context)) {
    decision.contextUsed = e.context.flatMap((use: unknown) => {
      if (typeof use !== "object" || use === null) return [];
      const u = use as Record<string, unknown>;
      const entry: NonNullable<RecordDecision["contextUsed"]>[number] = {
        source: clip(text(u.source) ?? "", 40),
        id: clip(text(u.id) ?? "", 200),
        fields: (clone(u.fields) ?? {}) as Record<string, unknown>,
      };
      if (u.from === "api" || u.from === "cache") entry.from = u.from;
      if (typeof u.ms === "number") entry.ms = u.ms;
      return [entry];
    });
  }
  if (Array.isArray(e.notEnforced)) {
    decision.notEnforced = e.notEnforced.flatMap((n: unknown) => {
      if (typeof n !== "object" || n === null) return [];
      const m = n as Record<string, unknown>;
      const entry: NonNullable<RecordDecision["notEnforced"]>[number] = {
        ruleId: clip(text(m.ruleId) ?? "", 200),
        matched: strings(m.matched, 2_000),
      };
      const error = text(m.error);
      if (error !== undefined) entry.error = clip(error, 2_000);
      return [entry];
    });
  }
  if (d.actions.length > 0) decision.actions = clone(d.actions) as Array<Record<string, unknown>>;
  return decision;
}

function recordContext(
  report: ContextReport,
  data: ContextData | undefined,
  omittedBytes: number | undefined,
): RecordContext {
  const context: RecordContext = {
    needs: report.needs.map((need) => clip(need, 40)),
    reads: clone(report.reads) as Array<Record<string, unknown>>,
    cacheHits: report.cacheHits,
    ms: report.ms,
  };
  if (report.failure !== undefined) context.failure = clone(report.failure) as Record<string, unknown>;
  if (report.ignoredFailure !== undefined)
    context.ignoredFailure = clone(report.ignoredFailure) as Record<string, unknown>;
  if (data === undefined && omittedBytes !== undefined) context.dataOmitted = omitted(omittedBytes);
  if (data !== undefined) {
    const { provenance: _where, ...values } = data;
    const json = JSON.stringify(values);
    const bytes = Buffer.byteLength(json, "utf8");
    if (bytes > MAX_RECORD_CONTEXT_DATA_BYTES) {
      context.dataOmitted = omitted(bytes);
    } else {
      context.data = JSON.parse(json) as Record<string, unknown>;
    }
  }
  return context;
}

function omitted(bytes: number): string {
  return `context data of ${bytes} bytes is above the record's bound of ${MAX_RECORD_CONTEXT_DATA_BYTES}`;
}

function timings(invocation: Invocation, params: BuildRecordParams): DecisionRecord["timings"] {
  const t: DecisionRecord["timings"] = {
    receivedAt: iso(invocation.receivedAt),
    decidedAt: iso(params.decidedAt),
    decisionMs: Math.max(0, params.decidedAt - invocation.receivedAt),
  };
  // Sync answers in the reply and FIRE_AND_FORGET completes nothing: neither has a deadline to show.
  if (invocation.triggerType === "requestResponse" && invocation.mode !== "sync") {
    t.deadline = iso(invocation.deadline);
  }
  if (params.completedAt !== undefined) t.completedAt = iso(params.completedAt);
  return t;
}

function completion(c: RecordCompletion): RecordCompletion {
  const out: RecordCompletion = { outcome: c.outcome };
  if (c.reason !== undefined) out.reason = clip(c.reason, 2_000);
  if (c.attempts !== undefined) out.attempts = c.attempts;
  if (c.ledgerBypassed !== undefined) out.ledgerBypassed = c.ledgerBypassed;
  if (c.actions !== undefined) out.actions = c.actions.map((a) => clip(a, 200));
  return out;
}

function timeline(entries: RecordTimelineEntry[]): RecordTimelineEntry[] {
  // Keep the first steps and the end (how it finished) when a long retry loop overflows the bound.
  const kept =
    entries.length <= MAX_TIMELINE_ENTRIES
      ? entries
      : [...entries.slice(0, MAX_TIMELINE_ENTRIES - 10), ...entries.slice(-10)];
  return kept.map((entry) => {
    const out: RecordTimelineEntry = { at: clip(entry.at, 40), event: clip(entry.event, 60) };
    if (entry.detail !== undefined) out.detail = clip(entry.detail, 2_000);
    return out;
  });
}

function person(ref: { id: string; name?: string | undefined }): RecordPerson {
  const p: RecordPerson = { id: clip(ref.id, 200) };
  if (typeof ref.name === "string") p.name = clip(ref.name, 2_000);
  return p;
}

function item(i: {
  id: string;
  name?: string;
  type?: string;
  operation?: string;
  comment?: string | null | undefined;
}): RecordItem {
  const out: RecordItem = { id: clip(i.id, 200) };
  if (typeof i.name === "string") out.name = clip(i.name, 2_000);
  if (typeof i.type === "string") out.type = clip(i.type, 40);
  if (typeof i.operation === "string") out.operation = clip(i.operation, 40);
  if (i.comment === null) out.comment = null;
  else if (typeof i.comment === "string") out.comment = clip(i.comment, 2_000);
  return out;
}

function clip(value: string, max: number): string {
  return value.length <= max ? value : value.slice(0, max);
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function strings(value: unknown, max: number): string[] {
  return Array.isArray(value) ? value.filter((v) => typeof v === "string").map((v) => clip(v, max)) : [];
}

/** A plain JSON copy: no shared references, no class instances, no undefined. */
function clone(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : v,
  );
}
