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

/** The document as JSON.stringify writes it; the reference for the templates below. */
function emfDocument(
  namespace: string,
  name: string,
  unit: string,
  value: number,
  timestamp: number,
  all: Record<string, string>,
): string {
  return JSON.stringify({
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        { Namespace: namespace, Dimensions: [Object.keys(all)], Metrics: [{ Name: name, Unit: unit }] },
      ],
    },
    ...all,
    [name]: value,
  });
}

/** Series a writer keeps a template for; dimension values are low-cardinality, this is a safety cap. */
const MAX_TEMPLATES = 512;

export function emfMetrics(
  namespace: string,
  service: string,
  write: (line: string) => void = writeStdoutLine,
): PipelineMetrics {
  // Per series (name, unit, dimensions) the document is fixed but for Timestamp and the value: its
  // two fixed parts are built once with JSON.stringify, so a point costs two concatenations instead
  // of stringifying a nested object (~15 % of a warm sync reply, three points per reply).
  const templates = new Map<string, { head: string; tail: string }>();
  return {
    record(name, unit, value, dimensions = {}) {
      const all = { service, ...dimensions };
      let key = `${name}\u0000${unit}`;
      for (const dimension in all) key += `\u0000${dimension}\u0001${all[dimension as keyof typeof all]}`;
      let template = templates.get(key);
      if (template === undefined) {
        // Markers where the two variable parts go; a series whose name is also one of its dimensions
        // (never, in practice) is written whole, since its value would land elsewhere.
        const marked = name in all ? undefined : emfDocument(namespace, name, unit, 0, 0, all);
        if (marked === undefined || templates.size >= MAX_TEMPLATES || typeof value !== "number") {
          write(emfDocument(namespace, name, unit, value, Date.now(), all));
          return;
        }
        const timestampAt = marked.indexOf('"Timestamp":0,') + '"Timestamp":'.length;
        template = {
          head: marked.slice(0, timestampAt),
          tail: marked.slice(timestampAt + 1, marked.length - 2), // without `0}` of the value
        };
        templates.set(key, template);
      }
      // JSON.stringify(value): NaN and Infinity become null, as in the whole document.
      write(`${template.head}${Date.now()}${template.tail}${JSON.stringify(value)}}`);
    },
  };
}
