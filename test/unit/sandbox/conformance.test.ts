/**
 * Every response the sandbox gives, over a scenario that calls every documented operation (success
 * and error paths), validated against the official OpenAPI subset. Skipped when the spec files are
 * not on this machine (ISC_OPENAPI_DIR).
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listOperations, OPENAPI_DIR, validateRequest, validateResponse } from "../../helpers/openapi.ts";
import {
  ACCESS_REQUEST_INPUT,
  DYNAMIC_APPROVER,
  httpSubscription,
  POST_APPROVAL,
  PRE_APPROVAL,
  Subscriber,
  Tenant,
  VALID_PRE_APPROVAL_OUTPUT,
} from "./fixtures.ts";

const available = existsSync(`${OPENAPI_DIR}/beta-triggers-and-related.json`);
const PATCH = { contentType: "application/json-patch+json" };

describe.skipIf(!available)("sandbox conformance to the official OpenAPI subset", () => {
  let tenant: Tenant;
  let subscriber: Subscriber;

  beforeAll(async () => {
    subscriber = await new Subscriber().start();
    tenant = await Tenant.start({ rateLimit: { requests: 10_000, windowMs: 10_000 } });
    const t = tenant;

    // Triggers
    await t.call("GET", "/beta/triggers");
    await t.call("GET", "/triggers/v1?limit=10&offset=0");
    await t.call("GET", "/beta/triggers", undefined, { token: null });

    // Subscriptions, both path forms
    const pre = (await t.call("POST", "/beta/trigger-subscriptions", httpSubscription(subscriber.url)))
      .body as { id: string };
    const dyn = (
      await t.call(
        "POST",
        "/trigger-subscriptions/v1",
        httpSubscription(subscriber.url, {
          triggerId: DYNAMIC_APPROVER,
          httpConfig: {
            url: subscriber.url,
            httpDispatchMode: "DYNAMIC",
            httpAuthenticationType: "BASIC_AUTH",
            basicAuthConfig: { userName: "u", password: "p" },
          },
        }),
      )
    ).body as { id: string };
    await t.call("POST", "/beta/trigger-subscriptions", {
      name: "Bus",
      triggerId: POST_APPROVAL,
      type: "EVENTBRIDGE",
      eventBridgeConfig: { awsAccount: "123456789012", awsRegion: "us-east-1" },
    });
    await t.call("POST", "/beta/trigger-subscriptions", httpSubscription(subscriber.url)); // one per trigger: 400
    await t.call("POST", "/trigger-subscriptions/v1", { name: "x", type: "HTTP" }); // 400
    await t.call("GET", "/beta/trigger-subscriptions");
    await t.call(
      "GET",
      `/trigger-subscriptions/v1?filters=${encodeURIComponent(`triggerId eq "${PRE_APPROVAL}"`)}&limit=5`,
    );
    await t.call("GET", "/beta/trigger-subscriptions?filters=bogus"); // 400
    await t.call("PUT", `/beta/trigger-subscriptions/${pre.id}`, {
      name: "Renamed",
      type: "HTTP",
      httpConfig: { url: subscriber.url, httpDispatchMode: "ASYNC" },
    });
    await t.call("PUT", `/trigger-subscriptions/v1/${pre.id}`, {
      name: "Renamed",
      type: "HTTP",
      httpConfig: { url: subscriber.url, httpDispatchMode: "ASYNC" },
    });
    await t.call("PUT", `/beta/trigger-subscriptions/${pre.id}`, { name: "x", type: "EVENTBRIDGE" }); // 400
    await t.call("PUT", "/beta/trigger-subscriptions/unknown", {
      name: "x",
      type: "HTTP",
      httpConfig: { url: subscriber.url, httpDispatchMode: "ASYNC" },
    }); // 404
    await t.call(
      "PATCH",
      `/beta/trigger-subscriptions/${dyn.id}`,
      [{ op: "replace", path: "/name", value: "Dynamic" }],
      PATCH,
    );
    await t.call(
      "PATCH",
      `/trigger-subscriptions/v1/${dyn.id}`,
      [{ op: "add", path: "/description", value: "v1" }],
      PATCH,
    );
    await t.call(
      "PATCH",
      `/trigger-subscriptions/v1/${dyn.id}`,
      [{ op: "replace", path: "/enabled", value: "yes" }],
      PATCH,
    ); // 400
    await t.call(
      "PATCH",
      `/trigger-subscriptions/v1/${dyn.id}`,
      [{ op: "replace", path: "/triggerId", value: PRE_APPROVAL }],
      PATCH,
    ); // 400
    await t.call(
      "PATCH",
      "/beta/trigger-subscriptions/unknown",
      [{ op: "replace", path: "/name", value: "x" }],
      PATCH,
    ); // 404
    await t.call("POST", "/beta/trigger-subscriptions/validate-filter", {
      input: ACCESS_REQUEST_INPUT,
      filter: "$.requestedBy",
    });
    await t.call("POST", "/trigger-subscriptions/v1/validate-filter", {
      input: ACCESS_REQUEST_INPUT,
      filter: "$[?(",
    });
    await t.call("POST", "/beta/trigger-subscriptions/validate-filter", { filter: "$" }); // 400

    // Invocations
    subscriber.reply = (delivery) => ({
      status: delivery.body._metadata.responseMode === "dynamic" ? 202 : 200,
      body: {},
    });
    const tests = (
      await t.call("POST", "/beta/trigger-invocations/test", {
        triggerId: PRE_APPROVAL,
        input: ACCESS_REQUEST_INPUT,
        contentJson: {},
      })
    ).body as { id: string; secret: string }[];
    const dynTests = (
      await t.call("POST", "/trigger-invocations/v1/test", { triggerId: DYNAMIC_APPROVER, contentJson: {} })
    ).body as {
      id: string;
      secret: string;
    }[];
    await t.call("POST", "/beta/trigger-invocations/test", {
      triggerId: PRE_APPROVAL,
      contentJson: {},
      subscriptionIds: ["none"],
    }); // 204
    await t.call("POST", "/beta/trigger-invocations/test", { triggerId: "idn:nope", contentJson: {} }); // 400
    await subscriber.waitFor(2);
    await t.call(
      "POST",
      `/beta/trigger-invocations/${tests[0]!.id}/complete`,
      { secret: "wrong", output: VALID_PRE_APPROVAL_OUTPUT },
      { token: null },
    );
    await t.call(
      "POST",
      `/beta/trigger-invocations/${tests[0]!.id}/complete`,
      { secret: tests[0]!.secret, output: VALID_PRE_APPROVAL_OUTPUT },
      { token: null },
    );
    await t.call("POST", `/trigger-invocations/v1/${tests[0]!.id}/complete`, {
      secret: tests[0]!.secret,
      output: VALID_PRE_APPROVAL_OUTPUT,
    });
    await t.call(
      "POST",
      `/trigger-invocations/v1/${dynTests[0]!.id}/complete`,
      { secret: dynTests[0]!.secret, output: {}, error: "no" },
      { token: "bad" },
    ); // 401
    await t.call("POST", `/trigger-invocations/v1/${dynTests[0]!.id}/complete`, {
      secret: dynTests[0]!.secret,
      output: {},
      error: "no",
    });
    await t.call("POST", "/beta/trigger-invocations/unknown/complete", { secret: "x" }, { token: null }); // 400
    await t.call("GET", "/beta/trigger-invocations/status");
    await t.call("GET", "/trigger-invocations/v1/status?limit=1");

    // Task status
    const [taskId] = t.sandbox.state.seeded.taskIds;
    await t.call("GET", `/beta/task-status/${taskId}`);
    await t.call("GET", "/beta/task-status/unknown");
    await t.call(
      "PATCH",
      `/beta/task-status/${taskId}`,
      [
        { op: "replace", path: "/completionStatus", value: "Error" },
        { op: "replace", path: "/completed", value: "2020-07-11T00:00:00Z" },
      ],
      PATCH,
    );
    await t.call(
      "PATCH",
      `/beta/task-status/${taskId}`,
      [{ op: "replace", path: "/completionStatus", value: "nope" }],
      PATCH,
    ); // 400
    await t.call(
      "PATCH",
      "/beta/task-status/unknown",
      [{ op: "replace", path: "/completionStatus", value: "SUCCESS" }],
      PATCH,
    ); // 404

    // Campaigns
    const { pastDueCampaignId, activeCampaignId } = t.sandbox.state.seeded;
    await t.call("POST", `/beta/campaigns/${activeCampaignId}/complete`, { autoCompleteAction: "APPROVE" }); // 400
    await t.call("POST", `/v3/campaigns/${pastDueCampaignId}/complete`, { autoCompleteAction: "REVOKE" });
    await t.call("POST", `/beta/campaigns/${t.sandbox.state.createCampaign().id}/complete`);
    await t.call("POST", "/v3/campaigns/unknown/complete", {}); // 404

    // Role insights
    const insight = (await t.call("POST", "/beta/role-insights/requests")).body as { id: string };
    await t.call("GET", `/beta/role-insights/requests/${insight.id}`);
    await t.call("GET", `/beta/role-insights/requests/${insight.id}`);
    await t.call("GET", "/beta/role-insights/requests/unknown"); // 400

    // Rate limit and faults, on documented operations
    t.sandbox.setFaults({ rate: 1, kinds: { status429: 1 } });
    await t.call("GET", "/beta/triggers");
    t.sandbox.setFaults({ rate: 1, kinds: { status500: 1 } });
    await t.call("GET", "/beta/trigger-subscriptions");
    t.sandbox.setFaults(undefined);
    await t.call("DELETE", `/beta/trigger-subscriptions/${pre.id}`);
    await t.call("DELETE", `/trigger-subscriptions/v1/${pre.id}`); // 404
    await t.call("DELETE", `/trigger-subscriptions/v1/${dyn.id}`);
  });

  afterAll(async () => {
    await tenant?.close();
    await subscriber?.close();
  });

  it("every response matches its operation's documented status and schema", () => {
    const problems = tenant.exchanges.flatMap((exchange) =>
      validateResponse(exchange.method, exchange.url, exchange.status, exchange.body).map(
        (problem) => `${problem}  <- ${JSON.stringify(exchange.body)?.slice(0, 300)}`,
      ),
    );
    expect(problems).toEqual([]);
    // The check has teeth: a wrong body or an undocumented status is reported.
    expect(validateResponse("GET", "/beta/triggers", 200, [{ id: 1 }])).not.toEqual([]);
    expect(validateResponse("POST", "/beta/trigger-invocations/x/complete", 404, {})).not.toEqual([]);
  });

  it("the scenario's requests are themselves valid where they are meant to be", () => {
    const statuses = new Set<number>();
    for (const exchange of tenant.exchanges) {
      statuses.add(exchange.status);
      if (exchange.status >= 200 && exchange.status < 300) {
        const body =
          typeof exchange.requestBody === "string" ? JSON.parse(exchange.requestBody) : exchange.requestBody;
        const extras = exchange.contentType === undefined ? {} : { contentType: exchange.contentType };
        expect(validateRequest(exchange.method, exchange.url, body, extras)).toEqual([]);
      }
    }
    for (const status of [200, 201, 202, 204, 400, 401, 404, 429, 500]) expect(statuses).toContain(status);
  });

  it("every documented operation was answered successfully at least once", () => {
    const succeeded = new Set<string>();
    for (const exchange of tenant.exchanges) {
      if (exchange.status >= 200 && exchange.status < 300) {
        const path = new URL(exchange.url).pathname;
        for (const op of listOperations()) {
          const pattern = new RegExp(`^${op.template.replace(/\{[^}]+\}/g, "[^/]+")}$`);
          if (op.method === exchange.method && pattern.test(path))
            succeeded.add(`${op.method} ${op.template}`);
        }
      }
    }
    const missing = listOperations()
      .map((op) => `${op.method} ${op.template}`)
      .filter((op) => !succeeded.has(op));
    expect(missing).toEqual([]);
  });
});
