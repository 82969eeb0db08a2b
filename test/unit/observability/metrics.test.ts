import { describe, expect, it } from "vitest";
import { createMetrics, decisionOutcomeOf } from "../../../lib/observability/metrics.ts";
import { createMemorySink } from "../../../lib/observability/sink.ts";

interface Emf {
  _aws: {
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

describe("createMetrics", () => {
  it("emits one EMF line with every recorded metric and the service dimension", () => {
    const sink = createMemorySink();
    const metrics = createMetrics({ namespace: "Test", serviceName: "svc", sink: sink.console });
    metrics.decision("approved", 12.5);
    metrics.decision("none", 3);
    metrics.fallback();
    metrics.completion("ok", 3_500_000);
    metrics.completion("gone");
    metrics.completion("failed", -20);
    metrics.action("ok");
    metrics.action("failed");
    metrics.flush();

    expect(sink.lines).toHaveLength(1);
    const emf = JSON.parse(sink.lines[0] ?? "") as Emf;
    const directive = emf._aws.CloudWatchMetrics[0];
    expect(directive?.Namespace).toBe("Test");
    expect(directive?.Dimensions).toEqual([["service"]]);
    expect(emf.service).toBe("svc");
    expect(emf).toMatchObject({
      DecisionApproved: 1,
      DecisionNone: 1,
      DecisionLatency: [12.5, 3],
      Fallback: 1,
      CompletionOk: 1,
      CompletionGone: 1,
      CompletionFailed: 1,
      DeadlineMargin: [3_500_000, -20],
      ActionOk: 1,
      ActionFailed: 1,
    });
    const units = Object.fromEntries(directive?.Metrics.map((m) => [m.Name, m.Unit]) ?? []);
    expect(units).toMatchObject({
      DecisionLatency: "Milliseconds",
      DeadlineMargin: "Milliseconds",
      Fallback: "Count",
    });
  });

  it("flush without metrics prints nothing, and metrics do not carry over between flushes", () => {
    const sink = createMemorySink();
    const metrics = createMetrics({ sink: sink.console });
    metrics.flush();
    expect(sink.lines).toHaveLength(0);
    metrics.fallback();
    metrics.flush();
    metrics.action("skipped");
    metrics.flush();
    expect(sink.lines).toHaveLength(2);
    expect(JSON.parse(sink.lines[1] ?? "")).not.toHaveProperty("Fallback");
    expect(JSON.parse(sink.lines[1] ?? "")).toHaveProperty("ActionSkipped", 1);
  });

  it("classifies outputs", () => {
    expect(decisionOutcomeOf({ approved: true, comment: "", approver: "x" })).toBe("approved");
    expect(decisionOutcomeOf({ approved: false, comment: "", approver: "x" })).toBe("denied");
    expect(decisionOutcomeOf({ id: "2c91", name: "Ann", type: "IDENTITY" })).toBe("approver");
    expect(decisionOutcomeOf({ id: "", name: "", type: "" })).toBe("none");
    expect(decisionOutcomeOf({})).toBe("none");
  });
});
