import { afterEach, describe, expect, it, vi } from "vitest";
import { emfMetrics } from "../../../lib/observability/emf.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("emfMetrics", () => {
  it("writes one EMF document per point, with the service dimension first in one dimension set", () => {
    const lines: string[] = [];
    emfMetrics("Ns", "svc", (line) => lines.push(line)).record("InvocationOutcomes", "Count", 1, {
      trigger: "t",
      outcome: "failed",
    });
    const parsed = JSON.parse(lines[0] ?? "{}");
    expect(parsed._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: "Ns",
        Dimensions: [["service", "trigger", "outcome"]],
        Metrics: [{ Name: "InvocationOutcomes", Unit: "Count" }],
      },
    ]);
    expect(parsed).toMatchObject({ service: "svc", trigger: "t", outcome: "failed", InvocationOutcomes: 1 });
  });

  it("writes each point exactly as JSON.stringify of the whole document would, on repeated series too", () => {
    const lines: string[] = [];
    const metrics = emfMetrics("Ns", "svc", (line) => lines.push(line));
    const points: Array<[string, "Count" | "Milliseconds", number, Record<string, string>]> = [
      ["Decisions", "Count", 1, { trigger: "idn:access-request-pre-approval", kind: "rule" }],
      ["Decisions", "Count", 1, { trigger: "idn:access-request-pre-approval", kind: "rule" }],
      ["Decisions", "Count", 1, { trigger: "idn:access-request-pre-approval", kind: "default" }],
      ["HttpReplyLatency", "Milliseconds", 12.5, { status: "200" }],
      ["HttpReplyLatency", "Milliseconds", Number.NaN, { status: "200" }],
      ["Odd", "Count", 2, { quote: 'a"b\\c\u2028' }],
      ["Fallbacks", "Count", 3, {}],
      // The metric's name is also a dimension: written whole, the value where JSON.stringify puts it.
      ["kind", "Count", 4, { kind: "rule" }],
      // Integer-like keys, which JSON.stringify writes before every other key: written whole.
      ["5", "Count", 1, { trigger: "t" }],
      ["Decisions", "Count", 1, { "7": "x" }],
      // Two series whose key parts would run together under a naive separator stay apart.
      ["Decisions", "Count", 1, { t: "a\u0000b\u0001c" }],
      ["Decisions", "Count", 1, { t: "a", b: "c" }],
      ["Decisions", "Count", 1, { t: "a|1:b1:c" }],
      ["Decisions", "Count", 1, { t: "a", b: "c" }],
    ];
    for (const [name, unit, value, dimensions] of points) {
      const before = Date.now();
      metrics.record(name, unit, value, dimensions);
      const line = lines.at(-1)!;
      const parsed = JSON.parse(line);
      expect(parsed._aws.Timestamp).toBeGreaterThanOrEqual(before);
      const all = { service: "svc", ...dimensions };
      expect(line).toBe(
        JSON.stringify({
          _aws: {
            Timestamp: parsed._aws.Timestamp,
            CloudWatchMetrics: [
              { Namespace: "Ns", Dimensions: [Object.keys(all)], Metrics: [{ Name: name, Unit: unit }] },
            ],
          },
          ...all,
          [name]: value,
        }),
      );
    }
  });

  it("writes a dimension value the types forbid (a number) as JSON.stringify would, not as the string's series", () => {
    const lines: string[] = [];
    const metrics = emfMetrics("Ns", "svc", (line) => lines.push(line));
    metrics.record("HttpReplies", "Count", 1, { status: "200" });
    metrics.record("HttpReplies", "Count", 1, { status: 200 } as unknown as Record<string, string>);
    expect(JSON.parse(lines[0]!).status).toBe("200");
    expect(JSON.parse(lines[1]!).status).toBe(200);
  });

  it("writes to stdout itself, not through console.log (which Lambda's JSON log format wraps, hiding the EMF)", () => {
    const written: string[] = [];
    const stdout = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    emfMetrics("Ns", "svc").record("Fallbacks", "Count", 1, { trigger: "t" });
    stdout.mockRestore();
    expect(log).not.toHaveBeenCalled();
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/\n$/);
    expect(JSON.parse(written[0]!)).toMatchObject({ _aws: { CloudWatchMetrics: [{ Namespace: "Ns" }] } });
  });
});
