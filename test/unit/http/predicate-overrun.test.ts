// biome-ignore-all lint/suspicious/noThenProperty: `then` is the rules format's word for a rule's decision.
/**
 * An async custom predicate that does not settle in time is a lack of time, not a verdict: in dynamic
 * mode the http function hands the invocation to the worker (202) instead of answering the fallback,
 * and the worker, far from the deadline, asks for a redelivery rather than completing the fallback.
 */
import { describe, expect, it } from "vitest";
import { MemoryInvocationLedger } from "../../../lib/adapters/local/memory-ledger.ts";
import { respond } from "../../../lib/responder/respond.ts";
import { defineRules } from "../../../lib/rules/typescript-api.ts";
import {
  asyncInvocation,
  FakeClient,
  fakeTime,
  RecordingLogger,
  RecordingMetrics,
} from "../responder/fixtures.ts";
import { body, event, setup } from "./fixtures.ts";

const slowPolicy = () =>
  defineRules({
    approver: "svc",
    preApproval: {
      rules: [
        {
          id: "risk-service",
          // Settles only when aborted: longer than any budget here.
          when: (_view: unknown, api: { signal: AbortSignal }) =>
            new Promise<boolean>((_resolve, reject) =>
              api.signal.addEventListener("abort", () => reject(api.signal.reason)),
            ),
          then: { decision: "deny", comment: "risky" },
        },
      ],
      default: { decision: "approve", comment: "OK" },
      fallback: { decision: "deny", comment: "Denied for safety." },
    },
  });

describe("an async predicate out of time", () => {
  it("dynamic: deferred to the worker (202), not answered with the fallback", async () => {
    const { handler, queue } = setup({ rules: slowPolicy(), dynamicBudgetMs: 50 });
    const reply = await handler(event(body("dynamic")));
    expect(reply.statusCode).toBe(202);
    expect(queue.messages).toHaveLength(1);
  });

  it("worker far from the deadline: redelivered, nothing completed", async () => {
    const time = fakeTime();
    const client = new FakeClient();
    const outcome = await respond(asyncInvocation({ invocationId: "0f11b2d8-8e38-4a1c-9b7a-0a0a0a0a0a09" }), {
      rules: slowPolicy(),
      client,
      ledger: new MemoryInvocationLedger({ now: time.clock }),
      logger: new RecordingLogger(),
      metrics: new RecordingMetrics(),
      workerId: "w",
      clock: time.clock,
      sleep: time.sleep,
      options: { contextTimeoutMs: 30 },
    });
    expect(outcome.status).toBe("retry");
    expect(client.completions).toHaveLength(0);
  });
});
