import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { IscClient } from "../../../lib/isc/client.ts";
import { type Sandbox, startSandbox } from "../../../lib/sandbox/index.ts";
import { failureReason } from "../../../lib/subscriptions/errors.ts";
import type { SubscriptionResourceProperties } from "../../../lib/subscriptions/properties.ts";
import {
  type CustomResourceEvent,
  handleSubscriptionEvent,
  type ReconcileDeps,
} from "../../../lib/subscriptions/reconcile.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../../../lib/triggers/trigger-ids.ts";

const TOKEN = "tok3nAAAAbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjjKKKK";
const URL_A = "https://abc123.lambda-url.eu-west-1.on.aws/";

let sandbox: Sandbox;
let deps: ReconcileDeps;

function props(overrides: Partial<SubscriptionResourceProperties> = {}): Record<string, unknown> {
  const base: SubscriptionResourceProperties = {
    TriggerId: PRE_APPROVAL,
    Name: "isc-trigger-responder preApproval",
    Description: "test",
    Delivery: "HTTP",
    Url: URL_A,
    HttpDispatchMode: "DYNAMIC",
    ResponseDeadline: "PT1H",
    RetainOnDelete: "false",
  };
  return { ServiceToken: "arn:aws:lambda:eu-west-1:123456789012:function:x", ...base, ...overrides };
}

function event(
  RequestType: CustomResourceEvent["RequestType"],
  properties: Record<string, unknown>,
  extra: Partial<CustomResourceEvent> = {},
): CustomResourceEvent {
  return { RequestType, ResourceProperties: properties, ...extra };
}

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, rateLimit: false });
  const api = new IscClient({
    baseUrl: sandbox.baseUrl,
    clientId: sandbox.clientId,
    clientSecret: sandbox.clientSecret,
    rateLimit: false,
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 5_000 },
  });
  deps = { api, webhookAuth: async () => ({ type: "bearer", token: TOKEN }) };
});

afterAll(async () => {
  await sandbox.close();
});

afterEach(() => {
  sandbox.setFaults(undefined);
  sandbox.state.subscriptions.clear();
});

describe("subscriptions custom resource against the sandbox", () => {
  it("creates an HTTP subscription with bearer auth, mode, deadline and filter", async () => {
    const result = await handleSubscriptionEvent(
      event("Create", props({ Filter: '$[?($.accessRequestId == "x")]', ResponseDeadline: "PT30M" })),
      deps,
    );
    const stored = sandbox.state.subscriptions.get(result.PhysicalResourceId);
    expect(stored).toMatchObject({
      triggerId: PRE_APPROVAL,
      type: "HTTP",
      enabled: true,
      responseDeadline: "PT30M",
      filter: '$[?($.accessRequestId == "x")]',
      httpConfig: {
        url: URL_A,
        httpDispatchMode: "DYNAMIC",
        httpAuthenticationType: "BEARER_TOKEN",
        bearerTokenAuthConfig: { bearerToken: TOKEN },
      },
    });
    expect(result.Data).toMatchObject({ SubscriptionId: result.PhysicalResourceId, Adopted: "false" });
    expect(JSON.stringify(result)).not.toContain(TOKEN);
  });

  it("adopts the trigger's existing subscription with a full PUT instead of creating a second", async () => {
    const existing = await deps.api.createSubscription({
      name: "made by hand",
      triggerId: PRE_APPROVAL,
      type: "HTTP",
      httpConfig: {
        url: "https://old.example.com/hook",
        httpDispatchMode: "SYNC",
        httpAuthenticationType: "NO_AUTH",
      },
      filter: '$[?($.accessRequestId == "old")]',
    });
    const result = await handleSubscriptionEvent(event("Create", props()), deps);
    expect(result.PhysicalResourceId).toBe(existing.id);
    expect(result.Data?.Adopted).toBe("true");
    expect(sandbox.state.subscriptions.size).toBe(1);
    const stored = sandbox.state.subscriptions.get(existing.id);
    expect(stored?.name).toBe("isc-trigger-responder preApproval");
    expect(stored?.httpConfig?.url).toBe(URL_A);
    expect(stored?.httpConfig?.httpAuthenticationType).toBe("BEARER_TOKEN");
    // Full replacement: the hand-made filter is gone because the desired object has none.
    expect(stored?.filter ?? undefined).toBeUndefined();
  });

  it("updates in place with a full PUT and keeps the physical id", async () => {
    const created = await handleSubscriptionEvent(event("Create", props()), deps);
    const updated = await handleSubscriptionEvent(
      event("Update", props({ HttpDispatchMode: "ASYNC", ResponseDeadline: "PT2H" }), {
        PhysicalResourceId: created.PhysicalResourceId,
        OldResourceProperties: props(),
      }),
      deps,
    );
    expect(updated.PhysicalResourceId).toBe(created.PhysicalResourceId);
    const stored = sandbox.state.subscriptions.get(created.PhysicalResourceId);
    expect(stored?.httpConfig?.httpDispatchMode).toBe("ASYNC");
    expect(stored?.responseDeadline).toBe("PT2H");
  });

  it("replaces the subscription when the trigger id changes; the cleanup Delete removes the old one", async () => {
    const created = await handleSubscriptionEvent(event("Create", props()), deps);
    const replaced = await handleSubscriptionEvent(
      event("Update", props({ TriggerId: DYNAMIC_APPROVER }), {
        PhysicalResourceId: created.PhysicalResourceId,
        OldResourceProperties: props(),
      }),
      deps,
    );
    expect(replaced.PhysicalResourceId).not.toBe(created.PhysicalResourceId);
    expect(sandbox.state.subscriptions.get(replaced.PhysicalResourceId)?.triggerId).toBe(DYNAMIC_APPROVER);
    // CloudFormation's cleanup: Delete with the OLD properties and the old physical id.
    await handleSubscriptionEvent(
      event("Delete", props(), { PhysicalResourceId: created.PhysicalResourceId }),
      deps,
    );
    expect(sandbox.state.subscriptions.has(created.PhysicalResourceId)).toBe(false);
    expect(sandbox.state.subscriptions.has(replaced.PhysicalResourceId)).toBe(true);
  });

  it("recreates a subscription deleted outside CloudFormation on the next update", async () => {
    const created = await handleSubscriptionEvent(event("Create", props()), deps);
    sandbox.state.subscriptions.delete(created.PhysicalResourceId);
    const updated = await handleSubscriptionEvent(
      event("Update", props(), {
        PhysicalResourceId: created.PhysicalResourceId,
        OldResourceProperties: props(),
      }),
      deps,
    );
    expect(updated.PhysicalResourceId).not.toBe(created.PhysicalResourceId);
    expect(sandbox.state.subscriptions.size).toBe(1);
  });

  it("deletes on stack deletion, and a second delete (already gone) succeeds", async () => {
    const created = await handleSubscriptionEvent(event("Create", props()), deps);
    const del = event("Delete", props(), { PhysicalResourceId: created.PhysicalResourceId });
    await handleSubscriptionEvent(del, deps);
    expect(sandbox.state.subscriptions.size).toBe(0);
    await expect(handleSubscriptionEvent(del, deps)).resolves.toEqual({
      PhysicalResourceId: created.PhysicalResourceId,
    });
  });

  it("disables instead of deleting when configured to retain", async () => {
    const created = await handleSubscriptionEvent(event("Create", props({ RetainOnDelete: "true" })), deps);
    await handleSubscriptionEvent(
      event("Delete", props({ RetainOnDelete: "true" }), { PhysicalResourceId: created.PhysicalResourceId }),
      deps,
    );
    expect(sandbox.state.subscriptions.get(created.PhysicalResourceId)?.enabled).toBe(false);
  });

  it("subscribes EventBridge delivery to the account and region", async () => {
    const result = await handleSubscriptionEvent(
      event(
        "Create",
        props({
          Delivery: "EVENTBRIDGE",
          Url: undefined,
          AwsAccount: "123456789012",
          AwsRegion: "eu-west-1",
        }),
      ),
      { ...deps, webhookAuth: async () => Promise.reject(new Error("not needed for EventBridge")) },
    );
    expect(sandbox.state.subscriptions.get(result.PhysicalResourceId)).toMatchObject({
      type: "EVENTBRIDGE",
      eventBridgeConfig: { awsAccount: "123456789012", awsRegion: "eu-west-1" },
    });
  });

  it("refuses an invalid JSONPath filter before writing anything, with a clear reason", async () => {
    const error = await handleSubscriptionEvent(
      event("Create", props({ Filter: "$[?($.x == " })),
      deps,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    const reason = failureReason(error, [TOKEN]);
    expect(reason).toMatch(/filter of idn:access-request-pre-approval/);
    expect(reason).toMatch(/validate-filter/);
    expect(sandbox.state.subscriptions.size).toBe(0);
  });

  it("reports ISC 500s with status, detailCode and trackingId, never the token", async () => {
    sandbox.setFaults({ rate: 1, kinds: { status500: 1 }, paths: /trigger-subscriptions$/ });
    const error = await handleSubscriptionEvent(event("Create", props()), deps).catch((e: unknown) => e);
    const reason = failureReason(error, [TOKEN]);
    expect(reason).toMatch(/idn:access-request-pre-approval/);
    expect(reason).toMatch(/status 500/);
    expect(reason).toMatch(/detailCode "500\.0 Internal Fault"/);
    expect(reason).toMatch(/trackingId [0-9a-f]+/);
    expect(reason).not.toContain(TOKEN);
  });

  it("reports ISC 429s (after the client's retries) with the status", async () => {
    sandbox.setFaults({
      rate: 1,
      kinds: { status429: 1 },
      retryAfterSeconds: 0,
      paths: /trigger-subscriptions$/,
    });
    const error = await handleSubscriptionEvent(event("Create", props()), deps).catch((e: unknown) => e);
    const reason = failureReason(error, [TOKEN]);
    expect(reason).toMatch(/429/);
    expect(reason).not.toContain(TOKEN);
  });

  it("reports ISC 400s with the detailCode (here: a deadline ISC refuses)", async () => {
    const error = await handleSubscriptionEvent(
      event("Create", props({ ResponseDeadline: "PT10S" })),
      deps,
    ).catch((e: unknown) => e);
    const reason = failureReason(error, [TOKEN]);
    expect(reason).toMatch(/creating the ISC subscription for idn:access-request-pre-approval failed/);
    expect(reason).toMatch(/status 400/);
    expect(reason).toMatch(/detailCode "400\.1 Bad Request Content"/);
    expect(reason).toMatch(/trackingId/);
    expect(reason).not.toContain(TOKEN);
  });

  it("refuses malformed resource properties with the field at fault", async () => {
    const error = await handleSubscriptionEvent(
      event("Create", props({ Url: "http://insecure" })),
      deps,
    ).catch((e: unknown) => e);
    expect(failureReason(error)).toMatch(/Url: an https URL is required/);
  });
});
