/** Reads ISC error replies: ErrorResponseDto, the 401 `{error}` form and the 429 `{message}` form. */
import * as z from "zod/mini";
import type { IscApiErrorDetails } from "./errors.ts";
import type { Clock } from "./timing.ts";
import { IscErrorBodySchema } from "./transport-schemas.ts";

export function parseErrorResponse(
  operation: string,
  status: number,
  text: string,
  headers: Headers,
  now: Clock,
): IscApiErrorDetails {
  const details: IscApiErrorDetails = { status, operation };
  const retryAfterMs = parseRetryAfter(headers.get("retry-after"), now);
  if (retryAfterMs !== undefined) details.retryAfterSeconds = Math.ceil(retryAfterMs / 1000);
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    return details;
  }
  const parsed = z.safeParse(IscErrorBodySchema, json);
  if (!parsed.success) return details;
  const body = parsed.data;
  if (typeof body.detailCode === "string") details.detailCode = body.detailCode;
  if (typeof body.trackingId === "string") details.trackingId = body.trackingId;
  const messages = texts(body.messages);
  for (const single of [body.error, body.error_description, body.message]) {
    if (typeof single === "string" && single.trim() !== "") messages.push(single.trim());
  }
  if (messages.length > 0) details.messages = messages;
  const causes = texts(body.causes);
  if (causes.length > 0) details.causes = causes;
  return details;
}

function texts(list: ReadonlyArray<{ text?: string | null | undefined }> | null | undefined): string[] {
  if (!list) return [];
  return list.map((item) => item.text?.trim()).filter((text): text is string => !!text);
}

/** `Retry-After` as delay-seconds or an HTTP date → ms to wait (≥ 0); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: Clock): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now());
}
