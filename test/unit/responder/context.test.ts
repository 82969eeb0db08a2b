import { describe, expect, it } from "vitest";
import { MemoryInvocationLedger } from "../../../lib/adapters/local/memory-ledger.ts";
import type { ContextReader } from "../../../lib/context/types.ts";
import { PipelineMetric } from "../../../lib/responder/observability.ts";
import { respond } from "../../../lib/responder/respond.ts";
import { identityRules, ScriptedReader } from "../../helpers/context-doubles.ts";
import {
  asyncInvocation,
  FakeClient,
  fakeTime,
  HOUR,
  RecordingLogger,
  RecordingMetrics,
  T0,
} from "./fixtures.ts";

const ID = "e9103ca9-02c4-bb0f-9441-94b3af012345";

function setup(reader: ContextReader | undefined) {
  const time = fakeTime();
  const client = new FakeClient();
  const ledger = new MemoryInvocationLedger({ now: time.clock });
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const deps = {
    rules: identityRules(),
    client,
    ledger,
    logger,
    metrics,
    workerId: "worker-1",
    clock: time.clock,
    sleep: time.sleep,
    ...(reader === undefined ? {} : { context: reader }),
  };
  return { time, client, ledger, logger, metrics, deps };
}

describe("respond: live context", () => {
  it("reads the context, decides from it, completes, and logs what was read", async () => {
    const reader = new ScriptedReader([{ status: "ACTIVE" }]);
    const { client, deps, logger, metrics } = setup(reader);
    const outcome = await respond(asyncInvocation({ invocationId: ID }), deps);
    expect(outcome.status).toBe("completed");
    expect(client.completions[0]?.body.output).toMatchObject({ approved: true });
    expect(reader.calls[0]?.options.deadline).toBeLessThanOrEqual(T0 + HOUR);
    const handled = logger.lines.find((l) => l.message === "invocation handled");
    expect(handled?.fields?.context).toMatchObject({ needs: ["identity"] });
    expect(metrics.sum(PipelineMetric.contextReads, { kind: "identities" })).toBe(1);
  });

  it("a transient failure far from the deadline is redelivered: nothing decided, nothing completed", async () => {
    const reader = new ScriptedReader([
      { error: { kind: "identities", reason: "unavailable", status: 503 } },
      { status: "TERMINATED" },
    ]);
    const { client, deps, ledger } = setup(reader);
    const invocation = asyncInvocation({ invocationId: ID });
    const first = await respond(invocation, deps);
    expect(first).toMatchObject({ status: "retry", retryable: true });
    expect(client.completions).toHaveLength(0);
    expect((await ledger.get(ID))?.decision).toBeUndefined();
    const second = await respond(invocation, deps);
    expect(second.status).toBe("completed");
    expect(client.completions[0]?.body.output).toMatchObject({ approved: false, comment: "not active" });
  });

  it("near the deadline a transient failure completes with the fallback, never an approval", async () => {
    const reader = new ScriptedReader([{ error: { kind: "identities", reason: "timeout" } }]);
    const { client, deps, time, metrics } = setup(reader);
    time.now = T0 + HOUR - 30_000;
    const outcome = await respond(asyncInvocation({ invocationId: ID }), deps);
    expect(outcome.status).toBe("completed");
    expect(client.completions[0]?.body.output).toMatchObject({ approved: false, comment: "fallback" });
    expect(metrics.sum(PipelineMetric.fallbacks)).toBe(1);
  });

  it("a final failure (403 missing scope) falls back at once, with the scope in the recorded reason", async () => {
    const reader = new ScriptedReader([
      {
        error: {
          kind: "sodPrediction",
          reason: "forbidden",
          status: 403,
          missingScope: "idn:sod-violation:read",
        },
      },
    ]);
    const { client, deps, ledger } = setup(reader);
    const outcome = await respond(asyncInvocation({ invocationId: ID }), deps);
    expect(outcome.status).toBe("completed");
    expect(client.completions[0]?.body.output).toMatchObject({ approved: false });
    const record = await ledger.get(ID);
    expect(JSON.stringify(record?.decision?.explanation)).toContain("idn:sod-violation:read");
  });

  it("the context read ends before the completion deadline, leaving room to complete", async () => {
    const reader = new ScriptedReader([{ status: "ACTIVE" }]);
    const { deps, time } = setup(reader);
    time.now = T0 + HOUR - 70_000;
    await respond(asyncInvocation({ invocationId: ID }), deps, { endsAt: time.now + 10_000 });
    const deadline = reader.calls[0]?.options.deadline ?? Number.POSITIVE_INFINITY;
    expect(deadline).toBeLessThanOrEqual(time.now + 10_000 - 3_000);
  });
});
