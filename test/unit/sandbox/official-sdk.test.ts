/**
 * SailPoint's official TypeScript SDK (sailpoint-api-client) drives the sandbox through every seed
 * endpoint: a client nobody here wrote must get what ISC gives it (token as multipart/form-data,
 * no X-SailPoint-Experimental where ISC's spec needs none, the v2024/v2025 paths). Loopback only.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  CertificationCampaignsBetaApi,
  Configuration,
  RoleInsightsBetaApi,
  RoleInsightsV2024Api,
  TaskManagementBetaApi,
  TaskManagementV2024Api,
  TriggersBetaApi,
  TriggersV2024Api,
} from "sailpoint-api-client";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { type Sandbox, startSandbox } from "../../../lib/sandbox/index.ts";
import { exampleAccessRequestInput } from "../../../lib/triggers/examples.ts";
import { PRE_APPROVAL } from "../../../lib/triggers/trigger-ids.ts";

const OUTPUT = { approved: true, comment: "ok", approver: "sdk" };

let sandbox: Sandbox;
let subscriber: Server;
let subscriberUrl: string;
/** What the subscriber does with a delivery (SailPoint's Express example: answer 200, call back later). */
let onDelivery: (body: Record<string, unknown>) => void = () => {};

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, rateLimit: false });
  subscriber = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
      onDelivery(JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}"));
    });
  });
  await new Promise<void>((resolve) => subscriber.listen(0, "127.0.0.1", resolve));
  subscriberUrl = `http://127.0.0.1:${(subscriber.address() as AddressInfo).port}/hook`;
});

// ISC allows one subscription per trigger: each test starts with none.
beforeEach(() => {
  sandbox.state.subscriptions.clear();
});

afterAll(async () => {
  await sandbox.close();
  await new Promise((resolve) => subscriber.close(resolve));
});

function sdkConfiguration(): Configuration {
  return new Configuration({
    baseurl: sandbox.baseUrl,
    clientId: sandbox.clientId,
    clientSecret: sandbox.clientSecret,
    tokenUrl: `${sandbox.baseUrl}/oauth/token`,
  });
}

/** The SDK's axios error, as { status, detailCode }. */
async function failure(call: Promise<unknown>): Promise<{ status?: number; detailCode?: string }> {
  try {
    await call;
  } catch (error) {
    const response = (error as { response?: { status: number; data?: { detailCode?: string } } }).response;
    return { status: response?.status, detailCode: response?.data?.detailCode };
  }
  throw new Error("the call succeeded");
}

describe("the official SDK against the sandbox", () => {
  it("gets a token: the SDK posts the client credentials as multipart/form-data", async () => {
    const token = await sdkConfiguration().accessToken;
    expect(typeof token).toBe("string");
    expect((token as string).length).toBeGreaterThan(10);
  });

  it("drives every seed endpoint in beta (no X-SailPoint-Experimental header from the beta SDK)", {
    timeout: 15_000,
  }, async () => {
    const config = sdkConfiguration();
    const triggers = new TriggersBetaApi(config);

    const listed = await triggers.listTriggers();
    expect(listed.data.map((trigger) => trigger.id)).toContain(PRE_APPROVAL);

    const filter = await triggers.testSubscriptionFilter({
      validateFilterInputDtoBeta: {
        input: { accessRequestId: "a" },
        filter: '$[?($.accessRequestId == "a")]',
      },
    });
    expect(filter.data.isValid).toBe(true);

    const created = await triggers.createSubscription({
      subscriptionPostRequestBeta: {
        name: "sdk",
        triggerId: PRE_APPROVAL,
        type: "HTTP",
        httpConfig: { url: subscriberUrl, httpDispatchMode: "ASYNC", httpAuthenticationType: "NO_AUTH" },
        enabled: true,
      },
    });
    const id = created.data.id;
    expect((await triggers.listSubscriptions()).data.map((s) => s.id)).toContain(id);
    const put = await triggers.updateSubscription({
      id,
      subscriptionPutRequestBeta: {
        name: "sdk renamed",
        type: "HTTP",
        httpConfig: { url: subscriberUrl, httpDispatchMode: "ASYNC", httpAuthenticationType: "NO_AUTH" },
        enabled: true,
      },
    });
    expect(put.data.name).toBe("sdk renamed");
    const patched = await triggers.patchSubscription({
      id,
      subscriptionPatchRequestInnerBeta: [{ op: "add", path: "/description", value: "patched" }],
    });
    expect(patched.data.description).toBe("patched");

    const invocations = await triggers.startTestTriggerInvocation({
      testInvocationBeta: { triggerId: PRE_APPROVAL, contentJson: {}, subscriptionIds: [id] },
    });
    const [invocation] = invocations.data;
    expect(invocation?.secret).toBeTruthy();
    const complete = {
      id: invocation!.id!,
      completeInvocationBeta: { secret: invocation!.secret!, output: OUTPUT },
    };
    expect((await triggers.completeTriggerInvocation(complete)).status).toBe(204);
    expect(await failure(triggers.completeTriggerInvocation(complete))).toEqual({
      status: 400,
      detailCode: "400.1.404 Referenced object not found",
    });
    const statuses = await triggers.listTriggerInvocationStatus();
    expect(
      statuses.data.find((status) => status.id === invocation!.id)?.completeInvocationInput,
    ).toBeDefined();
    expect((await triggers.deleteSubscription({ id })).status).toBe(204);

    const tasks = new TaskManagementBetaApi(config);
    const task = sandbox.state.createTask();
    expect((await tasks.getTaskStatus({ id: task.id })).data.id).toBe(task.id);
    const updated = await tasks.updateTaskStatus({
      id: task.id,
      jsonPatchOperationBeta: [
        { op: "replace", path: "/completionStatus", value: "Success" },
        { op: "replace", path: "/completed", value: new Date().toISOString() },
      ],
    });
    expect(updated.data.completionStatus).toBe("SUCCESS");

    const campaign = sandbox.state.createCampaign();
    const completed = await new CertificationCampaignsBetaApi(config).completeCampaign({ id: campaign.id });
    expect(completed.status).toBe(202);

    const insights = new RoleInsightsBetaApi(config);
    const request = await insights.createRoleInsightRequests();
    expect(request.status).toBe(201);
    expect((await insights.getRoleInsightsRequests({ id: request.data.id! })).data.id).toBe(request.data.id);
  });

  it("drives the v2024 paths (the v2024 SDK sends the experimental header itself)", async () => {
    const config = sdkConfiguration();
    // The v2024 SDK refuses its experimental operations unless told they are wanted.
    (config as Configuration & { experimental?: boolean }).experimental = true;
    // It then console.logs a warning for each request it adds the header to: kept out of the output.
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const sub = await new TriggersV2024Api(config).createSubscription({
      subscriptionPostRequestV2024: {
        name: "v2024",
        triggerId: PRE_APPROVAL,
        type: "HTTP",
        httpConfig: { url: subscriberUrl, httpDispatchMode: "ASYNC", httpAuthenticationType: "NO_AUTH" },
      },
    });
    const [created] = (
      await new TriggersV2024Api(config).startTestTriggerInvocation({
        testInvocationV2024: { triggerId: PRE_APPROVAL, contentJson: {}, subscriptionIds: [sub.data.id] },
      })
    ).data;
    const pending = { id: created!.id!, secret: created!.secret! };
    const done = await new TriggersV2024Api(config).completeTriggerInvocation({
      id: pending.id,
      completeInvocationV2024: { secret: pending.secret, output: OUTPUT },
    });
    expect(done.status).toBe(204);
    const task = sandbox.state.createTask();
    expect((await new TaskManagementV2024Api(config).getTaskStatus({ id: task.id })).data.id).toBe(task.id);
    const insights = new RoleInsightsV2024Api(config);
    const request = await insights.createRoleInsightRequests();
    expect((await insights.getRoleInsightsRequests({ id: request.data.id! })).status).toBe(200);
    expect(log).toHaveBeenCalledWith("Warning: You are using Experimental APIs");
    log.mockRestore();
  });
});

describe("header rules per version (plain fetch)", () => {
  async function token(): Promise<string> {
    const reply = await fetch(`${sandbox.baseUrl}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: sandbox.clientId,
        client_secret: sandbox.clientSecret,
      }),
    });
    return ((await reply.json()) as { access_token: string }).access_token;
  }

  it("v2025 role insights require X-SailPoint-Experimental; v2025 task status and beta role insights do not", async () => {
    const authorization = `Bearer ${await token()}`;
    const post = (path: string, headers: Record<string, string> = {}) =>
      fetch(`${sandbox.baseUrl}${path}`, { method: "POST", headers: { authorization, ...headers } });
    const refused = await post("/v2025/role-insights/requests");
    expect(refused.status).toBe(400);
    expect(JSON.stringify(await refused.json())).toContain("X-SailPoint-Experimental");
    expect((await post("/v2025/role-insights/requests", { "x-sailpoint-experimental": "true" })).status).toBe(
      201,
    );
    expect((await post("/beta/role-insights/requests")).status).toBe(201);
    const task = sandbox.state.createTask();
    const got = await fetch(`${sandbox.baseUrl}/v2025/task-status/${task.id}`, {
      headers: { authorization },
    });
    expect(got.status).toBe(200);
  });

  it("a token request in the query string is accepted", async () => {
    const query = new URLSearchParams({
      grant_type: "client_credentials",
      client_id: sandbox.clientId,
      client_secret: sandbox.clientSecret,
    });
    const reply = await fetch(`${sandbox.baseUrl}/oauth/token?${query}`, { method: "POST" });
    expect(reply.status).toBe(200);
  });

  it("SailPoint's example subscriber: an ASYNC delivery answered later with only {secret, output} and no header completes", async () => {
    const config = sdkConfiguration();
    const sub = await new TriggersBetaApi(config).createSubscription({
      subscriptionPostRequestBeta: {
        name: "express example",
        triggerId: PRE_APPROVAL,
        type: "HTTP",
        httpConfig: { url: subscriberUrl, httpDispatchMode: "ASYNC", httpAuthenticationType: "NO_AUTH" },
      },
    });
    const callbacks: Promise<Response>[] = [];
    onDelivery = (body) => {
      const metadata = body._metadata as { callbackURL: string; secret: string };
      callbacks.push(
        fetch(metadata.callbackURL, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ secret: metadata.secret, output: OUTPUT }),
        }),
      );
    };
    try {
      const [invocation] = await sandbox.fireTrigger(PRE_APPROVAL, exampleAccessRequestInput(), {
        subscriptionIds: [sub.data.id],
      });
      const finished = await sandbox.waitForInvocation(invocation!.id, 5_000);
      expect(finished.status).toBe("COMPLETED");
      expect((await callbacks[0])?.status).toBe(204);
    } finally {
      onDelivery = () => {};
    }
  });
});
