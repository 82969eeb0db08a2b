// biome-ignore-all lint/suspicious/noThenProperty: `then` is the rules format's word for a rule's decision.
/**
 * Async custom predicates (lib/rules/custom-async.ts): evaluate() stays synchronous and returns
 * `pending`; the pipeline (decideWithReadContext) awaits them within the deadline and evaluates again.
 * A predicate that rejects or overruns makes the decision the fallback, with the reason.
 */
import { describe, expect, it } from "vitest";
import { defaultDirectoryFile } from "../../../lib/context/default-directory.ts";
import { DEFAULT_DIRECTORY_IDS } from "../../../lib/context/directory.ts";
import { decideFromPayload, decideWithReadContext } from "../../../lib/responder/context-decide.ts";
import type { PredicateApi } from "../../../lib/rules/custom-async.ts";
import { invocationForTools } from "../../../lib/rules/run-tests.ts";
import type { ContextRequired } from "../../../lib/rules/types.ts";
import { defineRules } from "../../../lib/rules/typescript-api.ts";
import { decideOffline } from "../../../lib/rules/typescript-testing.ts";
import { input, item } from "./helpers.ts";

const DENY_FALLBACK = { decision: "deny" as const, comment: "Denied for safety." };

describe("async custom predicates", () => {
  it("a pending predicate stops the walk, is awaited, and decides on the second evaluation", async () => {
    let calls = 0;
    const rules = defineRules({
      approver: "svc",
      preApproval: {
        rules: [
          {
            id: "slow-risk",
            when: async function riskyItem() {
              calls++;
              await new Promise((resolve) => setTimeout(resolve, 5));
              return true;
            },
            then: { decision: "deny", comment: "Risky." },
          },
        ],
        default: { decision: "approve", comment: "OK" },
        fallback: DENY_FALLBACK,
      },
    });
    const invocation = invocationForTools(input(), "preApproval");
    const first = decideFromPayload(invocation, rules) as ContextRequired;
    expect(first.pending?.names).toEqual(["slow-risk/riskyItem-1"]);
    expect([...first.contextRequired]).toEqual([]);
    const result = await decideWithReadContext(invocation, rules, first.contextRequired, {
      reader: undefined,
      deadline: Date.now() + 1_000,
    });
    expect(result.fallback).toBe(false);
    expect(result.decision.explanation.ruleId).toBe("slow-risk");
    expect(result.decision.output).toMatchObject({ approved: false, comment: "Risky." });
    expect(calls).toBe(1); // settled once, never called again by the re-evaluation
  });

  it("rules before it decide synchronously: a removal never calls the predicate", () => {
    let calls = 0;
    const rules = defineRules({
      approver: "svc",
      preApproval: {
        rules: [
          {
            id: "removals",
            priority: 10,
            when: { everyItem: { field: "operation", equals: "Remove" } },
            then: { decision: "approve", comment: "Removal." },
          },
          {
            id: "async",
            when: async () => {
              calls++;
              return true;
            },
            then: { decision: "deny", comment: "No." },
          },
        ],
        default: { decision: "approve", comment: "OK" },
      },
    });
    const invocation = invocationForTools(
      input({ requestedItems: [item({ operation: "Remove" })] }),
      "preApproval",
    );
    const result = decideFromPayload(invocation, rules);
    expect("decision" in result && result.decision.explanation.ruleId).toBe("removals");
    expect(calls).toBe(0);
  });

  it("a predicate that rejects makes the decision the fallback, naming the rule and the predicate", async () => {
    const rules = defineRules({
      approver: "svc",
      preApproval: {
        rules: [
          {
            id: "risk-service",
            when: async function askRiskService() {
              throw new Error("connection refused to https://risk.example/secret-token");
            },
            then: { decision: "approve", comment: "Low risk." },
          },
        ],
        default: { decision: "approve", comment: "OK" },
        fallback: DENY_FALLBACK,
      },
    });
    const result = await decideOffline(rules, input(), { trigger: "preApproval" });
    expect(result.fallback).toBe(true);
    expect(result.decision.output).toMatchObject({ approved: false, comment: "Denied for safety." });
    expect(result.fallbackReason).toBe(
      'rules evaluation failed: rule risk-service: custom predicate "askRiskService-1" threw',
    );
    expect(result.decision.explanation.fallbackReason).toBe(result.fallbackReason);
    // The error's own text (which may carry anything) is not in the reason.
    expect(JSON.stringify(result)).not.toContain("secret-token");
  });

  it("a predicate resolving to a non-boolean falls back", async () => {
    const rules = defineRules({
      approver: "svc",
      preApproval: {
        rules: [
          {
            id: "r",
            when: (async () => "yes") as unknown as () => Promise<boolean>,
            then: { decision: "approve", comment: "x" },
          },
        ],
        default: { decision: "approve", comment: "OK" },
      },
    });
    const result = await decideOffline(rules, input(), { trigger: "preApproval" });
    expect(result.fallback).toBe(true);
    expect(result.fallbackReason).toMatch(/did not resolve to a boolean/);
  });

  it("a predicate that overruns the deadline falls back in time and its signal is aborted", async () => {
    let seen: AbortSignal | undefined;
    const rules = defineRules({
      approver: "svc",
      preApproval: {
        rules: [
          {
            id: "hangs",
            when: (_view, { signal }) => {
              seen = signal;
              return new Promise<boolean>(() => {}); // never settles
            },
            then: { decision: "approve", comment: "x" },
          },
        ],
        default: { decision: "approve", comment: "OK" },
        fallback: DENY_FALLBACK,
      },
    });
    const started = Date.now();
    const result = await decideOffline(rules, input(), { trigger: "preApproval", budgetMs: 50 });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(result.fallback).toBe(true);
    expect(result.fallbackReason).toBe(
      'rules evaluation failed: rule hangs: custom predicate "predicate-1" did not settle before the decision\'s deadline',
    );
    expect(seen?.aborted).toBe(true);
    expect((seen?.reason as DOMException | undefined)?.name).toBe("TimeoutError");
  });

  it("receives the context it declared, the invocation and a live signal", async () => {
    let api: PredicateApi | undefined;
    const rules = defineRules({
      approver: "svc",
      preApproval: {
        rules: [
          {
            id: "manager-known",
            needs: ["identity"],
            when: async (view, a) => {
              api = a;
              return view.identity?.[0]?.name === "William Wilson";
            },
            then: { decision: "approve", comment: "Known." },
          },
        ],
        default: { decision: "deny", comment: "Unknown." },
      },
    });
    const payload = input({
      requestedFor: { type: "IDENTITY", id: DEFAULT_DIRECTORY_IDS.william, name: "William Wilson" },
    });
    const result = await decideOffline(rules, payload, {
      trigger: "preApproval",
      context: defaultDirectoryFile() as unknown as Record<string, unknown>,
    });
    expect(result.decision.explanation.ruleId).toBe("manager-known");
    expect(api?.context?.identity?.[0]?.id).toBe(DEFAULT_DIRECTORY_IDS.william);
    expect(api?.invocation.triggerId).toBe("idn:access-request-pre-approval");
    expect(api?.signal.aborted).toBe(false);
  });

  it("an async item predicate names the item it matched, and each item's call is kept apart", async () => {
    const scores: Record<string, number> = { a: 10, b: 95, c: 99 };
    const asked: string[] = [];
    const rules = defineRules({
      approver: "svc",
      preApproval: {
        rules: [
          {
            id: "high-risk",
            when: {
              anyItem: async (it) => {
                asked.push(it.id);
                return (scores[it.id] ?? 0) > 90;
              },
            },
            then: { decision: "deny", comment: "{{item.name}} is high risk." },
          },
        ],
        default: { decision: "approve", comment: "OK" },
      },
    });
    const payload = input({
      requestedItems: [
        item({ id: "a", name: "A" }),
        item({ id: "b", name: "B" }),
        item({ id: "c", name: "C" }),
      ],
    });
    const result = await decideOffline(rules, payload, { trigger: "preApproval" });
    expect(result.decision.output).toMatchObject({ approved: false, comment: "B is high risk." });
    expect(asked).toEqual(["a", "b"]); // one call per item, in order, never twice
  });

  it("pending with later rules needing context: the context is read only if the predicate did not decide", async () => {
    const rules = defineRules({
      approver: "svc",
      preApproval: {
        rules: [
          {
            id: "async-first",
            priority: 10,
            when: async () => false,
            then: { decision: "deny", comment: "x" },
          },
          {
            id: "needs-identity",
            when: { field: "identity.name", equals: "William Wilson" },
            then: { decision: "approve", comment: "William." },
          },
        ],
        default: { decision: "deny", comment: "default" },
      },
    });
    const invocation = invocationForTools(
      input({
        requestedFor: { type: "IDENTITY", id: DEFAULT_DIRECTORY_IDS.william, name: "William Wilson" },
      }),
      "preApproval",
    );
    const first = decideFromPayload(invocation, rules) as ContextRequired;
    expect(first.pending).toBeDefined();
    expect([...first.contextRequired]).toEqual([]);
    const result = await decideOffline(rules, invocation.input, {
      trigger: "preApproval",
      context: defaultDirectoryFile() as unknown as Record<string, unknown>,
    });
    expect(result.decision.explanation.ruleId).toBe("needs-identity");
    expect(result.context?.needs).toEqual(["identity"]);
  });

  it("sync predicates decide as before, with no pending", () => {
    const rules = defineRules({
      approver: "svc",
      preApproval: {
        rules: [
          {
            id: "sync",
            when: (view) => view.accessRequestId === "ar-1",
            then: { decision: "deny", comment: "x" },
          },
        ],
        default: { decision: "approve", comment: "OK" },
      },
    });
    const result = decideFromPayload(invocationForTools(input(), "preApproval"), rules);
    expect("decision" in result && result.decision.explanation.ruleId).toBe("sync");
  });
});
