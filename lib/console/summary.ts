/**
 * What the console's list shows of a decision record (one row), and the list query it accepts.
 * Rows are copied field by field from the record (never spread): what the page receives is what is
 * named here. The detail view gets the whole record, which by its schema holds no secret.
 */
import * as z from "zod/mini";
import { DECISION_LABELS, type DecisionRecord } from "../audit/record.ts";
import type { DecisionFilter } from "../audit/types.ts";
import { issuesFromZod, ValidationError } from "../errors.ts";

export interface DecisionRow {
  invocationId: string;
  accessRequestId?: string;
  triggerId: string;
  mode: DecisionRecord["mode"];
  people: { id: string; name?: string }[];
  items: { id: string; name?: string; type?: string; operation?: string }[];
  /** The rules' decision (what the filters match). */
  decision: DecisionRecord["decision"]["label"];
  /** The rules' decision in a few words: "approve", "deny: <comment>", "<approver name> (IDENTITY)". */
  summary: string;
  /** Shadow mode: what ISC got instead, in a few words. */
  shadowAnswer?: string;
  ruleId: string;
  fallback: boolean;
  receivedAt: string;
  decidedAt: string;
  completedAt?: string;
  /** Receipt to completion when it completed, else receipt to decision, ms. */
  latencyMs: number;
  outcome: DecisionRecord["completion"]["outcome"];
  /** ISC got this decision (in the reply or by a completion it accepted). */
  completed: boolean;
  answeredBy: DecisionRecord["answer"]["by"];
}

const COMPLETED_OUTCOMES: ReadonlySet<string> = new Set(["answered", "completed", "actions-only"]);

function short(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

/** A decision in a few words (the table's "decision" column). */
export function describeDecision(
  label: DecisionRecord["decision"]["label"],
  output: Record<string, unknown> | null,
): string {
  switch (label) {
    case "approve":
      return "approve";
    case "deny": {
      const comment = typeof output?.comment === "string" ? short(output.comment, 120) : "";
      return comment === "" ? "deny" : `deny: ${comment}`;
    }
    case "approver": {
      const name = output?.name ?? output?.id;
      return `${typeof name === "string" ? short(name, 80) : "?"}${typeof output?.type === "string" ? ` (${output.type})` : ""}`;
    }
    case "no-approver":
      return "no extra approver";
    case "actions":
      return "actions only";
  }
}

export function toRow(record: DecisionRecord): DecisionRow {
  const received = Date.parse(record.timings.receivedAt);
  const completed =
    record.timings.completedAt === undefined ? Number.NaN : Date.parse(record.timings.completedAt);
  const latencyMs =
    Number.isFinite(received) && Number.isFinite(completed)
      ? Math.max(0, completed - received)
      : record.timings.decisionMs;
  const row: DecisionRow = {
    invocationId: record.invocationId,
    triggerId: record.triggerId,
    mode: record.mode,
    people: record.people.map((p) => (p.name === undefined ? { id: p.id } : { id: p.id, name: p.name })),
    items: record.items.map((item) => {
      const out: DecisionRow["items"][number] = { id: item.id };
      if (item.name !== undefined) out.name = item.name;
      if (item.type !== undefined) out.type = item.type;
      if (item.operation !== undefined) out.operation = item.operation;
      return out;
    }),
    decision: record.decision.label,
    summary: describeDecision(record.decision.label, record.decision.output),
    ruleId: record.decision.ruleId,
    fallback: record.decision.fallback,
    receivedAt: record.timings.receivedAt,
    decidedAt: record.timings.decidedAt,
    latencyMs: Math.round(latencyMs),
    outcome: record.completion.outcome,
    completed: COMPLETED_OUTCOMES.has(record.completion.outcome),
    answeredBy: record.answer.by,
  };
  if (record.accessRequestId !== undefined) row.accessRequestId = record.accessRequestId;
  if (record.timings.completedAt !== undefined) row.completedAt = record.timings.completedAt;
  if (record.answer.by === "shadow")
    row.shadowAnswer = describeDecision(record.answer.label, record.answer.output);
  return row;
}

const TRIGGER_ALIASES: Record<string, string> = {
  "pre-approval": "idn:access-request-pre-approval",
  "dynamic-approver": "idn:access-request-dynamic-approver",
};

const text = (max: number) => z.optional(z.string().check(z.maxLength(max)));

/** `GET /api/decisions?trigger=&decision=&person=&limit=`: every value optional. */
export const ListQuerySchema = z.object({
  trigger: text(100),
  decision: z.optional(z.enum([...DECISION_LABELS, "fallback", ""])),
  /** A person's id, or part of a name (case-insensitive). */
  person: text(200),
  limit: z.optional(z.string().check(z.regex(/^\d{1,4}$/))),
});
export type ListQuery = z.infer<typeof ListQuerySchema>;

export interface ParsedListQuery {
  filter: DecisionFilter;
  /** Applied after the source's list: part of a person's name. */
  personName?: string;
  limit: number;
}

export const MAX_LIST_LIMIT = 500;
/** An id as ISC writes them (32 hex) or any token without spaces that is long enough to be one. */
const LOOKS_LIKE_ID = /^[A-Za-z0-9._:-]{16,200}$/;

export function parseListQuery(params: URLSearchParams): ParsedListQuery {
  const raw: Record<string, string> = {};
  for (const key of ["trigger", "decision", "person", "limit"]) {
    const value = params.get(key);
    if (value !== null) raw[key] = value.trim();
  }
  const parsed = z.safeParse(ListQuerySchema, raw);
  if (!parsed.success) throw new ValidationError("the list query", issuesFromZod(parsed.error.issues));
  const query = parsed.data;
  const limit = Math.min(MAX_LIST_LIMIT, Math.max(1, Number(query.limit ?? 200)));
  const filter: DecisionFilter = { limit };
  if (query.trigger) filter.triggerId = TRIGGER_ALIASES[query.trigger] ?? query.trigger;
  if (query.decision) filter.decision = query.decision;
  const out: ParsedListQuery = { filter, limit };
  if (query.person) {
    if (LOOKS_LIKE_ID.test(query.person)) filter.personId = query.person;
    else {
      // A name is matched here, over more records than asked, since the sources filter by id only.
      out.personName = query.person.toLowerCase();
      filter.limit = MAX_LIST_LIMIT;
    }
  }
  return out;
}

/** Whether a row passes the query's filters (the live feed applies them to each new record). */
export function rowMatches(row: DecisionRow, query: ParsedListQuery): boolean {
  const { filter, personName } = query;
  if (filter.triggerId !== undefined && row.triggerId !== filter.triggerId) return false;
  if (
    filter.decision === "fallback"
      ? !row.fallback
      : filter.decision !== undefined && row.decision !== filter.decision
  )
    return false;
  if (filter.personId !== undefined && !row.people.some((p) => p.id === filter.personId)) return false;
  if (personName !== undefined && !row.people.some((p) => (p.name ?? "").toLowerCase().includes(personName)))
    return false;
  return true;
}
