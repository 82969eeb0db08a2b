/**
 * What a failed completion call means for the pipeline: the invocation is gone (final), ISC refused
 * the request for good (final), or the failure is transient and the same output should be sent
 * again later (retry). Unknown errors count as transient: a retry is bounded by the deadline and by
 * the queue's maxReceiveCount, whereas a wrong "final" would lose the invocation.
 *
 * Each also says whether ISC may have applied the attempt all the same (a 204 lost on the way back):
 * a later "gone" then probably means our own completion landed (see respond.ts `gone`).
 */
import { ResponderError } from "../errors.ts";
import { InvocationGoneError, IscApiError, IscDeadlineError } from "../isc/errors.ts";
import { describeError } from "./describe-error.ts";

export type CompletionFailure =
  /** `uncertainEarlierAttempt`: an earlier attempt of the same call may have been applied (InvocationGoneError). */
  | { kind: "gone"; reason: string; uncertainEarlierAttempt: boolean }
  | { kind: "final"; reason: string }
  /** `mayHaveBeenApplied`: the request may have reached ISC and been applied (no answer, or a 5xx but 503). */
  | { kind: "transient"; reason: string; mayHaveBeenApplied: boolean };

// Our request can never be sent as it is (callbackURL outside the tenant, missing secret, bad id).
const FINAL_CODES = new Set(["CALLBACK_URL_REFUSED", "ISC_REQUEST_REFUSED"]);
// 401/403 after the client's own token refresh usually mean credentials or scopes being fixed:
// worth retrying until the deadline, then the message goes to the DLQ for a person to redrive.
const RETRYABLE_4XX = new Set([401, 403, 408, 409, 425, 429]);

export function classifyCompletionError(error: unknown): CompletionFailure {
  const reason = describeError(error);
  if (error instanceof InvocationGoneError) {
    return {
      kind: "gone",
      reason: error.uncertainEarlierAttempt
        ? "already completed (probably by an earlier attempt of this call) or expired"
        : "already completed or expired",
      uncertainEarlierAttempt: error.uncertainEarlierAttempt,
    };
  }
  if (error instanceof IscApiError) {
    // A refused token request (400 invalid_client, 401) is the same credentials problem as a 401 on
    // the completion itself: it says nothing about the invocation, which must not be given up.
    if (error.code === "ISC_AUTH_FAILED") return { kind: "transient", reason, mayHaveBeenApplied: false };
    if (error.status >= 400 && error.status < 500 && !RETRYABLE_4XX.has(error.status)) {
      return { kind: "final", reason: `ISC refused the completion: ${reason}` };
    }
    // A 4xx or 503 says ISC did not take the request; another 5xx may come after it was applied.
    return { kind: "transient", reason, mayHaveBeenApplied: error.status >= 500 && error.status !== 503 };
  }
  if (error instanceof ResponderError && FINAL_CODES.has(error.code)) {
    return { kind: "final", reason: `the completion cannot be sent: ${reason}` };
  }
  // No answer (network error, timeout, aborted in flight) or an unknown error: it may have been sent.
  const sentNothing = error instanceof IscDeadlineError && error.attempts === 0;
  return { kind: "transient", reason, mayHaveBeenApplied: !sentNothing };
}
