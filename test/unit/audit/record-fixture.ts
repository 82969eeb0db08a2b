/** A valid decision record to store and filter, with the fields a test cares about overridden. */
import type { DecisionRecord } from "../../../lib/audit/record.ts";

export const NOW = Date.parse("2026-03-10T12:00:00Z");

export function sampleRecord(
  overrides: Partial<DecisionRecord> & { at?: string; label?: DecisionRecord["decision"]["label"] } = {},
): DecisionRecord {
  const { at = "2026-03-03T10:00:00.000Z", label = "deny", ...rest } = overrides;
  return {
    recordVersion: 1,
    invocationId: "inv-1",
    triggerId: "idn:access-request-pre-approval",
    mode: "async",
    accessRequestId: "ar-1",
    requestedBy: { id: "req-1", name: "Rob Requester" },
    people: [{ id: "p-1", name: "Pat Person" }],
    items: [{ id: "item-1", name: "Payroll Admin", type: "ROLE", operation: "Add", comment: "need it" }],
    input: { accessRequestId: "ar-1" },
    decision: {
      label,
      output: { approved: label === "approve", comment: "c", approver: "rules" },
      ruleId: "deny-sod",
      kind: "rule",
      matched: ["sod.violated == true"],
      rulesVersion: "sha256:0123456789abcdef",
      fallback: false,
    },
    answer: {
      output: { approved: label === "approve", comment: "c", approver: "rules" },
      label,
      by: "rules",
    },
    timings: { receivedAt: at, decidedAt: at, decisionMs: 12 },
    completion: { outcome: "completed" },
    recordedBy: "worker",
    expiresAt: Math.floor(NOW / 1000) + 86_400,
    ...rest,
  };
}
