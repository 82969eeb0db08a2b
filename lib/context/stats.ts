/**
 * Counters of one reader (one container) that the pipeline turns into metrics: fetcher calls and ids
 * by kind, cache hits and misses, failed calls and failed reads by reason.
 */
import type { ContextReadReason } from "./errors.ts";
import type { ContextKind } from "./types.ts";

export interface ContextReadStatsSnapshot {
  /** read() calls made. */
  reads: number;
  /** Fetcher calls (requests to ISC, or to a directory) by kind. */
  calls: Partial<Record<ContextKind, number>>;
  /** Ids asked for in those calls, by kind. */
  ids: Partial<Record<ContextKind, number>>;
  /** Keys served from the cache or from another caller's read in flight. */
  cacheHits: number;
  /** Keys that needed a fetcher call. */
  cacheMisses: number;
  /** Fetcher calls that failed, by reason (429s are `rate-limited`). */
  callFailures: Partial<Record<ContextReadReason, number>>;
  /** read() calls that rejected, by reason: each one is a decision that falls back. */
  readFailures: Partial<Record<ContextReadReason, number>>;
}

export class ContextReadStats {
  private state: ContextReadStatsSnapshot = emptySnapshot();

  recordRead(): void {
    this.state.reads += 1;
  }

  recordCall(kind: ContextKind, ids: number): void {
    this.state.calls[kind] = (this.state.calls[kind] ?? 0) + 1;
    this.state.ids[kind] = (this.state.ids[kind] ?? 0) + ids;
  }

  recordHits(count: number): void {
    this.state.cacheHits += count;
  }

  recordMisses(count: number): void {
    this.state.cacheMisses += count;
  }

  recordCallFailure(reason: ContextReadReason): void {
    this.state.callFailures[reason] = (this.state.callFailures[reason] ?? 0) + 1;
  }

  recordReadFailure(reason: ContextReadReason): void {
    this.state.readFailures[reason] = (this.state.readFailures[reason] ?? 0) + 1;
  }

  /** A copy of the counters (safe to keep while counting goes on). */
  snapshot(): ContextReadStatsSnapshot {
    return structuredClone(this.state);
  }

  /** The counters since the last drain, then zero (for metrics flushed per invocation or per interval). */
  drain(): ContextReadStatsSnapshot {
    const taken = this.state;
    this.state = emptySnapshot();
    return taken;
  }
}

function emptySnapshot(): ContextReadStatsSnapshot {
  return { reads: 0, calls: {}, ids: {}, cacheHits: 0, cacheMisses: 0, callFailures: {}, readFailures: {} };
}
