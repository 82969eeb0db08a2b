/**
 * The one check between an id from an untrusted payload and a URL. ISC ids are 32 hex characters or
 * UUIDs, so a plain id is ASCII letters, digits, `-` and `_`, starting with a letter or digit, at most
 * 128 characters: no `/ ? # % " ' \`, no space, no dot (no `.`/`..` path segment), nothing non-ASCII.
 * Such an id can go into a path segment or between the quotes of a filter as it is.
 */
import { IscRequestRefusedError } from "../isc/errors.ts";

export const MAX_ID_LENGTH = 128;

const PLAIN_ID = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** True when `value` is a string of plain id characters (safe in a URL path and a filter). */
export function isPlainId(value: unknown): value is string {
  return typeof value === "string" && value.length <= MAX_ID_LENGTH && PLAIN_ID.test(value);
}

/** `value` when it is a plain id; else IscRequestRefusedError naming `what` (never the value itself). */
export function checkPlainId(value: unknown, what: string): string {
  if (!isPlainId(value)) {
    throw new IscRequestRefusedError(`the ${what} is missing or has characters an id cannot have`);
  }
  return value;
}

/** The ISC filter `id in ("a","b")` for a non-empty list of plain ids; refuses anything else. */
export function idFilter(ids: readonly string[]): string {
  if (ids.length === 0) throw new IscRequestRefusedError("an id filter needs at least one id");
  return `id in (${ids.map((id) => `"${checkPlainId(id, "id in the filter")}"`).join(",")})`;
}
