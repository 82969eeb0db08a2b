/**
 * The per-container cache of context objects: a TTL per kind, bounded in entries with (nearly) LRU
 * eviction, on an injectable clock. It holds only successful reads (failures and absent ids are never stored),
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
  /** Bound on entries over all kinds; the least recently used goes first (see ContextCache.get). */
  maxEntries?: number;
  /** Epoch ms; tests pass a fake clock. */
  now?: () => number;
}

interface Entry {
  value: unknown;
  expiresAt: number;
  /** The insertion count when it was last (re)inserted: its place in the eviction order. */
  inserted: number;
}

export class ContextCache {
  readonly now: () => number;
  readonly ttlMs: Readonly<Record<ContextKind, number>>;
  readonly maxEntries: number;
  /** A Map iterates in insertion order: the first entry is the next to evict. */
  private readonly entries = new Map<string, Entry>();
  /** Insertions so far (sets and re-insertions on a hit). */
  private insertions = 0;
  /** A hit re-inserts its entry once this many insertions came after it (fewer: it stays put). */
  private readonly recentInsertions: number;

  constructor(options: ContextCacheOptions = {}) {
    this.now = options.now ?? Date.now;
    this.ttlMs = { ...DEFAULT_TTL_MS, ...options.ttlMs };
    this.maxEntries = Math.max(0, options.maxEntries ?? DEFAULT_MAX_ENTRIES);
    this.recentInsertions = Math.floor(this.maxEntries / 4);
  }

  /**
   * The value stored under `key` when still fresh at `now` (default: the clock's now; a caller
   * looking up many keys at one instant passes it once); an expired entry is dropped. A hit moves its
   * entry to the young end unless it is already among the latest quarter of insertions: re-inserting
   * is what a hit costs, and an entry that recent is at least 3/4 of the bound away from eviction
   * (exact LRU below 4 entries). The bound itself is exact.
   */
  get(key: string, now: number = this.now()): unknown {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    if (this.insertions - entry.inserted >= this.recentInsertions) {
      this.entries.delete(key);
      this.insert(key, entry);
    }
    return entry.value;
  }

  /** Stores a value read by a request sent at `sentAt` (epoch ms); it expires TTL after that. */
  set(kind: ContextKind, key: string, value: unknown, sentAt: number): void {
    const expiresAt = sentAt + this.ttlMs[kind];
    this.entries.delete(key);
    if (expiresAt <= this.now() || this.maxEntries === 0) return;
    this.insert(key, { value, expiresAt, inserted: 0 });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  private insert(key: string, entry: Entry): void {
    this.insertions += 1;
    entry.inserted = this.insertions;
    this.entries.set(key, entry);
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
