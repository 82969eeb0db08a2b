/**
 * Where decision records go and how they are queried. AWS: a DynamoDB table
 * (lib/adapters/aws/dynamodb-decision-records.ts); locally: a JSON-lines file
 * (lib/adapters/local/file-decision-records.ts). The http function has no DynamoDB client (it would
 * cost every cold start): in AWS it hands its records to the worker through the queue
 * (a RecordSink over the InvocationQueue), and the worker writes them.
 */
import type { DecisionLabel, DecisionRecord } from "./record.ts";

export interface RecordCallOptions {
  /** Abandons the call (a write under way may or may not have been applied). */
  signal?: AbortSignal;
}

/** Writes records. A put of the same invocationId replaces the earlier record (a redelivery's record is the later truth). */
export interface DecisionRecordSink {
  put(record: DecisionRecord, options?: RecordCallOptions): Promise<void>;
}

/** Filters of `decisions list`; all optional, combined with AND. Times are epoch ms on `timings.decidedAt`. */
export interface DecisionFilter {
  accessRequestId?: string;
  /** A person in requestedFor. */
  personId?: string;
  ruleId?: string;
  decision?: DecisionLabel | "fallback";
  triggerId?: string;
  since?: number;
  until?: number;
  /** At most this many (newest first); default 100. */
  limit?: number;
}

/** Reads records (the CLI's `decisions`, `rules replay`, the console). Newest first. */
export interface DecisionRecordSource {
  list(filter: DecisionFilter, options?: RecordCallOptions): Promise<DecisionRecord[]>;
  /** The records of one invocation id, or of every invocation of an access request id. */
  find(id: string, options?: RecordCallOptions): Promise<DecisionRecord[]>;
}

export type DecisionRecordStore = DecisionRecordSink & DecisionRecordSource;

/** A local store the console can watch: each put is announced after it is written. */
export interface WatchableRecords {
  /** Calls `listener` for every record put from now on; returns the unsubscribe function. */
  subscribe(listener: (record: DecisionRecord) => void): () => void;
}

export const DEFAULT_LIST_LIMIT = 100;
