/**
 * CloudWatch embedded metric format (EMF), one line per data point: no SDK call, no flush to forget.
 * The http function and the worker both emit through this, so the names, namespace and dimension
 * sets the alarms watch (infra/metrics.ts) come out of one place. Every point carries the `service`
 * dimension, then the point's own dimensions, as one dimension set.
 */
import type { PipelineMetrics } from "../responder/observability.ts";

/**
 * Writes straight to stdout. The functions use Lambda's JSON log format, under which the runtime wraps
 * every console.log line in its own JSON object ({"timestamp", "level", "message": "<our line>"}):
 * CloudWatch extracts no metric from an EMF document nested in "message" (Powertools writes to stdout
 * for the same reason).
 */
export function writeStdoutLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function emfMetrics(
  namespace: string,
  service: string,
  write: (line: string) => void = writeStdoutLine,
): PipelineMetrics {
  return {
    record(name, unit, value, dimensions = {}) {
      const all = { service, ...dimensions };
      write(
        JSON.stringify({
          _aws: {
            Timestamp: Date.now(),
            CloudWatchMetrics: [
              { Namespace: namespace, Dimensions: [Object.keys(all)], Metrics: [{ Name: name, Unit: unit }] },
            ],
          },
          ...all,
          [name]: value,
        }),
      );
    },
  };
}
