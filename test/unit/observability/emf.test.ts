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
