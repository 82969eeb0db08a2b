/** The decision record builder: named fields only, clipped to the schema, never the secret. */
import { describe, expect, it } from "vitest";
import {
  assertNoSecret,
  buildDecisionRecord,
  decisionLabel,
  MAX_RECORD_CONTEXT_DATA_BYTES,
  RecordHoldsSecretError,
  recordKey,
} from "../../../lib/audit/build.ts";
import { parseDecisionRecord } from "../../../lib/audit/record.ts";
import type { ContextDecideResult } from "../../../lib/responder/context-decide.ts";
import type { Decision } from "../../../lib/rules/types.ts";
import { type Invocation, invocationFromHttpBody } from "../../../lib/triggers/invocation.ts";
import {
  asyncInvocation,
  explanation,
  HOUR,
  loadExample,
  SECRET,
  T0,
  TENANT,
} from "../responder/fixtures.ts";

function syncInvocation(): Invocation {
  const body = loadExample("http-async-pre-approval.request.json");
  body._metadata = {
    triggerId: body._metadata.triggerId,
    triggerType: "requestResponse",
    responseMode: "sync",
  };
  return invocationFromHttpBody(body, {
    tenantBaseUrl: TENANT,
    responseDeadlineMs: () => HOUR,
    receivedAt: T0,
  });
}

function decided(
  overrides: Partial<Decision["explanation"]> & Record<string, unknown> = {},
): ContextDecideResult {
  return {
    decision: {
      triggerId: "idn:access-request-pre-approval",
      output: { approved: false, comment: "not active", approver: "rules" },
      explanation: {
        ...explanation("deny-inactive"),
        matched: ["identity.lifecycleState.stateName in [inactive]"],
        context: [
          {
            source: "identity",
            id: "p-1",
            fields: { "lifecycleState.stateName": "inactive" },
            from: "api",
            ms: 12,
          },
        ],
        ...overrides,
      },
      actions: [{ type: "request-role-insights" }],
    } as Decision,
    fallback: false,
    context: {
      needs: ["identity"],
      reads: [{ kind: "identities", ids: 1, from: "api", ms: 12 }],
      cacheHits: 0,
      ms: 14,
    },
    contextData: {
      identity: [{ id: "p-1", name: "Pat" } as never],
      provenance: { "identities:p-1": { from: "api", ms: 12 } },
    },
  };
}

describe("buildDecisionRecord", () => {
  it("copies the invocation's people, items, decision, context and timings; passes the schema; no secret", () => {
    const invocation = asyncInvocation({ invocationId: "inv-1" });
    const record = buildDecisionRecord({
      invocation,
      decision: decided(),
      completion: { outcome: "completed", attempts: 1 },
      decidedAt: T0 + 40,
      completedAt: T0 + 60,
      timeline: [{ at: new Date(T0).toISOString(), event: "received" }],
      recordedBy: "worker",
    });
    expect(parseDecisionRecord(record, "built")).toEqual(record);
    expect(record.invocationId).toBe("inv-1");
    expect(record.mode).toBe("async");
    expect(record.accessRequestId).toBe(invocation.input.accessRequestId as string);
    expect(record.people.length).toBeGreaterThan(0);
    expect(record.items[0]).toMatchObject({ id: expect.any(String), operation: expect.any(String) });
    expect(record.decision).toMatchObject({
      label: "deny",
      ruleId: "deny-inactive",
      fallback: false,
      matched: ["identity.lifecycleState.stateName in [inactive]"],
      contextUsed: [{ source: "identity", id: "p-1", from: "api", ms: 12 }],
      actions: [{ type: "request-role-insights" }],
    });
    expect(record.answer).toEqual({ output: record.decision.output, label: "deny", by: "rules" });
    // The data the rules evaluated over, without its provenance.
    expect(record.context?.data).toEqual({ identity: [{ id: "p-1", name: "Pat" }] });
    expect(record.timings).toMatchObject({ decisionMs: 40, deadline: new Date(T0 + HOUR).toISOString() });
    expect(record.expiresAt).toBe(Math.floor((T0 + 40) / 1000) + 400 * 86_400);
    const json = JSON.stringify(record);
    expect(json).not.toContain(SECRET);
    expect(json).not.toContain("callbackURL");
    expect(json).not.toContain("trigger-invocations");
    expect(() => assertNoSecret(record, invocation)).not.toThrow();
  });

  it("leaves out context data above the bound, saying why", () => {
    const big = decided();
    big.contextData = { identity: [{ id: "p-1", name: "x".repeat(MAX_RECORD_CONTEXT_DATA_BYTES) } as never] };
    const record = buildDecisionRecord({
      invocation: asyncInvocation({ invocationId: "inv-2" }),
      decision: big,
      completion: { outcome: "completed" },
      decidedAt: T0,
      recordedBy: "worker",
      retentionDays: 30,
    });
    expect(record.context?.data).toBeUndefined();
    expect(record.context?.dataOmitted).toMatch(/above the record's bound/);
    expect(record.expiresAt).toBe(Math.floor(T0 / 1000) + 30 * 86_400);
  });

  it("maps enforce:false matches, clips long text, keys a sync invocation without id, records a shadow answer", () => {
    const invocation = syncInvocation();
    const record = buildDecisionRecord({
      invocation,
      decision: decided({
        notEnforced: [{ ruleId: "trial-rule", matched: ["a == 1"] }],
        ruleId: "r".repeat(500),
      }),
      answer: { output: { approved: true, comment: "shadow", approver: "rules" }, by: "shadow" },
      completion: { outcome: "answered", reason: "y".repeat(5_000) },
      decidedAt: T0,
      recordedBy: "http",
    });
    expect(parseDecisionRecord(record, "built")).toEqual(record);
    expect(record.invocationId).toBe(
      `sync:${invocation.input.accessRequestId as string}:${new Date(T0).toISOString()}`,
    );
    expect(recordKey(invocation)).toBe(record.invocationId);
    expect(record.decision.notEnforced).toEqual([{ ruleId: "trial-rule", matched: ["a == 1"] }]);
    expect(record.decision.ruleId).toHaveLength(200);
    expect(record.completion.reason).toHaveLength(2_000);
    expect(record.timings.deadline).toBeUndefined();
    expect(record.answer).toMatchObject({ label: "approve", by: "shadow", differs: true });
  });

  it("takes a decision read back from the ledger (FIRE_AND_FORGET's {} output is null)", () => {
    const record = buildDecisionRecord({
      invocation: asyncInvocation({ invocationId: "inv-3" }),
      decision: {
        output: { approved: false, comment: "fallback", approver: "responder" },
        explanation: { ...explanation("fallback", "fallback"), fallbackReason: "context identities timeout" },
        fallback: true,
      },
      completion: { outcome: "deadline-passed", reason: "deadline passed" },
      decidedAt: T0,
      recordedBy: "worker",
    });
    expect(record.decision).toMatchObject({
      fallback: true,
      fallbackReason: "context identities timeout",
      label: "deny",
    });
    expect(record.context).toBeUndefined();
  });

  it("assertNoSecret refuses a record whose input carries the secret (a requester pasted it in a comment)", () => {
    const invocation = asyncInvocation({ invocationId: "inv-4" });
    const leaky = { ...invocation, input: { ...invocation.input, note: `see ${SECRET}` } } as Invocation;
    const record = buildDecisionRecord({
      invocation: leaky,
      decision: decided(),
      completion: { outcome: "completed" },
      decidedAt: T0,
      recordedBy: "worker",
    });
    expect(() => assertNoSecret(record, leaky)).toThrow(RecordHoldsSecretError);
    try {
      assertNoSecret(record, leaky);
    } catch (error) {
      expect(String((error as Error).message)).not.toContain(SECRET);
    }
  });

  it("decisionLabel names each kind of answer", () => {
    expect(decisionLabel("idn:access-request-pre-approval", { approved: true })).toBe("approve");
    expect(decisionLabel("idn:access-request-pre-approval", { approved: false })).toBe("deny");
    expect(
      decisionLabel("idn:access-request-dynamic-approver", { id: "x", name: "X", type: "IDENTITY" }),
    ).toBe("approver");
    expect(decisionLabel("idn:access-request-dynamic-approver", { id: "", name: "", type: "" })).toBe(
      "no-approver",
    );
    expect(decisionLabel("idn:access-request-post-approval", null)).toBe("actions");
  });
});
