/**
 * OAuth client credentials (one or more clients, each possibly lacking some scopes), opaque expiring
 * tokens and the rate limit per client id per API version.
 */
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

/** A client the tenant accepts; `deniedScopes` are scopes its tokens lack (context reads answer 403). */
export interface SandboxClient {
  clientId: string;
  clientSecret: string;
  deniedScopes?: readonly string[];
}

export class TokenStore {
  readonly #tokens = new Map<string, IssuedToken>();
  readonly #clients: SandboxClient[];
  readonly #denied = new Map<string, ReadonlySet<string>>();
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(clients: readonly SandboxClient[], ttlSeconds: number, now: () => number) {
    this.#clients = clients.map((client) => ({
      clientId: client.clientId,
      clientSecret: client.clientSecret,
    }));
    for (const client of clients) this.setDeniedScopes(client.clientId, client.deniedScopes ?? []);
    this.#ttlMs = ttlSeconds * 1000;
    this.#now = now;
  }

  validClient(clientId: string, clientSecret: string): boolean {
    // Every client compared, id and secret, so the timing does not tell which part was wrong.
    let ok = false;
    for (const client of this.#clients) {
      const idOk = sameText(clientId, client.clientId);
      const secretOk = sameText(clientSecret, client.clientSecret);
      ok = (idOk && secretOk) || ok;
    }
    return ok;
  }

  setDeniedScopes(clientId: string, scopes: readonly string[]): void {
    this.#denied.set(clientId, new Set(scopes));
  }

  /** Whether tokens of this client carry `scope` (every scope unless denied). */
  hasScope(clientId: string, scope: string): boolean {
    return !(this.#denied.get(clientId)?.has(scope) ?? false);
  }

  /** The token reply's `scope`: all scopes, or the context scopes the client keeps when some are denied. */
  scopeOf(clientId: string, knownScopes: readonly string[]): string {
    const denied = this.#denied.get(clientId);
    if (denied === undefined || denied.size === 0) return "sp:scopes:all";
    return ["sp:scopes:default", ...knownScopes.filter((scope) => !denied.has(scope))].join(" ");
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

/**
 * The API version a path is limited under: ISC counts requests per client id per version (v3, v2025,
 * beta each have their own window). The per-service v1 paths (`/triggers/v1/...`) count as "v1".
 */
export function apiVersionOf(path: string): string {
  const [first, second] = path.split("/").filter((segment) => segment !== "");
  if (first !== undefined && /^(beta|v\d+)$/.test(first)) return first;
  if (second !== undefined && /^v\d+$/.test(second)) return second;
  return "other";
}

/**
 * Sliding-window limit: at most `requests` per `windowMs` per key. A key may also count the hits of
 * a shared key. A client's token requests have a window of their own (the OAuth endpoint belongs to
 * no API version), as the ISC client counts them.
 */
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

  #recent(key: string, from: number): number[] {
    let hits = this.#hits.get(key);
    if (hits === undefined) {
      hits = [];
      this.#hits.set(key, hits);
    }
    while (hits.length > 0 && hits[0]! <= from) hits.shift();
    return hits;
  }

  /**
   * Counts a request under `key` (with the hits of `sharedKey` counted too); returns undefined when
   * allowed, else the seconds to wait (Retry-After).
   */
  hit(key: string, sharedKey?: string): number | undefined {
    const now = this.#now();
    const from = now - this.#windowMs;
    const hits = this.#recent(key, from);
    const shared = sharedKey === undefined ? [] : this.#recent(sharedKey, from);
    const total = hits.length + shared.length;
    if (total >= this.#requests) {
      // The window has room again once enough of the oldest hits have left it.
      const oldest = [...hits, ...shared].sort((a, b) => a - b)[total - this.#requests]!;
      return Math.max(1, Math.ceil((oldest + this.#windowMs - now) / 1000));
    }
    hits.push(now);
    return undefined;
  }
}
