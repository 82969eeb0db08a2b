/**
 * A PipelineLogger that writes one JSON line per event to a sink (stderr for the CLI, an array in
 * tests). Callers pass ids and field paths only; the sink sees exactly what CloudWatch would.
 */
import type { LogFields, PipelineLogger } from "../responder/observability.ts";

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
const ORDER: readonly LogLevel[] = ["debug", "info", "warn", "error", "silent"];

export function createLineLogger(
  write: (line: string) => void,
  options: { level?: LogLevel; service?: string } = {},
): PipelineLogger {
  const min = ORDER.indexOf(options.level ?? "info");
  const service = options.service ?? "isc-responder-local";
  const at = (level: Exclude<LogLevel, "silent">) => (message: string, fields?: LogFields) => {
    if (ORDER.indexOf(level) < min) return;
    write(JSON.stringify({ level, message, service, timestamp: new Date().toISOString(), ...fields }));
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

export function parseLogLevel(text: string | undefined, fallback: LogLevel): LogLevel {
  const value = text?.toLowerCase();
  return ORDER.includes(value as LogLevel) ? (value as LogLevel) : fallback;
}
