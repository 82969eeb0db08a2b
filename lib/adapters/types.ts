/**
 * The small interfaces business logic talks to. Each has an AWS adapter (lib/adapters/aws/) and a
 * local one (lib/adapters/local/); nothing outside lib/adapters/aws imports an AWS SDK client.
 */
import type { QueuedDecisionRecord } from "../audit/queued-record.ts";
import type { ActionSpec } from "../rules/types.ts";
import type { QueuedInvocation } from "../triggers/queued-invocation.ts";

/** Reads secret strings (Secrets Manager in AWS, environment or memory locally). */
export interface SecretsStore {
  /** The secret's current string value. Throws SecretNotFoundError if it does not exist. */
  getSecretString(secretId: string): Promise<string>;
}

/** What the http function hands the worker: an invocation, or a decision record for it to write. */
export type QueueMessage = QueuedInvocation | QueuedDecisionRecord;

/** Hands an invocation (or a decision record) to the worker (SQS in AWS, an in-process queue locally). */
export interface InvocationQueue {
  enqueue(message: QueueMessage): Promise<void>;
}

/**
 * Puts an invocation the worker could not finish back on its queue as a new message, delivered
 * after a delay (SQS SendMessage with DelaySeconds). Unlike a redelivery after the visibility
 * timeout it comes back when the worker chooses, inside the invocation's deadline, and it does not
 * count towards the queue's maxReceiveCount (the worker only uses it while the deadline is ahead).
 */
export interface RedeliveryQueue {
  /** `delaySeconds` 0..900; `signal` bounds the send. */
  redeliverLater(message: QueuedInvocation, delaySeconds: number, signal?: AbortSignal): Promise<void>;
}

/** SQS's longest DelaySeconds. */
export const MAX_REDELIVERY_DELAY_SECONDS = 900;

export type LedgerState = "received" | "decided" | "completed" | "failed";

export interface LedgerDecision {
  output: Record<string, unknown>;
  /** The decision's explanation (rule id, matched conditions, rules version, timings): the audit trail. */
  explanation: unknown;
  /** True when the output is the trigger's fallback rather than a rule's decision. */
  fallback: boolean;
  /**
   * The decision's actions, stored with it so that a delivery resuming a stored decision (crash
   * between deciding and completing) runs the same actions after completing. Persist as given.
   */
  actions?: ActionSpec[];
  /** Epoch ms when it was decided: a later delivery that reuses it records that time (lib/audit). */
  decidedAt?: number;
}

export interface LedgerRecord {
  invocationId: string;
  triggerId: string;
  accessRequestId: string;
  state: LedgerState;
  /** Epoch ms. */
  receivedAt: number;
  /** Epoch ms after which ISC refuses a completion. */
  deadline: number;
  /** Epoch seconds: the DynamoDB TTL attribute (some time after the deadline). */
  expiresAt: number;
  decision?: LedgerDecision;
  /** Who holds the completion lease, and until when (epoch ms); a crashed holder's lease expires. */
  leaseOwner?: string;
  leaseUntil?: number;
  completedAt?: number;
  /** How it ended when not completed normally ("already completed or expired", "deadline passed", ...). */
  outcome?: string;
  attempts: number;
  updatedAt: number;
}

export interface ReceivedInvocation {
  invocationId: string;
  triggerId: string;
  accessRequestId: string;
  receivedAt: number;
  deadline: number;
}

/** Bounds of one ledger call. */
export interface LedgerCallOptions {
  /**
   * Abandons the call when it aborts: it rejects with LedgerCallAbortedError (a call whose signal has
   * already aborted sends nothing). A write under way may or may not have been applied.
   */
  signal?: AbortSignal;
}

/**
 * The invocation ledger keyed by invocation id. Every transition is a conditional write, so
 * duplicate deliveries never decide twice or complete twice, and a crash between steps resumes.
 * Every call takes `options.signal` so that a ledger that does not answer cannot hold its caller
 * past the invocation's deadline.
 */
export interface InvocationLedger {
  /** Creates the record in state "received" unless one exists; either way returns the stored record. */
  recordReceived(
    invocation: ReceivedInvocation,
    options?: LedgerCallOptions,
  ): Promise<{ created: boolean; record: LedgerRecord }>;
  get(invocationId: string, options?: LedgerCallOptions): Promise<LedgerRecord | undefined>;
  /**
   * Stores the decision only if none is stored yet (state "received"); returns the record as stored,
   * which holds the earlier decision if another delivery decided first.
   */
  recordDecision(
    invocationId: string,
    decision: LedgerDecision,
    options?: LedgerCallOptions,
  ): Promise<LedgerRecord>;
  /**
   * Takes the completion lease if the record is "decided" and nobody holds an unexpired lease.
   * Returns false if it is completed, failed, or leased to someone else.
   */
  claimCompletion(
    invocationId: string,
    owner: string,
    leaseMs: number,
    now?: number,
    options?: LedgerCallOptions,
  ): Promise<boolean>;
  /** Final state; only from "received" or "decided". Returns false if it was already final. */
  markCompleted(
    invocationId: string,
    completedAt: number,
    outcome?: string,
    options?: LedgerCallOptions,
  ): Promise<boolean>;
  markFailed(invocationId: string, outcome: string, options?: LedgerCallOptions): Promise<boolean>;
  /** Drops the lease (after a failed attempt) so a retry need not wait for it to expire. */
  releaseCompletion(invocationId: string, owner: string, options?: LedgerCallOptions): Promise<void>;
}
