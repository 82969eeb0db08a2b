/**
 * A ledger that never answers (DynamoDB hanging) must not hold respond() past the call's end: every
 * ledger call is bounded, and near the deadline the bypass still has time to complete.
 * Real time: the bounds are timers.
 */
import { describe, expect, it } from "vitest";
import { MemoryInvocationLedger } from "../../../lib/adapters/local/memory-ledger.ts";
import type { InvocationLedger } from "../../../lib/adapters/types.ts";
import { PipelineMetric } from "../../../lib/responder/observability.ts";
import { type RespondOutcome, respond } from "../../../lib/responder/respond.ts";
import {
  asyncInvocation,
  FakeClient,
  fakeRules,
  HOUR,
  RecordingLogger,
  RecordingMetrics,
} from "./fixtures.ts";

/**
 * Every call of the ledger stays pending; with `respectsSignal` it rejects when the call's signal
 * aborts (what the DynamoDB ledger does), otherwise it ignores it (a ledger that does not).
 */
function hangingLedger(respectsSignal: boolean) {
  const calls: Array<{ operation: string; signal: AbortSignal | undefined }> = [];
  const inner = new MemoryInvocationLedger();
  const ledger = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const last = args.at(-1) as { signal?: AbortSignal } | undefined;
        const signal = last !== null && typeof last === "object" ? last.signal : undefined;
        calls.push({ operation: String(property), signal });
        return new Promise((_resolve, reject) => {
          if (!respectsSignal || signal === undefined) return;
          signal.addEventListener("abort", () => reject(signal.reason), { once: true });
        });
      };
    },
  }) as InvocationLedger;
  return { ledger, calls };
}

/** respond() with the given ledger and real time; the test's own bound turns a hang into a failure. */
async function respondWithin(ledger: InvocationLedger, options: { deadlineInMs: number; endsInMs: number }) {
  const client = new FakeClient();
  const metrics = new RecordingMetrics();
  const logger = new RecordingLogger();
  const start = Date.now();
  const invocation = asyncInvocation({ receivedAt: start - HOUR + options.deadlineInMs });
  const endsAt = start + options.endsInMs;
  const hung = Symbol("hung");
  const outcome = await Promise.race<RespondOutcome | typeof hung>([
    respond(
      invocation,
      { rules: fakeRules(), client, ledger, logger, metrics, workerId: "worker-1" },
      { endsAt, signal: AbortSignal.timeout(options.endsInMs) },
    ),
    new Promise<typeof hung>((resolve) => setTimeout(() => resolve(hung), options.endsInMs + 2_000)),
  ]);
  return { outcome, endedAt: Date.now(), endsAt, client, metrics, hung };
}

describe("respond: a ledger that never answers", () => {
  it("25 s before the deadline with 1 s left: ends by endsAt, having completed without the ledger", async () => {
    const { ledger, calls } = hangingLedger(true);
    const { outcome, endedAt, endsAt, client, metrics, hung } = await respondWithin(ledger, {
      deadlineInMs: 25_000,
      endsInMs: 1_000,
    });
    expect(outcome).not.toBe(hung);
    expect(endedAt).toBeLessThanOrEqual(endsAt + 250);
    expect(outcome).toMatchObject({ status: "completed", ledger: "bypassed" });
    expect(client.completions).toHaveLength(1);
    expect(metrics.sum(PipelineMetric.ledgerBypassed)).toBe(1);
    // Every ledger call got a signal to stop by.
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) expect(call.signal).toBeInstanceOf(AbortSignal);
  });

  it("also when the ledger ignores its signal", async () => {
    const { ledger } = hangingLedger(false);
    const { outcome, endedAt, endsAt, client, hung } = await respondWithin(ledger, {
      deadlineInMs: 25_000,
      endsInMs: 1_000,
    });
    expect(outcome).not.toBe(hung);
    expect(endedAt).toBeLessThanOrEqual(endsAt + 250);
    expect(outcome).toMatchObject({ status: "completed", ledger: "bypassed" });
    expect(client.completions).toHaveLength(1);
  });

  it("far from the deadline: a retry by endsAt, no completion sent without the ledger", async () => {
    const { ledger } = hangingLedger(true);
    const { outcome, endedAt, endsAt, client, hung } = await respondWithin(ledger, {
      deadlineInMs: HOUR / 2,
      endsInMs: 1_000,
    });
    expect(outcome).not.toBe(hung);
    expect(endedAt).toBeLessThanOrEqual(endsAt + 250);
    expect(outcome).toMatchObject({ status: "retry", retryable: true });
    expect(client.completions).toHaveLength(0);
  });

  it("without endsAt, each ledger call is still bounded (ledgerTimeoutMs)", async () => {
    const { ledger } = hangingLedger(true);
    const client = new FakeClient();
    const start = Date.now();
    const outcome = await respond(asyncInvocation({ receivedAt: start - HOUR / 2 }), {
      rules: fakeRules(),
      client,
      ledger,
      logger: new RecordingLogger(),
      metrics: new RecordingMetrics(),
      workerId: "worker-1",
      options: { ledgerTimeoutMs: 200 },
    });
    expect(outcome).toMatchObject({ status: "retry" });
    expect(Date.now() - start).toBeLessThan(1_000);
  });
});
