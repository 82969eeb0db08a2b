/**
 * Runs the test cases of a rules file (its `tests:` section, or a `<name>.tests.yaml` beside it):
 * each input (bare, HTTP body with _metadata, or EventBridge event) decided as the pipeline decides
 * it (payload first, then the context a test declares, read offline from a directory by the same
 * reader a deployment uses), compared with the expected output (objects match partially), rule id
 * and actions. No network: a test's context is the directory it declares.
 */
import * as z from "zod/mini";
import { type Directory, directoryFrom } from "../context/directory.ts";
import { DirectoryFetcher } from "../context/directory-fetcher.ts";
import { CachedContextReader } from "../context/reader.ts";
import type { ContextKind } from "../context/types.ts";
import { ResponderError } from "../errors.ts";
import { IscApiError } from "../isc/errors.ts";
import { decideFromPayload, decideWithReadContext } from "../responder/context-decide.ts";
import { type Invocation, invocationFromAnyPayload } from "../triggers/invocation.ts";
import { DynamicApproverOutputSchema, PreApprovalOutputSchema } from "../triggers/schemas.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../triggers/trigger-ids.ts";
import type { RulesTestCase } from "./schema.ts";
import { CLOCK_NOT_FIXED } from "./time-checks.ts";
import { parseInstant } from "./time-conditions.ts";
import type { CompiledRules, Decision } from "./types.ts";
import { TRIGGER_ALIASES } from "./validate.ts";

/** Tenant used for payloads without a callbackURL: tools do not check tenants. */
export const PLACEHOLDER_TENANT = "https://tenant.api.identitynow.com";
const ONE_HOUR_MS = 3_600_000;

/**
 * An Invocation for tools (`rules eval`, `rules test`): tenant taken from the payload's callbackURL
 * (or a placeholder), PT1H deadline. `trigger` may be a section name or a trigger id; `receivedAt`
 * (epoch ms) is the decision's clock, now when absent.
 */
export function invocationForTools(payload: unknown, trigger?: string, receivedAt?: number): Invocation {
  const triggerId = trigger === undefined ? undefined : (TRIGGER_ALIASES[trigger] ?? trigger);
  return invocationFromAnyPayload(
    payload,
    {
      tenantBaseUrl: callbackOrigin(payload) ?? PLACEHOLDER_TENANT,
      responseDeadlineMs: () => ONE_HOUR_MS,
      ...(receivedAt === undefined ? {} : { receivedAt }),
    },
    triggerId,
  );
}

function callbackOrigin(payload: unknown): string | undefined {
  if (typeof payload !== "object" || payload === null) return undefined;
  const record = payload as {
    _metadata?: { callbackURL?: unknown };
    detail?: { _metadata?: { callbackURL?: unknown } };
  };
  const url = record._metadata?.callbackURL ?? record.detail?._metadata?.callbackURL;
  if (typeof url !== "string") return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

export interface RulesTestResult {
  name: string;
  passed: boolean;
  /** What differed, one line each (paths and values of the test case: test data, not secrets). */
  failures: string[];
  decision?: Decision;
}

export interface RulesTestReport {
  passed: number;
  failed: number;
  results: RulesTestResult[];
}

export interface RulesTestOptions {
  /** The document's `testContext`: the directory every test's `context` is merged over. */
  testContext?: Record<string, unknown> | undefined;
  /** The document's `testAt`: the clock of every test without its own `at`. */
  testAt?: string | undefined;
}

export async function runRulesTests(
  compiled: CompiledRules,
  tests: readonly RulesTestCase[],
  options: RulesTestOptions = {},
): Promise<RulesTestReport> {
  const results: RulesTestResult[] = [];
  for (const test of tests) results.push(await runOne(compiled, test, options));
  const passed = results.filter((r) => r.passed).length;
  return { passed, failed: results.length - passed, results };
}

async function runOne(
  compiled: CompiledRules,
  test: RulesTestCase,
  options: RulesTestOptions,
): Promise<RulesTestResult> {
  let decision: Decision;
  const failures: string[] = [];
  try {
    const at = test.at ?? options.testAt;
    const invocation = invocationForTools(
      test.input,
      test.trigger,
      at === undefined ? undefined : parseInstant(at),
    );
    if (at === undefined && compiled.readsClock?.(invocation.triggerId) === true) {
      return { name: test.name, passed: false, failures: [CLOCK_NOT_FIXED] };
    }
    const first = decideFromPayload(invocation, compiled);
    if ("contextRequired" in first) {
      // Empty: only async custom predicates are pending (nothing to read).
      if (options.testContext === undefined && test.context === undefined && first.contextRequired.size > 0) {
        const needs = [...first.contextRequired].join(", ");
        return {
          name: test.name,
          passed: false,
          failures: [
            `the rules read context (${needs}) but this test declares none: add context or testContext`,
          ],
        };
      }
      // `ago` in the directory counts back from the test's clock, as `within` does.
      const directory = testDirectory(options.testContext, test.context, test.name, invocation.receivedAt);
      const result = await decideWithReadContext(invocation, compiled, first.contextRequired, {
        reader: new CachedContextReader(
          new DirectoryFetcher(directory, { failWith: failureOf(test.contextFailure) }),
        ),
        deadline: Date.now() + 5_000,
      });
      decision = result.decision;
      if (result.context?.failure !== undefined && test.contextFailure === undefined) {
        failures.push(`context could not be read: ${result.fallbackReason ?? result.context.failure.reason}`);
      }
    } else {
      decision = first.decision;
    }
  } catch (error) {
    const why = error instanceof ResponderError ? `${error.code}: ${error.message}` : String(error);
    return { name: test.name, passed: false, failures: [`evaluation failed: ${why}`] };
  }
  const schema =
    decision.triggerId === PRE_APPROVAL
      ? PreApprovalOutputSchema
      : decision.triggerId === DYNAMIC_APPROVER
        ? DynamicApproverOutputSchema
        : undefined;
  if (schema !== undefined && !z.safeParse(schema, decision.output).success) {
    failures.push("output fails the trigger's output schema");
  }
  const expect = test.expect;
  if (expect.rule !== undefined && expect.rule !== decision.explanation.ruleId) {
    failures.push(`rule: expected ${expect.rule}, got ${decision.explanation.ruleId}`);
  }
  if (expect.notEnforced !== undefined) {
    // The shadow rules that matched: one that failed (`error`) did not.
    const got = (decision.explanation.notEnforced ?? [])
      .filter((m) => m.error === undefined)
      .map((m) => m.ruleId);
    if (JSON.stringify(got) !== JSON.stringify(expect.notEnforced))
      failures.push(`notEnforced: expected [${expect.notEnforced.join(", ")}], got [${got.join(", ")}]`);
  }
  if (expect.output !== undefined) partialMatch(expect.output, decision.output, "output", failures);
  if (expect.actions !== undefined) partialMatch(expect.actions, decision.actions, "actions", failures);
  return { name: test.name, passed: failures.length === 0, failures, decision };
}

/** The file's testContext with the test's own context merged over it, entry by entry (by id). */
function testDirectory(
  shared: Record<string, unknown> | undefined,
  own: Record<string, unknown> | undefined,
  testName: string,
  now: number,
): Directory {
  const merged: Record<string, unknown> = { ...(shared ?? {}) };
  for (const [kind, entries] of Object.entries(own ?? {})) {
    const base = merged[kind];
    if (!Array.isArray(entries) || !Array.isArray(base)) {
      merged[kind] = entries;
      continue;
    }
    const idOf = (entry: unknown) =>
      typeof entry === "object" && entry !== null
        ? ((entry as { id?: unknown; accessRequestId?: unknown }).id ??
          (entry as { accessRequestId?: unknown }).accessRequestId)
        : undefined;
    const replaced = new Set<unknown>(entries.map(idOf).filter((id) => id !== undefined));
    merged[kind] = [...base.filter((entry) => !replaced.has(idOf(entry))), ...entries];
  }
  return directoryFrom(merged, { source: `context of test "${testName}"`, now });
}

/** A contextFailure as the directory fetcher's failWith: an ISC error of that status on every matching read. */
function failureOf(
  failure: RulesTestCase["contextFailure"],
): ((kind: ContextKind) => Error | undefined) | undefined {
  if (failure === undefined) return undefined;
  return (kind) =>
    failure.kind === undefined || failure.kind === kind
      ? new IscApiError({
          status: failure.status,
          operation: `GET ${kind} (test contextFailure)`,
          ...(failure.status === 403 ? { detailCode: "403 Forbidden" } : {}),
        })
      : undefined;
}

/** Objects match if every expected key matches; arrays need the same length; the rest strict equality. */
export function partialMatch(expected: unknown, actual: unknown, path: string, failures: string[]): void {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      failures.push(`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
      return;
    }
    expected.forEach((item, i) => {
      partialMatch(item, actual[i], `${path}[${i}]`, failures);
    });
    return;
  }
  if (expected !== null && typeof expected === "object") {
    if (actual === null || typeof actual !== "object" || Array.isArray(actual)) {
      failures.push(`${path}: expected an object, got ${JSON.stringify(actual)}`);
      return;
    }
    for (const [key, value] of Object.entries(expected)) {
      partialMatch(value, (actual as Record<string, unknown>)[key], `${path}.${key}`, failures);
    }
    return;
  }
  if (expected !== actual)
    failures.push(`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

/** Human-readable report: one line per test, then the failures indented. */
export function formatRulesTestReport(report: RulesTestReport): string {
  const lines: string[] = [];
  for (const result of report.results) {
    lines.push(`${result.passed ? "PASS" : "FAIL"}  ${result.name}`);
    for (const failure of result.failures) lines.push(`        ${failure}`);
  }
  lines.push("", `${report.passed} passed, ${report.failed} failed`);
  return lines.join("\n");
}
