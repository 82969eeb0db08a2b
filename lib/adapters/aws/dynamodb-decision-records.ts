/**
 * DecisionRecordStore on DynamoDB (docs/adapters.md "Decision records"). One table, two kinds of item
 * under partition key `invocationId`, sort key `entry`:
 * - `entry = "record"`: the record itself, as a JSON string (`record`), plus the attributes the
 *   indexes and filters use (decidedAt, day, accessRequestId, triggerId, ruleId, decision, fallback);
 * - `entry = "person#<id>"`: one small pointer per person in requestedFor, so a record for several
 *   people is found from each of them (a GSI key holds one value, not a list).
 * GSIs (keys and the filter attributes only, so a record's body is stored once):
 * `byAccessRequest` (accessRequestId, decidedAt), `byPerson` (personId, decidedAt) and `byDay`
 * (day = UTC date of the decision, decidedAt). Lists query one index newest first, filter, and read
 * the bodies with BatchGetItem. Every item carries `expiresAt` (TTL).
 *
 * The record is a JSON string, not a map: what is read back is exactly what was written (a map
 * refuses empty keys and nesting past 32 levels, which ISC context data may have), and its size
 * against DynamoDB's 400 KB item limit is known before the write.
 */

import type { DynamoDBDocumentClient, TransactWriteCommandInput } from "@aws-sdk/lib-dynamodb";
import { isExpired } from "../../audit/filter.ts";
import type { DecisionRecord } from "../../audit/record.ts";
import { parseDecisionRecord } from "../../audit/record.ts";
import {
  DEFAULT_LIST_LIMIT,
  type DecisionFilter,
  type DecisionRecordStore,
  type RecordCallOptions,
} from "../../audit/types.ts";
import { ResponderError } from "../../errors.ts";
import { untilAborted } from "../abortable.ts";
import { AwsServiceError } from "../errors.ts";
import { dynamoDbClient } from "./clients.ts";
import {
  DECISION_RECORDS_TABLE,
  dayOf,
  fitRecord,
  indexedPeople,
  keyCondition,
  matchesFilter,
  newestFirst,
  PERSON_PREFIX,
  pointerItem,
  RECORD_ENTRY,
  recordItem,
} from "./decision-records-items.ts";

export {
  DECISION_RECORDS_TABLE,
  DecisionRecordTooLargeError,
  dayOf,
  fitRecord,
  indexedPeople,
  MAX_INDEXED_PEOPLE,
  MAX_RECORD_JSON_BYTES,
  matchesFilter,
  recordItem,
} from "./decision-records-items.ts";

/** A list or find stops after this many DynamoDB requests (each Query page and BatchGetItem counts). */
export const DEFAULT_MAX_REQUESTS = 1_000;
/** Without `since`, a time-ordered list looks back this many days. */
export const DEFAULT_LOOKBACK_DAYS = 400;
/** Days queried at once on the byDay index (most are empty: one request each). */
const DAY_QUERY_CONCURRENCY = 8;
const DAY_MS = 86_400_000;
const MAX_LIST_LIMIT = 10_000;

type Item = Record<string, unknown>;
type Key = { invocationId: string; entry: string };
type Send = (command: unknown, options?: { abortSignal?: AbortSignal }) => Promise<unknown>;
type Writes = NonNullable<TransactWriteCommandInput["TransactItems"]>;
/** Requests left to one list or find; `truncated` once the index still had more when it ran out. */
type Budget = { left: number; truncated: boolean };

/** A decision-records call was abandoned because its signal aborted (a write may or may not have been applied). */
export class DecisionRecordCallAbortedError extends ResponderError {
  readonly operation: string;
  constructor(operation: string, options: { cause?: unknown } = {}) {
    super(
      "DECISION_RECORD_CALL_ABORTED",
      `decision records ${operation} was abandoned: its time ran out or it was aborted`,
      {
        httpStatus: 503,
        cause: options.cause,
      },
    );
    this.operation = operation;
  }
}

export interface ListTruncation {
  /** DynamoDB requests made before stopping. */
  requests: number;
  /** Records found (fewer than the limit). */
  found: number;
  index: keyof typeof DECISION_RECORDS_TABLE.indexes;
}

export interface DynamoDbDecisionRecordsOptions {
  tableName: string;
  /** A DocumentClient; default one over the container's DynamoDB client (clients.ts, with its timeouts). */
  client?: DynamoDBDocumentClient;
  /** Request budget of one list/find (default DEFAULT_MAX_REQUESTS). */
  maxRequests?: number;
  /** Without `since`, how far back a time-ordered list looks (default DEFAULT_LOOKBACK_DAYS). */
  lookbackDays?: number;
  /** Told when a list stopped at the request budget before finding `limit` records (the CLI says so). */
  onTruncated?: (truncation: ListTruncation) => void;
  now?: () => number;
}

interface QueryPlan {
  index: keyof typeof DECISION_RECORDS_TABLE.indexes;
  /** Partition values, newest first (one for access request and person, one per day for time). */
  partitions: string[];
}

export class DynamoDbDecisionRecords implements DecisionRecordStore {
  readonly #tableName: string;
  readonly #client: DynamoDBDocumentClient | undefined;
  readonly #maxRequests: number;
  readonly #lookbackDays: number;
  readonly #onTruncated: ((truncation: ListTruncation) => void) | undefined;
  readonly #now: () => number;
  #document: Promise<DynamoDBDocumentClient> | undefined;

  constructor(options: DynamoDbDecisionRecordsOptions) {
    this.#tableName = options.tableName;
    this.#client = options.client;
    this.#maxRequests = options.maxRequests ?? DEFAULT_MAX_REQUESTS;
    this.#lookbackDays = options.lookbackDays ?? DEFAULT_LOOKBACK_DAYS;
    this.#onTruncated = options.onTruncated;
    this.#now = options.now ?? Date.now;
  }

  get tableName(): string {
    return this.#tableName;
  }

  /**
   * Writes the record and one pointer per person in one transaction, deleting the pointers of people
   * an earlier record of this invocation had and this one has not: a redelivery's record replaces it.
   */
  async put(record: DecisionRecord, options?: RecordCallOptions): Promise<void> {
    const signal = options?.signal;
    const fitted = fitRecord(record);
    const people = indexedPeople(fitted.record);
    const { QueryCommand, TransactWriteCommand } = await import("@aws-sdk/lib-dynamodb");
    const existing = await this.#send<{ Items?: Item[] }>(
      "Query",
      new QueryCommand({
        TableName: this.#tableName,
        KeyConditionExpression: "#pk = :id AND begins_with(#sk, :person)",
        ExpressionAttributeNames: { "#pk": "invocationId", "#sk": "entry" },
        ExpressionAttributeValues: { ":id": record.invocationId, ":person": PERSON_PREFIX },
        ProjectionExpression: "#sk",
        ConsistentRead: true,
      }),
      signal,
    );
    const wanted = new Set(people.map((id) => `${PERSON_PREFIX}${id}`));
    const stale = (existing.Items ?? [])
      .map((item) => String(item.entry))
      .filter((entry) => !wanted.has(entry));
    const writes: Writes = [
      { Put: { TableName: this.#tableName, Item: recordItem(fitted.record, fitted.json) } },
      ...people.map((id) => ({ Put: { TableName: this.#tableName, Item: pointerItem(fitted.record, id) } })),
    ];
    const deletes: Writes = stale.map((entry) => ({
      Delete: { TableName: this.#tableName, Key: { invocationId: record.invocationId, entry } },
    }));
    // 1 + 49 puts + 49 deletes fit one transaction; pointers left over by a crash between the two
    // writes below are harmless: a list checks the record's people before returning it.
    const first = [...writes, ...deletes.slice(0, 100 - writes.length)];
    await this.#send("TransactWriteItems", new TransactWriteCommand({ TransactItems: first }), signal);
    for (let at = 100 - writes.length; at < deletes.length; at += 100) {
      await this.#send(
        "TransactWriteItems",
        new TransactWriteCommand({ TransactItems: deletes.slice(at, at + 100) }),
        signal,
      );
    }
  }

  async list(filter: DecisionFilter, options?: RecordCallOptions): Promise<DecisionRecord[]> {
    const limit = Math.min(Math.max(1, Math.floor(filter.limit ?? DEFAULT_LIST_LIMIT)), MAX_LIST_LIMIT);
    const budget: Budget = { left: this.#maxRequests, truncated: false };
    const plan = this.#plan(filter);
    const found: DecisionRecord[] = [];
    const seen = new Set<string>();
    for await (const keys of this.#candidatePages(plan, filter, budget, options?.signal)) {
      const records = await this.#bodies(keys, budget, options?.signal);
      for (const record of records) {
        // TTL deletes lazily (within days): a record past its retention is not returned meanwhile.
        if (seen.has(record.invocationId) || isExpired(record, this.#now()) || !matchesFilter(record, filter))
          continue;
        seen.add(record.invocationId);
        found.push(record);
      }
      if (found.length >= limit) break;
    }
    if (budget.truncated && found.length < limit) {
      this.#onTruncated?.({
        requests: this.#maxRequests - budget.left,
        found: found.length,
        index: plan.index,
      });
    }
    return newestFirst(found).slice(0, limit);
  }

  async find(id: string, options?: RecordCallOptions): Promise<DecisionRecord[]> {
    const signal = options?.signal;
    const { GetCommand } = await import("@aws-sdk/lib-dynamodb");
    const [direct, byRequest] = await Promise.all([
      this.#send<{ Item?: Item }>(
        "GetItem",
        new GetCommand({
          TableName: this.#tableName,
          Key: { invocationId: id, entry: RECORD_ENTRY },
          ConsistentRead: true,
        }),
        signal,
      ),
      this.list({ accessRequestId: id, limit: MAX_LIST_LIMIT }, options),
    ]);
    const records = byRequest.filter((r) => r.invocationId !== id);
    if (direct.Item !== undefined) {
      const record = this.#parse(direct.Item);
      if (!isExpired(record, this.#now())) records.push(record);
    }
    return newestFirst(records);
  }

  #plan(filter: DecisionFilter): QueryPlan {
    if (filter.accessRequestId !== undefined) {
      return { index: "byAccessRequest", partitions: [filter.accessRequestId] };
    }
    if (filter.personId !== undefined) return { index: "byPerson", partitions: [filter.personId] };
    const until = Math.min(filter.until ?? this.#now(), this.#now() + DAY_MS);
    const since = filter.since ?? until - this.#lookbackDays * DAY_MS;
    const days: string[] = [];
    for (let at = until; dayOf(at) >= dayOf(since); at -= DAY_MS) days.push(dayOf(at));
    return { index: "byDay", partitions: days };
  }

  /** Pages of keys of record items, newest first, from the plan's index with the filters DynamoDB can apply. */
  async *#candidatePages(
    plan: QueryPlan,
    filter: DecisionFilter,
    budget: Budget,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<Key[]> {
    const { QueryCommand } = await import("@aws-sdk/lib-dynamodb");
    const index = DECISION_RECORDS_TABLE.indexes[plan.index];
    const query = (partition: string, start: Item | undefined) => {
      budget.left -= 1;
      return this.#send<{ Items?: Item[]; LastEvaluatedKey?: Item }>(
        "Query",
        new QueryCommand({
          TableName: this.#tableName,
          IndexName: plan.index,
          ScanIndexForward: false,
          ...keyCondition(index, partition, filter),
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        }),
        signal,
      );
    };
    const toKeys = (items: Item[] | undefined): Key[] =>
      (items ?? []).map((item) => ({ invocationId: String(item.invocationId), entry: RECORD_ENTRY }));
    // Days are queried a few at once (a day without records still costs a request), then read in order.
    let at = 0;
    while (at < plan.partitions.length) {
      if (budget.left <= 0) {
        budget.truncated = true;
        return;
      }
      const group = plan.partitions.slice(at, at + Math.min(DAY_QUERY_CONCURRENCY, budget.left));
      at += group.length;
      const firstPages = await Promise.all(group.map((partition) => query(partition, undefined)));
      for (const [i, partition] of group.entries()) {
        let page = firstPages[i]!;
        yield toKeys(page.Items);
        while (page.LastEvaluatedKey !== undefined) {
          if (budget.left <= 0) {
            budget.truncated = true;
            return;
          }
          page = await query(partition, page.LastEvaluatedKey);
          yield toKeys(page.Items);
        }
      }
    }
  }

  /** The records of `keys` (BatchGetItem, 100 keys a request, unprocessed keys retried within the budget). */
  async #bodies(keys: Key[], budget: Budget, signal: AbortSignal | undefined): Promise<DecisionRecord[]> {
    if (keys.length === 0) return [];
    const { BatchGetCommand } = await import("@aws-sdk/lib-dynamodb");
    const unique = [...new Map(keys.map((k) => [k.invocationId, k])).values()];
    const records: DecisionRecord[] = [];
    let pending = unique;
    // A BatchGetItem may return some keys unprocessed (throttling): they are asked again, a few times.
    for (let round = 0; pending.length > 0 && round < 5; round += 1) {
      const next: Key[] = [];
      for (let at = 0; at < pending.length; at += 100) {
        budget.left -= 1;
        const reply = await this.#send<{
          Responses?: Record<string, Item[]>;
          UnprocessedKeys?: Record<string, { Keys?: Item[] }>;
        }>(
          "BatchGetItem",
          new BatchGetCommand({
            RequestItems: { [this.#tableName]: { Keys: pending.slice(at, at + 100), ConsistentRead: true } },
          }),
          signal,
        );
        for (const item of reply.Responses?.[this.#tableName] ?? []) records.push(this.#parse(item));
        for (const key of reply.UnprocessedKeys?.[this.#tableName]?.Keys ?? []) next.push(key as Key);
      }
      pending = next;
      if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
    }
    if (pending.length > 0) {
      throw new AwsServiceError("DynamoDB", "BatchGetItem", {
        name: "UnprocessedKeys",
        message: `${pending.length} keys still unprocessed`,
      });
    }
    return records;
  }

  #parse(item: Item): DecisionRecord {
    const where = `decision record ${String(item.invocationId)} in table ${this.#tableName}`;
    let value: unknown;
    try {
      value = JSON.parse(String(item.record));
    } catch {
      value = undefined;
    }
    return parseDecisionRecord(value, where);
  }

  async #documentClient(): Promise<DynamoDBDocumentClient> {
    if (this.#client !== undefined) return this.#client;
    this.#document ??= Promise.all([import("@aws-sdk/lib-dynamodb"), dynamoDbClient()]).then(
      ([{ DynamoDBDocumentClient }, client]) =>
        DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    );
    return this.#document;
  }

  /** Sends one command, bounded by `signal` (the SDK gets it too, and the call stops waiting when it aborts). */
  async #send<T>(operation: string, command: unknown, signal: AbortSignal | undefined): Promise<T> {
    const abandoned = () =>
      new DecisionRecordCallAbortedError(`DynamoDB ${operation}`, { cause: signal?.reason });
    if (signal?.aborted) throw abandoned();
    const work = (async () => {
      const client = await this.#documentClient();
      const send = client.send.bind(client) as unknown as Send;
      try {
        return (await send(command, signal === undefined ? {} : { abortSignal: signal })) as T;
      } catch (error) {
        if (signal?.aborted) throw abandoned();
        throw new AwsServiceError("DynamoDB", operation, error);
      }
    })();
    return untilAborted(work, signal, abandoned);
  }
}
