/**
 * Authenticates ISC's inbound `Authorization` header against the webhook credentials secret
 * (docs/runtime-contract.md): Bearer `{type:"bearer", current, previous?}` or Basic
 * `{type:"basic", username, current, previous?, previousExpiresAt?}`. `current` and `previous` are
 * both accepted so a token can be rotated without downtime; `previous` only until `previousExpiresAt`
 * (ISO date-time; rotation sets it once ISC uses the new token, so an old token does not outlive
 * its rotation). Comparisons are constant time over SHA-256 digests, so neither the length nor a
 * prefix of a credential leaks through timing.
 */
import * as z from "zod/mini";
import { ResponderError } from "../errors.ts";

// getBuiltinModule skips the ESM facade an `import` of node:crypto builds (measurable at cold start).
const { hash, timingSafeEqual } = process.getBuiltinModule("node:crypto");

interface PreviousToken {
  previous?: string | undefined;
  /** Epoch ms after which `previous` is refused; absent: accepted until the next rotation replaces it. */
  previousExpiresAt?: number | undefined;
}
export type WebhookCredentials =
  | ({ type: "bearer"; current: string } & PreviousToken)
  | ({ type: "basic"; username: string; current: string } & PreviousToken);

const secretValue = z.string().check(z.minLength(1));
const previousFields = {
  previous: z.optional(z.nullable(z.string())),
  previousExpiresAt: z.optional(z.nullable(z.string())),
};
const WebhookCredentialsSchema = z.union([
  z.looseObject({ type: z.optional(z.literal("bearer")), current: secretValue, ...previousFields }),
  z.looseObject({ type: z.literal("basic"), username: secretValue, current: secretValue, ...previousFields }),
]);

/** The secret exists but is not one of the documented shapes; never includes the secret's text. */
export class WebhookCredentialsInvalidError extends ResponderError {
  constructor() {
    super(
      "WEBHOOK_CREDENTIALS_INVALID",
      'the webhook credentials secret is not {"type":"bearer","current":...} or {"type":"basic","username":...,"current":...}',
      { httpStatus: 500 },
    );
  }
}

/** Parses the secret string. A missing `type` means bearer; an empty `previous` counts as none. */
export function parseWebhookCredentials(secretString: string): WebhookCredentials {
  let json: unknown;
  try {
    json = JSON.parse(secretString);
  } catch {
    throw new WebhookCredentialsInvalidError();
  }
  const result = z.safeParse(WebhookCredentialsSchema, json);
  if (!result.success) throw new WebhookCredentialsInvalidError();
  const value = result.data;
  const previous = value.previous ? value.previous : undefined;
  // An unreadable expiry fails closed for `previous` only (NaN: never accepted), not for `current`.
  const expiry = value.previousExpiresAt ? { previousExpiresAt: Date.parse(value.previousExpiresAt) } : {};
  if (value.type === "basic") {
    return { type: "basic", username: value.username, current: value.current, previous, ...expiry };
  }
  return { type: "bearer", current: value.current, previous, ...expiry };
}

/** The secret string of `credentials` (rotation and `credentials revoke-previous` write it). */
export function serializeWebhookCredentials(credentials: WebhookCredentials): string {
  const { previous, previousExpiresAt } = credentials;
  return JSON.stringify({
    type: credentials.type,
    ...(credentials.type === "basic" ? { username: credentials.username } : {}),
    current: credentials.current,
    ...(previous === undefined ? {} : { previous }),
    ...(previous === undefined || previousExpiresAt === undefined
      ? {}
      : { previousExpiresAt: new Date(previousExpiresAt).toISOString() }),
  });
}

// One-shot crypto.hash (UTF-8 for strings): no Hash object per call, ~25 % cheaper than createHash on the warm path.
function digest(text: string): Buffer {
  return hash("sha256", text, "buffer");
}

// Compared against when there is no expected value, so the work done is the same either way.
const NO_CREDENTIAL_DIGEST = digest("\u0000no-previous-credential");

interface ExpectedDigests {
  username: Buffer;
  current: Buffer;
  previous: Buffer | undefined;
}

// The expected side is hashed once per credentials object (a new object after each secret read).
const expectedDigests = new WeakMap<WebhookCredentials, ExpectedDigests>();
function expectedOf(credentials: WebhookCredentials): ExpectedDigests {
  let digests = expectedDigests.get(credentials);
  if (digests === undefined) {
    digests = {
      username: credentials.type === "basic" ? digest(credentials.username) : NO_CREDENTIAL_DIGEST,
      current: digest(credentials.current),
      previous: credentials.previous === undefined ? undefined : digest(credentials.previous),
    };
    expectedDigests.set(credentials, digests);
  }
  return digests;
}

/** Constant time: equal-length digests, and a comparison even when there is nothing to compare with. */
function sameDigest(given: Buffer, expected: Buffer | undefined): boolean {
  return timingSafeEqual(given, expected ?? NO_CREDENTIAL_DIGEST) && expected !== undefined;
}

/** Either of the two accepted values; both are always compared (no early exit). */
function matchesEither(given: string, expected: ExpectedDigests, previousValid: boolean): boolean {
  const givenDigest = digest(given);
  const a = sameDigest(givenDigest, expected.current);
  const b = sameDigest(givenDigest, expected.previous);
  return a || (b && previousValid);
}

/** `previous` counts until its expiry (none: until the next rotation; NaN: never). */
function previousStillValid(credentials: WebhookCredentials, now: number): boolean {
  const expiresAt = credentials.previousExpiresAt;
  return expiresAt === undefined || now < expiresAt;
}

/** Header values longer than this are refused before hashing (ISC tokens are far shorter). */
const MAX_AUTHORIZATION_LENGTH = 4096;

/**
 * True if the `Authorization` header carries the configured credentials. The scheme is
 * case-insensitive (RFC 9110); a Basic header against a bearer secret (or the reverse) is refused.
 */
export function isAuthorized(
  header: string | undefined,
  credentials: WebhookCredentials,
  now: number = Date.now(),
): boolean {
  if (header === undefined || header.length > MAX_AUTHORIZATION_LENGTH) return false;
  const space = header.indexOf(" ");
  if (space <= 0) return false;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (value.length === 0) return false;

  if (credentials.type === "bearer") {
    if (scheme !== "bearer") return false;
    return matchesEither(value, expectedOf(credentials), previousStillValid(credentials, now));
  }

  if (scheme !== "basic") return false;
  const decoded = Buffer.from(value, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return false;
  const expected = expectedOf(credentials);
  const userOk = sameDigest(digest(decoded.slice(0, colon)), expected.username);
  const passwordOk = matchesEither(decoded.slice(colon + 1), expected, previousStillValid(credentials, now));
  return userOk && passwordOk;
}

export interface WebhookCredentialsProvider {
  /** The credentials, from the cache when fresh. `forceRefresh` re-reads (still rate-limited). */
  get(options?: { forceRefresh?: boolean }): Promise<WebhookCredentials>;
  /** The cached credentials if still fresh, synchronously (the warm path: no promise, no timer). */
  peek?(): WebhookCredentials | undefined;
}

/**
 * The default minimum between two forced re-reads. Token rotation waits longer than this between
 * making the new token current and switching ISC to it (lib/subscriptions/rotation.ts), so every
 * container whose cached value predates the promotion may re-read by the time ISC sends the new token.
 */
export const FORCED_REFRESH_INTERVAL_MS = 10_000;

export interface CachedCredentialsOptions {
  /** How long a read secret is trusted before it is read again (rotation shows up within this). */
  ttlMs?: number;
  /**
   * A forced refresh (after a refused header, in case the token was just rotated) happens at most
   * this often, so a caller sending wrong tokens cannot turn each request into a Secrets Manager call.
   */
  minRefreshIntervalMs?: number;
  now?: () => number;
}

/**
 * Caches the parsed credentials for `ttlMs`. Concurrent misses share one read. A failed read is not
 * cached: the next request tries again. A stale value is kept when a refresh fails, so a brief Secrets
 * Manager outage does not lock ISC out.
 */
export function createCachedCredentialsProvider(
  readSecretString: () => Promise<string>,
  options: CachedCredentialsOptions = {},
): WebhookCredentialsProvider {
  return createCachedSecretProvider(readSecretString, parseWebhookCredentials, options);
}

/** A parsed secret, cached as the webhook credentials are (the front's origin secret uses it too). */
export interface CachedSecretProvider<T> {
  get(options?: { forceRefresh?: boolean }): Promise<T>;
  peek(): T | undefined;
}

/** createCachedCredentialsProvider's cache for any secret: `parse` turns its string into the value. */
export function createCachedSecretProvider<T>(
  readSecretString: () => Promise<string>,
  parse: (text: string) => T,
  options: CachedCredentialsOptions = {},
): CachedSecretProvider<T> {
  const ttlMs = options.ttlMs ?? 60_000;
  const minRefreshIntervalMs = options.minRefreshIntervalMs ?? FORCED_REFRESH_INTERVAL_MS;
  const now = options.now ?? Date.now;
  let cached: { value: T; readAt: number } | undefined;
  let inFlight: Promise<T> | undefined;

  const load = (): Promise<T> => {
    // A value's age counts from when its read started: a read in flight across a promotion may
    // return the old value, and must not look newer than the promotion (or the forced re-read that
    // would find the new token is held back for minRefreshIntervalMs).
    const startedAt = now();
    inFlight ??= readSecretString()
      .then((text) => {
        const value = parse(text);
        cached = { value, readAt: startedAt };
        return value;
      })
      .catch((error: unknown) => {
        if (cached === undefined) throw error;
        // Keep serving the stale value; try again after minRefreshIntervalMs rather than on every request.
        cached = { value: cached.value, readAt: now() - ttlMs + minRefreshIntervalMs };
        return cached.value;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };

  return {
    peek() {
      return cached !== undefined && now() - cached.readAt < ttlMs ? cached.value : undefined;
    },
    async get({ forceRefresh = false } = {}) {
      if (cached === undefined) return load();
      const age = now() - cached.readAt;
      if (age >= ttlMs || (forceRefresh && age >= minRefreshIntervalMs)) return load();
      return cached.value;
    },
  };
}
