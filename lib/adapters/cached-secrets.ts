/**
 * A TTL cache in front of any SecretsStore. Concurrent callers of a missing or expired secret
 * share one fetch; a failed fetch is not cached (the next call tries again), and a stale value may
 * optionally be served for a while when a refresh fails, so a Secrets Manager blip does not fail
 * every invocation.
 */
import { SecretNotFoundError } from "./errors.ts";
import type { SecretsStore } from "./types.ts";

export const DEFAULT_SECRET_TTL_MS = 60_000;

export interface CachedSecretsStoreOptions {
  /** How long a value is served without asking the inner store again (default 60 s). */
  ttlMs?: number;
  /**
   * After the TTL, if the refresh fails (except "not found"), keep serving the old value for up to
   * this long past its expiry. Default 0: a failed refresh fails the call.
   */
  staleIfErrorMs?: number;
  now?: () => number;
}

interface Entry {
  value: string;
  expiresAt: number;
}

export class CachedSecretsStore implements SecretsStore {
  readonly #inner: SecretsStore;
  readonly #ttlMs: number;
  readonly #staleIfErrorMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #inFlight = new Map<string, Promise<string>>();
  /** Bumped by invalidate: a read started before it neither fills the cache nor serves later callers. */
  #generation = 0;

  constructor(inner: SecretsStore, options: CachedSecretsStoreOptions = {}) {
    this.#inner = inner;
    this.#ttlMs = options.ttlMs ?? DEFAULT_SECRET_TTL_MS;
    this.#staleIfErrorMs = options.staleIfErrorMs ?? 0;
    this.#now = options.now ?? Date.now;
  }

  getSecretString(secretId: string): Promise<string> {
    const entry = this.#entries.get(secretId);
    if (entry !== undefined && entry.expiresAt > this.#now()) return Promise.resolve(entry.value);
    const pending = this.#inFlight.get(secretId);
    if (pending !== undefined) return pending;
    const fetching = this.#refresh(secretId, entry);
    this.#inFlight.set(secretId, fetching);
    // Cleared only once settled and only if still ours, so a rejection is never cached.
    const clear = () => {
      if (this.#inFlight.get(secretId) === fetching) this.#inFlight.delete(secretId);
    };
    fetching.then(clear, clear);
    return fetching;
  }

  /** Forget a value (e.g. after the tenant rejected a credential, so a rotated one is read now). */
  invalidate(secretId?: string): void {
    this.#generation += 1;
    if (secretId === undefined) {
      this.#entries.clear();
      this.#inFlight.clear();
    } else {
      this.#entries.delete(secretId);
      this.#inFlight.delete(secretId);
    }
  }

  async #refresh(secretId: string, previous: Entry | undefined): Promise<string> {
    const generation = this.#generation;
    try {
      const value = await this.#inner.getSecretString(secretId);
      // Its callers get the value they asked for; the cache only if nothing was invalidated meanwhile.
      if (generation === this.#generation) {
        this.#entries.set(secretId, { value, expiresAt: this.#now() + this.#ttlMs });
      }
      return value;
    } catch (error) {
      const staleUsable =
        previous !== undefined &&
        !(error instanceof SecretNotFoundError) &&
        previous.expiresAt + this.#staleIfErrorMs > this.#now();
      if (staleUsable) return previous.value;
      this.#entries.delete(secretId);
      throw error;
    }
  }
}
