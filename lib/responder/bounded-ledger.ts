/**
 * The ledger as respond() uses it: every call carries a signal that ends it in time, so a ledger
 * that does not answer (DynamoDB throttled, a hung connection) can neither hold the delivery past the
 * Lambda's remaining time nor eat the time the near-deadline bypass needs to complete without it.
 *
 * - Calls before the completion (recordReceived, get, recordDecision, claimCompletion) may use at
 *   most half of the time left before the completion deadline or the call's end, whichever is first:
 *   the other half is for completing without the ledger when it fails near the deadline.
 * - Writes after the outcome is known (markCompleted, markFailed, releaseCompletion) are bounded by
 *   the call's end only: they record what happened, also after the completion deadline.
 * - Every call is bounded by `timeoutMs` and by the call's signal as well.
 *
 * Each call is also raced against its signal, so a ledger that ignores the signal cannot hang either.
 */
import { untilAborted } from "../adapters/abortable.ts";
import { LedgerCallAbortedError } from "../adapters/errors.ts";
import type { InvocationLedger, LedgerCallOptions } from "../adapters/types.ts";
import { timeoutSignal } from "./run-support.ts";

export interface LedgerBounds {
  /** Epoch ms. */
  now: () => number;
  /** The longest one ledger call may take. */
  timeoutMs: number;
  /** The call's signal (the Lambda's remaining time). */
  signal?: AbortSignal;
  /** Epoch ms by which respond() must have returned. */
  endsAt?: number;
  /** Epoch ms by which a completion must be over (the safety-adjusted deadline). */
  completionDeadline: number;
}

/** When a call made now must be over: before the completion (`beforeCompletion`) or after the outcome. */
export function ledgerCallEnd(bounds: LedgerBounds, beforeCompletion: boolean): number {
  const now = bounds.now();
  let until = now + bounds.timeoutMs;
  if (bounds.endsAt !== undefined) until = Math.min(until, bounds.endsAt);
  if (beforeCompletion && bounds.completionDeadline > now) {
    const horizon =
      bounds.endsAt === undefined
        ? bounds.completionDeadline
        : Math.min(bounds.endsAt, bounds.completionDeadline);
    until = Math.min(until, now + (horizon - now) / 2);
  }
  return until;
}

/** `ledger` with every call bounded as described above; same interface, same results. */
export function boundedLedger(ledger: InvocationLedger, bounds: LedgerBounds): InvocationLedger {
  const call = <T>(
    operation: string,
    beforeCompletion: boolean,
    work: (options: LedgerCallOptions) => Promise<T>,
  ): Promise<T> => {
    const timeout = timeoutSignal(ledgerCallEnd(bounds, beforeCompletion) - bounds.now());
    const signal = bounds.signal === undefined ? timeout : AbortSignal.any([bounds.signal, timeout]);
    const abandoned = () => new LedgerCallAbortedError(operation, { cause: signal.reason });
    if (signal.aborted) return Promise.reject(abandoned());
    return untilAborted(work({ signal }), signal, abandoned);
  };
  return {
    recordReceived: (invocation) =>
      call("recordReceived", true, (options) => ledger.recordReceived(invocation, options)),
    get: (invocationId) => call("get", true, (options) => ledger.get(invocationId, options)),
    recordDecision: (invocationId, decision) =>
      call("recordDecision", true, (options) => ledger.recordDecision(invocationId, decision, options)),
    claimCompletion: (invocationId, owner, leaseMs, now) =>
      call("claimCompletion", true, (options) =>
        ledger.claimCompletion(invocationId, owner, leaseMs, now, options),
      ),
    markCompleted: (invocationId, completedAt, outcome) =>
      call("markCompleted", false, (options) =>
        ledger.markCompleted(invocationId, completedAt, outcome, options),
      ),
    markFailed: (invocationId, outcome) =>
      call("markFailed", false, (options) => ledger.markFailed(invocationId, outcome, options)),
    releaseCompletion: (invocationId, owner) =>
      call("releaseCompletion", false, (options) => ledger.releaseCompletion(invocationId, owner, options)),
  };
}
