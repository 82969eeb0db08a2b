/**
 * One read() call as the loaders see it (batch.ts): a `ReadRecord` of what it did (the calls made
 * for it, its cache hits, where each object came from) and, for a read through the loaders, a
 * `ReadScope`: its signal and deadline, and the shared calls it waits on and leaves when it ends.
 */
import { ContextReadError } from "./errors.ts";
import type { ContextKind, ContextOrigin, ContextRead, ContextReadOptions } from "./types.ts";

type EndReason = "deadline" | "aborted" | "done";

const MAX_TIMER_MS = 2_147_483_647;

/** What a scope waits on and leaves when it ends (a fetcher call in flight). */
export interface Shared {
  leave(scope: ReadScope): void;
}

/** What one read did: the calls made for it, its cache hits, where each object came from. */
export class ReadRecord {
  readonly reads: ContextRead[] = [];
  readonly provenance: Record<string, ContextOrigin> = {};
  cacheHits = 0;
}

/** One read() call through the loaders: when it must give up, and what it did. */
export class ReadScope extends ReadRecord {
  readonly deadline: number | undefined;
  private readonly signal: AbortSignal | undefined;
  /** Deadlines are wall-clock epoch ms (as the ISC client reads them), whatever clock the cache uses. */
  private readonly now: () => number;
  private endReason: EndReason | undefined;
  private resolveEnded: (reason: EndReason) => void = () => {};
  private readonly ended: Promise<EndReason>;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly flights = new Set<Shared>();
  private readonly onAbort = (): void => this.end("aborted");

  constructor(options: ContextReadOptions, now: () => number = Date.now) {
    super();
    this.now = now;
    this.deadline = options.deadline;
    this.signal = options.signal;
    this.ended = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
    if (this.signal?.aborted) {
      this.end("aborted");
      return;
    }
    this.signal?.addEventListener("abort", this.onAbort, { once: true });
    this.armDeadline();
  }

  private armDeadline(): void {
    if (this.deadline === undefined) return;
    const left = this.deadline - this.now();
    if (left <= 0) {
      this.end("deadline");
      return;
    }
    // setTimeout fires at once past 2^31-1 ms: a far deadline waits in steps.
    this.timer = setTimeout(() => this.armDeadline(), Math.min(left, MAX_TIMER_MS));
  }

  /** False once the read was aborted, passed its deadline or ended. */
  get live(): boolean {
    if (this.endReason !== undefined) return false;
    if (this.deadline !== undefined && this.now() >= this.deadline) this.end("deadline");
    return this.endReason === undefined;
  }

  /** `promise`, or a timeout as soon as the read is abandoned: never waits for a fetcher past that. */
  race<T>(promise: Promise<T>, kind: ContextKind, ids: readonly string[]): Promise<T> {
    return Promise.race([
      promise,
      this.ended.then(() => {
        throw timeoutError(kind, ids);
      }),
    ]);
  }

  /** Ends the scope: leaves every call it waits on (aborting those nobody else waits on). */
  end(reason: EndReason): void {
    if (this.endReason !== undefined) return;
    this.endReason = reason;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.signal?.removeEventListener("abort", this.onAbort);
    this.resolveEnded(reason);
    for (const flight of this.flights) flight.leave(this);
    this.flights.clear();
  }

  /** @internal */
  enter(flight: Shared): void {
    this.flights.add(flight);
  }

  /** @internal */
  exit(flight: Shared): void {
    this.flights.delete(flight);
  }
}

export function timeoutError(kind: ContextKind, ids: readonly string[]): ContextReadError {
  return new ContextReadError({ kind, reason: "timeout", ids });
}
