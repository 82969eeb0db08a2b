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
  all: Record<string, unknown>,
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
      const all: Record<string, unknown> = { service, ...dimensions };
      // Length-prefixed parts: no two different series share a key, whatever their strings contain.
      let key = `${name.length}:${name}${unit}`;
      let templatable = typeof value === "number";
      for (const dimension in all) {
        const dimensionValue = all[dimension];
        if (typeof dimensionValue !== "string") templatable = false;
        key += `|${dimension.length}:${dimension}${String(dimensionValue).length}:${dimensionValue}`;
      }
      let template = templatable ? templates.get(key) : undefined;
      if (template === undefined) {
        // The template needs Timestamp first and the value last, where the markers are checked to be;
        // otherwise (a name that is also a dimension, an integer-like key JSON puts first, a
        // non-string dimension the types forbid) the point is written whole.
        const marked = emfDocument(namespace, name, unit, 0, 0, all);
        const head = '{"_aws":{"Timestamp":';
        const last = `,${JSON.stringify(name)}:0}`;
        if (
          !templatable ||
          templates.size >= MAX_TEMPLATES ||
          name in all ||
          !marked.startsWith(`${head}0,`) ||
          !marked.endsWith(last)
        ) {
          write(emfDocument(namespace, name, unit, value, Date.now(), all));
          return;
        }
        template = { head, tail: marked.slice(head.length + 1, marked.length - 2) }; // without `0}` of the value
        templates.set(key, template);
      }
      // JSON.stringify(value): NaN and Infinity become null, as in the whole document.
      write(`${template.head}${Date.now()}${template.tail}${JSON.stringify(value)}}`);
    },
  };
}
