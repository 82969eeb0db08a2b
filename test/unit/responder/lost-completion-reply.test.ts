/**
 * ISC applies our completion but its reply is lost (here a 502 after applying); the client's retry
 * gets 400.1.404. The decision ISC took is the stored one, so its actions run. Real IscClient against
 * a loopback tenant.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { MemoryInvocationLedger } from "../../../lib/adapters/local/memory-ledger.ts";
import { IscClient } from "../../../lib/isc/client.ts";
import { respond } from "../../../lib/responder/respond.ts";
import type { ActionSpec } from "../../../lib/rules/types.ts";
import { invocationFromHttpBody } from "../../../lib/triggers/invocation.ts";
import { errorDto, type FakeTenant, startFakeTenant } from "../isc/fake-tenant.ts";
import { fakeRules, HOUR, loadExample, RecordingLogger, RecordingMetrics } from "./fixtures.ts";

let tenant: FakeTenant;
beforeAll(async () => {
  tenant = await startFakeTenant();
});
afterAll(async () => {
  await tenant.close();
});

it("a completion applied by ISC whose reply was lost still runs the decision's actions", async () => {
  let completions = 0;
  tenant.handle((request) => {
    if (request.path.endsWith("/complete")) {
      completions += 1;
      return completions === 1
        ? { status: 502, body: errorDto("502 Bad Gateway", "upstream reply lost") }
        : { status: 400, body: errorDto("400.1.404 Referenced object not found", "gone") };
    }
    if (request.path === "/beta/role-insights/requests") {
      return { status: 201, body: { id: "ri-1", status: "CREATED" } };
    }
    return { status: 404, body: errorDto("404 Not found", "no such path") };
  });
  const client = new IscClient({
    baseUrl: tenant.baseUrl,
    clientId: "client-id",
    clientSecret: "client-secret-value",
    rateLimit: false,
    random: () => 0,
    sleep: async () => {},
  });
  const body = loadExample("http-async-pre-approval.request.json");
  body._metadata.callbackURL = `${tenant.baseUrl}/beta/trigger-invocations/${body.invocationId}/complete`;
  const invocation = invocationFromHttpBody(body, {
    tenantBaseUrl: tenant.baseUrl,
    responseDeadlineMs: () => HOUR,
    receivedAt: Date.now(),
  });
  const actions: ActionSpec[] = [{ type: "request-role-insights" }];
  const ledger = new MemoryInvocationLedger();
  const outcome = await respond(invocation, {
    rules: fakeRules({ actions }),
    client,
    ledger,
    logger: new RecordingLogger(),
    metrics: new RecordingMetrics(),
    workerId: "worker-1",
  });
  expect(completions).toBe(2);
  expect(outcome.status).toBe("already-completed");
  expect(tenant.requests.map((r) => r.path)).toContain("/beta/role-insights/requests");
  expect((await ledger.get(String(body.invocationId)))?.state).toBe("completed");
});
