/**
 * The live feed: server-sent events, one `decision` event per new record, from the store's
 * `subscribe` (the dev/serve runtime) or, over a source that cannot be watched (a records file
 * another process writes), from polling its newest records.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { DecisionRecord } from "../audit/record.ts";
import type { DecisionRecordSource, WatchableRecords } from "../audit/types.ts";
import { containsSecret } from "./guard.ts";
import { toRow } from "./summary.ts";

export function isWatchable(value: unknown): value is WatchableRecords {
  return typeof (value as Partial<WatchableRecords> | undefined)?.subscribe === "function";
}

/**
 * Announces records that appear in `source` by listing its newest `window` every `intervalMs`,
 * only while someone listens. A record counts as new when its invocation id, decision time or
 * outcome was not in the previous list (a redelivery's later record is announced again).
 */
export function pollingFeed(
  source: DecisionRecordSource,
  options: { intervalMs: number; window?: number; onError?: (error: unknown) => void },
): WatchableRecords & { close(): void } {
  const listeners = new Set<(record: DecisionRecord) => void>();
  const seen = new Map<string, string>();
  let seeded = false;
  let timer: NodeJS.Timeout | undefined;
  let polling = false;
  const key = (r: DecisionRecord) =>
    `${r.timings.decidedAt}|${r.timings.completedAt ?? ""}|${r.completion.outcome}`;

  async function poll(): Promise<void> {
    if (polling) return;
    polling = true;
    try {
      const newest = await source.list(
        { limit: options.window ?? 200 },
        { signal: AbortSignal.timeout(10_000) },
      );
      const fresh: DecisionRecord[] = [];
      for (const record of newest) {
        if (seen.get(record.invocationId) !== key(record)) fresh.push(record);
        seen.set(record.invocationId, key(record));
      }
      // Bounded: forget what fell out of the window.
      if (seen.size > 4 * (options.window ?? 200)) {
        const keep = new Set(newest.map((r) => r.invocationId));
        for (const id of seen.keys()) if (!keep.has(id)) seen.delete(id);
      }
      if (seeded) for (const record of fresh.reverse()) for (const listener of listeners) listener(record);
      seeded = true;
    } catch (error) {
      options.onError?.(error);
    } finally {
      polling = false;
    }
  }

  return {
    subscribe(listener) {
      listeners.add(listener);
      if (timer === undefined) {
        void poll();
        timer = setInterval(() => void poll(), options.intervalMs);
        timer.unref();
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && timer !== undefined) {
          clearInterval(timer);
          timer = undefined;
          seeded = false;
          seen.clear();
        }
      };
    },
    close() {
      listeners.clear();
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}

export interface EventStreamOptions {
  /** At most this many pages listen at once (default 16); more get 503. */
  maxClients?: number;
  /** A comment line this often keeps proxies and the browser from dropping an idle stream (default 15 s). */
  heartbeatMs?: number;
  secrets?: () => Iterable<string>;
  onError?: (error: unknown) => void;
}

/** `GET /api/events`: one stream per page; each record is sent as its list row (event `decision`). */
export class EventStream {
  readonly #feed: WatchableRecords | undefined;
  readonly #options: EventStreamOptions;
  readonly #clients = new Set<ServerResponse>();
  #unsubscribe: (() => void) | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #nextId = 1;

  constructor(feed: WatchableRecords | undefined, options: EventStreamOptions = {}) {
    this.#feed = feed;
    this.#options = options;
  }

  get clients(): number {
    return this.#clients.size;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.#clients.size >= (this.#options.maxClients ?? 16)) {
      res.writeHead(503, { "content-type": "application/json", "retry-after": "5" });
      res.end(
        JSON.stringify({ error: { code: "TOO_MANY_STREAMS", message: "too many pages are listening" } }),
      );
      return;
    }
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      connection: "keep-alive",
    });
    // `live: false` tells the page nothing will arrive by itself (a source that is read on demand).
    res.write(`retry: 2000\nevent: hello\ndata: ${JSON.stringify({ live: this.#feed !== undefined })}\n\n`);
    this.#clients.add(res);
    const drop = () => this.#drop(res);
    req.on("close", drop);
    res.on("error", drop);
    this.#start();
  }

  /** Sends one record's row to every page (tests and the feed). */
  broadcast(record: DecisionRecord): void {
    let data: string;
    try {
      data = JSON.stringify(toRow(record));
    } catch (error) {
      this.#options.onError?.(error);
      return;
    }
    if (this.#options.secrets !== undefined && containsSecret(data, this.#options.secrets())) {
      this.#options.onError?.(new Error("a record's row held a secret value: not sent"));
      return;
    }
    const frame = `id: ${this.#nextId++}\nevent: decision\ndata: ${data}\n\n`;
    for (const client of this.#clients) client.write(frame);
  }

  close(): void {
    for (const client of this.#clients) client.end();
    this.#clients.clear();
    this.#stop();
  }

  #start(): void {
    if (this.#feed !== undefined && this.#unsubscribe === undefined) {
      this.#unsubscribe = this.#feed.subscribe((record) => this.broadcast(record));
    }
    if (this.#heartbeat === undefined) {
      this.#heartbeat = setInterval(() => {
        for (const client of this.#clients) client.write(": ping\n\n");
      }, this.#options.heartbeatMs ?? 15_000);
      this.#heartbeat.unref();
    }
  }

  #drop(res: ServerResponse): void {
    if (!this.#clients.delete(res)) return;
    if (this.#clients.size === 0) this.#stop();
  }

  #stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }
}
