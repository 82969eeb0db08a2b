/**
 * Client-side limiter for ISC's 100 requests / 10 s per client id and API version (PerVersionLimiter
 * keeps one window per version). Sliding window with reservations:
 * each caller is given the earliest start time that keeps every window of `windowMs` under `requests`,
 * synchronously and in call order, so a burst queues fairly instead of earning 429s. A caller learns
 * its wait up front and can refuse it when the wait would pass its deadline.
 */
import type { Clock } from "./timing.ts";

export interface RateLimitOptions {
  /** Requests allowed per window and API version (ISC: 100). */
  requests: number;
  /** Window length in ms (ISC: 10 000). */
  windowMs: number;
}

export const ISC_RATE_LIMIT: RateLimitOptions = { requests: 100, windowMs: 10_000 };

export interface Reservation {
  /** How long to wait before sending (0 = now). */
  waitMs: number;
  /** Give the slot back (the caller gave up before using it). */
  cancel(): void;
}

export class SlidingWindowLimiter {
  readonly #requests: number;
  readonly #windowMs: number;
  readonly #now: Clock;
  /** Start times granted (past and reserved future), ascending. */
  #slots: number[] = [];

  constructor(options: RateLimitOptions, now: Clock = Date.now) {
    checkRateLimit(options);
    this.#requests = options.requests;
    this.#windowMs = options.windowMs;
    this.#now = now;
  }

  /**
   * Reserves the next slot. Returns undefined (and reserves nothing) when the slot would start after
   * `deadline` (epoch ms), so the caller can fail now instead of waiting in vain.
   */
  reserve(deadline?: number): Reservation | undefined {
    const now = this.#now();
    const horizon = now - this.#windowMs;
    let expired = 0;
    while (expired < this.#slots.length && (this.#slots[expired] as number) <= horizon) expired++;
    if (expired > 0) this.#slots.splice(0, expired);

    // Never before the last granted slot: a cancellation can leave a queued future slot with free
    // capacity before it, and a slot granted there would break the ascending order that the
    // expiry and blocking-slot arithmetic below rely on (and let a later window hold too many).
    let start = Math.max(now, this.#slots.at(-1) ?? now);
    if (this.#slots.length >= this.#requests) {
      // The slot `requests` places back must have left the window before this one starts.
      const blocking = this.#slots[this.#slots.length - this.#requests] as number;
      start = Math.max(start, blocking + this.#windowMs);
    }
    if (deadline !== undefined && start > deadline) return undefined;
    this.#slots.push(start);
    return {
      waitMs: start - now,
      cancel: () => {
        const index = this.#slots.lastIndexOf(start);
        if (index >= 0) this.#slots.splice(index, 1);
      },
    };
  }

  /** Slots counted in the current window (granted or reserved). For tests and metrics. */
  get pending(): number {
    return this.#slots.length;
  }
}

function checkRateLimit(options: RateLimitOptions): void {
  if (!Number.isInteger(options.requests) || options.requests < 1) {
    throw new RangeError("rateLimit.requests must be a positive integer");
  }
  if (!(options.windowMs > 0)) throw new RangeError("rateLimit.windowMs must be positive");
}

/** Window key of the OAuth token endpoint, which belongs to no API version. */
export const TOKEN_WINDOW = "oauth";

/**
 * The API version a request counts against: ISC limits each client id per version (`/beta/...`,
 * `/v3/...`, `/v2025/...`), and the per-service v1 paths carry it second (`/triggers/v1`). Anything
 * else shares one `other` window, so the set of windows stays small whatever the path.
 */
export function apiVersionOf(pathOrUrl: string): string {
  const path = /^https?:\/\//.test(pathOrUrl) ? new URL(pathOrUrl).pathname : pathOrUrl.split("?")[0];
  const [first = "", second = ""] = (path ?? "").split("/").filter((segment) => segment !== "");
  if (isVersionSegment(first)) return first;
  if (first === "oauth") return TOKEN_WINDOW;
  if (isVersionSegment(second)) return second;
  return "other";
}

function isVersionSegment(segment: string): boolean {
  return segment === "beta" || /^v\d{1,4}$/.test(segment);
}

/**
 * One SlidingWindowLimiter per API version (and one for the token endpoint), each with the same
 * limit unless `byVersion` gives a version its own (a container's share of `beta` completions can
 * differ from its share of the `v3`/`v2025` context reads: docs/pipeline.md).
 */
export class PerVersionLimiter {
  readonly #options: RateLimitOptions;
  readonly #byVersion: Readonly<Record<string, RateLimitOptions>>;
  readonly #now: Clock;
  readonly #windows = new Map<string, SlidingWindowLimiter>();

  constructor(
    options: RateLimitOptions,
    now: Clock = Date.now,
    byVersion: Readonly<Record<string, RateLimitOptions>> = {},
  ) {
    // Nonsense settings fail here, not at the first request.
    checkRateLimit(options);
    for (const limit of Object.values(byVersion)) checkRateLimit(limit);
    this.#options = options;
    this.#byVersion = byVersion;
    this.#now = now;
  }

  /** The window of a version key (`v3`, `beta`, TOKEN_WINDOW, ...). */
  window(version: string): SlidingWindowLimiter {
    let limiter = this.#windows.get(version);
    if (limiter === undefined) {
      limiter = new SlidingWindowLimiter(
        Object.hasOwn(this.#byVersion, version)
          ? (this.#byVersion[version] as RateLimitOptions)
          : this.#options,
        this.#now,
      );
      this.#windows.set(version, limiter);
    }
    return limiter;
  }

  /** The window a request to `pathOrUrl` counts against. */
  forPath(pathOrUrl: string): SlidingWindowLimiter {
    return this.window(apiVersionOf(pathOrUrl));
  }

  /** Slots counted per version in the current windows (tests and metrics). */
  get pendingByVersion(): Record<string, number> {
    return Object.fromEntries([...this.#windows].map(([version, limiter]) => [version, limiter.pending]));
  }
}
