/**
 * End to end, in process, over loopback: sandbox tenant → local HTTP endpoint (the Lambda's handler
 * through the Function URL adapter) → queue → worker → completion at the sandbox, for every delivery
 * mode, with duplicate deliveries and worker crashes injected. The sandbox's state is the judge:
 * every invocation ends COMPLETED with the rules' output, accepted exactly once.
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IscActionsApi, IscCompletionApi } from "../../lib/isc/types.ts";
import { type DevSession, EVENTBRIDGE_CONFIG, startDev } from "../../lib/local/dev.ts";
import type { WorkerFactory } from "../../lib/local/responder.ts";
import { defaultSamples, expectedDecision } from "../../lib/local/samples.ts";
import { loadRulesFile } from "../../lib/rules/load-file.ts";
import type { SandboxInvocation } from "../../lib/sandbox/index.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../../lib/triggers/trigger-ids.ts";
import { slowRules, waitUntil, workerFactory } from "./support.ts";

const RULES = fileURLToPath(new URL("../../rules/example.yaml", import.meta.url));
const samples = defaultSamples();
const logLines: string[] = [];
const sessions: DevSession[] = [];

/** A client whose completions can be held at a gate, to crash the worker while one is in flight. */
interface Gate {
  hold: boolean;
  entered: number;
  release?: (outcome: "reached-isc" | "lost") => void;
}
const gate: Gate = { hold: false, entered: 0 };

function gatedFactory(inner: WorkerFactory): WorkerFactory {
  return (deps) => {
    const client = deps.client;
    const gated: IscCompletionApi & IscActionsApi = {
      updateTaskStatus: (...args) => client.updateTaskStatus(...args),
      completeCampaign: (...args) => client.completeCampaign(...args),
      createRoleInsightsRequest: (...args) => client.createRoleInsightsRequest(...args),
      async completeInvocation(target, body, options) {
        if (!gate.hold) return client.completeInvocation(target, body, options);
        gate.hold = false;
        gate.entered++;
        const outcome = await new Promise<"reached-isc" | "lost">((resolve) => {
          gate.release = resolve;
        });
        if (outcome === "lost") throw new TypeError("fetch failed"); // the process died before the call left
        return client.completeInvocation(target, body, options);
      },
    };
    return inner({ ...deps, client: gated });
  };
}

let session: DevSession;
let slow: DevSession;

// Anything written straight to the console or the process streams is captured too, not only the logger's lines.
const restoreConsole: Array<() => void> = [];
function captureStreams(): void {
  for (const name of ["log", "info", "warn", "error", "debug"] as const) {
    const original = console[name];
    console[name] = (...args: unknown[]) => {
      logLines.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
    };
    restoreConsole.push(() => {
      console[name] = original;
    });
  }
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      logLines.push(String(chunk));
      return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    restoreConsole.push(() => {
      stream.write = original as typeof stream.write;
    });
  }
}

beforeAll(async () => {
  captureStreams();
  const { factory } = await workerFactory();
  const log = (line: string) => logLines.push(line);
  session = await startDev({
    rulesPath: RULES,
    log,
    logLevel: "debug",
    createWorker: gatedFactory(factory),
    visibilityTimeoutMs: 400,
  });
  sessions.push(session);
  const compiled = (await loadRulesFile(RULES)).compiled;
  slow = await startDev({
    rulesPath: RULES,
    rules: slowRules(compiled, 40),
    dynamicBudgetMs: 5,
    log,
    logLevel: "debug",
    createWorker: factory,
    visibilityTimeoutMs: 400,
  });
  sessions.push(slow);
});

afterAll(async () => {
  for (const s of sessions) await s.close();
  for (const restore of restoreConsole) restore();
});

function acceptedCompletions(invocation: SandboxInvocation): number {
  return invocation.completions.filter((c) => c.result === "COMPLETED").length;
}

function httpBody(invocation: SandboxInvocation, baseUrl: string, mode: string): string {
  return JSON.stringify({
    ...invocation.input,
    _metadata: {
      triggerId: invocation.triggerId,
      triggerType: "requestResponse",
      responseMode: mode,
      callbackURL: `${baseUrl}/beta/trigger-invocations/${invocation.id}/complete`,
      secret: invocation.secret,
    },
  });
}

describe("sandbox → local responder → queue → worker → completion", () => {
  it("completes every sample in every mode with the rules' decision", async () => {
    const results = await session.runSamples();
    expect(results).toHaveLength(8);
    for (const result of results)
      expect(result, `${result.trigger} ${result.mode}`).toMatchObject({ completed: true });
    const modes = new Set(results.map((r) => `${r.trigger}/${r.mode}`));
    expect(modes.size).toBe(8);
    // At least one sample takes a rule (not only defaults): the table is about real decisions.
    expect(results.some((r) => r.ruleId !== "default")).toBe(true);
  });

  it("dynamic: answers 200 within the budget, 202 + callback beyond it (slow rule)", async () => {
    const fast = await session.fire(samples[DYNAMIC_APPROVER][0]!, "dynamic");
    expect(fast.completed).toBe(true);
    const fastInvocation = session.sandbox.state.invocations.get(fast.invocationId)!;
    expect(fastInvocation.delivery.httpStatus).toBe(200);
    expect(acceptedCompletions(fastInvocation)).toBe(0);

    for (const sample of [samples[DYNAMIC_APPROVER][0]!, samples[PRE_APPROVAL][1]!]) {
      const result = await slow.fire(sample, "dynamic");
      expect(result.completed, result.problem).toBe(true);
      const invocation = slow.sandbox.state.invocations.get(result.invocationId)!;
      expect(invocation.delivery.httpStatus).toBe(202);
      expect(acceptedCompletions(invocation)).toBe(1);
    }
  });

  it("duplicate HTTP deliveries of an async invocation complete it once", async () => {
    const sample = samples[PRE_APPROVAL][1]!;
    await session.setMode(PRE_APPROVAL, "async");
    const [created] = await session.client.testInvocation({
      triggerId: PRE_APPROVAL,
      input: sample.input,
      subscriptionIds: [session.subscriptionIds[PRE_APPROVAL]],
    });
    const invocation = session.sandbox.state.invocations.get(created!.id)!;
    const replay = () =>
      fetch(session.responder.url, {
        method: "POST",
        headers: { authorization: `Bearer ${session.bearerToken}`, "content-type": "application/json" },
        body: httpBody(invocation, session.sandbox.baseUrl, "async"),
      });
    const replies = await Promise.all([replay(), replay(), replay()]);
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200]);
    const ended = await session.sandbox.waitForInvocation(invocation.id, 10_000);
    await session.responder.waitForDrain(10_000);
    expect(ended.status).toBe("COMPLETED");
    const expected = await expectedDecision(
      session.rules,
      sample,
      session.sandbox.baseUrl,
      session.sandbox.directory,
    );
    expect(ended.output).toEqual(expected.output);
    expect(acceptedCompletions(ended)).toBe(1);
  });

  it("duplicate EventBridge events complete the invocation once", async () => {
    const sample = samples[DYNAMIC_APPROVER][1]!;
    await session.setMode(DYNAMIC_APPROVER, "eventbridge");
    const [created] = await session.client.testInvocation({
      triggerId: DYNAMIC_APPROVER,
      input: sample.input,
      subscriptionIds: [session.subscriptionIds[DYNAMIC_APPROVER]],
    });
    const invocation = session.sandbox.state.invocations.get(created!.id)!;
    const event = {
      version: "0",
      id: "00000000-0000-4000-8000-00000000e001",
      "detail-type": DYNAMIC_APPROVER,
      source: `aws.partner/sailpoint.com/${invocation.subscriptionId}/idn/access-request-dynamic-approver`,
      account: EVENTBRIDGE_CONFIG.awsAccount,
      time: new Date().toISOString(),
      region: EVENTBRIDGE_CONFIG.awsRegion,
      resources: [],
      detail: {
        ...invocation.input,
        _metadata: {
          invocationId: invocation.id,
          triggerId: DYNAMIC_APPROVER,
          triggerType: "requestResponse" as const,
          callbackURL: `${session.sandbox.baseUrl}/beta/trigger-invocations/${invocation.id}/complete`,
          secret: invocation.secret,
        },
      },
    };
    session.responder.eventBridgeSink(event);
    session.responder.eventBridgeSink(event);
    const ended = await session.sandbox.waitForInvocation(invocation.id, 10_000);
    await session.responder.waitForDrain(10_000);
    expect(ended.status).toBe("COMPLETED");
    expect(acceptedCompletions(ended)).toBe(1);
  });

  for (const outcome of ["reached-isc", "lost"] as const) {
    it(`a worker crash during the completion call (${outcome}) still completes exactly once`, async () => {
      const sample = samples[PRE_APPROVAL][0]!;
      gate.hold = true;
      const entered = gate.entered;
      const firing = session.fire(sample, "async");
      await waitUntil(() => gate.entered > entered, 10_000, "the worker to start completing");
      session.responder.crashAndRestartWorker();
      gate.release!(outcome);
      const result = await firing;
      expect(result.completed, result.problem).toBe(true);
      await session.responder.waitForDrain(10_000);
      const invocation = session.sandbox.state.invocations.get(result.invocationId)!;
      expect(acceptedCompletions(invocation)).toBe(1);
      expect(session.responder.queue.deadLetters).toHaveLength(0);
    });
  }

  it("leaves every invocation of the run completed, none accepted twice", () => {
    for (const s of sessions) {
      for (const invocation of s.sandbox.state.invocations.values()) {
        expect(invocation.status, `${invocation.id}: ${invocation.error ?? ""}`).toBe("COMPLETED");
        expect(acceptedCompletions(invocation)).toBeLessThanOrEqual(1);
      }
    }
  });

  it("never logs an invocation secret, the bearer token or the client secret", () => {
    expect(logLines.length).toBeGreaterThan(20);
    const all = logLines.join("\n");
    for (const s of sessions) {
      expect(all).not.toContain(s.bearerToken);
      expect(all).not.toContain(s.sandbox.clientSecret);
      for (const invocation of s.sandbox.state.invocations.values())
        expect(all).not.toContain(invocation.secret);
    }
  });
});
