/**
 * The functions' regex engine (lib/rules/load-bundled.ts): no backtracking fallback, RE2 loaded only
 * for rules that use `matches`, a load failure fails init. This file never imports load-file.ts or
 * the rules index (both register RE2 on import): the registry starts empty, as in a Lambda bundle.
 * The tests run in order, the last ones registering RE2.
 */
import { describe, expect, it, vi } from "vitest";
import { ResponderError } from "../../../lib/errors.ts";
import { compileRules } from "../../../lib/rules/compile.ts";
import { prepareRegexEngine, usesMatches } from "../../../lib/rules/load-bundled.ts";
import { regexEngine, registeredRegexEngine } from "../../../lib/rules/regex.ts";
import { regexProblem } from "../../../lib/rules/regex-guard.ts";
import { re2Engine } from "../../../lib/rules/regex-re2-engine.ts";
import type { RulesDocument } from "../../../lib/rules/schema.ts";
import { invocationFromAnyPayload } from "../../../lib/triggers/invocation.ts";

/** One pre-approval rule; JSON text, since a `then` key may not be written as an object literal here. */
function docWith(when: unknown): RulesDocument {
  return JSON.parse(
    `{"approver":"svc","preApproval":{"rules":[{"id":"hit","when":${JSON.stringify(when)},"then":{"decision":"deny","comment":"matched"}}],"default":{"decision":"approve","comment":"nope"}}}`,
  ) as RulesDocument;
}

const WITH_REGEX = docWith({ anyItem: { not: { field: "comment", matches: "^CHG-\\d+" } } });
const WITHOUT_REGEX = docWith({ field: "requestedFor.name", equals: "matches" });

function payload(comment: string): Record<string, unknown> {
  return {
    accessRequestId: "ar-1",
    requestedFor: { type: "IDENTITY", id: "id-1", name: "Ann" },
    requestedBy: { type: "IDENTITY", id: "id-2", name: "Bob" },
    requestedItems: [{ id: "i-1", name: "Item", type: "ROLE", operation: "Add", comment }],
  };
}

const invocation = (comment: string) =>
  invocationFromAnyPayload(
    payload(comment),
    { tenantBaseUrl: "https://t.example", responseDeadlineMs: () => 60_000 },
    "idn:access-request-pre-approval",
  );

describe("usesMatches", () => {
  it("finds a `matches` key at any depth, not the word as a value", () => {
    expect(usesMatches(WITH_REGEX)).toBe(true);
    expect(usesMatches(WITHOUT_REGEX)).toBe(false);
    expect(usesMatches({ a: [{ b: [[{ matches: "x" }]] }] })).toBe(true);
    expect(usesMatches(null)).toBe(false);
    expect(usesMatches("matches")).toBe(false);
  });
});

describe("before RE2 is registered (a bundle's start)", () => {
  it("compiles rules without a regex, and refuses to compile `matches` rather than backtrack", () => {
    expect(registeredRegexEngine()).toBeUndefined();
    expect(compileRules(WITHOUT_REGEX).decide(invocation("x")).explanation.ruleId).toBe("default");
    expect(() => compileRules(WITH_REGEX)).toThrow(/`matches` needs the RE2 engine, which is not loaded/);
    expect(() => regexEngine()).toThrow(expect.objectContaining({ code: "REGEX_ENGINE_MISSING" }));
  });

  it("does not load RE2 for rules without `matches`", async () => {
    const load = vi.fn(async () => ({ re2Engine }));
    expect(await prepareRegexEngine(WITHOUT_REGEX, load)).toBe(false);
    expect(load).not.toHaveBeenCalled();
    expect(registeredRegexEngine()).toBeUndefined();
  });

  it.each([
    [
      "re2.mjs missing",
      () => Promise.reject(new Error("Cannot find module '/var/task/re2.mjs'")),
      /Cannot find module/,
    ],
    ["no engine exported", () => Promise.resolve({}), /does not export re2Engine/],
    [
      "an engine that does not match",
      () => Promise.resolve({ re2Engine: { name: "re2", compile: () => () => false } }),
      /does not match as RE2/,
    ],
  ])("fails init loudly when RE2 is needed and does not load: %s", async (_name, load, reason) => {
    const failure = await prepareRegexEngine(WITH_REGEX, load).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ResponderError);
    expect((failure as ResponderError).code).toBe("REGEX_ENGINE_MISSING");
    expect((failure as Error).message).toMatch(/the rules use `matches` but RE2 did not load from re2\.mjs/);
    expect((failure as Error).message).toMatch(reason);
    expect(registeredRegexEngine()).toBeUndefined();
  });
});

describe("with RE2 loaded for rules that use `matches`", () => {
  it("loads the engine module (from the sources here; re2.mjs in a bundle) once", async () => {
    expect(await prepareRegexEngine(WITH_REGEX)).toBe(true);
    expect(regexEngine().name).toBe("re2");
    // Already registered: nothing more to load.
    const load = vi.fn(async () => ({ re2Engine }));
    expect(await prepareRegexEngine(WITH_REGEX, load)).toBe(false);
    expect(load).not.toHaveBeenCalled();
  });

  it.each([
    ["\\w+\\s*\\w+\\s*\\w+\\s*approve", "word ".repeat(200)],
    ["a*a*a*b", "a".repeat(1000)],
    ["^(a+)+$", `${"a".repeat(999)}!`],
  ])("%s decides in under 10 ms on 1,000 characters", (pattern, text) => {
    const rules = compileRules(docWith({ anyItem: { field: "comment", matches: pattern } }));
    rules.decide(invocation(text)); // warm
    const start = performance.now();
    const decision = rules.decide(invocation(text));
    const ms = performance.now() - start;
    expect(decision.explanation.ruleId).toBe("default");
    expect(ms).toBeLessThan(10);
  });

  it("accepts nested repetition (linear in RE2), still refuses what RE2 cannot run", () => {
    expect(regexProblem("^(a+)+$")).toBeUndefined();
    expect(regexProblem("(a|ab)*c")).toBeUndefined();
    expect(regexProblem("(a)\\1")).toMatch(/backreferences/);
    expect(regexProblem("\\u00e9")).toMatch(/RE2 cannot run it/);
  });
});
