/**
 * InvocationLedger in process memory, with the same transition rules as the DynamoDB ledger.
 * Each method reads and writes synchronously between awaits, so transitions are atomic within
 * one Node.js process. Records are copied in and out (JSON round trip, as DynamoDB would), so a
 * caller mutating a returned record cannot change the stored one. A call whose signal has aborted
 * changes nothing and rejects, as the DynamoDB ledger's would.
 */
import { LedgerCallAbortedError, LedgerRecordNotFoundError } from "../errors.ts";
import { canClaim, canComplete, canDecide, canFinish, newLedgerRecord } from "../ledger-record.ts";
import type {
  InvocationLedger,
  LedgerCallOptions,
  LedgerDecision,
  LedgerRecord,
  ReceivedInvocation,
} from "../types.ts";

function copy(record: LedgerRecord): LedgerRecord {
  return JSON.parse(JSON.stringify(record)) as LedgerRecord;
}

function checkSignal(operation: string, options: LedgerCallOptions | undefined): void {
  if (options?.signal?.aborted) throw new LedgerCallAbortedError(operation, { cause: options.signal.reason });
}

export interface MemoryInvocationLedgerOptions {
  /** Clock for updatedAt (epoch ms); defaults to Date.now. */
  now?: () => number;
}

export class MemoryInvocationLedger implements InvocationLedger {
  readonly #records = new Map<string, LedgerRecord>();
  readonly #now: () => number;

  constructor(options: MemoryInvocationLedgerOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  async recordReceived(
    invocation: ReceivedInvocation,
    options?: LedgerCallOptions,
  ): Promise<{ created: boolean; record: LedgerRecord }> {
    checkSignal("recordReceived", options);
    const existing = this.#records.get(invocation.invocationId);
    if (existing !== undefined) return { created: false, record: copy(existing) };
    const record = newLedgerRecord(invocation, this.#now());
    this.#records.set(record.invocationId, record);
    return { created: true, record: copy(record) };
  }

  async get(invocationId: string, options?: LedgerCallOptions): Promise<LedgerRecord | undefined> {
    checkSignal("get", options);
    const record = this.#records.get(invocationId);
    return record === undefined ? undefined : copy(record);
  }

  async recordDecision(
    invocationId: string,
    decision: LedgerDecision,
    options?: LedgerCallOptions,
  ): Promise<LedgerRecord> {
    checkSignal("recordDecision", options);
    const record = this.#require(invocationId);
    if (canDecide(record)) {
      record.decision = JSON.parse(JSON.stringify(decision)) as LedgerDecision;
      record.state = "decided";
      record.updatedAt = this.#now();
    }
    return copy(record);
  }

  async claimCompletion(
    invocationId: string,
    owner: string,
    leaseMs: number,
    now = Date.now(),
    options?: LedgerCallOptions,
  ): Promise<boolean> {
    checkSignal("claimCompletion", options);
    const record = this.#require(invocationId);
    if (!canClaim(record, owner, now)) return false;
    record.leaseOwner = owner;
    record.leaseUntil = now + leaseMs;
    record.attempts += 1;
    record.updatedAt = this.#now();
    return true;
  }

  async markCompleted(
    invocationId: string,
    completedAt: number,
    outcome?: string,
    options?: LedgerCallOptions,
  ): Promise<boolean> {
    checkSignal("markCompleted", options);
    const record = this.#require(invocationId);
    if (!canComplete(record, outcome)) return false;
    record.state = "completed";
    record.completedAt = completedAt;
    // Also clears a superseded "deadline passed".
    if (outcome !== undefined) record.outcome = outcome;
    else delete record.outcome;
    this.#finish(record);
    return true;
  }

  async markFailed(invocationId: string, outcome: string, options?: LedgerCallOptions): Promise<boolean> {
    checkSignal("markFailed", options);
    const record = this.#require(invocationId);
    if (!canFinish(record)) return false;
    record.state = "failed";
    record.outcome = outcome;
    this.#finish(record);
    return true;
  }

  async releaseCompletion(invocationId: string, owner: string, options?: LedgerCallOptions): Promise<void> {
    checkSignal("releaseCompletion", options);
    const record = this.#records.get(invocationId);
    if (record === undefined || record.leaseOwner !== owner) return;
    delete record.leaseOwner;
    delete record.leaseUntil;
    record.updatedAt = this.#now();
  }

  /** Every stored record (copies), for the local runner's status view and tests. */
  list(): LedgerRecord[] {
    return [...this.#records.values()].map(copy);
  }

  #finish(record: LedgerRecord): void {
    delete record.leaseOwner;
    delete record.leaseUntil;
    record.updatedAt = this.#now();
  }

  #require(invocationId: string): LedgerRecord {
    const record = this.#records.get(invocationId);
    if (record === undefined) throw new LedgerRecordNotFoundError(invocationId);
    return record;
  }
}
