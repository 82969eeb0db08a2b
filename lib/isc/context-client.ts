/**
 * The transport every ISC client is built on (tenant origin check, OAuth token provider, the
 * per-version client-side limiter with its 5 % guard, the retrying request core), and
 * `IscContextClient`: that transport with the context reads only. The http function reads context
 * with it: IscClient (client.ts) adds every other seed endpoint and its schemas, which that bundle
 * does not need. IscClient is built on the same `iscTransport`, so both behave alike.
 */
import { TokenProvider } from "./auth.ts";
import { IscContextApi } from "./context-reads.ts";
import { ConfigError } from "./errors.ts";
import { DEFAULT_RETRY, HttpCore, type RetryEvent, type RetryOptions } from "./http.ts";
import { ISC_RATE_LIMIT, PerVersionLimiter, type RateLimitOptions, TOKEN_WINDOW } from "./rate-limiter.ts";
import { type Clock, realSleep, type Sleep } from "./timing.ts";

export interface IscClientOptions {
  /** Tenant API base URL, e.g. `https://acme.api.identitynow.com` (http only for loopback hosts). */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  fetch?: typeof fetch;
  /**
   * Client-side limiter, applied per API version (beta, v3, v2025, ... each its own window, the OAuth
   * token endpoint too); default ISC's 100 requests / 10 s. `false` turns it off.
   */
  rateLimit?: RateLimitOptions | false;
  /** Per-version exceptions to `rateLimit` (e.g. `{beta: ...}` for completions); ignored when it is false. */
  rateLimitByVersion?: Readonly<Record<string, RateLimitOptions>>;
  retry?: Partial<RetryOptions>;
  now?: Clock;
  sleep?: Sleep;
  /** Jitter source in [0, 1). */
  random?: () => number;
  onRetry?: (event: RetryEvent) => void;
  userAgent?: string;
}

export const ENV_BASE_URL = "SAIL_BASE_URL";
export const ENV_CLIENT_ID = "SAIL_CLIENT_ID";
export const ENV_CLIENT_SECRET = "SAIL_CLIENT_SECRET";

/** Each client-side window is this much longer than the tenant's, so late sends stay under its limit. */
export const RATE_LIMIT_GUARD = 1.05;

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** What a client sends its requests through. */
export interface IscTransport {
  /** The tenant origin every request goes to. */
  baseUrl: string;
  tokens: TokenProvider;
  http: HttpCore;
  now: Clock;
}

/** Checks the options (ConfigError naming the setting) and sets up the token provider, limiter and request core. */
export function iscTransport(options: IscClientOptions): IscTransport {
  const baseUrl = checkBaseUrl(options.baseUrl);
  if (!options.clientId)
    throw new ConfigError(`the ISC client id is empty (${ENV_CLIENT_ID})`, [ENV_CLIENT_ID]);
  if (!options.clientSecret) {
    throw new ConfigError(`the ISC client secret is empty (${ENV_CLIENT_SECRET})`, [ENV_CLIENT_SECRET]);
  }
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? realSleep;
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const rateLimit = options.rateLimit === undefined ? ISC_RATE_LIMIT : options.rateLimit;
  // Slots count from their reserved start; a request sent a little late (timer lateness, the event
  // loop, the network) would let a window at the tenant hold more than the limit: each window is
  // kept 5 % longer than the tenant's (measured: 101-104 sends per window without it).
  const guarded = (limit: RateLimitOptions): RateLimitOptions => ({
    requests: limit.requests,
    windowMs: Math.round(limit.windowMs * RATE_LIMIT_GUARD),
  });
  const limiter =
    rateLimit === false
      ? undefined
      : new PerVersionLimiter(
          guarded(rateLimit),
          now,
          Object.fromEntries(
            Object.entries(options.rateLimitByVersion ?? {}).map(([version, limit]) => [
              version,
              guarded(limit),
            ]),
          ),
        );
  const tokens = new TokenProvider({
    origin: baseUrl,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    fetch: doFetch,
    now,
    requestTimeoutMs: retry.attemptTimeoutMs,
    sleep,
    ...(limiter === undefined ? {} : { limiter: limiter.window(TOKEN_WINDOW) }),
  });
  const http = new HttpCore({
    origin: baseUrl,
    fetch: doFetch,
    tokens,
    ...(limiter === undefined ? {} : { limiter }),
    retry,
    now,
    sleep,
    random: options.random ?? Math.random,
    userAgent: options.userAgent ?? "isc-trigger-responder",
    ...(options.onRetry === undefined ? {} : { onRetry: options.onRetry }),
  });
  return { baseUrl, tokens, http, now };
}

/** The ISC client with the context reads only (same options and behaviour as IscClient's `context`). */
export class IscContextClient {
  readonly baseUrl: string;
  /** The reads that give rules their context (identities, items, sources, SoD, access requests). */
  readonly context: IscContextApi;
  readonly #tokens: TokenProvider;

  constructor(options: IscClientOptions) {
    const transport = iscTransport(options);
    this.baseUrl = transport.baseUrl;
    this.#tokens = transport.tokens;
    this.context = new IscContextApi(transport.http);
  }

  /** OAuth token requests sent so far (tests and metrics). */
  get tokenRequests(): number {
    return this.#tokens.requests;
  }
}

/** Validates and normalises the tenant base URL to its origin. */
function checkBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${ENV_BASE_URL} is not a valid URL`, [ENV_BASE_URL]);
  }
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    throw new ConfigError(`${ENV_BASE_URL} must not carry credentials, a query or a fragment`, [
      ENV_BASE_URL,
    ]);
  }
  if (url.pathname !== "/" && url.pathname !== "") {
    throw new ConfigError(
      `${ENV_BASE_URL} must be the tenant API origin without a path, e.g. https://acme.api.identitynow.com`,
      [ENV_BASE_URL],
    );
  }
  // Credentials and invocation secrets travel in these requests: cleartext only to this machine.
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname))) {
    throw new ConfigError(`${ENV_BASE_URL} must use https (http is accepted for loopback only)`, [
      ENV_BASE_URL,
    ]);
  }
  return url.origin;
}
