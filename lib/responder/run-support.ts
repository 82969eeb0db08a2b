/**
 * Pure helpers of respond(): log fields of a decision, canonical comparison of decisions, timers.
 */
import type { LedgerDecision, LedgerState } from "../adapters/types.ts";
import type { Invocation } from "../triggers/invocation.ts";
import { isRequestResponseTrigger } from "../triggers/trigger-ids.ts";
import type { LogFields } from "./observability.ts";

/** Ledger states after which a delivery is a duplicate. */
export const FINAL_STATES: ReadonlySet<LedgerState> = new Set(["completed", "failed"]);

export function accessRequestIdOf(invocation: Invocation): string | undefined {
  const id = (invocation.input as { accessRequestId?: unknown }).accessRequestId;
  return typeof id === "string" ? id : undefined;
}

/** Log fields describing a decision: a short summary of the output, never free text from it. */
export function decisionFields(triggerId: string, output: unknown, explanation: unknown): LogFields {
  const e = (typeof explanation === "object" && explanation !== null ? explanation : {}) as {
    ruleId?: unknown;
    kind?: unknown;
    rulesVersion?: unknown;
  };
  const fields: LogFields = { ruleId: e.ruleId, decisionKind: e.kind, rulesVersion: e.rulesVersion };
  const o = (typeof output === "object" && output !== null ? output : {}) as Record<string, unknown>;
  if (typeof o.approved === "boolean") fields.decision = o.approved ? "approved" : "denied";
  else if (typeof o.id === "string")
    fields.decision = o.id === "" ? "no-additional-approver" : `${String(o.type)}:${o.id}`;
  else if (!isRequestResponseTrigger(triggerId)) fields.decision = "actions-only";
  return fields;
}

/** Same output, rule and rules version (a ledger round trip may reorder keys, so compare canonically). */
export function sameDecision(a: LedgerDecision, b: LedgerDecision): boolean {
  const key = (d: LedgerDecision) => {
    const e = (d.explanation ?? {}) as {
      ruleId?: unknown;
      rulesVersion?: unknown;
      evaluationMicros?: unknown;
    };
    return canonicalJson([d.output, e.ruleId, e.rulesVersion, e.evaluationMicros]);
  };
  return key(a) === key(b);
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : v,
  );
}

/** AbortSignal.timeout within the range timers accept (a bad clock must not throw a RangeError). */
export function timeoutSignal(ms: number): AbortSignal {
  return AbortSignal.timeout(Math.min(Math.max(1, Math.floor(ms)), 2_147_483_647));
}

export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
