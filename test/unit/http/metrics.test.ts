/**
 * The HTTP handler counts the decisions it answers with the worker's metric names and dimensions
 * (Decisions{trigger, kind}, Fallbacks{trigger}), so the Fallbacks alarm sees sync and dynamic answers.
 */
import { describe, expect, it } from "vitest";
import { PipelineMetric, type PipelineMetrics } from "../../../lib/responder/observability.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../../../lib/triggers/trigger-ids.ts";
import { body, event, fakeRules, setup } from "./fixtures.ts";

function recorder() {
  const points: Array<{ name: string; dimensions: Record<string, string> | undefined }> = [];
  const metrics: PipelineMetrics = {
    record: (name, _unit, _value, dimensions) => points.push({ name, dimensions }),
  };
  const named = (name: string) => points.filter((p) => p.name === name).map((p) => p.dimensions);
  return { metrics, named };
}

describe("http handler: decision metrics", () => {
  it("a sync answer from the rules counts one decision of its kind, no fallback", async () => {
    const { metrics, named } = recorder();
    const { handler } = setup({ metrics });
    expect((await handler(event(body("sync")))).statusCode).toBe(200);
    expect(named(PipelineMetric.decisions)).toEqual([{ trigger: PRE_APPROVAL, kind: "rule" }]);
    expect(named(PipelineMetric.fallbacks)).toEqual([]);
  });

  it("a sync fallback answer counts a fallback decision and a Fallbacks point for its trigger", async () => {
    const { metrics, named } = recorder();
    const { handler } = setup({ metrics, rules: fakeRules({ throws: true }) });
    expect((await handler(event(body("sync", DYNAMIC_APPROVER)))).statusCode).toBe(200);
    expect(named(PipelineMetric.decisions)).toEqual([{ trigger: DYNAMIC_APPROVER, kind: "fallback" }]);
    expect(named(PipelineMetric.fallbacks)).toEqual([{ trigger: DYNAMIC_APPROVER }]);
  });

  it("a dynamic decision answered within the budget is counted; a deferred one is left to the worker", async () => {
    const answered = recorder();
    const fast = setup({ metrics: answered.metrics, rules: fakeRules({ throws: true }) });
    expect((await fast.handler(event(body("dynamic", DYNAMIC_APPROVER)))).statusCode).toBe(200);
    expect(answered.named(PipelineMetric.fallbacks)).toEqual([{ trigger: DYNAMIC_APPROVER }]);

    const deferred = recorder();
    const slow = setup({ metrics: deferred.metrics, rules: fakeRules({ slowMs: 30 }), dynamicBudgetMs: 5 });
    expect((await slow.handler(event(body("dynamic", DYNAMIC_APPROVER)))).statusCode).toBe(202);
    expect(deferred.named(PipelineMetric.decisions)).toEqual([]);
  });

  it("an enqueued async invocation counts no decision", async () => {
    const { metrics, named } = recorder();
    const { handler } = setup({ metrics });
    expect((await handler(event(body("async")))).statusCode).toBe(200);
    expect(named(PipelineMetric.decisions)).toEqual([]);
  });
});
