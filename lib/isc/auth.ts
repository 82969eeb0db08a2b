/**
 * OAuth client-credentials token provider. One token is cached until shortly before `expires_in`;
 * concurrent callers share one in-flight token request; a token ISC rejected (401) is dropped only if
 * it is still the current one, so N parallel 401s cause one refresh, not N.
 */
import * as z from "zod/mini";
import { issuesFromZod } from "../errors.ts";
import { IscApiError, IscResponseError } from "./errors.ts";
import { parseErrorResponse } from "./http-errors.ts";
import type { SlidingWindowLimiter } from "./rate-limiter.ts";
import type { Clock, Sleep } from "./timing.ts";
import { OAuthTokenSchema } from "./transport-schemas.ts";

export interface TokenProviderOptions {
  /** Tenant origin, e.g. `https://acme.api.identitynow.com`. */
  origin: string;
  clientId: string;
  clientSecret: string;
  fetch: typeof fetch;
  now: Clock;
  /** Bounds the token request itself (it is shared, so no single caller's signal may abort it). */
  requestTimeoutMs: number;
  /** Token requests count against the client id's rate limit too (the sandbox counts them; ISC may). */
  limiter?: SlidingWindowLimiter;
  sleep?: Sleep;
}

/** Assumed lifetime when ISC does not say (it always does today). */
const DEFAULT_TTL_SECONDS = 60;
const TOKEN_OPERATION = "POST /oauth/token";

export class TokenProvider {
  readonly #options: TokenProviderOptions;
  /** Refreshed from `refreshAt`; still usable until `validUntil` if that refresh fails. */
  #token?: { value: string; refreshAt: number; validUntil: number };
  #inFlight?: Promise<string>;
  /** Token requests actually sent: for tests and metrics. */
  requests = 0;

  constructor(options: TokenProviderOptions) {
    this.#options = options;
  }

  /** A valid token: the cached one, the in-flight request's, or a new request's. */
  async getToken(signal?: AbortSignal): Promise<string> {
    const cached = this.#token;
    if (cached !== undefined && this.#options.now() < cached.refreshAt) return cached.value;
    if (this.#inFlight === undefined) {
      const request = this.#requestToken().finally(() => {
        if (this.#inFlight === request) this.#inFlight = undefined;
      });
      this.#inFlight = request;
    }
    const pending = this.#inFlight;
    if (cached === undefined || this.#options.now() >= cached.validUntil) return abortable(pending, signal);
    // The cached token has not expired yet: an OAuth blip while refreshing early must not fail a call
    // (a completion near its deadline) that this token can still make. Unless ISC rejected it meanwhile.
    const fallBack = pending.catch((error: unknown) => {
      if (this.#token === cached && this.#options.now() < cached.validUntil) return cached.value;
      throw error;
    });
    return abortable(fallBack, signal);
  }

  /** ISC said 401 to `token`: forget it, unless a newer one already replaced it. */
  invalidate(token: string): void {
    if (this.#token?.value === token) this.#token = undefined;
  }

  async #requestToken(): Promise<string> {
    const { origin, clientId, clientSecret, now } = this.#options;
    const form = new URLSearchParams({
      grant_type: "client_credentials",
      client_id: clientId,
      client_secret: clientSecret,
    });
    const reservation = this.#options.limiter?.reserve();
    if (reservation !== undefined && reservation.waitMs > 0) await this.#options.sleep?.(reservation.waitMs);
    this.requests++;
    const sentAt = now();
    const response = await this.#options.fetch(`${origin}/oauth/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: form.toString(),
      redirect: "manual",
      signal: AbortSignal.timeout(this.#options.requestTimeoutMs),
    });
    const text = await response.text();
    if (response.status !== 200) {
      const details = parseErrorResponse(TOKEN_OPERATION, response.status, text, response.headers, now);
      // 400/401 here means the credentials are wrong: say which variables to check, never their values.
      const summary =
        response.status === 400 || response.status === 401
          ? `the client credentials were refused (check SAIL_CLIENT_ID and SAIL_CLIENT_SECRET)${
              details.messages?.[0] ? `: ${details.messages[0]}` : ""
            }`
          : undefined;
      throw new IscApiError(details, "ISC_AUTH_FAILED", summary);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new IscResponseError(TOKEN_OPERATION, 200, [{ path: "", message: "not JSON" }]);
    }
    const parsed = z.safeParse(OAuthTokenSchema, json);
    if (!parsed.success) {
      // Only field paths: the body holds a token.
      throw new IscResponseError(
        TOKEN_OPERATION,
        200,
        issuesFromZod(parsed.error.issues).map((issue) => ({ path: issue.path, message: "invalid" })),
      );
    }
    const ttlMs = (parsed.data.expires_in ?? DEFAULT_TTL_SECONDS) * 1000;
    // Refresh a little early (10 % of the lifetime, at most a minute) so a token never expires in flight.
    const margin = Math.min(60_000, ttlMs * 0.1);
    this.#token = {
      value: parsed.data.access_token,
      refreshAt: sentAt + ttlMs - margin,
      // Half the margin is kept as slack for clock skew and the request's own flight time.
      validUntil: sentAt + ttlMs - margin / 2,
    };
    return parsed.data.access_token;
  }
}

/** Waits for a shared promise but stops waiting (without cancelling it) when `signal` aborts. */
function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
