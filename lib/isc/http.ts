/**
 * The request core of the ISC client: token, limiter, per-attempt timeout, retries and typed errors.
 *
 * Retry policy: 429 waits `Retry-After` (else backs off); 5xx, network errors and per-attempt timeouts
 * back off exponentially with jitter; one 401 drops the token and retries at once; other statuses are
 * final. Every wait is checked against the caller's deadline first: a wait that would end after it
 * fails now with IscDeadlineError carrying the last status, instead of sleeping in vain.
 */
import * as z from "zod/mini";
import { issuesFromZod } from "../errors.ts";
import type { TokenProvider } from "./auth.ts";
import { IscApiError, IscDeadlineError, IscNetworkError, IscResponseError } from "./errors.ts";
import { parseErrorResponse, parseRetryAfter } from "./http-errors.ts";
import type { PerVersionLimiter } from "./rate-limiter.ts";
import type { Clock, Sleep } from "./timing.ts";
import type { CallOptions } from "./types.ts";

export interface RetryOptions {
  /** Attempts per call, the first included (a 401 refresh does not count). */
  maxAttempts: number;
  /** First backoff; doubles per failure, with jitter, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Bounds one attempt (token request included); further bounded by the deadline. */
  attemptTimeoutMs: number;
  /** A `Retry-After` longer than this is not waited for: the 429 is returned to the caller. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  maxAttempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  attemptTimeoutMs: 10_000,
  maxRetryAfterMs: 60_000,
};

export type RetryReason = "rate-limited" | "server-error" | "network" | "timeout" | "unauthorized";

/** Emitted before each retry: hook for logs and metrics (holds no secret). */
export interface RetryEvent {
  operation: string;
  attempt: number;
  reason: RetryReason;
  status?: number;
  delayMs: number;
}

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface IscRequest<T> {
  method: HttpMethod;
  /** Path under the tenant origin (`/beta/triggers`), or an absolute URL already checked against it. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: "application/json" | "application/json-patch+json";
  /** Statuses that mean success. A body is parsed with `schema` unless the status is 204. */
  expect: number[];
  schema?: z.ZodMiniType<T>;
  /** Turns a final IscApiError into a more specific one (e.g. InvocationGoneError). */
  mapError?: (error: IscApiError, context: { uncertainEarlierAttempt: boolean }) => Error;
  /**
   * False for calls that create something (subscription, test invocation, role insights request): they
   * are retried only when ISC surely did not act (429, 401, 503, connection refused), never after a
   * timeout or another 5xx, which could create a duplicate. Default true.
   */
  idempotent?: boolean;
  /**
   * Sends `X-SailPoint-Experimental: true`. Default true (the trigger APIs have always been sent it);
   * false where the spec requires no such header (the v3 and v2025 context reads).
   */
  experimental?: boolean;
  options?: CallOptions;
}

export interface IscResponse<T> {
  status: number;
  data: T | undefined;
  headers: Headers;
}

export interface HttpCoreOptions {
  origin: string;
  fetch: typeof fetch;
  tokens: TokenProvider;
  /** Each request waits for a slot in the window of its API version. */
  limiter?: PerVersionLimiter;
  retry: RetryOptions;
  now: Clock;
  sleep: Sleep;
  random: () => number;
  userAgent: string;
  onRetry?: (event: RetryEvent) => void;
}

type AttemptOutcome =
  | { kind: "response"; status: number; text: string; headers: Headers; token: string }
  | { kind: "api-error"; error: IscApiError }
  | { kind: "network"; error: unknown; timedOut: boolean; sent: boolean };

export class HttpCore {
  readonly #o: HttpCoreOptions;

  constructor(options: HttpCoreOptions) {
    this.#o = options;
  }

  async request<T>(request: IscRequest<T>): Promise<IscResponse<T>> {
    const url = this.#url(request);
    const operation = `${request.method} ${new URL(url).pathname}`;
    const { signal, deadline } = request.options ?? {};
    const { retry, now } = this.#o;
    const idempotent = request.idempotent ?? true;
    let attempts = 0;
    let failures = 0;
    let refreshed = false;
    // A timeout, network error or 5xx after sending may have been applied by ISC all the same.
    let uncertain = false;
    let last: { status?: number; detailCode?: string; trackingId?: string; error?: unknown } = {};

    const stop = (reason: "deadline" | "aborted") =>
      new IscDeadlineError({
        operation,
        reason,
        attempts,
        ...(last.status === undefined ? {} : { lastStatus: last.status }),
        ...(last.detailCode === undefined ? {} : { detailCode: last.detailCode }),
        ...(last.trackingId === undefined ? {} : { trackingId: last.trackingId }),
        cause: last.error,
      });
    const checkStop = () => {
      if (signal?.aborted) throw stop("aborted");
      if (deadline !== undefined && now() >= deadline) throw stop("deadline");
    };
    const wait = async (ms: number) => {
      if (ms <= 0) return;
      if (deadline !== undefined && now() + ms > deadline) throw stop("deadline");
      try {
        await this.#o.sleep(ms, signal);
      } catch {
        throw stop("aborted");
      }
    };

    // Taken after the token (which may itself wait) and right before sending, so the slot's time is the send time.
    const limiter = this.#o.limiter?.forPath(url);
    const takeLimiterSlot = async () => {
      if (limiter === undefined) return;
      const reservation = limiter.reserve(deadline);
      if (reservation === undefined) throw stop("deadline");
      try {
        await wait(reservation.waitMs);
        checkStop();
      } catch (error) {
        reservation.cancel();
        throw error;
      }
    };

    for (;;) {
      checkStop();
      attempts++;
      const outcome = await this.#attempt(url, request, signal, deadline, takeLimiterSlot);

      let retryReason: RetryReason;
      let delayMs: number | undefined;
      let finalError: Error;
      if (outcome.kind === "response") {
        const { status, text, headers, token } = outcome;
        if (request.expect.includes(status)) {
          return { status, headers, data: this.#parseBody(request, operation, status, text) };
        }
        const details = parseErrorResponse(operation, status, text, headers, now);
        last = { status, detailCode: details.detailCode, trackingId: details.trackingId };
        const apiError = new IscApiError(details);
        if (status === 401 && !refreshed) {
          // Expired or revoked token: one fresh token, one immediate retry.
          refreshed = true;
          this.#o.tokens.invalidate(token);
          this.#o.onRetry?.({ operation, attempt: attempts, reason: "unauthorized", status, delayMs: 0 });
          continue;
        }
        if (status === 429) {
          retryReason = "rate-limited";
          delayMs = parseRetryAfter(headers.get("retry-after"), now);
          if (delayMs !== undefined && delayMs > retry.maxRetryAfterMs)
            throw this.#final(request, apiError, uncertain);
        } else if (status >= 500 && status <= 599 && (idempotent || status === 503)) {
          retryReason = "server-error";
          uncertain ||= status !== 503;
        } else {
          throw this.#final(request, apiError, uncertain);
        }
        finalError = this.#final(request, apiError, uncertain);
      } else if (outcome.kind === "api-error") {
        // The token request failed: retry what can pass (429, 5xx), surface the rest (bad credentials).
        const status = outcome.error.status;
        last = {
          status,
          detailCode: outcome.error.detailCode,
          trackingId: outcome.error.trackingId,
          error: outcome.error,
        };
        if (status === 429) {
          retryReason = "rate-limited";
          const seconds = outcome.error.retryAfterSeconds;
          delayMs = seconds === undefined ? undefined : seconds * 1000;
          if (delayMs !== undefined && delayMs > retry.maxRetryAfterMs) throw outcome.error;
        } else if (status >= 500 && status <= 599) retryReason = "server-error";
        else throw outcome.error;
        finalError = outcome.error;
      } else {
        checkStop();
        last = { ...last, error: outcome.error };
        if (!idempotent && outcome.sent) {
          throw new IscNetworkError(operation, attempts, outcome.timedOut, outcome.error);
        }
        retryReason = outcome.timedOut ? "timeout" : "network";
        uncertain ||= outcome.sent;
        finalError = new IscNetworkError(operation, attempts, outcome.timedOut, outcome.error);
      }

      failures++;
      if (failures >= retry.maxAttempts) throw finalError;
      const delay = delayMs ?? this.#backoff(failures);
      this.#o.onRetry?.({
        operation,
        attempt: attempts,
        reason: retryReason,
        ...(last.status === undefined ? {} : { status: last.status }),
        delayMs: delay,
      });
      await wait(delay);
    }
  }

  #url(request: IscRequest<unknown>): string {
    const base = /^https?:\/\//.test(request.path) ? request.path : `${this.#o.origin}${request.path}`;
    if (request.query === undefined) return base;
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(request.query)) {
      if (value !== undefined) params.set(key, String(value));
    }
    const query = params.toString();
    return query === "" ? base : `${base}?${query}`;
  }

  async #attempt(
    url: string,
    request: IscRequest<unknown>,
    signal: AbortSignal | undefined,
    deadline: number | undefined,
    beforeSend: () => Promise<void>,
  ): Promise<AttemptOutcome> {
    // Token and send are bounded separately: a queue wait in between must not eat the send's budget.
    const bound = () => {
      const budget =
        deadline === undefined
          ? this.#o.retry.attemptTimeoutMs
          : Math.min(this.#o.retry.attemptTimeoutMs, deadline - this.#o.now());
      const timeout = AbortSignal.timeout(Math.max(1, budget));
      return { timeout, signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]) };
    };
    let token: string;
    const tokenBound = bound();
    try {
      token = await this.#o.tokens.getToken(tokenBound.signal);
    } catch (error) {
      if (error instanceof IscApiError) return { kind: "api-error", error };
      if (error instanceof IscResponseError) throw error;
      return { kind: "network", error, timedOut: timedOut(tokenBound.timeout, signal), sent: false };
    }
    await beforeSend();
    const sendBound = bound();
    const headers: Record<string, string> = {
      Accept: "application/json",
      Authorization: `Bearer ${token}`,
      "User-Agent": this.#o.userAgent,
    };
    if (request.experimental ?? true) headers["X-SailPoint-Experimental"] = "true";
    let body: string | undefined;
    if (request.body !== undefined) {
      headers["Content-Type"] = request.contentType ?? "application/json";
      body = JSON.stringify(request.body);
    }
    try {
      const response = await this.#o.fetch(url, {
        method: request.method,
        headers,
        ...(body === undefined ? {} : { body }),
        // A redirect would carry the token or the invocation secret to wherever it points.
        redirect: "manual",
        signal: sendBound.signal,
      });
      const text = await response.text();
      return { kind: "response", status: response.status, text, headers: response.headers, token };
    } catch (error) {
      return {
        kind: "network",
        error,
        timedOut: timedOut(sendBound.timeout, signal),
        sent: !isNotSent(error),
      };
    }
  }

  #parseBody<T>(request: IscRequest<T>, operation: string, status: number, text: string): T | undefined {
    if (status === 204 || request.schema === undefined) return undefined;
    // 202 Accepted may come without a body.
    if (status === 202 && text.trim() === "") return undefined;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new IscResponseError(operation, status, [{ path: "", message: "the body is not JSON" }]);
    }
    const parsed = z.safeParse(request.schema, json);
    if (!parsed.success)
      throw new IscResponseError(operation, status, issuesFromZod(parsed.error.issues, json));
    return parsed.data;
  }

  #final(request: IscRequest<unknown>, error: IscApiError, uncertain: boolean): Error {
    return request.mapError ? request.mapError(error, { uncertainEarlierAttempt: uncertain }) : error;
  }

  /** Exponential backoff with "equal jitter": half fixed, half random, so waits still grow. */
  #backoff(failures: number): number {
    const { baseDelayMs, maxDelayMs } = this.#o.retry;
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (failures - 1));
    return Math.round(ceiling / 2 + this.#o.random() * (ceiling / 2));
  }
}

/** Connection-level failures where the request surely never reached the server. */
function isNotSent(error: unknown): boolean {
  const code =
    (error as { cause?: { code?: unknown } } | undefined)?.cause?.code ?? (error as { code?: unknown })?.code;
  return code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN";
}

function timedOut(timeout: AbortSignal, signal: AbortSignal | undefined): boolean {
  return timeout.aborted && !(signal?.aborted ?? false);
}
