/**
 * Why context could not be read. One error type for every failure of a read, so the pipeline can
 * fall back with a reason, log it and count it. Messages name kinds, ids (plain ids only), statuses
 * and ISC's detailCode / trackingId: never payload values, upstream message text or secrets.
 */
import { ResponderError } from "../errors.ts";
import { type ContextKind, type ContextRead, SCOPE_OF_KIND } from "./types.ts";

export const CONTEXT_READ_REASONS = [
  "timeout",
  "forbidden",
  "not-found",
  "rate-limited",
  "unavailable",
  "invalid-response",
  "refused-id",
  "unsupported",
  "misconfigured",
] as const;
export type ContextReadReason = (typeof CONTEXT_READ_REASONS)[number];

export interface ContextReadErrorDetails {
  /** The kind that failed; null when the failure concerns no one kind (an item type the reader does not know). */
  kind: ContextKind | null;
  reason: ContextReadReason;
  /** Plain ids concerned (never a refused, non-plain id: those are described by position). */
  ids?: readonly string[];
  /** Overrides the generated description (still: ids and kinds only). */
  description?: string;
  status?: number;
  detailCode?: string;
  trackingId?: string;
  retryAfterSeconds?: number;
}

const HTTP_STATUS_OF_REASON: Record<ContextReadReason, number> = {
  timeout: 504,
  forbidden: 502,
  "not-found": 502,
  "rate-limited": 503,
  unavailable: 502,
  "invalid-response": 502,
  "refused-id": 400,
  unsupported: 400,
  misconfigured: 500,
};

/** Context a rule needs could not be read: the decision must fall back, never evaluate over a gap. */
export class ContextReadError extends ResponderError {
  readonly kind: ContextKind | null;
  readonly reason: ContextReadReason;
  readonly ids: readonly string[];
  readonly status?: number;
  readonly detailCode?: string;
  readonly trackingId?: string;
  readonly retryAfterSeconds?: number;
  /** For a 403: the OAuth scope the kind needs (SCOPE_OF_KIND), also named in the message. */
  readonly missingScope?: string;
  /** The fetcher calls the failed read had completed (the reader fills it in). */
  readonly reads: readonly ContextRead[];
  private readonly details: ContextReadErrorDetails;

  constructor(details: ContextReadErrorDetails, reads: readonly ContextRead[] = []) {
    const missingScope =
      details.reason === "forbidden" && details.status === 403 && details.kind !== null
        ? SCOPE_OF_KIND[details.kind]
        : undefined;
    super("CONTEXT_UNAVAILABLE", describe(details, missingScope), {
      httpStatus: HTTP_STATUS_OF_REASON[details.reason],
    });
    this.kind = details.kind;
    this.reason = details.reason;
    this.ids = details.ids ?? [];
    if (details.status !== undefined) this.status = details.status;
    if (details.detailCode !== undefined) this.detailCode = details.detailCode;
    if (details.trackingId !== undefined) this.trackingId = details.trackingId;
    if (details.retryAfterSeconds !== undefined) this.retryAfterSeconds = details.retryAfterSeconds;
    if (missingScope !== undefined) this.missingScope = missingScope;
    this.reads = reads;
    this.details = details;
  }

  /** The same failure, carrying the reads of the read it ended (one error object may be shared by callers). */
  withReads(reads: readonly ContextRead[]): ContextReadError {
    return new ContextReadError(this.details, reads);
  }
}

function describe(details: ContextReadErrorDetails, missingScope: string | undefined): string {
  const what = details.description ?? `${details.kind ?? "context"}${formatIds(details.ids)}`;
  const status = details.status === undefined ? "" : ` (status ${details.status})`;
  let text: string;
  switch (details.reason) {
    case "timeout":
      text = `reading ${what} did not finish before the deadline or was aborted${status}`;
      break;
    case "forbidden":
      text =
        `reading ${what} was refused${status}` +
        (missingScope === undefined ? "" : `: the credentials lack the scope ${missingScope}`);
      break;
    case "not-found":
      text = `${what} not found`;
      break;
    case "rate-limited":
      text =
        `reading ${what} was rate-limited${status}` +
        (details.retryAfterSeconds === undefined ? "" : `, retry after ${details.retryAfterSeconds} s`);
      break;
    case "unavailable":
      text = `reading ${what} failed${status}`;
      break;
    case "invalid-response":
      text = `reading ${what} returned an unexpected body${status}`;
      break;
    case "refused-id":
      text = `${what} is not a plain id (letters, digits, - and _, at most 128): refused before any request`;
      break;
    case "unsupported":
      text = `${what} is not supported by the context reader`;
      break;
    case "misconfigured":
      text = `reading ${what} is not possible: the ISC API credentials or settings are wrong (a retry will not help)`;
      break;
  }
  const detailCode = details.detailCode === undefined ? "" : `, detailCode ${details.detailCode}`;
  const trackingId = details.trackingId === undefined ? "" : `, trackingId ${details.trackingId}`;
  return `context: ${text}${detailCode}${trackingId}`;
}

function formatIds(ids: readonly string[] | undefined): string {
  if (ids === undefined || ids.length === 0) return "";
  const shown = ids.slice(0, 5).join(", ");
  return ` [${shown}${ids.length > 5 ? `, and ${ids.length - 5} more` : ""}]`;
}

/** The fields of the ISC client's errors (lib/isc/errors.ts) this mapping reads, by duck typing. */
interface ErrorLike {
  name?: unknown;
  status?: unknown;
  lastStatus?: unknown;
  detailCode?: unknown;
  trackingId?: unknown;
  retryAfterSeconds?: unknown;
}

/**
 * Maps whatever a fetcher threw (IscApiError, IscDeadlineError, IscNetworkError, IscResponseError,
 * IscNotFoundError, an AbortError, a schema error, anything) to a ContextReadError for `kind`.
 */
export function contextReadErrorFrom(
  kind: ContextKind | null,
  ids: readonly string[],
  error: unknown,
): ContextReadError {
  if (error instanceof ContextReadError) return error;
  const like = (typeof error === "object" && error !== null ? error : {}) as ErrorLike;
  const name = typeof like.name === "string" ? like.name : "";
  const rawStatus = typeof like.status === "number" ? like.status : like.lastStatus;
  const status = typeof rawStatus === "number" ? rawStatus : undefined;
  const common = {
    kind,
    ids,
    ...(status === undefined ? {} : { status }),
    ...(typeof like.detailCode === "string" ? { detailCode: like.detailCode } : {}),
    ...(typeof like.trackingId === "string" ? { trackingId: like.trackingId } : {}),
  };
  if (name === "IscDeadlineError" || name === "AbortError" || name === "TimeoutError") {
    return new ContextReadError({ ...common, reason: "timeout" });
  }
  if (name === "IscResponseError" || name === "ZodError" || name === "ValidationError") {
    return new ContextReadError({ ...common, reason: "invalid-response" });
  }
  // A malformed credentials secret or client setting: no retry fixes it, and it must not look transient.
  if (name === "ConfigError" || name === "IscCredentialsError") {
    return new ContextReadError({ ...common, reason: "misconfigured" });
  }
  // An id the client refused before sending: final, like the reader's own refusal.
  if (name === "IscRequestRefusedError") {
    return new ContextReadError({ ...common, reason: "refused-id" });
  }
  if (name === "IscNetworkError") {
    return new ContextReadError({ ...common, reason: "unavailable" });
  }
  // 401 after the client's one token refresh: a token revoked or rotated meanwhile (a retry gets a new
  // one), as for completions; 403 is the missing scope, which no retry fixes.
  if (status === 401) return new ContextReadError({ ...common, reason: "unavailable" });
  if (status === 403) return new ContextReadError({ ...common, reason: "forbidden" });
  if (status === 404 || name === "IscNotFoundError")
    return new ContextReadError({ ...common, reason: "not-found" });
  if (status === 429) {
    const retryAfter = typeof like.retryAfterSeconds === "number" ? like.retryAfterSeconds : undefined;
    return new ContextReadError({
      ...common,
      reason: "rate-limited",
      ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
    });
  }
  return new ContextReadError({ ...common, reason: "unavailable" });
}
