/**
 * The per-container cache of context objects: a TTL per kind, bounded in entries with LRU eviction,
 * on an injectable clock. It holds only successful reads (failures and absent ids are never stored),
 * and an entry expires TTL after its request was *sent*, so nothing is served staler than its TTL.
 * Reads in flight are shared by the loaders (batch.ts), not here: this holds only settled values.
 */
import type { ContextKind } from "./types.ts";

/** Short for what changes during a day (people, SoD, requests), longer for the access model. */
export const DEFAULT_TTL_MS: Readonly<Record<ContextKind, number>> = {
  identities: 60_000,
  sodPrediction: 30_000,
  accessRequestStatus: 30_000,
  entitlements: 600_000,
  accessProfiles: 600_000,
  roles: 600_000,
  sources: 600_000,
  sodPolicy: 600_000,
};

export const DEFAULT_MAX_ENTRIES = 5_000;

export interface ContextCacheOptions {
  /** TTL per kind in ms (0 disables caching of that kind; reads in flight are still shared). */
  ttlMs?: Partial<Record<ContextKind, number>>;
  /** Bound on entries over all kinds; the least recently used goes first. */
  maxEntries?: number;
  /** Epoch ms; tests pass a fake clock. */
  now?: () => number;
}

interface Entry {
  value: unknown;
  expiresAt: number;
}

export class ContextCache {
  readonly now: () => number;
  readonly ttlMs: Readonly<Record<ContextKind, number>>;
  readonly maxEntries: number;
  /** A Map iterates in insertion order: re-inserting on every hit keeps the least recent first. */
  private readonly entries = new Map<string, Entry>();

  constructor(options: ContextCacheOptions = {}) {
    this.now = options.now ?? Date.now;
    this.ttlMs = { ...DEFAULT_TTL_MS, ...options.ttlMs };
    this.maxEntries = Math.max(0, options.maxEntries ?? DEFAULT_MAX_ENTRIES);
  }

  /** The value stored under `key` when still fresh; an expired entry is dropped. */
  get(key: string): unknown {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Stores a value read by a request sent at `sentAt` (epoch ms); it expires TTL after that. */
  set(kind: ContextKind, key: string, value: unknown, sentAt: number): void {
    const expiresAt = sentAt + this.ttlMs[kind];
    this.entries.delete(key);
    if (expiresAt <= this.now() || this.maxEntries === 0) return;
    this.entries.set(key, { value, expiresAt });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
