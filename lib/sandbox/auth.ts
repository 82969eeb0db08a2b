/** OAuth client credentials, opaque expiring tokens and the per-client rate limit. */
import { randomBytes, timingSafeEqual } from "node:crypto";

interface IssuedToken {
  clientId: string;
  expiresAt: number;
}

export type TokenCheck =
  | { ok: true; clientId: string; token: string }
  | { ok: false; reason: "missing" | "invalid" };

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class TokenStore {
  readonly #tokens = new Map<string, IssuedToken>();
  readonly #clientId: string;
  readonly #clientSecret: string;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(clientId: string, clientSecret: string, ttlSeconds: number, now: () => number) {
    this.#clientId = clientId;
    this.#clientSecret = clientSecret;
    this.#ttlMs = ttlSeconds * 1000;
    this.#now = now;
  }

  validClient(clientId: string, clientSecret: string): boolean {
    // Both compared, always, so the timing does not tell which one was wrong.
    const idOk = sameText(clientId, this.#clientId);
    const secretOk = sameText(clientSecret, this.#clientSecret);
    return idOk && secretOk;
  }

  issue(clientId: string): { token: string; expiresInSeconds: number } {
    const token = randomBytes(32).toString("base64url");
    this.#tokens.set(token, { clientId, expiresAt: this.#now() + this.#ttlMs });
    this.#sweep();
    return { token, expiresInSeconds: Math.round(this.#ttlMs / 1000) };
  }

  /** Checks `Authorization: Bearer <token>`. */
  check(authorization: string | undefined): TokenCheck {
    if (authorization === undefined || authorization.trim() === "") return { ok: false, reason: "missing" };
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) return { ok: false, reason: "invalid" };
    const token = match[1]!;
    const issued = this.#tokens.get(token);
    if (issued === undefined || issued.expiresAt <= this.#now()) return { ok: false, reason: "invalid" };
    return { ok: true, clientId: issued.clientId, token };
  }

  /** Makes a token invalid at once (the "tokenExpiry" fault). */
  revoke(token: string): void {
    this.#tokens.delete(token);
  }

  /** Invalidates every token (tests: "the tenant rotated its keys"). */
  revokeAll(): void {
    this.#tokens.clear();
  }

  get size(): number {
    return this.#tokens.size;
  }

  #sweep(): void {
    if (this.#tokens.size < 1000) return;
    const now = this.#now();
    for (const [token, issued] of this.#tokens) if (issued.expiresAt <= now) this.#tokens.delete(token);
  }
}

/** Sliding-window limit: at most `requests` per `windowMs` per key. */
export class RateLimiter {
  readonly #requests: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #hits = new Map<string, number[]>();

  constructor(limit: { requests: number; windowMs: number }, now: () => number) {
    this.#requests = limit.requests;
    this.#windowMs = limit.windowMs;
    this.#now = now;
  }

  /** Counts a request; returns undefined when allowed, else the seconds to wait (Retry-After). */
  hit(key: string): number | undefined {
    const now = this.#now();
    const from = now - this.#windowMs;
    let hits = this.#hits.get(key);
    if (hits === undefined) {
      hits = [];
      this.#hits.set(key, hits);
    }
    while (hits.length > 0 && hits[0]! <= from) hits.shift();
    if (hits.length >= this.#requests) {
      return Math.max(1, Math.ceil((hits[0]! + this.#windowMs - now) / 1000));
    }
    hits.push(now);
    return undefined;
  }
}
