/**
 * Reading an untrusted request body: size limit first (declared and actual, base64 decoded), then
 * JSON.parse, then a nesting limit. JSON.parse itself copes with deep nesting, but JSON.stringify,
 * structuredClone and recursive code downstream (queue serialisation, loggers, rules) overflow the
 * stack on it, so a body nested deeper than any real trigger payload is refused here.
 */
import { ResponderError } from "../errors.ts";

export const DEFAULT_MAX_BODY_BYTES = 262_144;
/** Trigger payloads nest about 5 levels (items → form → fields); 64 leaves room for custom forms. */
export const MAX_JSON_DEPTH = 64;

export class BodyTooLargeError extends ResponderError {
  constructor(limit: number) {
    super("BODY_TOO_LARGE", `the request body is larger than ${limit} bytes`, { httpStatus: 413 });
  }
}

export class InvalidJsonError extends ResponderError {
  constructor(reason: string) {
    super("INVALID_JSON", `the request body is not ${reason}`, { httpStatus: 400 });
  }
}

export interface RawBody {
  body?: string | undefined;
  isBase64Encoded?: boolean | undefined;
  /** The Content-Length header, if any. */
  contentLength?: string | undefined;
}

// fatal: invalid UTF-8 is refused rather than silently replaced. One decoder per container (it holds no state between calls).
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The body as text, refusing anything over `maxBytes` (UTF-8 bytes) before decoding when the length
 * is already known. A text body is measured without copying it; a base64 body is decoded once and must
 * be valid UTF-8.
 */
export function readBodyText(raw: RawBody, maxBytes: number): string {
  if (raw.contentLength !== undefined) {
    const declared = Number(raw.contentLength);
    if (Number.isFinite(declared) && declared > maxBytes) throw new BodyTooLargeError(maxBytes);
  }
  const text = raw.body ?? "";
  if (raw.isBase64Encoded) {
    // 4 base64 characters carry 3 bytes: refuse an oversized body without decoding it.
    if (Math.floor((text.length * 3) / 4) > maxBytes + 3) throw new BodyTooLargeError(maxBytes);
    const bytes = Buffer.from(text, "base64");
    if (bytes.length > maxBytes) throw new BodyTooLargeError(maxBytes);
    try {
      return utf8.decode(bytes);
    } catch {
      throw new InvalidJsonError("valid UTF-8 JSON");
    }
  }
  // A UTF-16 string of n code units is at least n UTF-8 bytes: a cheap first test.
  if (text.length > maxBytes) throw new BodyTooLargeError(maxBytes);
  if (Buffer.byteLength(text, "utf8") > maxBytes) throw new BodyTooLargeError(maxBytes);
  return text;
}

/**
 * True if arrays/objects nest deeper than `limit`. Iterative (no recursion to overflow) and without
 * per-node allocations: it runs on every request, so two parallel stacks and for-in over the keys.
 */
export function exceedsDepth(value: unknown, limit: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  const nodes: object[] = [value];
  const depths: number[] = [1];
  while (nodes.length > 0) {
    const node = nodes.pop()!;
    const depth = depths.pop()!;
    if (depth > limit) return true;
    if (Array.isArray(node)) {
      for (const child of node) {
        if (typeof child === "object" && child !== null) {
          nodes.push(child);
          depths.push(depth + 1);
        }
      }
    } else {
      for (const key in node) {
        const child = (node as Record<string, unknown>)[key];
        if (typeof child === "object" && child !== null) {
          nodes.push(child);
          depths.push(depth + 1);
        }
      }
    }
  }
  return false;
}

/** A JSON object (not an array or scalar) from the body text. */
export function parseJsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidJsonError("valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidJsonError("a JSON object");
  }
  if (exceedsDepth(value, MAX_JSON_DEPTH)) {
    throw new InvalidJsonError(`a JSON object nested at most ${MAX_JSON_DEPTH} levels deep`);
  }
  return value as Record<string, unknown>;
}
