import { describe, expect, it } from "vitest";
import { PipelineMetric } from "../../../lib/responder/observability.ts";
import { identityRules, ScriptedReader } from "../../helpers/context-doubles.ts";
import { RecordingMetrics } from "../responder/fixtures.ts";
import { body, event, setup } from "./fixtures.ts";

const reply = (result: { body: string }) => JSON.parse(result.body);

describe("createHttpHandler: live context", () => {
  it("sync: reads the context the rules need and answers from it", async () => {
    const reader = new ScriptedReader([{ status: "ACTIVE" }]);
    const rules = identityRules();
    const { handler, logger } = setup({ rules, context: reader });
    const result = await handler(event(body("sync")));
    expect(result.statusCode).toBe(200);
    expect(reply(result)).toMatchObject({ approved: true, comment: "active" });
    expect(reader.calls).toHaveLength(1);
    expect(reader.calls[0]?.needs).toEqual(["identity"]);
    expect(reader.calls[0]?.subject.requestedFor[0]?.id).toBeTruthy();
    const decided = logger.lines.map((l) => JSON.parse(l)).find((l) => l.message === "invocation decided");
    expect(decided.context).toMatchObject({ needs: ["identity"], reads: ["identities:1:3ms"] });
  });

  it("sync: a 403 falls back (never approves) and names the missing scope in the log", async () => {
    const reader = new ScriptedReader([
      { error: { kind: "identities", reason: "forbidden", status: 403, missingScope: "idn:identity:read" } },
    ]);
    const metrics = new RecordingMetrics();
    const { handler, logger } = setup({ rules: identityRules(), context: reader, metrics });
    const result = await handler(event(body("sync")));
    expect(result.statusCode).toBe(200);
    expect(reply(result)).toMatchObject({ approved: false, comment: "fallback" });
    const text = logger.lines.join("\n");
    expect(text).toContain("idn:identity:read");
    expect(text).toContain('"fallback":true');
    expect(metrics.sum(PipelineMetric.contextFailures, { reason: "forbidden" })).toBe(1);
    expect(metrics.sum(PipelineMetric.fallbacks)).toBe(1);
  });

  it("sync: context that does not arrive within the budget falls back in time", async () => {
    const { handler } = setup({
      rules: identityRules(),
      context: new ScriptedReader([{ hang: true }]),
      syncContextBudgetMs: 150,
    });
    const started = Date.now();
    const result = await handler(event(body("sync")));
    expect(Date.now() - started).toBeLessThan(1500);
    expect(reply(result)).toMatchObject({ approved: false });
  });

  it("sync: without a reader, rules that need context fall back", async () => {
    const { handler, logger } = setup({ rules: identityRules() });
    expect(reply(await handler(event(body("sync"))))).toMatchObject({ approved: false });
    expect(logger.lines.join("\n")).toContain("no context reader is configured");
  });

  it("dynamic: context within the budget is answered inline", async () => {
    const { handler, queue } = setup({
      rules: identityRules(),
      context: new ScriptedReader([{ status: "ACTIVE" }]),
    });
    const result = await handler(event(body("dynamic")));
    expect(result.statusCode).toBe(200);
    expect(reply(result)).toMatchObject({ approved: true });
    expect(queue.messages).toHaveLength(0);
  });

  it("dynamic: slow or throttled context defers to the worker (202), which has until the deadline", async () => {
    for (const behaviour of [
      { hang: true as const },
      { error: { kind: "identities", reason: "rate-limited", status: 429 } },
    ]) {
      const { handler, queue } = setup({
        rules: identityRules(),
        context: new ScriptedReader([behaviour]),
        dynamicBudgetMs: 150,
      });
      const result = await handler(event(body("dynamic")));
      expect(result.statusCode).toBe(202);
      expect(queue.messages).toHaveLength(1);
    }
  });

  it("dynamic: a final context failure (404) answers the fallback inline", async () => {
    const { handler, queue } = setup({
      rules: identityRules(),
      context: new ScriptedReader([{ error: { kind: "identities", reason: "not-found", status: 404 } }]),
    });
    const result = await handler(event(body("dynamic")));
    expect(result.statusCode).toBe(200);
    expect(reply(result)).toMatchObject({ approved: false, comment: "fallback" });
    expect(queue.messages).toHaveLength(0);
  });

  it("async: enqueues without reading context (the worker reads it)", async () => {
    const reader = new ScriptedReader([{ status: "ACTIVE" }]);
    const { handler, queue } = setup({ rules: identityRules(), context: reader });
    expect((await handler(event(body("async")))).statusCode).toBe(200);
    expect(queue.messages).toHaveLength(1);
    expect(reader.calls).toHaveLength(0);
  });
});
