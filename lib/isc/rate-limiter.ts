/**
 * Client-side limiter for ISC's 100 requests / 10 s per client id. Sliding window with reservations:
 * each caller is given the earliest start time that keeps every window of `windowMs` under `requests`,
 * synchronously and in call order, so a burst queues fairly instead of earning 429s. A caller learns
 * its wait up front and can refuse it when the wait would pass its deadline.
 */
import type { Clock } from "./timing.ts";

export interface RateLimitOptions {
  /** Requests allowed per window (ISC: 100). */
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
    if (!Number.isInteger(options.requests) || options.requests < 1) {
      throw new RangeError("rateLimit.requests must be a positive integer");
    }
    if (!(options.windowMs > 0)) throw new RangeError("rateLimit.windowMs must be positive");
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
