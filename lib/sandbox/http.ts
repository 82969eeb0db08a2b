/** Small node:http helpers: bodies, JSON replies and ISC's error shapes. */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/** Bodies above this are refused: nothing ISC accepts is anywhere near it. */
export const MAX_BODY_BYTES = 1_048_576;

export const DETAIL_BAD_REQUEST = "400.1 Bad Request Content";
export const DETAIL_NOT_FOUND_REFERENCE = "400.1.404 Referenced object not found";
export const DETAIL_NOT_FOUND = "404 Not found";

/** ISC's ErrorResponseDto. */
export interface ErrorResponseDto {
  detailCode: string;
  trackingId: string;
  messages: { locale: string; localeOrigin: "DEFAULT"; text: string }[];
  causes: { locale: string; localeOrigin: "DEFAULT"; text: string }[];
}

/** A reply the router sends as is; handlers throw it to stop. */
export class HttpReply extends Error {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Record<string, string>;
  constructor(status: number, body: unknown, headers: Record<string, string> = {}) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

export function trackingId(): string {
  return randomBytes(16).toString("hex");
}

export function errorBody(detailCode: string, text: string, causes: string[] = []): ErrorResponseDto {
  return {
    detailCode,
    trackingId: trackingId(),
    messages: [{ locale: "en-US", localeOrigin: "DEFAULT", text }],
    causes: causes.map((cause) => ({ locale: "en-US", localeOrigin: "DEFAULT", text: cause })),
  };
}

export function badRequest(text: string, causes: string[] = []): HttpReply {
  return new HttpReply(400, errorBody(DETAIL_BAD_REQUEST, text, causes));
}

export function notFound(what: string): HttpReply {
  return new HttpReply(404, errorBody(DETAIL_NOT_FOUND, `${what} was not found`));
}

/** What ISC answers for a completion it cannot apply (unknown, completed, expired): final. */
export function referenceNotFound(text: string): HttpReply {
  return new HttpReply(400, errorBody(DETAIL_NOT_FOUND_REFERENCE, text));
}

export const JWT_EXPIRED_BODY = { error: "JWT validation failed: JWT is expired" };
export const RATE_LIMIT_BODY = { message: " Rate Limit Exceeded " };

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpReply(413, errorBody(DETAIL_BAD_REQUEST, "request body too large")));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** The media type without parameters, lower case ("application/json; charset=utf-8" → "application/json"). */
export function mediaType(req: IncomingMessage): string {
  return (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
}

export function parseJsonBody(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest("The request body is not valid JSON");
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  if (body === undefined || status === 204) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json;charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** ISC-style timestamps: ISO-8601 with milliseconds and Z. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
