/** A valid decision record for store tests; `overrides` replace top-level fields. */
import { DECISION_RECORD_VERSION, type DecisionRecord } from "../../../lib/audit/record.ts";
import { PRE_APPROVAL } from "../../../lib/triggers/trigger-ids.ts";

let counter = 0;

export function decisionRecord(
  overrides: Partial<DecisionRecord> & { decidedAt?: string } = {},
): DecisionRecord {
  counter += 1;
  const { decidedAt = "2025-03-03T10:00:00.000Z", ...rest } = overrides;
  const receivedAt = new Date(Date.parse(decidedAt) - 40).toISOString();
  return {
    recordVersion: DECISION_RECORD_VERSION,
    invocationId: `inv-${counter}-${Math.random().toString(36).slice(2, 10)}`,
    triggerId: PRE_APPROVAL,
    mode: "async",
    accessRequestId: `ar-${counter}`,
    requestedBy: { id: "p-requester", name: "Rita Requester" },
    people: [{ id: "p-alice", name: "Alice Anders" }],
    items: [{ id: "item-1", name: "Payments", type: "ACCESS_PROFILE", operation: "Add", comment: "needed" }],
    input: { accessRequestId: `ar-${counter}`, requestedFor: [{ id: "p-alice" }] },
    decision: {
      label: "approve",
      output: { approved: true, comment: "ok", approver: "rules" },
      ruleId: "default",
      kind: "default",
      matched: [],
      rulesVersion: "sha256:abc",
      fallback: false,
    },
    answer: { output: { approved: true, comment: "ok", approver: "rules" }, label: "approve", by: "rules" },
    context: { needs: ["identity"], reads: [], cacheHits: 0, ms: 3, data: { identity: { id: "p-alice" } } },
    timings: { receivedAt, decidedAt, decisionMs: 40 },
    completion: { outcome: "completed", attempts: 1 },
    recordedBy: "worker",
    expiresAt: Math.floor(Date.parse(decidedAt) / 1000) + 400 * 86_400,
    ...rest,
  };
}
