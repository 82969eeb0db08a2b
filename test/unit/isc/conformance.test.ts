/**
 * Every request the client sends (method, path, query, media type, body) validated against the
 * official OpenAPI subsets, the trigger APIs and the context reads; the answers the fake tenant gives
 * are spec-shaped, validated too.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IscContextFetcher } from "../../../lib/context/isc-fetcher.ts";
import { IscClient } from "../../../lib/isc/client.ts";
import { listOperations, validateRequest, validateResponse } from "../../helpers/openapi.ts";
import { contextRoute, IDS } from "./context-fixtures.ts";
import { type FakeTenant, type RecordedRequest, type Reply, startFakeTenant } from "./fake-tenant.ts";

const subscription = {
  id: "0f11f2a4-7c94-4bf3-a2bd-742580fe3bde",
  name: "Access request subscription",
  description: "Access requested to site xyz",
  triggerId: "idn:access-request-pre-approval",
  triggerName: "Access Request Submitted",
  type: "HTTP",
  responseDeadline: "PT1H",
  httpConfig: {
    url: "https://www.example.com",
    httpDispatchMode: "ASYNC",
    httpAuthenticationType: "BEARER_TOKEN",
    basicAuthConfig: null,
    bearerTokenAuthConfig: { bearerToken: null },
  },
  enabled: true,
  filter: "$[?($.requestedItems)]",
};
const taskStatus = {
  id: "00eebcf881994e419d72e757fd30dc0e",
  type: "QUARTZ",
  uniqueName: "Big Task",
  description: "A Really Big Task",
  parentName: null,
  launcher: "sweep",
  target: null,
  created: "2020-07-11T21:23:15.000Z",
  modified: null,
  launched: null,
  completed: "2024-05-17T19:33:16.470Z",
  completionStatus: "ERROR",
  messages: [],
  returns: [],
  attributes: {},
  progress: null,
  percentComplete: 100,
};
const roleInsights = {
  id: "c9aa02f7-86b0-4bc4-84bd-3116a6131e77",
  createdDate: "2020-09-16T18:49:32.150Z",
  lastGenerated: "2020-09-16T18:49:32.150Z",
  numberOfUpdates: 0,
  roleIds: ["2c91808e720e94f8017253287c0a44f4"],
  status: "CREATED",
};

function route(request: RecordedRequest): Reply {
  const { method, path } = request;
  if (path.endsWith("/complete") && path.includes("trigger-invocations")) return { status: 204 };
  if (path === "/beta/trigger-invocations/test") {
    return {
      status: 200,
      body: [{ id: "inv-1", triggerId: "idn:access-request-pre-approval", secret: "s", contentJson: {} }],
    };
  }
  if (path === "/beta/trigger-invocations/status") return { status: 200, body: [] };
  if (path === "/beta/triggers") {
    return {
      status: 200,
      body: [
        {
          id: "idn:access-request-pre-approval",
          name: "Access Request Submitted",
          type: "REQUEST_RESPONSE",
          inputSchema: "{}",
          exampleInput: {
            accessRequestId: "4b4d982dddff4267ab12f0f1e72b5a6d",
            requestedFor: [
              { type: "IDENTITY", id: "2c4180a46faadee4016fb4e018c20626", name: "Robert Robinson" },
            ],
            requestedItems: [
              {
                id: "2c91808b6ef1d43e016efba0ce470904",
                name: "Engineering Access",
                type: "ACCESS_PROFILE",
                operation: "Add",
              },
            ],
            requestedBy: { type: "IDENTITY", id: "2c7180a46faadee4016fb4e018c20648", name: "William Wilson" },
          },
        },
      ],
    };
  }
  if (path === "/beta/trigger-subscriptions/validate-filter")
    return { status: 200, body: { isValid: true, isValidJSONPath: true, isPathExist: true } };
  if (path === "/beta/trigger-subscriptions")
    return method === "POST" ? { status: 201, body: subscription } : { status: 200, body: [subscription] };
  if (path.startsWith("/beta/trigger-subscriptions/"))
    return method === "DELETE" ? { status: 204 } : { status: 200, body: subscription };
  if (path.startsWith("/beta/task-status/")) return { status: 200, body: taskStatus };
  if (path.endsWith("/complete")) return { status: 202, body: {} };
  if (path === "/beta/role-insights/requests") return { status: 201, body: roleInsights };
  if (path.startsWith("/beta/role-insights/requests/")) return { status: 200, body: roleInsights };
  return { status: 404, body: { detailCode: "404 Not found", messages: [] } };
}

let tenant: FakeTenant;
const replies: Array<{ request: RecordedRequest; reply: Reply }> = [];

beforeAll(async () => {
  tenant = await startFakeTenant((request) => {
    const reply = contextRoute(request) ?? route(request);
    replies.push({ request, reply });
    return reply;
  });
});
afterAll(async () => {
  await tenant.close();
});

describe("client requests conform to the official OpenAPI subset", () => {
  it("every endpoint the client calls", async () => {
    const client = new IscClient({
      baseUrl: tenant.baseUrl,
      clientId: "id",
      clientSecret: "secret",
      rateLimit: false,
    });
    const id = "0f11f2a4-7c94-4bf3-a2bd-742580fe3bde";
    await client.completeInvocation(
      { invocationId: id },
      { secret: "s", output: { approved: true, comment: "", approver: "a" } },
    );
    await client.completeInvocation(
      { callbackUrl: `${tenant.baseUrl}/trigger-invocations/v1/${id}/complete` },
      { secret: "s", output: {}, error: "refused" },
    );
    await client.testInvocation({
      triggerId: "idn:access-request-pre-approval",
      input: { accessRequestId: "x" },
      subscriptionIds: [id],
    });
    await client.testInvocation({ triggerId: "idn:access-request-pre-approval" });
    await client.listInvocationStatus({
      limit: 10,
      offset: 0,
      count: true,
      filters: 'triggerId eq "idn:access-request-pre-approval"',
      sorters: "created",
    });
    await client.listTriggers({ limit: 250 });
    await client.createSubscription({
      name: subscription.name,
      triggerId: subscription.triggerId,
      type: "HTTP",
      responseDeadline: "PT1H",
      httpConfig: {
        url: "https://www.example.com",
        httpDispatchMode: "ASYNC",
        httpAuthenticationType: "BEARER_TOKEN",
        bearerTokenAuthConfig: { bearerToken: "t" },
      },
      enabled: true,
    });
    await client.listSubscriptions({ filters: 'triggerId eq "idn:access-request-pre-approval"' });
    await client.getSubscription(id);
    await client.updateSubscription(id, {
      triggerId: subscription.triggerId,
      name: "renamed",
      type: "EVENTBRIDGE",
      eventBridgeConfig: { awsAccount: "123456789012", awsRegion: "us-west-1" },
      enabled: true,
    });
    // The beta spec's PATCH value schema has no boolean (string, integer, object, array): patch a string.
    await client.patchSubscription(id, [{ op: "replace", path: "/description", value: "new" }]);
    await client.deleteSubscription(id);
    await client.validateFilter({ input: { identityId: "x" }, filter: "$[?($.identityId)]" });
    await client.getTaskStatus(taskStatus.id);
    await client.clearPendingTask(taskStatus.id, { completionStatus: "ERROR" });
    await client.completeCampaign("ef38f94347e94562b5bb8424a56397d8", { autoCompleteAction: "REVOKE" });
    await client.completeCampaign("ef38f94347e94562b5bb8424a56397d8", {}, { apiVersion: "v3" });
    await client.createRoleInsightsRequest();
    await client.getRoleInsightsRequest(roleInsights.id);

    const operations = new Set<string>();
    for (const request of tenant.requests) {
      const url = `${request.path}${request.query.size > 0 ? `?${request.query}` : ""}`;
      const errors = validateRequest(request.method, url, request.json, {
        contentType: request.headers["content-type"],
      });
      expect(errors, `${request.method} ${url}`).toEqual([]);
      expect(request.headers.authorization).toMatch(/^Bearer /);
      expect(request.headers["x-sailpoint-experimental"]).toBe("true");
      expect(request.headers.accept).toBe("application/json");
      operations.add(`${request.method} ${request.path}`);
    }
    expect(operations.size).toBeGreaterThanOrEqual(17);
    for (const { request, reply } of replies) {
      expect(
        validateResponse(request.method, request.path, reply.status, reply.body),
        `${request.method} ${request.path}`,
      ).toEqual([]);
    }
  });

  it("every context read the client and the ISC ContextFetcher send", async () => {
    const client = new IscClient({
      baseUrl: tenant.baseUrl,
      clientId: "id",
      clientSecret: "secret",
      rateLimit: false,
    });
    const firstRequest = tenant.requests.length;
    const firstReply = replies.length;
    const api = client.context;
    await api.listIdentities({
      filters: `id in ("${IDS.identity}","${IDS.manager}")`,
      limit: 2,
      offset: 0,
      count: false,
      sorters: "name",
      defaultFilter: "NONE",
    });
    await api.getIdentity(IDS.identity);
    await api.listEntitlements({ filters: `id in ("${IDS.entitlement}")`, limit: 1, sorters: "name" });
    await api.getEntitlement(IDS.entitlement);
    await api.listAccessProfiles({ filters: `id in ("${IDS.accessProfile}")`, limit: 250, count: true });
    await api.getAccessProfile(IDS.accessProfile);
    await api.listRoles({ filters: `id in ("${IDS.role}")`, limit: 50 });
    await api.getRole(IDS.role);
    await api.listSources({ filters: `id in ("${IDS.source}")`, limit: 1, offset: 0 });
    await api.getSource(IDS.source);
    await api.getWorkgroup(IDS.workgroup);
    await api.listWorkgroupMembers(IDS.workgroup, { limit: 50, offset: 0, sorters: "name" });
    await api.predictSodViolations({
      identityId: IDS.identity,
      accessRefs: [{ type: "ENTITLEMENT", id: IDS.entitlement }],
    });
    await api.getSodPolicy(IDS.sodPolicy);
    await api.listAccessRequestStatus({
      requestedFor: IDS.identity,
      limit: 250,
      offset: 0,
      count: true,
      filters: 'created gt "2026-01-01T00:00:00Z"',
      sorters: "-created",
    });
    const fetcher = new IscContextFetcher(client);
    await fetcher.identities([IDS.identity], {});
    await fetcher.entitlements([IDS.entitlement], {});
    await fetcher.accessProfiles([IDS.accessProfile], {});
    await fetcher.roles([IDS.role], {});
    await fetcher.sources([IDS.source], {});
    await fetcher.predictSod(IDS.identity, [IDS.entitlement, IDS.entitlement2], {});
    await fetcher.sodPolicy(IDS.sodPolicy, {});
    await fetcher.accessRequestStatus(IDS.identity, { limit: 1_000 });

    const sent = tenant.requests.slice(firstRequest);
    const operations = new Set<string>();
    for (const request of sent) {
      const url = `${request.path}${request.query.size > 0 ? `?${request.query}` : ""}`;
      const errors = validateRequest(request.method, url, request.json, {
        contentType: request.headers["content-type"],
        headers: request.headers,
      });
      expect(errors, `${request.method} ${url}`).toEqual([]);
      expect(request.headers.authorization).toMatch(/^Bearer /);
      // None of the context operations is marked experimental in the spec: the header is not sent.
      expect(request.headers["x-sailpoint-experimental"]).toBeUndefined();
      operations.add(`${request.method} ${request.path}`);
    }
    for (const { request, reply } of replies.slice(firstReply)) {
      expect(reply.status, `${request.method} ${request.path}`).toBe(200);
      expect(
        validateResponse(request.method, request.path, reply.status, reply.body),
        `${request.method} ${request.path}`,
      ).toEqual([]);
    }
    // Every context operation the client implements was exercised (search and the list of governance
    // groups and approvers are documented for tools but not read by the responder).
    const notRead = new Set([
      "POST /v3/search",
      "GET /v3/search/{index}/{id}",
      "GET /v2025/workgroups",
      "GET /v2025/access-request-approvals/{accessRequestId}/approvers",
    ]);
    const exercised = listOperations("context")
      .map((op) => `${op.method} ${op.template}`)
      .filter((op) => !notRead.has(op));
    for (const op of exercised) {
      const [method, template] = op.split(" ") as [string, string];
      const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`);
      expect(
        [...operations].some(
          (sentOp) => sentOp.startsWith(`${method} `) && pattern.test(sentOp.slice(method.length + 1)),
        ),
        op,
      ).toBe(true);
    }
    expect(exercised).toHaveLength(15);
  });

  it("the context specs' references are resolved: a wrong context request or body is caught", () => {
    expect(validateRequest("GET", "/v3/roles?limit=51", undefined)[0]).toContain("query limit");
    expect(validateRequest("GET", "/v2025/identities?defaultFilter=ALL", undefined)[0]).toContain(
      "query defaultFilter",
    );
    expect(
      validateRequest("POST", "/v3/sod-violations/predict", {
        identityId: IDS.identity,
        accessRefs: [{ type: "ROLE", id: IDS.role }],
      })[0],
    ).toContain("accessRefs/0/type");
    expect(validateResponse("GET", `/v3/roles/${IDS.role}`, 200, { owner: 1 })).toEqual([
      "GET /v3/roles/{id} 200 body must have required property 'name'",
      "GET /v3/roles/{id} 200 body/owner must be object",
    ]);
    expect(
      validateResponse("GET", "/v2025/identities", 200, [{ name: "a", identityStatus: "GONE" }])[0],
    ).toContain("identityStatus");
    expect(
      validateResponse("GET", `/v2025/identities/${IDS.identity}`, 404, {
        detailCode: "404 Not found",
        trackingId: "t",
        messages: [{ locale: "en-US", localeOrigin: "DEFAULT", text: "not found" }],
      }),
    ).toEqual([]);
    expect(validateResponse("GET", `/v2025/identities/${IDS.identity}`, 404, { messages: "no" })).not.toEqual(
      [],
    );
  });

  it("the helper catches a non-conforming request", () => {
    expect(validateRequest("POST", "/beta/trigger-invocations/x/complete", { output: {} })).toEqual([
      "POST /beta/trigger-invocations/{id}/complete body must have required property 'secret'",
    ]);
    expect(
      validateRequest("PATCH", "/beta/task-status/x", [{ op: "replace", path: "/a" }], {
        contentType: "application/json",
      })[0],
    ).toContain("media type");
    expect(validateRequest("GET", "/beta/triggers?limit=500", undefined)[0]).toContain("query limit");
    expect(validateRequest("GET", "/beta/nowhere", undefined)[0]).toContain("no such operation");
    expect(validateResponse("POST", "/beta/role-insights/requests", 201, { status: "NOPE" })[0]).toContain(
      "must be equal to one of the allowed values",
    );
    expect(
      validateResponse("GET", "/beta/task-status/x", 200, { ...taskStatus, completionStatus: null }),
    ).toEqual([]);
  });
});
