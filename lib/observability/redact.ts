/**
 * Redaction applied to everything we log. Powertools Logger does not redact, so the logger built by
 * createLogger runs every line through `redact` (structure) and `redactJsonValue` (last gate during
 * serialization). Usable on its own wherever a value may reach a log or an error report.
 */
import { InvocationSecret } from "../triggers/secret.ts";

export const REDACTED = "[redacted]";

/** Keys whose values are never logged, whatever they hold. */
export const SENSITIVE_KEY =
  /secret|authorization|password|passwd|token|credential|cookie|x-api-key|api[-_]?key/i;

const AUTH_SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
// Form and query pairs, also at the start of a text or after a space (an OAuth form body as text).
const QUERY_SECRET =
  /((?:^|[?&\s])(?:client_secret|secret|token|access_token|refresh_token|password)=)[^&\s"'#]*/gi;
// A JSON pair written inside text (a raw body, a parse error): `"key": "value"`, the value running to
// its closing quote (escapes included); and the same pair in JSON that was itself escaped (`\"key\"`).
const JSON_STRING_PAIR = /("([A-Za-z0-9_.-]{1,64})"\s*:\s*")((?:[^"\\]|\\.)*)/g;
const ESCAPED_JSON_STRING_PAIR = /(\\"([A-Za-z0-9_.-]{1,64})\\"\s*:\s*\\")((?:[^"\\]|\\[^"])*)/g;
const MAX_DEPTH = 12;

export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key);
}

/**
 * Masks credentials inside free text: `Bearer abc` → `Bearer [redacted]`, `?secret=x` → `?secret=[redacted]`,
 * `"secret":"x"` → `"secret":"[redacted]"`.
 */
export function redactString(text: string): string {
  return text
    .replace(AUTH_SCHEME, `$1 ${REDACTED}`)
    .replace(QUERY_SECRET, `$1${REDACTED}`)
    .replace(ESCAPED_JSON_STRING_PAIR, maskSensitivePair)
    .replace(JSON_STRING_PAIR, maskSensitivePair);
}

function maskSensitivePair(pair: string, prefix: string, key: string): string {
  return isSensitiveKey(key) ? `${prefix}${REDACTED}` : pair;
}

/**
 * A copy of `value` safe to log: sensitive keys replaced by "[redacted]" at any depth, credentials
 * masked inside strings, InvocationSecret printed as "[redacted]", Errors turned into plain objects
 * (name, message, code, stack, cause, own fields) and redacted the same way, cycles cut.
 */
export function redact(value: unknown): unknown {
  return redactValue(value, new WeakSet(), 0);
}

function redactValue(value: unknown, seen: WeakSet<object>, depth: number): unknown {
  if (typeof value === "string") return redactString(value);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "function" || typeof value === "symbol") return undefined;
  if (typeof value !== "object" || value === null) return value;
  if (value instanceof InvocationSecret) return REDACTED;
  if (seen.has(value)) return "[circular]";
  if (depth >= MAX_DEPTH) return "[truncated]";
  seen.add(value);
  try {
    if (value instanceof Error) return redactError(value, seen, depth);
    if (Array.isArray(value)) return value.map((item) => redactValue(item, seen, depth + 1));
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
    if (value instanceof URL) return redactUrl(value);
    if (value instanceof Map) return redactEntries(value.entries(), seen, depth);
    if (value instanceof Set) return [...value].map((item) => redactValue(item, seen, depth + 1));
    if (typeof Headers !== "undefined" && value instanceof Headers)
      return redactEntries(value.entries(), seen, depth);
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") return redactValue(toJSON.call(value), seen, depth + 1);
    return redactEntries(Object.entries(value), seen, depth);
  } finally {
    seen.delete(value);
  }
}

function redactEntries(entries: Iterable<[unknown, unknown]>, seen: WeakSet<object>, depth: number) {
  const out: Record<string, unknown> = {};
  for (const [rawKey, item] of entries) {
    const key = String(rawKey);
    out[key] = isSensitiveKey(key) ? REDACTED : redactValue(item, seen, depth + 1);
  }
  return out;
}

function redactError(error: Error, seen: WeakSet<object>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: error.name,
    message: redactString(error.message),
  };
  if (error.stack !== undefined) out.stack = redactString(error.stack);
  for (const [key, item] of Object.entries(error)) {
    if (key === "name" || key === "message" || key === "stack" || key === "cause") continue;
    out[key] = isSensitiveKey(key) ? REDACTED : redactValue(item, seen, depth + 1);
  }
  if (error.cause !== undefined) out.cause = redactValue(error.cause, seen, depth + 1);
  return out;
}

function redactUrl(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password) copy.password = REDACTED;
  for (const key of [...copy.searchParams.keys()]) {
    if (isSensitiveKey(key)) copy.searchParams.set(key, REDACTED);
  }
  return redactString(copy.href);
}

/**
 * JSON.stringify replacer with the same rules, key by key: the last gate on a serialized log line,
 * so a value that bypassed `redact` (a buffered line, an attribute added by a library) still cannot
 * print a sensitive key or a bearer credential.
 */
export function redactJsonValue(key: string, value: unknown): unknown {
  if (key !== "" && isSensitiveKey(key) && value !== undefined) return REDACTED;
  if (typeof value === "string") return redactString(value);
  if (value instanceof InvocationSecret) return REDACTED;
  return value;
}
