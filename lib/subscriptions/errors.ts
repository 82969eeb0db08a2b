/**
 * Failures of the subscriptions custom resource and of token rotation. CloudFormation shows the
 * message as the resource's failure reason, so it carries what a person needs to act (the ISC status,
 * detailCode and trackingId) and never a token or client secret.
 */
import { ResponderError } from "../errors.ts";

/** The JSONPath filter was refused by the tenant's validate-filter endpoint. */
export class InvalidFilterError extends ResponderError {
  readonly triggerId: string;
  constructor(triggerId: string, filter: string, why: string) {
    super(
      "INVALID_SUBSCRIPTION_FILTER",
      `the filter of ${triggerId} (${truncate(filter, 200)}) was refused by the tenant's validate-filter: ${why}; fix triggers.<trigger>.filter in responder.config.json`,
      { httpStatus: 400 },
    );
    this.triggerId = triggerId;
  }
}

/** A step of creating, updating or removing a subscription failed. Wraps the cause with context. */
export class SubscriptionOperationError extends ResponderError {
  readonly triggerId: string;
  readonly status?: number;
  readonly detailCode?: string;
  readonly trackingId?: string;

  constructor(action: string, triggerId: string, cause: unknown) {
    const facts = describeCause(cause);
    super(
      "SUBSCRIPTION_OPERATION_FAILED",
      `${action} the ISC subscription for ${triggerId} failed: ${facts.text}`,
      {
        httpStatus: 502,
        cause,
      },
    );
    this.triggerId = triggerId;
    if (facts.status !== undefined) this.status = facts.status;
    if (facts.detailCode !== undefined) this.detailCode = facts.detailCode;
    if (facts.trackingId !== undefined) this.trackingId = facts.trackingId;
  }
}

interface CauseFacts {
  text: string;
  status?: number;
  detailCode?: string;
  trackingId?: string;
}

/** status, detailCode and trackingId of an ISC client error (IscApiError, IscDeadlineError...), when present. */
function describeCause(cause: unknown): CauseFacts {
  if (!(cause instanceof Error)) return { text: "unknown error" };
  const fields = cause as Error & {
    status?: unknown;
    detailCode?: unknown;
    trackingId?: unknown;
    code?: unknown;
  };
  const status = typeof fields.status === "number" ? fields.status : undefined;
  const detailCode = typeof fields.detailCode === "string" ? fields.detailCode : undefined;
  const trackingId = typeof fields.trackingId === "string" ? fields.trackingId : undefined;
  const extras = [
    status !== undefined && !cause.message.includes(`status ${status}`) ? `status ${status}` : undefined,
    detailCode !== undefined ? `detailCode "${detailCode}"` : undefined,
    trackingId !== undefined ? `trackingId ${trackingId}` : undefined,
  ].filter((part): part is string => part !== undefined);
  const name = cause instanceof ResponderError ? "" : `${cause.name}: `;
  const text = `${name}${truncate(cause.message, 600)}${extras.length ? ` (${extras.join(", ")})` : ""}`;
  return {
    text,
    ...(status === undefined ? {} : { status }),
    ...(detailCode === undefined ? {} : { detailCode }),
    ...(trackingId === undefined ? {} : { trackingId }),
  };
}

/**
 * The failure reason for CloudFormation. Any secret that could have slipped into a message (the
 * token being sent, for one) is cut out as a last line of defence.
 */
export function failureReason(error: unknown, secrets: ReadonlyArray<string | undefined> = []): string {
  let reason =
    error instanceof ResponderError
      ? error.message
      : error instanceof Error
        ? `${error.name}: ${truncate(error.message, 600)}`
        : "unknown error";
  for (const secret of secrets) {
    if (secret && secret.length >= 4) reason = reason.split(secret).join("[redacted]");
  }
  return reason;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
