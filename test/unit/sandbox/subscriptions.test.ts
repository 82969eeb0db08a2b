import { afterAll, beforeEach, describe, expect, it } from "vitest";
import {
  ACCESS_REQUEST_INPUT,
  DYNAMIC_APPROVER,
  httpSubscription,
  POST_APPROVAL,
  PRE_APPROVAL,
  Tenant,
} from "./fixtures.ts";

let tenant: Tenant;
beforeEach(async () => {
  await tenant?.close();
  tenant = await Tenant.start();
});
afterAll(() => tenant.close());

const HOOK = "https://responder.example.com/hook";
type Body = Record<string, unknown>;

describe("GET /beta/triggers and /triggers/v1", () => {
  it("lists both REQUEST_RESPONSE triggers and the post-approval FIRE_AND_FORGET one with schemas", async () => {
    for (const path of ["/beta/triggers", "/triggers/v1"]) {
      const result = await tenant.call("GET", path);
      expect(result.status).toBe(200);
      const triggers = result.body as Body[];
      expect(triggers.map((t) => [t.id, t.type])).toEqual([
        [PRE_APPROVAL, "REQUEST_RESPONSE"],
        [DYNAMIC_APPROVER, "REQUEST_RESPONSE"],
        [POST_APPROVAL, "FIRE_AND_FORGET"],
      ]);
      for (const trigger of triggers) {
        expect(() => JSON.parse(trigger.inputSchema as string)).not.toThrow();
        expect(trigger.exampleInput).toBeTypeOf("object");
      }
    }
  });

  it("filters by id", async () => {
    const result = await tenant.call(
      "GET",
      `/beta/triggers?filters=${encodeURIComponent(`id eq "${DYNAMIC_APPROVER}"`)}`,
    );
    expect((result.body as Body[]).map((t) => t.id)).toEqual([DYNAMIC_APPROVER]);
  });
});

describe("subscriptions", () => {
  it("creates (201) with defaults and reads secrets back as null", async () => {
    const created = await tenant.subscribe(
      httpSubscription(HOOK, {
        httpConfig: {
          url: HOOK,
          httpDispatchMode: "ASYNC",
          httpAuthenticationType: "BASIC_AUTH",
          basicAuthConfig: { userName: "isc", password: "s3cret" },
        },
      }),
    );
    expect(created).toMatchObject({
      triggerId: PRE_APPROVAL,
      triggerName: "Access Request Submitted",
      responseDeadline: "PT1H",
      enabled: true,
      httpConfig: { basicAuthConfig: { userName: "isc", password: null } },
    });
    expect(JSON.stringify(created)).not.toContain("s3cret");
    const listed = await tenant.call("GET", "/beta/trigger-subscriptions");
    expect(JSON.stringify(listed.body)).not.toContain("s3cret");
    // Stored for delivery all the same.
    expect(
      tenant.sandbox.state.subscriptions.get(created.id as string)?.httpConfig?.basicAuthConfig?.password,
    ).toBe("s3cret");
  });

  it("bearer tokens read back as null too", async () => {
    const created = await tenant.subscribe(
      httpSubscription(HOOK, {
        httpConfig: {
          url: HOOK,
          httpDispatchMode: "SYNC",
          httpAuthenticationType: "BEARER_TOKEN",
          bearerTokenAuthConfig: { bearerToken: "tok-123" },
        },
      }),
    );
    expect((created.httpConfig as Body).bearerTokenAuthConfig).toEqual({ bearerToken: null });
  });

  it.each([
    [
      "missing name",
      { triggerId: PRE_APPROVAL, type: "HTTP", httpConfig: { url: HOOK, httpDispatchMode: "SYNC" } },
    ],
    ["HTTP without httpConfig", { name: "n", triggerId: PRE_APPROVAL, type: "HTTP" }],
    ["EVENTBRIDGE without eventBridgeConfig", { name: "n", triggerId: PRE_APPROVAL, type: "EVENTBRIDGE" }],
    ["unknown trigger", httpSubscription(HOOK, { triggerId: "idn:nope" })],
    ["bad dispatch mode", httpSubscription(HOOK, { httpConfig: { url: HOOK, httpDispatchMode: "LATER" } })],
    ["not a URL", httpSubscription("not a url")],
    [
      "BASIC_AUTH without password",
      httpSubscription(HOOK, {
        httpConfig: {
          url: HOOK,
          httpDispatchMode: "SYNC",
          httpAuthenticationType: "BASIC_AUTH",
          basicAuthConfig: { userName: "u" },
        },
      }),
    ],
    ["deadline not ISO", httpSubscription(HOOK, { responseDeadline: "1 hour" })],
    ["deadline under a minute", httpSubscription(HOOK, { responseDeadline: "PT30S" })],
    ["invalid filter", httpSubscription(HOOK, { filter: "not jsonpath" })],
    [
      "bad AWS account",
      {
        name: "n",
        triggerId: PRE_APPROVAL,
        type: "EVENTBRIDGE",
        eventBridgeConfig: { awsAccount: "12", awsRegion: "us-east-1" },
      },
    ],
  ])("refuses %s with 400 ErrorResponseDto", async (_name, body) => {
    const result = await tenant.call("POST", "/beta/trigger-subscriptions", body);
    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({ detailCode: "400.1 Bad Request Content" });
    expect(tenant.sandbox.state.subscriptions.size).toBe(0);
  });

  it("refuses a second subscription to the same REQUEST_RESPONSE trigger, not to a FIRE_AND_FORGET one", async () => {
    await tenant.subscribe(httpSubscription(HOOK));
    const second = await tenant.call("POST", "/trigger-subscriptions/v1", httpSubscription(HOOK));
    expect(second.status).toBe(400);
    await tenant.subscribe(httpSubscription(HOOK, { triggerId: DYNAMIC_APPROVER }));
    await tenant.subscribe(httpSubscription(HOOK, { triggerId: POST_APPROVAL }));
    await tenant.subscribe(httpSubscription(HOOK, { triggerId: POST_APPROVAL }));
    expect(tenant.sandbox.state.subscriptions.size).toBe(4);
  });

  it("truncates responseDeadline to whole minutes", async () => {
    const created = await tenant.subscribe(httpSubscription(HOOK, { responseDeadline: "PT1H30M45S" }));
    expect(created.responseDeadline).toBe("PT1H30M");
    const kept = await tenant.subscribe(
      httpSubscription(HOOK, { triggerId: DYNAMIC_APPROVER, responseDeadline: "PT5M" }),
    );
    expect(kept.responseDeadline).toBe("PT5M");
  });

  it("lists with filters (id, triggerId), limit and offset", async () => {
    const a = await tenant.subscribe(httpSubscription(HOOK));
    const b = await tenant.subscribe(httpSubscription(HOOK, { triggerId: DYNAMIC_APPROVER }));
    const byTrigger = await tenant.call(
      "GET",
      `/beta/trigger-subscriptions?filters=${encodeURIComponent(`triggerId eq "${DYNAMIC_APPROVER}"`)}`,
    );
    expect((byTrigger.body as Body[]).map((s) => s.id)).toEqual([b.id]);
    const byId = await tenant.call(
      "GET",
      `/trigger-subscriptions/v1?filters=${encodeURIComponent(`id eq "${a.id}"`)}`,
    );
    expect((byId.body as Body[]).map((s) => s.id)).toEqual([a.id]);
    const paged = await tenant.call("GET", "/beta/trigger-subscriptions?limit=1&offset=1");
    expect((paged.body as Body[]).map((s) => s.id)).toEqual([b.id]);
    expect((await tenant.call("GET", "/beta/trigger-subscriptions?filters=name%20sw%20%22x%22")).status).toBe(
      400,
    );
    expect((await tenant.call("GET", "/beta/trigger-subscriptions?limit=999")).status).toBe(400);
  });

  it("PUT replaces the whole subscription and refuses changing id or triggerId", async () => {
    const created = await tenant.subscribe(
      httpSubscription(HOOK, {
        description: "old",
        httpConfig: {
          url: HOOK,
          httpDispatchMode: "ASYNC",
          httpAuthenticationType: "BASIC_AUTH",
          basicAuthConfig: { userName: "isc", password: "s3cret" },
        },
      }),
    );
    const id = created.id as string;
    const replaced = await tenant.call("PUT", `/beta/trigger-subscriptions/${id}`, {
      name: "Renamed",
      type: "HTTP",
      // A GET-modify-PUT sends the null password back: the stored one is kept.
      httpConfig: {
        url: HOOK,
        httpDispatchMode: "DYNAMIC",
        httpAuthenticationType: "BASIC_AUTH",
        basicAuthConfig: { userName: "isc", password: null },
      },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ id, name: "Renamed", triggerId: PRE_APPROVAL });
    expect((replaced.body as Body).description).toBeUndefined();
    expect(tenant.sandbox.state.subscriptions.get(id)?.httpConfig?.basicAuthConfig?.password).toBe("s3cret");

    const changeTrigger = await tenant.call("PUT", `/beta/trigger-subscriptions/${id}`, {
      ...httpSubscription(HOOK),
      triggerId: DYNAMIC_APPROVER,
    });
    expect(changeTrigger.status).toBe(400);
    const changeId = await tenant.call("PUT", `/trigger-subscriptions/v1/${id}`, {
      ...httpSubscription(HOOK),
      id: "other",
    });
    expect(changeId.status).toBe(400);
    const sameTrigger = await tenant.call("PUT", `/trigger-subscriptions/v1/${id}`, httpSubscription(HOOK));
    expect(sameTrigger.status).toBe(200);
    const missing = await tenant.call("PUT", "/beta/trigger-subscriptions/nope", httpSubscription(HOOK));
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ detailCode: "404 Not found" });
  });

  it("PATCH applies JSON Patch, refuses id/triggerId and other content types, leaves state alone on error", async () => {
    const created = await tenant.subscribe(httpSubscription(HOOK));
    const path = `/beta/trigger-subscriptions/${created.id}`;
    const patch = { contentType: "application/json-patch+json" };
    const ok = await tenant.call(
      "PATCH",
      path,
      [
        { op: "replace", path: "/name", value: "Patched" },
        { op: "replace", path: "/httpConfig/httpDispatchMode", value: "DYNAMIC" },
        { op: "add", path: "/filter", value: '$[?($.accessRequestId == "x")]' },
      ],
      patch,
    );
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ name: "Patched", httpConfig: { httpDispatchMode: "DYNAMIC" } });

    for (const body of [
      [{ op: "replace", path: "/triggerId", value: DYNAMIC_APPROVER }],
      [{ op: "replace", path: "/id", value: "x" }],
      [{ op: "remove", path: "/name" }],
      [{ op: "replace", path: "/nothing/here", value: 1 }],
      [{ op: "test", path: "/name", value: "Patched" }],
      [],
    ]) {
      const refused = await tenant.call("PATCH", path, body, patch);
      expect(refused.status, JSON.stringify(body)).toBe(400);
    }
    const wrongType = await tenant.call("PATCH", path, [{ op: "replace", path: "/name", value: "x" }]);
    expect(wrongType.status).toBe(400);
    expect(tenant.sandbox.state.subscriptions.get(created.id as string)?.name).toBe("Patched");
  });

  it("DELETE answers 204, then 404", async () => {
    const created = await tenant.subscribe(httpSubscription(HOOK));
    expect((await tenant.call("DELETE", `/beta/trigger-subscriptions/${created.id}`)).status).toBe(204);
    const again = await tenant.call("DELETE", `/trigger-subscriptions/v1/${created.id}`);
    expect(again.status).toBe(404);
  });

  it("validate-filter reports JSONPath validity and whether it matches the input", async () => {
    const check = async (filter: string) =>
      (
        await tenant.call("POST", "/beta/trigger-subscriptions/validate-filter", {
          input: ACCESS_REQUEST_INPUT,
          filter,
        })
      ).body;
    expect(await check("$.requestedBy.name")).toEqual({
      isValid: true,
      isValidJSONPath: true,
      isPathExist: true,
    });
    expect(await check(`$[?($.requestedBy.name == "Rob Robertson")]`)).toEqual({
      isValid: true,
      isValidJSONPath: true,
      isPathExist: true,
    });
    expect(await check(`$[?($.requestedBy.name == "Someone Else")]`)).toEqual({
      isValid: false,
      isValidJSONPath: true,
      isPathExist: false,
    });
    expect(await check("$.nothing")).toEqual({ isValid: false, isValidJSONPath: true, isPathExist: false });
    expect(await check("requestedBy")).toEqual({
      isValid: false,
      isValidJSONPath: false,
      isPathExist: false,
    });
    expect(await check("$[?(@.x ==)]")).toEqual({
      isValid: false,
      isValidJSONPath: false,
      isPathExist: false,
    });
    const missing = await tenant.call("POST", "/trigger-subscriptions/v1/validate-filter", { filter: "$.a" });
    expect(missing.status).toBe(400);
  });
});
