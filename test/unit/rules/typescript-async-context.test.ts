// biome-ignore-all lint/suspicious/noThenProperty: `then` is the rules format's word for a rule's decision.
/**
 * Async custom predicates and context (lib/rules/custom-async.ts): a call that failed because context
 * was not read yet runs again once it is, and settled results (sync ones too) are kept per walk's
 * context, so a result computed without context never decides a walk that has it.
 */
import { describe, expect, it } from "vitest";
import { defaultDirectoryFile } from "../../../lib/context/default-directory.ts";
import type { ContextReader } from "../../../lib/context/types.ts";
import { defaultSamples } from "../../../lib/local/samples.ts";
import { decideFromPayload, decideWithReadContext } from "../../../lib/responder/context-decide.ts";
import { invocationForTools } from "../../../lib/rules/run-tests.ts";
import type { ContextRequired } from "../../../lib/rules/types.ts";
import { defineRules } from "../../../lib/rules/typescript-api.ts";
import { decideOffline } from "../../../lib/rules/typescript-testing.ts";
import type { Invocation } from "../../../lib/triggers/invocation.ts";
import { PRE_APPROVAL } from "../../../lib/triggers/trigger-ids.ts";

const DENY_FALLBACK = { decision: "deny" as const, comment: "Denied for safety." };
/** The first pre-approval sample: William Wilson, known to the default directory with his items. */
const input = () => defaultSamples()[PRE_APPROVAL][0]?.input as Record<string, unknown>;
const DIRECTORY = () => defaultDirectoryFile() as unknown as Record<string, unknown>;

// biome-ignore lint/suspicious/noExplicitAny: predicates of every shape are under test.
type AnyPredicate = (view: any, api?: any) => unknown;

function knownRules(predicate: AnyPredicate) {
  return defineRules({
    approver: "svc",
    preApproval: {
      rules: [{ id: "known", when: predicate as never, then: { decision: "approve", comment: "Known." } }],
      default: { decision: "deny", comment: "Unknown." },
      fallback: DENY_FALLBACK,
    },
  });
}

/** The pipeline: the payload walk, then the settle/read/settle rounds. */
async function decide(rules: ReturnType<typeof defineRules>, invocation: Invocation, reader?: ContextReader) {
  const first = decideFromPayload(invocation, rules);
  if (!("contextRequired" in first)) return first;
  return decideWithReadContext(invocation, rules, first.contextRequired, {
    reader,
    deadline: Date.now() + 1_000,
  });
}

describe("an async predicate reading context it did not declare", () => {
  const shapes: Array<[string, AnyPredicate]> = [
    ["sync", (view) => view.identity?.[0]?.name === "William Wilson"],
    ["async", async (view) => view.identity?.[0]?.name === "William Wilson"],
    [
      "async, awaiting first",
      async (view) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return view.identity?.[0]?.name === "William Wilson";
      },
    ],
  ];
  for (const [shape, predicate] of shapes) {
    it(`${shape}: is called again once the context is read, and decides with it`, async () => {
      const result = await decideOffline(knownRules(predicate), input(), {
        trigger: "preApproval",
        context: DIRECTORY(),
      });
      expect(result.fallback).toBe(false);
      expect(result.decision.explanation.ruleId).toBe("known");
      expect(result.decision.output).toMatchObject({ approved: true, comment: "Known." });
    });
  }

  it("a predicate that fails with the context read is still the fallback, never an approval", async () => {
    const rules = knownRules(async (view) => {
      await null;
      if (view.identity !== undefined) throw new Error("bug after the read");
      return true;
    });
    const result = await decideOffline(rules, input(), { trigger: "preApproval", context: DIRECTORY() });
    expect(result.fallback).toBe(true);
    expect(result.decision.output).toMatchObject({ approved: false, comment: "Denied for safety." });
    expect(result.fallbackReason).toMatch(/custom predicate "predicate-1" threw/);
  });

  it("a reader returning less than asked: the fallback, after one more call, not a loop", async () => {
    let calls = 0;
    const rules = knownRules(async (view) => {
      calls++;
      await null;
      return view.identity !== undefined;
    });
    const reader: ContextReader = {
      read: async () => ({ data: { provenance: {} }, reads: [], cacheHits: 0 }),
    } as unknown as ContextReader;
    const result = await decide(rules, invocationForTools(input(), "preApproval"), reader);
    expect(result.fallback).toBe(true);
    expect(result.decision.output).toMatchObject({ approved: false });
    expect(result.fallbackReason).toMatch(/context missing after the read: identity/);
    expect(calls).toBe(2); // without context, then with what was read
  });
});

describe("sync predicates beside async ones", () => {
  it("are called once per decision, not once per settle round", async () => {
    let syncCalls = 0;
    const rules = defineRules({
      approver: "svc",
      preApproval: {
        rules: [
          {
            id: "s",
            when: () => {
              syncCalls++;
              return false;
            },
            then: { decision: "deny", comment: "s" },
          },
          { id: "a1", when: async () => false, then: { decision: "deny", comment: "a1" } },
          { id: "a2", when: async () => false, then: { decision: "deny", comment: "a2" } },
          { id: "a3", when: async () => false, then: { decision: "deny", comment: "a3" } },
        ],
        default: { decision: "approve", comment: "OK" },
        fallback: DENY_FALLBACK,
      },
    });
    const result = await decide(rules, invocationForTools(input(), "preApproval"));
    expect(result.decision.output).toMatchObject({ approved: true, comment: "OK" });
    expect(syncCalls).toBe(1);
  });

  it("a result computed without context is computed again in the walk that has it", async () => {
    let syncCalls = 0;
    const rules = defineRules({
      approver: "svc",
      preApproval: {
        rules: [
          {
            id: "s",
            when: (_view, api) => {
              syncCalls++;
              return api.context !== undefined;
            },
            then: { decision: "deny", comment: "s" },
          },
          { id: "a", when: async () => false, then: { decision: "deny", comment: "a" } },
          {
            id: "needs-identity",
            when: { field: "identity.name", equals: "Nobody" },
            then: { decision: "deny", comment: "n" },
          },
        ],
        default: { decision: "approve", comment: "OK" },
        fallback: DENY_FALLBACK,
      },
    });
    const result = await decideOffline(rules, input(), { trigger: "preApproval", context: DIRECTORY() });
    expect(result.decision.explanation.ruleId).toBe("s");
    expect(syncCalls).toBe(2); // the payload walks share one call; the context walk makes its own
  });

  it("a result from a walk that read context not read is never replayed (even if the code caught the signal)", async () => {
    const rules = defineRules({
      approver: "svc",
      preApproval: {
        rules: [
          {
            id: "s",
            when: (view) => {
              try {
                return (view.identity as unknown[]).length > 0;
              } catch {
                return false;
              }
            },
            then: { decision: "deny", comment: "s" },
          },
          { id: "a", when: async () => false, then: { decision: "deny", comment: "a" } },
        ],
        default: { decision: "approve", comment: "OK" },
        fallback: DENY_FALLBACK,
      },
    });
    const invocation = invocationForTools(input(), "preApproval");
    for (let round = 0; round < 2; round++) {
      const evaluated = rules.evaluate(invocation) as ContextRequired;
      expect(evaluated.pending).toBeUndefined();
      expect([...evaluated.contextRequired]).toContain("identity");
    }
    const result = await decideOffline(rules, input(), { trigger: "preApproval", context: DIRECTORY() });
    expect(result.decision.explanation.ruleId).toBe("s");
  });
});

describe("an async predicate that catches the context-not-read signal after an await", () => {
  /** Reads sod after an await and takes the signal for "no violation": it must never approve unread. */
  const catching = (log: string[]) =>
    knownRules(async (view) => {
      await null;
      try {
        const clean = view.sod.violated === false;
        log.push(`read sod: ${clean}`);
        return clean;
      } catch {
        log.push("caught");
        return true;
      }
    });
  const failingReader = {
    read: async () => {
      throw Object.assign(new Error("down"), { kind: "identities", reason: "unavailable", status: 503 });
    },
  } as unknown as ContextReader;

  it("is called again over the context read, and decides with it", async () => {
    const log: string[] = [];
    const result = await decideOffline(catching(log), input(), {
      trigger: "preApproval",
      context: DIRECTORY(),
    });
    expect(result.fallback).toBe(false);
    expect(log[0]).toBe("caught");
    expect(log.at(-1)).toMatch(/^read sod: /);
    const clean = log.at(-1) === "read sod: true";
    expect(result.decision.explanation.ruleId).toBe(clean ? "known" : "default");
    expect(result.context?.needs).toContain("sod");
  });

  it("a failed read: the fallback, never the predicate's approval", async () => {
    const log: string[] = [];
    const result = await decide(catching(log), invocationForTools(input(), "preApproval"), failingReader);
    expect(result.fallback).toBe(true);
    expect(result.decision.output).toMatchObject({ approved: false, comment: "Denied for safety." });
    expect(log.every((entry) => entry === "caught")).toBe(true);
  });

  it("a reader returning less than asked: the fallback, not a loop", async () => {
    const log: string[] = [];
    const reader = {
      read: async () => ({ data: { provenance: {} }, reads: [], cacheHits: 0 }),
    } as unknown as ContextReader;
    const result = await decide(catching(log), invocationForTools(input(), "preApproval"), reader);
    expect(result.fallback).toBe(true);
    expect(result.decision.output).toMatchObject({ approved: false });
    expect(log).toEqual(["caught", "caught"]); // without context, then with what was read
  });

  it("the walk settling it asks for every source (not the predicate's true)", async () => {
    const rules = catching([]);
    const invocation = invocationForTools(input(), "preApproval");
    const first = rules.evaluate(invocation) as ContextRequired;
    expect(first.pending?.names).toEqual(["known/predicate-1"]);
    await first.pending?.settle({ deadline: Date.now() + 1_000 });
    const settled = rules.evaluate(invocation) as ContextRequired;
    expect(settled.pending).toBeUndefined();
    expect([...settled.contextRequired]).toEqual(
      expect.arrayContaining(["identity", "sod", "accessRequests"]),
    );
  });

  it("a read before the first await, caught, is not replayed over the context read", async () => {
    let calls = 0;
    const rules = knownRules(async (view) => {
      calls++;
      let clean: boolean;
      try {
        clean = view.sod.violated === false;
      } catch {
        clean = true;
      }
      await null;
      return clean;
    });
    const result = await decide(rules, invocationForTools(input(), "preApproval"), failingReader);
    expect(result.fallback).toBe(true);
    expect(result.decision.output).toMatchObject({ approved: false });
    expect(calls).toBe(2); // without context, then over the failed read's empty context
  });

  it("does not wait for the rest of a call whose outcome no longer counts", async () => {
    const rules = knownRules(async (view) => {
      await null;
      try {
        return view.sod.violated === false;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 3_000).unref());
        return true;
      }
    });
    const invocation = invocationForTools(input(), "preApproval");
    const first = rules.evaluate(invocation) as ContextRequired;
    const started = Date.now();
    await first.pending?.settle({ deadline: Date.now() + 10_000 });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect([...(rules.evaluate(invocation) as ContextRequired).contextRequired]).toContain("sod");
  });
});
