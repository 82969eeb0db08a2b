/**
 * DecisionFilter semantics for stores that scan (the local file, memory): AND of the given filters,
 * expired records skipped, newest first by `timings.decidedAt`, at most `limit` (default 100).
 */
import type { DecisionRecord } from "./record.ts";
import { DEFAULT_LIST_LIMIT, type DecisionFilter } from "./types.ts";

export function decidedAtMs(record: DecisionRecord): number {
  const at = Date.parse(record.timings.decidedAt);
  return Number.isFinite(at) ? at : 0;
}

/** True once the store may delete it (DynamoDB TTL is lazy: readers skip expired records themselves). */
export function isExpired(record: DecisionRecord, nowMs: number): boolean {
  return record.expiresAt * 1000 <= nowMs;
}

/** `since` and `until` are inclusive. */
export function matchesFilter(record: DecisionRecord, filter: DecisionFilter): boolean {
  if (filter.accessRequestId !== undefined && record.accessRequestId !== filter.accessRequestId) return false;
  if (filter.personId !== undefined && !record.people.some((p) => p.id === filter.personId)) return false;
  if (filter.ruleId !== undefined && record.decision.ruleId !== filter.ruleId) return false;
  if (filter.triggerId !== undefined && record.triggerId !== filter.triggerId) return false;
  if (filter.decision !== undefined) {
    if (
      filter.decision === "fallback" ? !record.decision.fallback : record.decision.label !== filter.decision
    )
      return false;
  }
  const at = decidedAtMs(record);
  if (filter.since !== undefined && at < filter.since) return false;
  if (filter.until !== undefined && at > filter.until) return false;
  return true;
}

export function newestFirst(a: DecisionRecord, b: DecisionRecord): number {
  return decidedAtMs(b) - decidedAtMs(a) || (a.invocationId < b.invocationId ? -1 : 1);
}

/** The filter applied to every record a store holds (one per invocationId). */
export function applyFilter(
  records: Iterable<DecisionRecord>,
  filter: DecisionFilter,
  nowMs: number,
): DecisionRecord[] {
  const limit = filter.limit ?? DEFAULT_LIST_LIMIT;
  const kept: DecisionRecord[] = [];
  for (const record of records) {
    if (!isExpired(record, nowMs) && matchesFilter(record, filter)) kept.push(record);
  }
  return kept.sort(newestFirst).slice(0, Math.max(0, limit));
}

/** `find(id)`: the records of one invocation id, or of every invocation of an access request id. */
export function findById(records: Iterable<DecisionRecord>, id: string, nowMs: number): DecisionRecord[] {
  const found: DecisionRecord[] = [];
  for (const record of records) {
    if (isExpired(record, nowMs)) continue;
    if (record.invocationId === id || record.accessRequestId === id) found.push(record);
  }
  return found.sort(newestFirst);
}
