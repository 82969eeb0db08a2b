/**
 * The front's origin check (docs/deploy.md "Front: CloudFront and WAF"): CloudFront adds
 * `x-origin-verify` with a value from Secrets Manager, and the http function refuses a request
 * without it before it authenticates. The secret is `{"value": "..."}` as the stack generates it;
 * an optional `previous` is accepted as well while the distribution switches to a new value.
 *
 * Comparisons are constant time over SHA-256 digests; neither the header nor the secret is ever
 * logged or put in an error.
 */
import {
  type CachedCredentialsOptions,
  type CachedSecretProvider,
  createCachedSecretProvider,
} from "./auth.ts";

// getBuiltinModule skips the ESM facade an `import` of node:crypto builds (measurable at cold start).
const { hash, timingSafeEqual } = process.getBuiltinModule("node:crypto");

/** The header CloudFront adds (infra/front.ts ORIGIN_VERIFY_HEADER; lower case as Function URLs pass headers). */
export const ORIGIN_VERIFY_HEADER = "x-origin-verify";

/** Header values longer than this are refused before hashing (the generated value has 48 characters). */
const MAX_HEADER_LENGTH = 1024;

export interface OriginVerifyValues {
  current: Buffer;
  previous: Buffer | undefined;
}

/** The expected values: `peek` from the cache when fresh, `get({forceRefresh})` re-reads (rate-limited). */
export type OriginVerifyProvider = CachedSecretProvider<OriginVerifyValues>;

/** The origin secret is not `{"value": "..."}`; the message never includes its text. */
export class OriginVerifySecretInvalidError extends Error {
  override readonly name = "OriginVerifySecretInvalidError";
  constructor() {
    super('the origin verify secret is not {"value": "..."} with a non-empty value');
  }
}

function digest(text: string): Buffer {
  return hash("sha256", text, "buffer");
}

// Compared against when there is no previous value, so the work done is the same either way.
const NO_VALUE = digest("\u0000no-origin-value");

/** Parses the secret string (no zod: plain checks keep this off the bundle's schema code). */
export function parseOriginVerifySecret(text: string): OriginVerifyValues {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new OriginVerifySecretInvalidError();
  }
  const { value, previous } = (typeof json === "object" && json !== null ? json : {}) as {
    value?: unknown;
    previous?: unknown;
  };
  if (typeof value !== "string" || value === "") throw new OriginVerifySecretInvalidError();
  return {
    current: digest(value),
    previous: typeof previous === "string" && previous !== "" ? digest(previous) : undefined,
  };
}

/** True if the header carries the current or the previous value; both are compared (no early exit). */
export function originVerified(header: string | undefined, expected: OriginVerifyValues): boolean {
  if (header === undefined || header.length === 0 || header.length > MAX_HEADER_LENGTH) return false;
  const given = digest(header);
  const current = timingSafeEqual(given, expected.current);
  const previous = timingSafeEqual(given, expected.previous ?? NO_VALUE) && expected.previous !== undefined;
  return current || previous;
}

/**
 * Cached like the webhook credentials (lib/http/auth.ts): concurrent misses share one read, a failed
 * read is not cached, a stale value is kept when a refresh fails, a forced re-read (after a wrong
 * header) at most every 10 s. The TTL is longer (5 min): a new value shows up by that re-read.
 */
export function createOriginVerifyProvider(
  readSecretString: () => Promise<string>,
  options: CachedCredentialsOptions = {},
): OriginVerifyProvider {
  return createCachedSecretProvider(readSecretString, parseOriginVerifySecret, {
    ttlMs: 300_000,
    ...options,
  });
}
