/**
 * Typed errors of the adapters. Messages carry ids and operation names only: never a secret value,
 * a message body or an AWS credential.
 */
import { ResponderError } from "../errors.ts";

/** The secret does not exist (Secrets Manager ResourceNotFoundException, or no such env/memory entry). */
export class SecretNotFoundError extends ResponderError {
  readonly secretId: string;
  constructor(secretId: string, options: { cause?: unknown } = {}) {
    super(
      "SECRET_NOT_FOUND",
      `secret "${secretId}" was not found; check the secret id and the function's permission`,
      {
        httpStatus: 500,
        cause: options.cause,
      },
    );
    this.secretId = secretId;
  }
}

/** The secret could not be read for another reason (network, throttling, access denied, bad reply). */
export class SecretsUnavailableError extends ResponderError {
  readonly secretId: string;
  readonly status: number | undefined;
  constructor(secretId: string, reason: string, options: { status?: number; cause?: unknown } = {}) {
    super("SECRETS_UNAVAILABLE", `secret "${secretId}" could not be read: ${reason}`, {
      httpStatus: 503,
      cause: options.cause,
    });
    this.secretId = secretId;
    this.status = options.status;
  }
}

/** A ledger transition was asked for an invocation that was never recorded (recordReceived comes first). */
export class LedgerRecordNotFoundError extends ResponderError {
  readonly invocationId: string;
  constructor(invocationId: string) {
    super("LEDGER_RECORD_NOT_FOUND", `invocation ${invocationId} has no ledger record`, { httpStatus: 500 });
    this.invocationId = invocationId;
  }
}

/**
 * A ledger call was abandoned because its signal aborted: its time ran out (the caller's bound) or
 * the caller gave up. A write may or may not have been applied; the transitions are conditional, so
 * a later call sees whichever it was.
 */
export class LedgerCallAbortedError extends ResponderError {
  readonly operation: string;
  constructor(operation: string, options: { cause?: unknown } = {}) {
    super("LEDGER_CALL_ABORTED", `ledger ${operation} was abandoned: its time ran out or it was aborted`, {
      httpStatus: 503,
      cause: options.cause,
    });
    this.operation = operation;
  }
}

/** An AWS call failed for a reason the adapter does not turn into an outcome (throttling, network, permissions). */
export class AwsServiceError extends ResponderError {
  readonly service: string;
  readonly operation: string;
  readonly awsErrorName: string | undefined;
  readonly requestId: string | undefined;
  constructor(service: string, operation: string, cause: unknown) {
    const name = awsErrorName(cause);
    const requestId = (cause as { $metadata?: { requestId?: string } } | undefined)?.$metadata?.requestId;
    super(
      "AWS_SERVICE_ERROR",
      `${service} ${operation} failed${name ? ` (${name})` : ""}${requestId ? `, request id ${requestId}` : ""}`,
      { httpStatus: 503, cause },
    );
    this.service = service;
    this.operation = operation;
    this.awsErrorName = name;
    this.requestId = requestId;
  }
}

export function awsErrorName(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const named = error as { name?: unknown; __type?: unknown };
  if (typeof named.name === "string") return named.name;
  return typeof named.__type === "string" ? named.__type : undefined;
}
