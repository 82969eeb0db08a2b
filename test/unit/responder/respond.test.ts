import { describe, expect, it } from "vitest";
import { MemoryInvocationLedger } from "../../../lib/adapters/local/memory-ledger.ts";
import type { InvocationLedger } from "../../../lib/adapters/types.ts";
import { IscApiError, IscNetworkError } from "../../../lib/isc/errors.ts";
import { PipelineMetric } from "../../../lib/responder/observability.ts";
import { type RespondDeps, type RespondOptions, respond } from "../../../lib/responder/respond.ts";
import type { ActionSpec } from "../../../lib/rules/types.ts";
import type { Invocation } from "../../../lib/triggers/invocation.ts";
import {
  asyncInvocation,
  FakeClient,
  fakeRules,
  fakeTime,
  goneError,
  HOUR,
  RecordingLogger,
  RecordingMetrics,
  SECRET,
  serverError,
  T0,
  TENANT,
} from "./fixtures.ts";

const ID = "e9103ca9-02c4-bb0f-9441-94b3af012345";

function setup(
  options: {
    rules?: ReturnType<typeof fakeRules>;
    ledger?: InvocationLedger;
    respond?: Partial<RespondOptions>;
  } = {},
) {
  const time = fakeTime();
  const client = new FakeClient();
  const rules = options.rules ?? fakeRules();
  const ledger = options.ledger ?? new MemoryInvocationLedger({ now: time.clock });
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const deps = (workerId = "worker-1"): RespondDeps => ({
    rules,
    client,
    ledger,
    logger,
    metrics,
    workerId,
    clock: time.clock,
    sleep: time.sleep,
    ...(options.respond === undefined ? {} : { options: options.respond }),
  });
  return { time, client, rules, ledger, logger, metrics, deps };
}

/** A ledger whose chosen operations throw (a DynamoDB outage) while `broken` is true. */
function breakable(inner: InvocationLedger, operations: Array<keyof InvocationLedger>) {
  const state = { broken: true };
  const ledger = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (state.broken && operations.includes(property as keyof InvocationLedger)) {
          return Promise.reject(
            Object.assign(new Error("throttled"), { name: "ProvisionedThroughputExceededException" }),
          );
        }
        return value.apply(target, args);
      };
    },
  });
  return { ledger, state };
}

describe("respond: the normal path", () => {
  it("decides, completes once with the secret and the output, records completed", async () => {
    const { client, ledger, deps, metrics, logger, rules } = setup();
    const outcome = await respond(asyncInvocation(), deps());

    expect(outcome.status).toBe("completed");
    expect(client.completions).toHaveLength(1);
    const [call] = client.completions;
    expect(call?.target).toEqual({ callbackUrl: `${TENANT}/beta/trigger-invocations/${ID}/complete` });
    expect(call?.body).toEqual({
      secret: SECRET,
      output: { approved: true, comment: "approved by rule", approver: "rules" },
    });
    expect(rules.calls).toBe(1);

    const record = await ledger.get(ID);
    expect(record?.state).toBe("completed");
    expect(record?.decision?.output).toEqual(call?.body.output);
    expect(record?.decision?.explanation).toMatchObject({ ruleId: "r-approve" });
    expect(record?.leaseOwner).toBeUndefined();

    expect(metrics.sum(PipelineMetric.completions)).toBe(1);
    expect(metrics.sum(PipelineMetric.decisions, { kind: "rule" })).toBe(1);
    expect(metrics.sum(PipelineMetric.outcomes, { outcome: "completed" })).toBe(1);
    expect(metrics.points.find((p) => p.name === PipelineMetric.deadlineMargin)?.value).toBe(HOUR);

    const final = logger.lines.find((l) => l.message === "invocation handled");
    expect(final?.fields).toMatchObject({
      invocationId: ID,
      triggerId: "idn:access-request-pre-approval",
      accessRequestId: "2c91808b6ef1d43e016efba0ce470904",
      ruleId: "r-approve",
      decision: "approved",
      outcome: "completed",
      latencyMs: 0,
    });
    expect(logger.text()).not.toContain(SECRET);
  });

  it("bounds every completion call by invocation.deadline - safetyMarginMs", async () => {
    const { client, deps } = setup({ respond: { safetyMarginMs: 7_000 } });
    await respond(asyncInvocation(), deps());
    expect(client.completions[0]?.options?.deadline).toBe(T0 + HOUR - 7_000);
    expect(client.completions[0]?.options?.signal).toBeInstanceOf(AbortSignal);
  });

  it("completes with the fallback when the rules throw, and counts it", async () => {
    const { client, deps, metrics, ledger } = setup({ rules: fakeRules({ throws: true }) });
    const outcome = await respond(asyncInvocation(), deps());
    expect(outcome.status).toBe("completed");
    expect(client.completions[0]?.body.output).toEqual({
      approved: false,
      comment: "fallback",
      approver: "responder",
    });
    expect((await ledger.get(ID))?.decision?.fallback).toBe(true);
    expect(metrics.sum(PipelineMetric.fallbacks)).toBe(1);
  });

  it("completes nothing for a sync invocation without invocation id (answered in the HTTP reply)", async () => {
    const { client, deps } = setup();
    const body = { ...(await import("./fixtures.ts")).loadExample("http-async-pre-approval.request.json") };
    body._metadata = {
      triggerId: "idn:access-request-pre-approval",
      triggerType: "requestResponse",
      responseMode: "sync",
    };
    const { invocationFromHttpBody } = await import("../../../lib/triggers/invocation.ts");
    const sync = invocationFromHttpBody(body, {
      tenantBaseUrl: TENANT,
      responseDeadlineMs: () => HOUR,
      receivedAt: T0,
    });
    const outcome = await respond(sync, deps());
    // Queued only for its decision's actions (none here): nothing to complete, nothing ledgered.
    expect(outcome).toMatchObject({ status: "completed", retryable: false, ledger: "none", actions: [] });
    expect(client.completions).toHaveLength(0);
  });
});

describe("respond: never twice", () => {
  it("three concurrent deliveries of the same invocation complete it exactly once", async () => {
    const { client, deps, ledger } = setup();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The first completion waits, so the other deliveries arrive while it holds the lease.
    client.completionBehaviours.push(() => gate);
    const deliveries = ["w1", "w2", "w3"].map((worker) => respond(asyncInvocation(), deps(worker)));
    await new Promise((resolve) => setTimeout(resolve, 10));
    release();
    const outcomes = await Promise.all(deliveries);

    expect(client.completions).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === "completed")).toHaveLength(1);
    for (const other of outcomes.filter((o) => o.status !== "completed")) {
      expect(["in-progress", "duplicate-skipped"]).toContain(other.status);
    }
    // SQS redelivers the retryable ones later: they find it completed.
    const again = await Promise.all(
      outcomes.filter((o) => o.retryable).map((_, i) => respond(asyncInvocation(), deps(`w-again-${i}`))),
    );
    for (const o of again) expect(o.status).toBe("duplicate-skipped");
    expect(client.completions).toHaveLength(1);
    expect((await ledger.get(ID))?.state).toBe("completed");
  });

  it("a redelivery after completion neither decides nor completes again", async () => {
    const { client, deps, rules } = setup();
    await respond(asyncInvocation(), deps());
    const again = await respond(asyncInvocation(), deps("worker-2"));
    expect(again).toEqual({ status: "duplicate-skipped", retryable: false, state: "completed" });
    expect(rules.calls).toBe(1);
    expect(client.completions).toHaveLength(1);
  });

  it("the first stored decision wins over a later, different one", async () => {
    const { client, deps, ledger } = setup({ rules: fakeRules({ approved: true }) });
    const invocation = asyncInvocation();
    // Another delivery (older rules) decided "deny" and crashed before completing.
    await ledger.recordReceived({
      invocationId: ID,
      triggerId: invocation.triggerId,
      accessRequestId: "x",
      receivedAt: T0,
      deadline: T0 + HOUR,
    });
    await ledger.recordDecision(ID, {
      output: { approved: false, comment: "denied by rule", approver: "rules" },
      explanation: { ruleId: "r-deny" },
      fallback: false,
    });
    const outcome = await respond(invocation, deps());
    expect(outcome.status).toBe("completed");
    expect(client.completions[0]?.body.output).toEqual({
      approved: false,
      comment: "denied by rule",
      approver: "rules",
    });
  });
});

describe("respond: crash and resume", () => {
  async function crashAfterDecide(ledger: InvocationLedger, actions: ActionSpec[] = []) {
    // What a worker that crashed after deciding and taking the lease leaves behind.
    await ledger.recordReceived({
      invocationId: ID,
      triggerId: "idn:access-request-pre-approval",
      accessRequestId: "2c91808b6ef1d43e016efba0ce470904",
      receivedAt: T0,
      deadline: T0 + HOUR,
    });
    await ledger.recordDecision(ID, {
      output: { approved: false, comment: "first decision", approver: "rules" },
      explanation: { ruleId: "r-first", kind: "rule" },
      fallback: false,
      actions,
    });
    expect(await ledger.claimCompletion(ID, "crashed-worker", 60_000, T0)).toBe(true);
  }

  it("waits for the crashed holder's lease, then completes once with the stored decision and its actions", async () => {
    const { client, deps, ledger, rules, time } = setup();
    await crashAfterDecide(ledger, [
      { type: "update-task-status", taskId: "task-1", completionStatus: "SUCCESS" },
    ]);

    const early = await respond(asyncInvocation(), deps("worker-2"));
    expect(early).toMatchObject({ status: "in-progress", retryable: true });
    expect(client.completions).toHaveLength(0);

    time.now += 60_000; // the lease expires
    const resumed = await respond(asyncInvocation(), deps("worker-2"));
    expect(resumed.status).toBe("completed");
    expect(rules.calls).toBe(0);
    expect(client.completions).toHaveLength(1);
    expect(client.completions[0]?.body.output).toEqual({
      approved: false,
      comment: "first decision",
      approver: "rules",
    });
    expect(client.taskUpdates.map((u) => u.taskId)).toEqual(["task-1"]);
    expect((await ledger.get(ID))?.state).toBe("completed");

    const late = await respond(asyncInvocation(), deps("worker-3"));
    expect(late.status).toBe("duplicate-skipped");
    expect(client.completions).toHaveLength(1);
  });

  it("near the deadline waits the lease out in process instead of handing back to the queue", async () => {
    const { client, deps, ledger, time } = setup();
    await crashAfterDecide(ledger);
    // 45 s before the safety-adjusted deadline, another worker holds a lease for 20 s more.
    time.now = T0 + HOUR - 50_000;
    await ledger.releaseCompletion(ID, "crashed-worker");
    expect(await ledger.claimCompletion(ID, "crashed-worker", 20_000, time.now)).toBe(true);

    const outcome = await respond(asyncInvocation(), deps("worker-2"));
    expect(outcome.status).toBe("completed");
    expect(time.now).toBeGreaterThanOrEqual(T0 + HOUR - 30_000);
    expect(client.completions).toHaveLength(1);
  });

  it("recovers the actions of a stored decision from a ledger that does not keep them (same rules version)", async () => {
    const actions: ActionSpec[] = [{ type: "complete-campaign", campaignId: "camp-7" }];
    const { client, deps, ledger } = setup({ rules: fakeRules({ actions }) });
    await ledger.recordReceived({
      invocationId: ID,
      triggerId: "idn:access-request-pre-approval",
      accessRequestId: "x",
      receivedAt: T0,
      deadline: T0 + HOUR,
    });
    await ledger.recordDecision(ID, {
      output: { approver: "rules", comment: "approved by rule", approved: true },
      explanation: { ruleId: "r-approve", rulesVersion: "sha256:0123456789abcdef" },
      fallback: false,
    });
    expect((await respond(asyncInvocation(), deps())).status).toBe("completed");
    expect(client.campaigns.map((c) => c.campaignId)).toEqual(["camp-7"]);
  });

  it("a completion that succeeded but was not recorded is closed by the next delivery's 400.1.404", async () => {
    const { client, deps, ledger, metrics, time } = setup();
    await crashAfterDecide(ledger);
    time.now += 60_000;
    client.completionBehaviours.push(goneError(ID));
    const outcome = await respond(asyncInvocation(), deps("worker-2"));
    expect(outcome).toMatchObject({ status: "already-completed", retryable: false });
    const record = await ledger.get(ID);
    expect(record?.state).toBe("completed");
    expect(record?.outcome).toBe("already completed or expired");
    expect(metrics.sum(PipelineMetric.invocationGone)).toBe(1);
  });
});

describe("respond: ISC answers", () => {
  it("400.1.404 is final: marked, not retried, counted, no actions", async () => {
    const actions: ActionSpec[] = [{ type: "request-role-insights" }];
    const { client, deps, ledger, metrics } = setup({ rules: fakeRules({ actions }) });
    client.completionBehaviours.push(goneError(ID));
    const outcome = await respond(asyncInvocation(), deps());
    expect(outcome.status).toBe("already-completed");
    expect(outcome.retryable).toBe(false);
    expect(client.completions).toHaveLength(1);
    expect(client.roleInsightsRequests).toBe(0);
    expect((await ledger.get(ID))?.state).toBe("completed");
    expect(metrics.sum(PipelineMetric.invocationGone)).toBe(1);
  });

  it("a lost 204: 400.1.404 after an attempt of this call that ISC may have applied runs the stored decision's actions", async () => {
    const actions: ActionSpec[] = [{ type: "request-role-insights" }];
    const { client, deps, ledger, metrics } = setup({ rules: fakeRules({ actions }) });
    client.completionBehaviours.push(goneError(ID, true));
    const outcome = await respond(asyncInvocation(), deps());
    expect(outcome).toMatchObject({ status: "already-completed", retryable: false });
    expect(client.events).toEqual(["complete", "role-insights"]);
    expect(outcome.status === "already-completed" && outcome.actions).toMatchObject([
      { type: "request-role-insights", ok: true },
    ]);
    const record = await ledger.get(ID);
    expect(record?.state).toBe("completed");
    expect(record?.outcome).toContain("earlier attempt");
    expect(metrics.sum(PipelineMetric.invocationGone)).toBe(1);
  });

  it("a lost 204 across in-process retries: a timed-out attempt, then 400.1.404, runs the actions", async () => {
    const actions: ActionSpec[] = [
      { type: "complete-campaign", campaignId: "camp-9", autoCompleteAction: "APPROVE" },
    ];
    const { client, deps, time } = setup({ rules: fakeRules({ actions }) });
    time.now = T0 + HOUR - 40_000; // near the deadline: retried in process under the same lease owner
    client.completionBehaviours.push(
      new IscNetworkError("POST /beta/trigger-invocations/x/complete", 1, true, new Error("timeout")),
      goneError(ID),
    );
    const outcome = await respond(asyncInvocation(), deps());
    expect(outcome.status).toBe("already-completed");
    expect(client.events).toEqual(["complete", "complete", "campaign:camp-9"]);
  });

  it("400.1.404 after attempts ISC refused (503) is not taken for a lost 204: no actions", async () => {
    const actions: ActionSpec[] = [{ type: "request-role-insights" }];
    const { client, deps, time } = setup({ rules: fakeRules({ actions }) });
    time.now = T0 + HOUR - 40_000;
    client.completionBehaviours.push(serverError(503), goneError(ID));
    expect((await respond(asyncInvocation(), deps())).status).toBe("already-completed");
    expect(client.roleInsightsRequests).toBe(0);
  });

  it("a lost 204 without the ledger (no lease: another delivery may have run them) runs no actions", async () => {
    const time = fakeTime();
    const { ledger } = breakable(new MemoryInvocationLedger({ now: time.clock }), ["recordReceived"]);
    const actions: ActionSpec[] = [{ type: "request-role-insights" }];
    const { client, deps, time: t } = setup({ ledger, rules: fakeRules({ actions }) });
    t.now = T0 + HOUR - 30_000;
    client.completionBehaviours.push(goneError(ID, true));
    expect((await respond(asyncInvocation(), deps())).status).toBe("already-completed");
    expect(client.roleInsightsRequests).toBe(0);
  });

  it("a 5xx releases the lease and asks for redelivery; the redelivery completes with the same output", async () => {
    const { client, deps, ledger, rules, metrics } = setup();
    client.completionBehaviours.push(serverError(503));
    const first = await respond(asyncInvocation(), deps("w1"));
    expect(first).toMatchObject({ status: "retry", retryable: true });
    expect(first.status === "retry" && first.reason).toContain("status=503");
    const afterFirst = await ledger.get(ID);
    expect(afterFirst?.state).toBe("decided");
    expect(afterFirst?.leaseOwner).toBeUndefined();

    const second = await respond(asyncInvocation(), deps("w2"));
    expect(second.status).toBe("completed");
    expect(client.completions).toHaveLength(2);
    expect(client.completions[1]?.body).toEqual(client.completions[0]?.body);
    expect(rules.calls).toBe(1);
    expect(metrics.sum(PipelineMetric.completionRetries)).toBe(1);
  });

  it("network errors are retryable too", async () => {
    const { client, deps } = setup();
    client.completionBehaviours.push(new TypeError("fetch failed"));
    expect((await respond(asyncInvocation(), deps())).status).toBe("retry");
  });

  it("a 400 other than 400.1.404 is final: the same request would be refused again", async () => {
    const { client, deps, ledger } = setup();
    client.completionBehaviours.push(
      new IscApiError({
        status: 400,
        operation: "POST x",
        detailCode: "400.0 Bad request syntax",
        trackingId: "t-9",
      }),
    );
    const outcome = await respond(asyncInvocation(), deps());
    expect(outcome).toMatchObject({ status: "failed", retryable: false });
    expect(outcome.status === "failed" && outcome.reason).toContain("trackingId=t-9");
    expect((await ledger.get(ID))?.state).toBe("failed");
  });
});

describe("respond: the deadline", () => {
  it("past the (safety-adjusted) deadline: no call to ISC, marked failed, final", async () => {
    const { client, deps, ledger, time, metrics } = setup();
    time.now = T0 + HOUR - 4_000; // inside the 5 s safety margin
    const outcome = await respond(asyncInvocation(), deps());
    expect(outcome).toEqual({ status: "deadline-passed", retryable: false, reason: "deadline passed" });
    expect(client.completions).toHaveLength(0);
    const record = await ledger.get(ID);
    expect(record?.state).toBe("failed");
    expect(record?.outcome).toBe("deadline passed");
    expect(metrics.sum(PipelineMetric.deadlinePassed)).toBe(1);
  });

  it("near the deadline, transient failures are retried in process with the same output", async () => {
    const { client, deps, time } = setup();
    time.now = T0 + HOUR - 40_000;
    client.completionBehaviours.push(serverError(503), serverError(429), new TypeError("fetch failed"));
    const outcome = await respond(asyncInvocation(), deps());
    expect(outcome.status).toBe("completed");
    expect(client.completions).toHaveLength(4);
    const bodies = new Set(client.completions.map((c) => JSON.stringify(c.body.output)));
    expect(bodies.size).toBe(1);
  });

  it("near the deadline, retries stop at the deadline and never call ISC after it", async () => {
    const { client, deps, time, ledger } = setup();
    time.now = T0 + HOUR - 20_000;
    const effectiveDeadline = T0 + HOUR - 5_000;
    const callTimes: number[] = [];
    for (let i = 0; i < 50; i++) {
      client.completionBehaviours.push(async () => {
        callTimes.push(time.now);
        throw serverError(503);
      });
    }
    // Retries until the next pause would overrun the deadline, then hands back to the queue…
    const outcome = await respond(asyncInvocation(), deps());
    expect(outcome.status).toBe("retry");
    expect(callTimes.length).toBeGreaterThan(1);
    for (const t of callTimes) expect(t).toBeLessThan(effectiveDeadline);
    // …whose redelivery, past the deadline, closes it without calling ISC.
    time.now = effectiveDeadline;
    const calls = client.completions.length;
    expect((await respond(asyncInvocation(), deps())).status).toBe("deadline-passed");
    expect(client.completions).toHaveLength(calls);
    expect((await ledger.get(ID))?.state).toBe("failed");
  });

  it("far from the deadline, a transient failure is handed back to the queue at once", async () => {
    const { client, deps, time } = setup();
    client.completionBehaviours.push(serverError(502));
    const before = time.now;
    expect((await respond(asyncInvocation(), deps())).status).toBe("retry");
    expect(time.now).toBe(before);
    expect(client.completions).toHaveLength(1);
  });

  it("a refused token request (400 invalid_client while the client secret is rotated) is retried, not given up", async () => {
    const { client, deps, ledger } = setup();
    client.completionBehaviours.push(
      new IscApiError(
        { status: 400, operation: "POST /oauth/token", messages: ["invalid_client"] },
        "ISC_AUTH_FAILED",
        "the client credentials were refused (check SAIL_CLIENT_ID and SAIL_CLIENT_SECRET)",
      ),
    );
    expect((await respond(asyncInvocation(), deps())).status).toBe("retry");
    expect((await ledger.get(ID))?.state).not.toBe("failed");
    expect((await respond(asyncInvocation(), deps())).status).toBe("completed");
  });

  it("does not wait past the call's endsAt (the Lambda's remaining time)", async () => {
    const { client, deps, time } = setup();
    time.now = T0 + HOUR - 40_000;
    client.completionBehaviours.push(serverError(503), serverError(503), serverError(503));
    const outcome = await respond(asyncInvocation(), deps(), { endsAt: time.now + 2_500 });
    expect(outcome.status).toBe("retry");
    expect(time.now).toBeLessThanOrEqual(T0 + HOUR - 40_000 + 2_500);
  });
});

describe("respond: the ledger fails", () => {
  it("far from the deadline: retry, no completion sent", async () => {
    const time = fakeTime();
    const { ledger } = breakable(new MemoryInvocationLedger({ now: time.clock }), ["recordReceived"]);
    const { client, deps, metrics } = setup({ ledger });
    const outcome = await respond(asyncInvocation(), deps());
    expect(outcome.status).toBe("retry");
    expect(client.completions).toHaveLength(0);
    expect(metrics.sum(PipelineMetric.ledgerErrors, { operation: "recordReceived" })).toBe(1);
  });

  it("near the deadline: completes without it (ISC refuses any second completion)", async () => {
    const time = fakeTime();
    const { ledger } = breakable(new MemoryInvocationLedger({ now: time.clock }), [
      "recordReceived",
      "markCompleted",
    ]);
    const { client, deps, metrics, time: t } = setup({ ledger });
    t.now = T0 + HOUR - 30_000;
    const outcome = await respond(asyncInvocation(), deps());
    expect(outcome).toMatchObject({ status: "completed", ledger: "bypassed" });
    expect(client.completions).toHaveLength(1);
    expect(metrics.sum(PipelineMetric.ledgerBypassed)).toBe(1);
  });

  it("a failure to record completion after ISC acknowledged it does not turn into a retry", async () => {
    const time = fakeTime();
    const { ledger } = breakable(new MemoryInvocationLedger({ now: time.clock }), ["markCompleted"]);
    const { client, deps } = setup({ ledger });
    expect((await respond(asyncInvocation(), deps())).status).toBe("completed");
    expect(client.completions).toHaveLength(1);
  });
});

describe("respond: actions", () => {
  const actions: ActionSpec[] = [
    {
      type: "update-task-status",
      taskId: "task-1",
      completionStatus: "SUCCESS",
      completed: "2026-01-01T00:00:00Z",
    },
    { type: "complete-campaign", campaignId: "camp-1", autoCompleteAction: "REVOKE" },
    { type: "request-role-insights" },
  ];

  it("run after the completion, mapped to the client calls", async () => {
    const { client, deps } = setup({ rules: fakeRules({ actions }) });
    const outcome = await respond(asyncInvocation(), deps());
    expect(client.events[0]).toBe("complete");
    expect(client.events.slice(1).sort()).toEqual(["campaign:camp-1", "role-insights", "task:task-1"]);
    expect(client.taskUpdates[0]?.operations).toEqual([
      { op: "replace", path: "/completionStatus", value: "SUCCESS" },
      { op: "replace", path: "/completed", value: "2026-01-01T00:00:00Z" },
    ]);
    expect(client.taskUpdates[0]?.options?.deadline).toBeTypeOf("number");
    expect(client.campaigns).toEqual([{ campaignId: "camp-1", request: { autoCompleteAction: "REVOKE" } }]);
    expect(outcome.status === "completed" && outcome.actions.every((a) => a.ok)).toBe(true);
  });

  it("a failing action changes neither the outcome nor the ledger, and is recorded", async () => {
    const { client, deps, ledger, metrics, logger } = setup({ rules: fakeRules({ actions }) });
    client.failTaskUpdates = true;
    const outcome = await respond(asyncInvocation(), deps());
    expect(outcome.status).toBe("completed");
    expect(outcome.status === "completed" && outcome.actions.find((a) => !a.ok)).toMatchObject({
      type: "update-task-status",
      target: "task-1",
      ok: false,
    });
    expect((await ledger.get(ID))?.state).toBe("completed");
    expect(metrics.sum(PipelineMetric.actions, { result: "failed" })).toBe(1);
    expect(metrics.sum(PipelineMetric.actions, { result: "ok" })).toBe(2);
    expect(logger.lines.some((l) => l.message.startsWith("action failed"))).toBe(true);
  });

  it("are not run when the invocation could not be completed", async () => {
    const { client, deps } = setup({ rules: fakeRules({ actions }) });
    client.completionBehaviours.push(serverError(503));
    await respond(asyncInvocation(), deps());
    expect(client.events).toEqual(["complete"]);
  });
});

describe("respond: sync invocations queued for their actions", () => {
  it("decides, runs the actions, completes nothing (the HTTP reply was the answer)", async () => {
    const actions: ActionSpec[] = [{ type: "complete-campaign", campaignId: "camp-s" }];
    const { client, deps, metrics } = setup({ rules: fakeRules({ actions }) });
    const sync: Invocation = {
      ...asyncInvocation(),
      mode: "sync",
      invocationId: undefined,
      callbackUrl: undefined,
      secret: undefined,
    } as Invocation;
    const outcome = await respond(sync, deps());
    expect(outcome).toMatchObject({ status: "completed", ledger: "none" });
    expect(client.completions).toHaveLength(0);
    expect(client.campaigns.map((c) => c.campaignId)).toEqual(["camp-s"]);
    // The http function counted this decision when it answered: not counted twice.
    expect(metrics.sum(PipelineMetric.decisions)).toBe(0);
  });

  it("runs exactly the actions the reply's decision had, without deciding again", async () => {
    const rules = fakeRules({ actions: [{ type: "complete-campaign", campaignId: "a-later-decision" }] });
    const { client, deps } = setup({ rules });
    const sync: Invocation = {
      ...asyncInvocation(),
      mode: "sync",
      invocationId: undefined,
      callbackUrl: undefined,
      secret: undefined,
      answered: {
        ruleId: "r-replied",
        rulesVersion: "sha256:0123456789abcdef",
        actions: [{ type: "complete-campaign", campaignId: "camp-replied" }],
      },
    } as Invocation;
    const outcome = await respond(sync, deps());
    expect(outcome).toMatchObject({ status: "completed", ledger: "none" });
    expect(rules.calls).toBe(0);
    expect(client.campaigns.map((c) => c.campaignId)).toEqual(["camp-replied"]);
  });

  it("a reply's decision from other rules (another version) is not trusted: decided again", async () => {
    const rules = fakeRules({ actions: [{ type: "complete-campaign", campaignId: "camp-rules" }] });
    const { client, deps } = setup({ rules });
    const sync = {
      ...asyncInvocation(),
      mode: "sync",
      invocationId: undefined,
      callbackUrl: undefined,
      secret: undefined,
      answered: {
        ruleId: "r-elsewhere",
        rulesVersion: "sha256:ffffffffffffffff",
        actions: [{ type: "complete-campaign", campaignId: "camp-forged" }],
      },
    } as Invocation;
    await respond(sync, deps());
    expect(rules.calls).toBe(1);
    expect(client.campaigns.map((c) => c.campaignId)).toEqual(["camp-rules"]);
  });

  it("decided again under shadow mode, the rules' actions do not run (nor are counted twice)", async () => {
    const rules = fakeRules({ actions: [{ type: "complete-campaign", campaignId: "camp-rules" }] });
    const { client, deps, metrics } = setup({ rules });
    const sync = {
      ...asyncInvocation(),
      mode: "sync",
      invocationId: undefined,
      callbackUrl: undefined,
      secret: undefined,
      answered: { ruleId: "r-elsewhere", rulesVersion: "sha256:ffffffffffffffff", actions: [] },
    } as Invocation;
    const shadow = { "idn:access-request-pre-approval": { approved: true, comment: "shadow" } };
    await respond(sync, { ...deps(), shadow });
    expect(rules.calls).toBe(1);
    expect(client.campaigns).toEqual([]);
    expect(metrics.sum("ShadowDecisions")).toBe(0);
  });
});

describe("respond: FIRE_AND_FORGET", () => {
  function postApproval(invocationId?: string): Invocation {
    return {
      triggerType: "fireAndForget",
      triggerId: "idn:access-request-post-approval",
      invocationId,
      mode: "eventbridge",
      receivedAt: T0,
      deadline: T0,
      input: { accessRequestId: "ar-1" },
      callbackUrl: undefined,
      secret: undefined,
    };
  }
  const actions: ActionSpec[] = [{ type: "complete-campaign", campaignId: "camp-9" }];

  it("runs the actions once and never calls the completion endpoint, even at its (zero) deadline", async () => {
    const { client, deps, ledger } = setup({ rules: fakeRules({ actions }) });
    const first = await respond(postApproval("ff-1"), deps());
    const second = await respond(postApproval("ff-1"), deps("w2"));
    expect(first.status).toBe("completed");
    expect(second.status).toBe("duplicate-skipped");
    expect(client.completions).toHaveLength(0);
    expect(client.campaigns).toHaveLength(1);
    expect((await ledger.get("ff-1"))?.outcome).toBe("actions: 1 ok, 0 failed");
  });

  it("without an invocation id, runs the actions unledgered", async () => {
    const { client, deps } = setup({ rules: fakeRules({ actions }) });
    const outcome = await respond(postApproval(), deps());
    expect(outcome).toMatchObject({ status: "completed", ledger: "none" });
    expect(client.campaigns).toHaveLength(1);
  });
});
