/**
 * The decision records table's items (docs/adapters.md "Decision records"): the layout the stack
 * builds the table from, the record and person-pointer items, the fit under DynamoDB's item limit,
 * and the filters (the query's and the last check on each record). No SDK here.
 */
import type { DecisionLabel, DecisionRecord } from "../../audit/record.ts";
import type { DecisionFilter } from "../../audit/types.ts";
import { ResponderError } from "../../errors.ts";

/** The table's layout, shared with the stack (infra/decision-records.ts). */
export const DECISION_RECORDS_TABLE = {
  partitionKey: "invocationId",
  sortKey: "entry",
  ttlAttribute: "expiresAt",
  indexes: {
    byAccessRequest: { partitionKey: "accessRequestId", sortKey: "decidedAt" },
    byPerson: { partitionKey: "personId", sortKey: "decidedAt" },
    byDay: { partitionKey: "day", sortKey: "decidedAt" },
  },
  /** Projected into every index besides the keys: what the list filters read. */
  filterAttributes: ["triggerId", "ruleId", "decision", "fallback"],
} as const;

export const RECORD_ENTRY = "record";
export const PERSON_PREFIX = "person#";

/**
 * DynamoDB's item limit is 400 KB (names and values, UTF-8). The record's JSON may use this much;
 * the rest is the index attributes. Above it the context data is left out (`dataOmitted`).
 */
export const MAX_RECORD_JSON_BYTES = 380_000;
/** One transaction holds at most 100 writes: the record, its pointers and the deletes of stale ones. */
export const MAX_INDEXED_PEOPLE = 49;

type Item = Record<string, unknown>;

/** Even without its context data, the record is above DynamoDB's item limit. */
export class DecisionRecordTooLargeError extends ResponderError {
  readonly invocationId: string;
  readonly bytes: number;
  constructor(invocationId: string, bytes: number) {
    super(
      "DECISION_RECORD_TOO_LARGE",
      `decision record of invocation ${invocationId} is ${bytes} bytes without its context data, above the ${MAX_RECORD_JSON_BYTES} a DynamoDB item can hold`,
      { httpStatus: 500 },
    );
    this.invocationId = invocationId;
    this.bytes = bytes;
  }
}

/** The record as stored: without its context data when the whole would not fit in an item. */
export function fitRecord(record: DecisionRecord): { record: DecisionRecord; json: string } {
  const json = JSON.stringify(record);
  const bytes = Buffer.byteLength(json, "utf8");
  if (bytes <= MAX_RECORD_JSON_BYTES) return { record, json };
  const context = record.context;
  if (context?.data !== undefined) {
    const { data: _dropped, ...rest } = context;
    const smaller: DecisionRecord = {
      ...record,
      context: {
        ...rest,
        dataOmitted: `context data left out: the record was ${bytes} bytes, above DynamoDB's item limit`,
      },
    };
    const smallerJson = JSON.stringify(smaller);
    const smallerBytes = Buffer.byteLength(smallerJson, "utf8");
    if (smallerBytes <= MAX_RECORD_JSON_BYTES) return { record: smaller, json: smallerJson };
    throw new DecisionRecordTooLargeError(record.invocationId, smallerBytes);
  }
  throw new DecisionRecordTooLargeError(record.invocationId, bytes);
}

/** The UTC date of an epoch-ms time: the byDay index's partition. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function decidedAtMs(record: DecisionRecord): number {
  const ms = Date.parse(record.timings.decidedAt);
  return Number.isFinite(ms) ? ms : Date.parse(record.timings.receivedAt) || 0;
}

/** The attributes list filters read, on the record item and on each pointer. */
function filterAttributes(record: DecisionRecord): Item {
  return {
    triggerId: record.triggerId,
    ruleId: record.decision.ruleId,
    decision: record.decision.label,
    fallback: record.decision.fallback,
  };
}

export function recordItem(record: DecisionRecord, json: string): Item {
  const decidedAt = decidedAtMs(record);
  return {
    invocationId: record.invocationId,
    entry: RECORD_ENTRY,
    record: json,
    recordVersion: record.recordVersion,
    decidedAt,
    day: dayOf(decidedAt),
    ...(record.accessRequestId === undefined ? {} : { accessRequestId: record.accessRequestId }),
    ...filterAttributes(record),
    expiresAt: record.expiresAt,
  };
}

/** The people a record is indexed under: requestedFor, deduplicated, at most MAX_INDEXED_PEOPLE. */
export function indexedPeople(record: DecisionRecord): string[] {
  return [...new Set(record.people.map((p) => p.id))].slice(0, MAX_INDEXED_PEOPLE);
}

export function pointerItem(record: DecisionRecord, personId: string): Item {
  return {
    invocationId: record.invocationId,
    entry: `${PERSON_PREFIX}${personId}`,
    personId,
    decidedAt: decidedAtMs(record),
    ...filterAttributes(record),
    expiresAt: record.expiresAt,
  };
}

/** Whether `record` passes every filter (the last check, after the index and the server-side filter). */
export function matchesFilter(record: DecisionRecord, filter: DecisionFilter): boolean {
  if (filter.accessRequestId !== undefined && record.accessRequestId !== filter.accessRequestId) return false;
  if (filter.personId !== undefined && !record.people.some((p) => p.id === filter.personId)) return false;
  if (filter.ruleId !== undefined && record.decision.ruleId !== filter.ruleId) return false;
  if (filter.triggerId !== undefined && record.triggerId !== filter.triggerId) return false;
  if (filter.decision === "fallback" && !record.decision.fallback) return false;
  if (
    filter.decision !== undefined &&
    filter.decision !== "fallback" &&
    record.decision.label !== filter.decision
  ) {
    return false;
  }
  const at = decidedAtMs(record);
  if (filter.since !== undefined && at < filter.since) return false;
  if (filter.until !== undefined && at > filter.until) return false;
  return true;
}

/** Key condition (partition, decidedAt range) and the server-side filter for what the index does not key. */
export function keyCondition(
  index: { partitionKey: string; sortKey: string },
  partition: string,
  filter: DecisionFilter,
): {
  KeyConditionExpression: string;
  FilterExpression?: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
} {
  // DynamoDB refuses a name or value the expressions do not use: #at only with a range.
  const names: Record<string, string> = { "#pk": index.partitionKey };
  if (filter.since !== undefined || filter.until !== undefined) names["#at"] = index.sortKey;
  const values: Record<string, unknown> = { ":pk": partition };
  let range = "";
  if (filter.since !== undefined && filter.until !== undefined) {
    range = " AND #at BETWEEN :since AND :until";
    values[":since"] = filter.since;
    values[":until"] = filter.until;
  } else if (filter.since !== undefined) {
    range = " AND #at >= :since";
    values[":since"] = filter.since;
  } else if (filter.until !== undefined) {
    range = " AND #at <= :until";
    values[":until"] = filter.until;
  }
  const conditions: string[] = [];
  const equal = (attribute: string, value: unknown) => {
    names[`#${attribute}`] = attribute;
    values[`:${attribute}`] = value;
    conditions.push(`#${attribute} = :${attribute}`);
  };
  if (filter.ruleId !== undefined) equal("ruleId", filter.ruleId);
  if (filter.triggerId !== undefined) equal("triggerId", filter.triggerId);
  if (filter.decision === "fallback") equal("fallback", true);
  else if (filter.decision !== undefined) equal("decision", filter.decision satisfies DecisionLabel);
  return {
    KeyConditionExpression: `#pk = :pk${range}`,
    ...(conditions.length === 0 ? {} : { FilterExpression: conditions.join(" AND ") }),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

export function newestFirst(records: DecisionRecord[]): DecisionRecord[] {
  return records.sort(
    (a, b) => decidedAtMs(b) - decidedAtMs(a) || (a.invocationId < b.invocationId ? -1 : 1),
  );
}
