import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../lib/errors.ts";
import { CallbackUrlRefusedError, checkCallbackUrl } from "../../lib/isc/callback-url.ts";
import {
  invocationFromEventBridgeEvent,
  invocationFromHttpBody,
  responseDeadlineMs,
  UnknownTriggerError,
} from "../../lib/triggers/index.ts";
import { fromQueuedInvocation, toQueuedInvocation } from "../../lib/triggers/queued-invocation.ts";

const examples = new URL("../fixtures/isc-reference/examples/", import.meta.url);
const load = (name: string) => JSON.parse(readFileSync(new URL(name, examples), "utf8"));
const tenant = "https://acme.api.identitynow.com";
const ctx = { tenantBaseUrl: tenant, responseDeadlineMs: () => 3_600_000, receivedAt: 1_000 };

describe("invocationFromHttpBody", () => {
  it("normalises the documented async pre-approval body", () => {
    const inv = invocationFromHttpBody(load("http-async-pre-approval.request.json"), ctx);
    expect(inv.triggerId).toBe("idn:access-request-pre-approval");
    expect(inv.mode).toBe("async");
    expect(inv.invocationId).toBe("e9103ca9-02c4-bb0f-9441-94b3af012345");
    expect(inv.deadline).toBe(3_601_000);
    expect(inv.secret?.reveal()).toBe("c1c60493-3347-4550-9c00-123cdde");
    expect(JSON.stringify(inv)).not.toContain("c1c60493");
    expect(inv.input).not.toHaveProperty("_metadata");
  });

  it("accepts requestedFor as an array and keeps unknown fields", () => {
    const body = load("http-async-pre-approval.request.json");
    body.requestedFor = [body.requestedFor];
    body.extraField = { kept: true };
    const inv = invocationFromHttpBody(body, ctx);
    expect(Array.isArray(inv.input.requestedFor)).toBe(true);
    expect((inv.input as Record<string, unknown>).extraField).toEqual({ kept: true });
  });

  it("refuses a callbackURL on another host", () => {
    const body = load("http-async-pre-approval.request.json");
    body._metadata.callbackURL =
      "https://evil.example.com/beta/trigger-invocations/e9103ca9-02c4-bb0f-9441-94b3af012345/complete";
    expect(() => invocationFromHttpBody(body, ctx)).toThrow(CallbackUrlRefusedError);
  });

  it("refuses unknown triggers and lists fields at fault", () => {
    const body = load("http-async-pre-approval.request.json");
    expect(() =>
      invocationFromHttpBody({ ...body, _metadata: { ...body._metadata, triggerId: "idn:nope" } }, ctx),
    ).toThrow(UnknownTriggerError);
    const broken = { ...body, requestedItems: [] };
    try {
      invocationFromHttpBody(broken, ctx);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues[0]?.path).toBe("requestedItems");
    }
  });

  it("requires callbackURL and secret outside sync mode", () => {
    const body = load("http-async-pre-approval.request.json");
    delete body._metadata.secret;
    expect(() => invocationFromHttpBody(body, ctx)).toThrow(/_metadata.secret/);
  });
});

describe("invocationFromEventBridgeEvent", () => {
  it("normalises the documented dynamic-approver event and round-trips through the queue", () => {
    const inv = invocationFromEventBridgeEvent(load("eventbridge-dynamic-approver.event.json"), ctx);
    expect(inv.mode).toBe("eventbridge");
    expect(inv.invocationId).toBe("37d6df15-0da2-4e8f-b73a-e644ca0385ef");
    const back = fromQueuedInvocation(JSON.parse(JSON.stringify(toQueuedInvocation(inv))));
    expect(back.secret?.reveal()).toBe("3a24d1e9-6d2d-484a-aece-7b760d7b9965");
    expect(back.input).toEqual(inv.input);
  });

  it("carries a sync reply's decision (its actions) through the queue, and refuses a malformed one", () => {
    const inv = invocationFromEventBridgeEvent(load("eventbridge-dynamic-approver.event.json"), ctx);
    const answered = {
      ruleId: "r1",
      rulesVersion: "sha256:abc",
      actions: [{ type: "update-task-status" as const, taskId: "t-1", completionStatus: "SUCCESS" as const }],
    };
    const queued = JSON.parse(JSON.stringify(toQueuedInvocation({ ...inv, answered } as typeof inv)));
    const back = fromQueuedInvocation(queued);
    expect(back.triggerType === "requestResponse" ? back.answered : undefined).toEqual(answered);
    queued.answered.actions[0].completionStatus = "DONE";
    expect(() => fromQueuedInvocation(queued)).toThrow(ValidationError);
  });
});

describe("checkCallbackUrl", () => {
  const ok = `${tenant}/beta/trigger-invocations/37d6df15-0da2-4e8f-b73a-e644ca0385ef/complete`;
  it("accepts the tenant's beta and v1 completion URLs", () => {
    expect(checkCallbackUrl(ok, tenant).invocationId).toBe("37d6df15-0da2-4e8f-b73a-e644ca0385ef");
    expect(checkCallbackUrl(`${tenant}/trigger-invocations/v1/abc/complete`, tenant).apiVersion).toBe("v1");
  });
  it.each([
    "http://acme.api.identitynow.com/beta/trigger-invocations/abc/complete",
    "https://acme.api.identitynow.com:8443/beta/trigger-invocations/abc/complete",
    "https://user:pw@acme.api.identitynow.com/beta/trigger-invocations/abc/complete",
    "https://acme.api.identitynow.com.evil.com/beta/trigger-invocations/abc/complete",
    "https://acme.api.identitynow.com/beta/trigger-invocations/abc/complete?x=1",
    // An empty query or fragment: the parser leaves search, hash and href as they were.
    "https://acme.api.identitynow.com/beta/trigger-invocations/abc/complete?",
    "https://acme.api.identitynow.com/beta/trigger-invocations/abc/complete#",
    "https://acme.api.identitynow.com/beta/trigger-invocations/../../evil/complete",
    "https://acme.api.identitynow.com/beta/trigger-invocations/a%2Fb/complete",
    "https://ACME.api.identitynow.com/beta/trigger-invocations/abc/complete",
    "https://acme.api.identitynow.com/beta/trigger-subscriptions/abc",
    "javascript:alert(1)",
  ])("refuses %s", (url) => {
    expect(() => checkCallbackUrl(url, tenant)).toThrow(CallbackUrlRefusedError);
  });
});

describe("responseDeadlineMs", () => {
  it("parses and truncates to whole minutes", () => {
    expect(responseDeadlineMs("PT1H")).toBe(3_600_000);
    expect(responseDeadlineMs("PT90S")).toBe(60_000);
    expect(() => responseDeadlineMs("PT30S")).toThrow(/under one minute/);
    expect(() => responseDeadlineMs("1 hour")).toThrow(/ISO-8601/);
  });
});
