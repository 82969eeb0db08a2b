/**
 * Pure helpers shared by every InvocationLedger implementation, so the memory ledger and the
 * DynamoDB ledger apply exactly the same transition rules.
 */
import type { LedgerRecord, LedgerState, ReceivedInvocation } from "./types.ts";

/** How long a record outlives its deadline before DynamoDB TTL may delete it. */
export const LEDGER_RETENTION_SECONDS = 7 * 24 * 60 * 60;

/** The TTL attribute value: deadline + 7 days, in epoch seconds. */
export function ledgerExpiresAt(deadlineMs: number): number {
  return Math.floor(deadlineMs / 1000) + LEDGER_RETENTION_SECONDS;
}

export function newLedgerRecord(invocation: ReceivedInvocation, now: number): LedgerRecord {
  return {
    invocationId: invocation.invocationId,
    triggerId: invocation.triggerId,
    accessRequestId: invocation.accessRequestId,
    state: "received",
    receivedAt: invocation.receivedAt,
    deadline: invocation.deadline,
    expiresAt: ledgerExpiresAt(invocation.deadline),
    attempts: 0,
    updatedAt: now,
  };
}

export const FINAL_STATES: ReadonlySet<LedgerState> = new Set(["completed", "failed"]);

export function canDecide(record: LedgerRecord): boolean {
  return record.state === "received" && record.decision === undefined;
}

/** A lease is free when nobody holds it, it has expired, or the same owner asks again. */
export function canClaim(record: LedgerRecord, owner: string, now: number): boolean {
  if (record.state !== "decided") return false;
  if (record.leaseUntil === undefined || record.leaseOwner === undefined) return true;
  return record.leaseUntil <= now || record.leaseOwner === owner;
}

export function canFinish(record: LedgerRecord): boolean {
  return record.state === "received" || record.state === "decided";
}

/** What a delivery that found the deadline passed records (and respond() reports). */
export const DEADLINE_PASSED = "deadline passed";

/**
 * A completion ISC acknowledged (`outcome` undefined) is the truth: it also closes a record another
 * delivery marked "deadline passed" while this one's completion was in flight. Any other failure
 * stays final, and so does "deadline passed" against a completion with an outcome (such as ISC's
 * "already completed or expired", which does not say this delivery's answer was taken).
 */
export function canComplete(record: LedgerRecord, outcome?: string): boolean {
  if (canFinish(record)) return true;
  return outcome === undefined && record.state === "failed" && record.outcome === DEADLINE_PASSED;
}
