/**
 * The HTTP handler's small pieces: JSON replies, bounded waits, header lookup and loggable errors.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { ResponderError, type ValidationIssue } from "../errors.ts";
import type { Invocation } from "../triggers/invocation.ts";

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2 & {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
};

const JSON_HEADERS = { "content-type": "application/json", "cache-control": "no-store" } as const;
/** Issues listed in a 400 reply; a hostile body could produce thousands. */
export const MAX_ISSUES_IN_REPLY = 20;

export function jsonReply(statusCode: number, body: unknown, headers?: Record<string, string>): HttpResult {
  return {
    statusCode,
    // A fresh literal per reply (callers may add headers to it), without spreading two objects on the warm path.
    headers:
      headers === undefined
        ? { "content-type": JSON_HEADERS["content-type"], "cache-control": JSON_HEADERS["cache-control"] }
        : { ...JSON_HEADERS, ...headers },
    body: JSON.stringify(body),
  };
}

export function errorReply(
  statusCode: number,
  code: string,
  message: string,
  extra: { issues?: ValidationIssue[]; headers?: Record<string, string> } = {},
): HttpResult {
  const error: { code: string; message: string; issues?: ValidationIssue[] } = { code, message };
  if (extra.issues !== undefined) error.issues = extra.issues.slice(0, MAX_ISSUES_IN_REPLY);
  return jsonReply(statusCode, { error }, extra.headers);
}

class TimeoutError extends ResponderError {
  constructor(what: string, ms: number) {
    super("TIMEOUT", `${what} did not finish within ${ms} ms`, { httpStatus: 503 });
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Header lookup tolerant of case (Function URLs lower-case them; other callers may not). */
export function header(event: HttpEvent, name: string): string | undefined {
  const headers = event.headers ?? {};
  const direct = headers[name];
  if (direct !== undefined) return direct;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return value;
  }
  return undefined;
}

/** Error name and code only: SDK messages can quote request parameters. */
export function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof ResponderError)
    return { errorName: error.name, errorCode: error.code, errorMessage: error.message };
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { errorName: error.name, ...(typeof code === "string" ? { errorCode: code } : {}) };
  }
  return { errorName: typeof error };
}

export function invocationFields(invocation: Invocation): Record<string, unknown> {
  return {
    invocationId: invocation.invocationId,
    triggerId: invocation.triggerId,
    mode: invocation.mode,
    accessRequestId:
      invocation.triggerType === "requestResponse" ? invocation.input.accessRequestId : undefined,
  };
}
