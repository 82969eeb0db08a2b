/**
 * Runs the test cases of a rules file (its `tests:` section, or a `<name>.tests.yaml` beside it):
 * each input (bare, HTTP body with _metadata, or EventBridge event) through decide(), compared with
 * the expected output (objects match partially), rule id and actions.
 */
import * as z from "zod/mini";
import { ResponderError } from "../errors.ts";
import { type Invocation, invocationFromAnyPayload } from "../triggers/invocation.ts";
import { DynamicApproverOutputSchema, PreApprovalOutputSchema } from "../triggers/schemas.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../triggers/trigger-ids.ts";
import type { RulesTestCase } from "./schema.ts";
import type { CompiledRules, Decision } from "./types.ts";
import { TRIGGER_ALIASES } from "./validate.ts";

/** Tenant used for payloads without a callbackURL: tools do not check tenants. */
export const PLACEHOLDER_TENANT = "https://tenant.api.identitynow.com";
const ONE_HOUR_MS = 3_600_000;

/**
 * An Invocation for tools (`rules eval`, `rules test`): tenant taken from the payload's callbackURL
 * (or a placeholder), PT1H deadline. `trigger` may be a section name or a trigger id.
 */
export function invocationForTools(payload: unknown, trigger?: string): Invocation {
  const triggerId = trigger === undefined ? undefined : (TRIGGER_ALIASES[trigger] ?? trigger);
  return invocationFromAnyPayload(
    payload,
    { tenantBaseUrl: callbackOrigin(payload) ?? PLACEHOLDER_TENANT, responseDeadlineMs: () => ONE_HOUR_MS },
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

export function runRulesTests(compiled: CompiledRules, tests: readonly RulesTestCase[]): RulesTestReport {
  const results = tests.map((test) => runOne(compiled, test));
  const passed = results.filter((r) => r.passed).length;
  return { passed, failed: results.length - passed, results };
}

function runOne(compiled: CompiledRules, test: RulesTestCase): RulesTestResult {
  let decision: Decision;
  try {
    decision = compiled.decide(invocationForTools(test.input, test.trigger));
  } catch (error) {
    const why = error instanceof ResponderError ? `${error.code}: ${error.message}` : String(error);
    return { name: test.name, passed: false, failures: [`evaluation failed: ${why}`] };
  }
  const failures: string[] = [];
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
  if (expect.output !== undefined) partialMatch(expect.output, decision.output, "output", failures);
  if (expect.actions !== undefined) partialMatch(expect.actions, decision.actions, "actions", failures);
  return { name: test.name, passed: failures.length === 0, failures, decision };
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
