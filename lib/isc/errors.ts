/**
 * Errors of the ISC API client. Each carries what a person (or the retry logic of a caller) needs to
 * act: the HTTP status, ISC's detailCode and trackingId. Messages are built from the method, the path
 * template and ISC's own error text; never from tokens, client secrets or invocation secrets.
 */
import { ResponderError, type ValidationIssue } from "../errors.ts";

export interface IscErrorMessage {
  locale?: string | null;
  localeOrigin?: string | null;
  text: string;
}

export interface IscApiErrorDetails {
  status: number;
  /** `METHOD /path` of the failed call (ids included: they are not secrets). */
  operation: string;
  detailCode?: string;
  trackingId?: string;
  messages?: string[];
  causes?: string[];
  /** Seconds asked by `Retry-After` on a 429, when present. */
  retryAfterSeconds?: number;
}

/** ISC answered with a non-success status (after any retries the client was allowed to make). */
export class IscApiError extends ResponderError {
  readonly status: number;
  readonly operation: string;
  readonly detailCode?: string;
  readonly trackingId?: string;
  readonly messages: string[];
  readonly causes?: string[];
  readonly retryAfterSeconds?: number;

  constructor(details: IscApiErrorDetails, code = "ISC_API_ERROR", summary?: string) {
    const text = summary ?? details.messages?.[0];
    super(code, `ISC ${details.operation} failed with status ${details.status}${text ? `: ${text}` : ""}`, {
      // Our own callers see an upstream failure as a bad gateway; 4xx from ISC means our request was wrong.
      httpStatus: 502,
    });
    this.status = details.status;
    this.operation = details.operation;
    if (details.detailCode !== undefined) this.detailCode = details.detailCode;
    if (details.trackingId !== undefined) this.trackingId = details.trackingId;
    this.messages = details.messages ?? [];
    if (details.causes !== undefined) this.causes = details.causes;
    if (details.retryAfterSeconds !== undefined) this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

/**
 * The completion was refused because the invocation is already completed or has expired
 * (400 with detailCode `400.1.404 Referenced object not found`). Final: retrying cannot help.
 */
export class InvocationGoneError extends IscApiError {
  readonly invocationId: string;
  /**
   * True when an earlier attempt of the same call timed out or got a 5xx after sending: ISC may have
   * applied that attempt, so this "gone" may be our own completion succeeding.
   */
  readonly uncertainEarlierAttempt: boolean;

  constructor(details: IscApiErrorDetails, invocationId: string, uncertainEarlierAttempt = false) {
    super(
      details,
      "ISC_INVOCATION_GONE",
      `invocation ${invocationId} was not found, is already completed, or has expired`,
    );
    this.invocationId = invocationId;
    this.uncertainEarlierAttempt = uncertainEarlierAttempt;
  }
}

/** The fields of an IscApiError, to rebuild it as a more specific subclass. */
export function detailsOf(error: IscApiError): IscApiErrorDetails {
  return {
    status: error.status,
    operation: error.operation,
    messages: error.messages,
    ...(error.detailCode === undefined ? {} : { detailCode: error.detailCode }),
    ...(error.trackingId === undefined ? {} : { trackingId: error.trackingId }),
    ...(error.causes === undefined ? {} : { causes: error.causes }),
    ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
  };
}

/** True for the 400 ISC answers to a second completion or one after the deadline. */
export function isInvocationGoneResponse(status: number, detailCode: string | undefined): boolean {
  return status === 400 && detailCode !== undefined && detailCode.trim().startsWith("400.1.404");
}

/**
 * The caller's deadline passed (or would pass before the next retry could start), or its AbortSignal
 * fired. `lastStatus` is the status of the last attempt, when one got an answer.
 */
export class IscDeadlineError extends ResponderError {
  readonly operation: string;
  readonly reason: "deadline" | "aborted";
  readonly attempts: number;
  readonly lastStatus?: number;
  readonly detailCode?: string;
  readonly trackingId?: string;

  constructor(args: {
    operation: string;
    reason: "deadline" | "aborted";
    attempts: number;
    lastStatus?: number;
    detailCode?: string;
    trackingId?: string;
    cause?: unknown;
  }) {
    const last = args.lastStatus === undefined ? "" : `, last status ${args.lastStatus}`;
    const why = args.reason === "aborted" ? "was aborted" : "ran out of time before its deadline";
    super("ISC_DEADLINE", `ISC ${args.operation} ${why} after ${args.attempts} attempt(s)${last}`, {
      httpStatus: 504,
      cause: args.cause,
    });
    this.operation = args.operation;
    this.reason = args.reason;
    this.attempts = args.attempts;
    if (args.lastStatus !== undefined) this.lastStatus = args.lastStatus;
    if (args.detailCode !== undefined) this.detailCode = args.detailCode;
    if (args.trackingId !== undefined) this.trackingId = args.trackingId;
  }

  /** The CLI prints `status`: expose the last status under that name too. */
  get status(): number | undefined {
    return this.lastStatus;
  }
}

/** No answer at all (connection refused, reset, DNS, per-attempt timeout) after the allowed attempts. */
export class IscNetworkError extends ResponderError {
  readonly operation: string;
  readonly attempts: number;
  readonly timedOut: boolean;

  constructor(operation: string, attempts: number, timedOut: boolean, cause: unknown) {
    const what = timedOut ? "timed out" : `could not reach the tenant (${describeNetworkCause(cause)})`;
    super("ISC_NETWORK", `ISC ${operation} ${what} after ${attempts} attempt(s)`, { httpStatus: 502, cause });
    this.operation = operation;
    this.attempts = attempts;
    this.timedOut = timedOut;
  }
}

/** ISC answered 2xx with a body that does not match the documented shape we rely on. */
export class IscResponseError extends ResponderError {
  readonly operation: string;
  readonly status: number;
  readonly issues: ValidationIssue[];

  constructor(operation: string, status: number, issues: ValidationIssue[]) {
    const summary = issues
      .slice(0, 3)
      .map((issue) => `${issue.path || "(root)"}: ${issue.message}`)
      .join("; ");
    super("ISC_INVALID_RESPONSE", `ISC ${operation} returned an unexpected body: ${summary}`, {
      httpStatus: 502,
    });
    this.operation = operation;
    this.status = status;
    this.issues = issues;
  }
}

/** A required setting is missing or invalid. `variable` names the environment variable to set. */
export class ConfigError extends ResponderError {
  readonly variables: string[];

  constructor(message: string, variables: string[]) {
    super("ISC_CONFIG", message, { httpStatus: 500 });
    this.variables = variables;
  }
}

/** The object does not exist on the tenant (raised client-side, e.g. getSubscription on a list result). */
export class IscNotFoundError extends ResponderError {
  readonly status = 404;

  constructor(what: string, id: string) {
    super("ISC_NOT_FOUND", `${what} ${id} was not found on the tenant`, { httpStatus: 404 });
  }
}

/** A request the client refuses to send because ISC would reject it (e.g. changing an immutable field). */
export class IscRequestRefusedError extends ResponderError {
  constructor(message: string) {
    super("ISC_REQUEST_REFUSED", message, { httpStatus: 400 });
  }
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "DNS lookup failed for now",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  UND_ERR_SOCKET: "connection closed",
};

/**
 * What went wrong, named: `ECONNREFUSED: connection refused`, `ENOTFOUND: host name not found`,
 * `TLS CERT_HAS_EXPIRED`, … rather than undici's `TypeError: fetch failed`. Walks the cause chain
 * (and AggregateError's errors, from happy eyeballs) for the first system or TLS error code.
 */
export function describeNetworkCause(cause: unknown): string {
  const seen = new Set<unknown>();
  const queue: unknown[] = [cause];
  let message: string | undefined;
  while (queue.length > 0 && seen.size < 10) {
    const current = queue.shift();
    if (current === null || typeof current !== "object" || seen.has(current)) continue;
    seen.add(current);
    const { code, cause: inner, errors } = current as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === "string" && code !== "") {
      if (NETWORK_CODES[code] !== undefined) return `${code}: ${NETWORK_CODES[code]}`;
      if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code)) return `TLS ${code}`;
      return code;
    }
    if (current !== cause && current instanceof Error && current.message !== "") message ??= current.message;
    if (inner !== undefined) queue.push(inner);
    if (Array.isArray(errors)) queue.push(...errors);
  }
  // No code anywhere (e.g. undici's "bad port"): its own words, short (they name no credential).
  if (message !== undefined) return message.slice(0, 120);
  return cause instanceof Error ? cause.message.slice(0, 120) || cause.name : "unknown error";
}
