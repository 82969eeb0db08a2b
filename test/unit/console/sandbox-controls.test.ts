/**
 * The console's sandbox controls over a real sandbox: the input they fire for a chosen person and
 * items, the fault switch, and an invocation status list that never carries an invocation secret.
 */
import { afterEach, describe, expect, it } from "vitest";
import { devSandboxControls, invocationRow } from "../../../lib/console/sandbox-controls.ts";
import { DEFAULT_DIRECTORY_IDS as ID } from "../../../lib/context/directory.ts";
import type { Sample, SampleMode, SampleResult } from "../../../lib/local/samples.ts";
import { type Sandbox, type SandboxInvocation, startSandbox } from "../../../lib/sandbox/index.ts";

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

function result(sample: Sample, mode: SampleMode): SampleResult {
  return {
    trigger: "pre-approval",
    mode,
    sample: sample.name,
    invocationId: "inv-1",
    decision: "approve",
    ruleId: "default",
    completed: true,
    fallback: false,
    latencyMs: 3,
  };
}

function invocation(secret: string): SandboxInvocation {
  return {
    id: "8a1c0b4e-0000-4000-8000-000000000001",
    triggerId: "idn:access-request-pre-approval",
    triggerType: "requestResponse",
    subscriptionId: "sub-1",
    subscriptionName: "isc-responder dev pre-approval",
    type: "TEST",
    secret,
    input: { accessRequestId: "x" },
    contentJson: {},
    created: Date.UTC(2026, 11, 2, 12),
    deadline: Date.UTC(2026, 11, 2, 13),
    status: "COMPLETED",
    completed: Date.UTC(2026, 11, 2, 12) + 40,
    output: { approved: true },
    completions: [
      { at: Date.UTC(2026, 11, 2, 12) + 40, httpStatus: 204, result: "COMPLETED", withToken: true },
    ],
    delivery: { mode: "async", target: "http://127.0.0.1:1/", httpStatus: 200 },
  };
}

describe("devSandboxControls", () => {
  it("fires the chosen person and items from the directory, one after the other", async () => {
    sandbox = await startSandbox();
    const fired: [Sample, SampleMode][] = [];
    let release!: () => void;
    const ready = new Promise<void>((resolve) => {
      release = resolve;
    });
    const controls = devSandboxControls(
      {
        sandbox,
        bearerToken: "b".repeat(48),
        fire: async (sample, mode) => {
          fired.push([sample, mode]);
          return result(sample, mode);
        },
      },
      { ready },
    );
    const choices = controls.choices();
    expect(choices.people.find((p) => p.id === ID.terry)).toMatchObject({ name: "Terry Terminated" });
    expect(choices.items.find((i) => i.id === ID.wikiReader)).toMatchObject({ type: "ENTITLEMENT" });

    const pending = controls.fire({
      triggerId: "idn:access-request-pre-approval",
      mode: "async",
      personId: ID.terry,
      requestedById: ID.rob,
      itemIds: [ID.wikiReader, ID.softwareEngineer],
      comment: "back from leave",
    });
    // The dev runner's samples first.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fired).toHaveLength(0);
    release();
    expect((await pending).invocationId).toBe("inv-1");
    const [sample, mode] = fired[0]!;
    expect(mode).toBe("async");
    expect(sample.input).toMatchObject({
      requestedFor: { type: "IDENTITY", id: ID.terry, name: "Terry Terminated" },
      requestedBy: { type: "IDENTITY", id: ID.rob, name: "Rob Robertson" },
      requestedItems: [
        { id: ID.wikiReader, type: "ENTITLEMENT", operation: "Add", comment: "back from leave" },
        { id: ID.softwareEngineer, type: "ROLE", operation: "Add", comment: "back from leave" },
      ],
    });
    expect(sample.input.accessRequestId).toMatch(/^[0-9a-f]{32}$/);

    await expect(
      controls.fire({
        triggerId: "idn:access-request-pre-approval",
        mode: "sync",
        personId: "nobody",
        itemIds: [ID.wikiReader],
      }),
    ).rejects.toMatchObject({ code: "UNKNOWN_PERSON", httpStatus: 400 });
    await expect(
      controls.fire({
        triggerId: "idn:access-request-pre-approval",
        mode: "sync",
        personId: ID.ed,
        itemIds: ["nothing"],
      }),
    ).rejects.toMatchObject({ code: "UNKNOWN_ITEM", httpStatus: 400 });
  });

  it("a failing fire is a 502 that names no cause's text", async () => {
    sandbox = await startSandbox();
    const controls = devSandboxControls({
      sandbox,
      bearerToken: "b".repeat(48),
      fire: async () => {
        throw new TypeError("fetch failed for http://127.0.0.1:1/?token=abc");
      },
    });
    const error = await controls
      .fire({
        triggerId: "idn:access-request-pre-approval",
        mode: "sync",
        personId: ID.ed,
        itemIds: [ID.wikiReader],
      })
      .catch((e: Error) => e);
    expect(error).toMatchObject({ code: "FIRE_FAILED", httpStatus: 502 });
    expect((error as Error).message).not.toContain("token=abc");
  });

  it("turns fault injection on and off in the sandbox", async () => {
    sandbox = await startSandbox();
    const set: unknown[] = [];
    const original = sandbox.setFaults.bind(sandbox);
    sandbox.setFaults = (faults) => {
      set.push(faults);
      original(faults);
    };
    const controls = devSandboxControls({
      sandbox,
      bearerToken: "b".repeat(48),
      fire: async (s, m) => result(s, m),
    });
    expect(controls.faults()).toMatchObject({ enabled: false, rate: 0.2, target: "all" });
    expect(controls.setFaults({ enabled: true, rate: 1, target: "otherRequests" })).toMatchObject({
      enabled: true,
      rate: 1,
    });
    expect(set.at(-1)).toEqual({ rate: 1, target: "otherRequests" });
    // The sandbox counts what it injects: the page shows these counts.
    sandbox.state.faultsInjected.status503 = 2;
    expect(controls.faults().injected).toMatchObject({ status503: 2 });
    expect(controls.setFaults({ enabled: false })).toMatchObject({
      enabled: false,
      rate: 1,
      target: "otherRequests",
    });
    expect(set.at(-1)).toBeUndefined();
    expect(set).toHaveLength(2);
  });

  it("lists invocations without their secrets, and knows every secret to guard against", async () => {
    sandbox = await startSandbox();
    const secret = "invocation-secret-0123456789abcdef";
    sandbox.state.invocations.set("one", invocation(secret));
    const controls = devSandboxControls({
      sandbox,
      bearerToken: "b".repeat(48),
      fire: async (s, m) => result(s, m),
    });
    const listed = controls.invocations();
    expect(listed.counts).toMatchObject({ COMPLETED: 1 });
    expect(listed.invocations[0]).toMatchObject({
      status: "COMPLETED",
      latencyMs: 40,
      mode: "async",
      deliveryStatus: 200,
    });
    expect(JSON.stringify(listed)).not.toContain(secret);
    expect(JSON.stringify(invocationRow(invocation(secret)))).not.toContain(secret);
    expect([...controls.secrets()]).toEqual(
      expect.arrayContaining([secret, "b".repeat(48), sandbox.clientSecret]),
    );
  });
});
