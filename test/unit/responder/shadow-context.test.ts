// biome-ignore-all lint/suspicious/noThenProperty: `then` is the rules format's word for a rule's decision.
/**
 * A rule with `enforce: false` never decides, so it never makes a decision fall back either: its
 * async predicate rejecting, or its context read failing, is recorded in notEnforced and the
 * enforced rules decide. Context an enforced rule needs and could not read still gets the fallback.
 */
import { describe, expect, it } from "vitest";
import { MemoryInvocationLedger } from "../../../lib/adapters/local/memory-ledger.ts";
import { buildDecisionRecord } from "../../../lib/audit/build.ts";
import { parseDecisionRecord } from "../../../lib/audit/record.ts";
import type { ContextReader } from "../../../lib/context/types.ts";
import {
  type ContextDecideResult,
  decideFromPayload,
  decideWithReadContext,
} from "../../../lib/responder/context-decide.ts";
import { PipelineMetric } from "../../../lib/responder/observability.ts";
import { respond } from "../../../lib/responder/respond.ts";
import { compileRulesText } from "../../../lib/rules/load-file.ts";
import { invocationForTools } from "../../../lib/rules/run-tests.ts";
import type { CompiledRules } from "../../../lib/rules/types.ts";
import { defineRules } from "../../../lib/rules/typescript-api.ts";
import type { Invocation } from "../../../lib/triggers/invocation.ts";
import { ScriptedReader } from "../../helpers/context-doubles.ts";
import { input } from "../rules/helpers.ts";
import { compileTextWithPrecompiled } from "../rules/precompiled-helpers.ts";
import { asyncInvocation, FakeClient, fakeTime, RecordingLogger, RecordingMetrics, T0 } from "./fixtures.ts";

const FALLBACK = { decision: "deny" as const, comment: "Denied for safety." };

async function decide(
  rules: CompiledRules,
  reader?: ContextReader,
  invocation: Invocation = invocationForTools(input(), "preApproval"),
): Promise<ContextDecideResult> {
  const first = decideFromPayload(invocation, rules);
  if (!("contextRequired" in first)) return first;
  return decideWithReadContext(invocation, rules, first.contextRequired, {
    reader,
    deadline: Date.now() + 1_000,
  });
}

const failing = (reason = "unavailable"): ScriptedReader =>
  new ScriptedReader([{ error: { kind: "identities", reason, status: 503 } }]);

describe("an async shadow predicate that rejects (review repro A)", () => {
  it("is recorded; the enforced rule after it decides (it was the fallback)", async () => {
    const rules = defineRules({
      approver: "svc",
      preApproval: {
        rules: [
          {
            id: "trial",
            enforce: false,
            when: async function beta() {
              throw new Error("beta bug");
            },
            then: { decision: "deny", comment: "x" },
          },
          {
            id: "ok",
            when: { field: "accessRequestId", equals: "ar-1" },
            then: { decision: "approve", comment: "fine" },
          },
        ],
        default: { decision: "approve", comment: "OK" },
        fallback: FALLBACK,
      },
    });
    const result = await decide(rules);
    expect(result.fallback).toBe(false);
    expect(result.decision.explanation.ruleId).toBe("ok");
    expect(result.decision.output).toMatchObject({ approved: true, comment: "fine" });
    expect(result.decision.explanation.notEnforced).toEqual([
      {
        ruleId: "trial",
        matched: [],
        error: expect.stringMatching(/^rule trial: custom predicate "beta.*" threw$/),
      },
    ]);
  });

  it("an enforced async predicate that rejects still gives the fallback", async () => {
    const rules = defineRules({
      approver: "svc",
      preApproval: {
        rules: [
          {
            id: "enforced",
            when: async () => {
              throw new Error("bug");
            },
            then: { decision: "deny", comment: "x" },
          },
        ],
        default: { decision: "approve", comment: "OK" },
        fallback: FALLBACK,
      },
    });
    const result = await decide(rules);
    expect(result.fallback).toBe(true);
    expect(result.fallbackReason).toMatch(/rule enforced: custom predicate .* threw/);
  });
});

const TRIAL_IDENTITY = `
approver: svc
preApproval:
  rules:
    - id: trial
      enforce: false
      when: { field: identity.lifecycleState.stateName, equals: inactive }
      then: { decision: deny, comment: x }
    - id: ok
      when: { field: accessRequestId, equals: ar-1 }
      then: { decision: approve, comment: fine }
  default: { decision: approve, comment: OK }
  fallback: { decision: deny, comment: Denied for safety. }
`;

describe.each([
  ["compiled in full", (text: string) => compileRulesText(text, "t.yaml").compiled],
  ["from the precompiled plan", (text: string) => compileTextWithPrecompiled(text, "t.yaml")],
])("a failed read of a shadow rule's context (review repro B, %s)", (_path, compile) => {
  it("the enforced rules decide without it; the failure is reported, not a failure to retry for", async () => {
    const result = await decide(compile(TRIAL_IDENTITY), failing());
    expect(result.fallback).toBe(false);
    expect(result.decision.explanation.ruleId).toBe("ok");
    expect(result.decision.explanation.notEnforced).toEqual([
      { ruleId: "trial", matched: [], error: "context not read: identity" },
    ]);
    expect(result.context?.failure).toBeUndefined();
    expect(result.context?.ignoredFailure).toMatchObject({ kind: "identities", reason: "unavailable" });
    expect(result.contextData).toBeUndefined();
  });

  it("no reader configured: the same", async () => {
    const result = await decide(compile(TRIAL_IDENTITY), undefined);
    expect(result.fallback).toBe(false);
    expect(result.context?.ignoredFailure).toMatchObject({ reason: "not-configured" });
  });

  it("an enforced rule needing the context that failed still gets the fallback (never an approval)", async () => {
    const text = TRIAL_IDENTITY.replace(
      "    - id: ok\n      when: { field: accessRequestId, equals: ar-1 }",
      "    - id: ok\n      when: { field: manager.lifecycleState.stateName, equals: active }",
    );
    const result = await decide(compile(text), failing());
    expect(result.fallback).toBe(true);
    expect(result.fallbackReason).toBe("context identities unavailable (HTTP 503)");
    expect(result.decision.output).toMatchObject({ approved: false });
    expect(result.context?.failure).toMatchObject({ transient: true });
  });

  it("a read that succeeds: the shadow rule is observed as before", async () => {
    const reader = new ScriptedReader([{ status: "ACTIVE" }]);
    const result = await decide(compile(TRIAL_IDENTITY), reader);
    expect(result.decision.explanation.ruleId).toBe("ok");
    expect(result.decision.explanation).not.toHaveProperty("notEnforced");
    expect(result.context?.failure).toBeUndefined();
    expect(result.context?.ignoredFailure).toBeUndefined();
  });
});

describe("in the worker", () => {
  it("a transient failure only a shadow rule cared about completes now (no redelivery), counted, recorded", async () => {
    const time = fakeTime();
    const client = new FakeClient();
    const ledger = new MemoryInvocationLedger({ now: time.clock });
    const metrics = new RecordingMetrics();
    const rules = compileRulesText(TRIAL_IDENTITY.replace("equals: ar-1", "exists: true"), "t.yaml").compiled;
    const invocation = asyncInvocation({ invocationId: "e9103ca9-02c4-bb0f-9441-94b3af012345" });
    const outcome = await respond(invocation, {
      rules,
      client,
      ledger,
      logger: new RecordingLogger(),
      metrics,
      workerId: "worker-1",
      clock: time.clock,
      sleep: time.sleep,
      context: failing(),
    });
    expect(outcome.status).toBe("completed");
    expect(client.completions[0]?.body.output).toMatchObject({ approved: true, comment: "fine" });
    expect(metrics.sum(PipelineMetric.fallbacks)).toBe(0);
    expect(metrics.sum(PipelineMetric.contextFailures)).toBe(1);
    const decided = await decide(rules, failing(), invocation);
    const record = buildDecisionRecord({
      invocation,
      decision: decided,
      completion: { outcome: "completed" },
      decidedAt: T0,
      recordedBy: "worker",
    });
    expect(parseDecisionRecord(record, "built")).toEqual(record);
    expect(record.decision.notEnforced).toEqual([
      { ruleId: "trial", matched: [], error: "context not read: identity" },
    ]);
    expect(record.context?.ignoredFailure).toMatchObject({ reason: "unavailable" });
    expect(record.context?.failure).toBeUndefined();
  });
});

describe("a trial rule whose own source cannot be read (third review)", () => {
  const active = {
    id: "active",
    when: { field: "identity.identityStatus", equals: "ACTIVE" },
    then: { decision: "approve" as const, comment: "active" },
  };
  const trial = {
    id: "trial",
    enforce: false,
    when: { count: { of: "accessRequests", gt: 5 } },
    then: { decision: "deny" as const, comment: "too many" },
  };
  // Identity reads; access-request status is refused (the API client lacks its scope).
  const reader: ContextReader = {
    async read(_subject, needs) {
      if (needs.has("accessRequests")) {
        throw Object.assign(new Error("forbidden"), {
          kind: "accessRequestStatus",
          reason: "forbidden",
          status: 403,
          missingScope: "idn:access-request-status:read",
        });
      }
      return {
        data: { identity: [{ id: "id-william", name: "w", identityStatus: "ACTIVE" }] } as never,
        reads: [],
        cacheHits: 0,
      };
    },
  };
  const policy = (rules: unknown[]) =>
    defineRules({
      approver: "svc",
      preApproval: {
        rules: rules as never,
        default: { decision: "deny", comment: "no" },
        fallback: FALLBACK,
      },
    });

  it("the enforced rules' own sources are read again alone: the decision is theirs, not the fallback", async () => {
    const result = await decide(policy([active, trial]), reader);
    expect(result.fallback).toBe(false);
    expect(result.decision.explanation.ruleId).toBe("active");
    expect(result.context?.failure).toBeUndefined();
    expect(result.context?.ignoredFailure).toMatchObject({ reason: "forbidden" });
    // The same as without the trial rule.
    expect((await decide(policy([active]), reader)).decision.output).toEqual(result.decision.output);
  });

  it("still the fallback when the enforced rules' own source fails too", async () => {
    const failing: ContextReader = {
      async read() {
        throw Object.assign(new Error("down"), { kind: "identities", reason: "unavailable", status: 503 });
      },
    };
    const result = await decide(policy([active, trial]), failing);
    expect(result.fallback).toBe(true);
    expect(result.context?.failure).toMatchObject({ reason: "unavailable", transient: true });
  });

  it("a predicate is told no context was read when the re-evaluation has none", async () => {
    const trialIdentity = {
      id: "trial-inactive",
      enforce: false,
      when: { field: "identity.identityStatus", equals: "TERMINATED" },
      then: { decision: "deny" as const, comment: "x" },
    };
    const trusting = {
      id: "ok",
      when: (_view: unknown, api: { context?: { sod?: { violated?: boolean } } }) =>
        api.context !== undefined && api.context.sod?.violated !== true,
      then: { decision: "approve" as const, comment: "fine" },
    };
    const failing: ContextReader = {
      async read() {
        throw Object.assign(new Error("down"), { kind: "identities", reason: "unavailable", status: 503 });
      },
    };
    const result = await decide(policy([trialIdentity, trusting]), failing);
    expect(result.decision.output).toMatchObject({ approved: false });
  });
});
