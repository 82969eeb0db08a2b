/**
 * The tests of examples/typescript/policy.ts, as a policy's author writes them (docs/rules.md
 * "Testing a TypeScript policy"): decideOffline runs the deployed pipeline (payload first, the
 * context the rules need from a directory, async predicates within the deadline).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import policy, { ACCESS_GOVERNANCE } from "../../../examples/typescript/policy.ts";
import { defaultDirectoryFile } from "../../../lib/context/default-directory.ts";
import { DEFAULT_DIRECTORY_IDS } from "../../../lib/context/directory.ts";
import { decideOffline } from "../../../lib/rules/typescript-testing.ts";

const directory = defaultDirectoryFile() as unknown as Record<string, unknown>;

function request(item: Record<string, unknown>, person: string = DEFAULT_DIRECTORY_IDS.william) {
  return {
    accessRequestId: "ar-1",
    requestedFor: { type: "IDENTITY", id: person, name: "Someone" },
    requestedBy: { type: "IDENTITY", id: DEFAULT_DIRECTORY_IDS.rob, name: "Rob Robertson" },
    requestedItems: [{ type: "ENTITLEMENT", operation: "Add", ...item }],
  };
}
const ordinary = { id: "2c9180887a1b2c3d017a1b2c3d4e0099", name: "Wiki Reader" };
const superuser = { id: "2c9180887a1b2c3d017a1b2c3d4e0106", name: "PostgreSQL prod: superuser" };

let server: Server | undefined;
afterEach(async () => {
  delete process.env.RISK_SERVICE_URL;
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A loopback risk service answering every item with `answer` (status and body), after `delayMs`. */
async function riskService(answer: { status: number; score?: number }, delayMs = 0): Promise<void> {
  server = createServer((_req, res) => {
    setTimeout(() => res.writeHead(answer.status).end(JSON.stringify({ score: answer.score })), delayMs);
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  process.env.RISK_SERVICE_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("examples/typescript/policy.ts", () => {
  it("approves ordinary access with the custom default's comment", async () => {
    const result = await decideOffline(policy, request(ordinary), {
      trigger: "preApproval",
      context: directory,
    });
    expect(result.decision.explanation.ruleId).toBe("default");
    expect(result.decision.output).toEqual({
      approved: true,
      comment: "Passed the automatic checks (1 item(s)); the usual approvals follow.",
      approver: "svc-isc-responder",
    });
  });

  it("removals are approved from the payload, with no context read", async () => {
    const result = await decideOffline(policy, request({ ...superuser, operation: "Remove" }), {
      trigger: "preApproval",
    });
    expect(result.decision.explanation.ruleId).toBe("approve-removals");
    expect(result.context).toBeUndefined();
  });

  it("denies a terminated person (identity context)", async () => {
    const result = await decideOffline(policy, request(ordinary, DEFAULT_DIRECTORY_IDS.terry), {
      trigger: "preApproval",
      context: directory,
    });
    expect(result.decision.explanation.ruleId).toBe("deny-inactive-person");
  });

  it("denies a high-risk item, naming it (the async predicate)", async () => {
    const result = await decideOffline(policy, request(superuser), {
      trigger: "preApproval",
      context: directory,
    });
    expect(result.decision.explanation.ruleId).toBe("deny-high-risk");
    expect(result.decision.output).toMatchObject({
      approved: false,
      comment: "PostgreSQL prod: superuser is rated high risk: ask the Security team for an exception.",
    });
  });

  it("asks the risk service when configured; its failure or slowness is the fallback (deny)", async () => {
    await riskService({ status: 200, score: 95 });
    const high = await decideOffline(policy, request(ordinary), {
      trigger: "preApproval",
      context: directory,
    });
    expect(high.decision.explanation.ruleId).toBe("deny-high-risk");
    await new Promise<void>((resolve) => server?.close(() => resolve()));

    await riskService({ status: 503 });
    const down = await decideOffline(policy, request(ordinary), {
      trigger: "preApproval",
      context: directory,
    });
    expect(down.fallback).toBe(true);
    expect(down.fallbackReason).toMatch(/rule deny-high-risk: custom predicate .* threw/);
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server?.close(() => resolve()));

    await riskService({ status: 200, score: 1 }, 2_000);
    const started = Date.now();
    const slow = await decideOffline(policy, request(ordinary), {
      trigger: "preApproval",
      context: directory,
      budgetMs: 100,
    });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(slow.decision.output).toMatchObject({ approved: false });
    expect(slow.fallbackReason).toMatch(/did not settle before the decision's deadline/);
  });

  it("dynamic approver: Access Governance when the requester is the manager, none for removals", async () => {
    const manager = await decideOffline(policy, request(ordinary), {
      trigger: "dynamicApprover",
      context: directory,
    });
    // Rob requests for William, whose manager he is: never the requester themself.
    expect(manager.decision.output).toEqual(ACCESS_GOVERNANCE);
    const removal = await decideOffline(policy, request({ ...ordinary, operation: "Remove" }), {
      trigger: "dynamicApprover",
    });
    expect(removal.decision.explanation.ruleId).toBe("no-extra-approver-for-removals");
  });
});
