/**
 * An in-memory stand-in for the console the Powertools Logger and Metrics write to, for tests and
 * for the local runner: every emitted line is kept as the exact string that would be printed.
 */
export interface MemorySink {
  /** Every printed line, in order. */
  readonly lines: string[];
  /** The lines parsed as JSON (Powertools lines are JSON). */
  records(): Record<string, unknown>[];
  clear(): void;
  /** The console-like object handed to the logger/metrics. */
  readonly console: SinkConsole;
}

export interface SinkConsole {
  log(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  trace(...args: unknown[]): void;
}

export function createMemorySink(): MemorySink {
  const lines: string[] = [];
  const write = (...args: unknown[]) => {
    lines.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
  };
  return {
    lines,
    records: () =>
      lines.map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          return { message: line };
        }
      }),
    clear: () => {
      lines.length = 0;
    },
    console: { log: write, info: write, warn: write, error: write, debug: write, trace: write },
  };
}
