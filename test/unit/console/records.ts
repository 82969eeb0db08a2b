/** A valid decision record to vary, and a small in-memory store with the interfaces the console reads. */
import type { DecisionRecord } from "../../../lib/audit/record.ts";
import type { DecisionFilter, DecisionRecordSource, WatchableRecords } from "../../../lib/audit/types.ts";

let counter = 0;

export function makeRecord(overrides: Partial<DecisionRecord> = {}): DecisionRecord {
  counter++;
  const received = new Date(Date.UTC(2026, 11, 2, 12, 0, counter)).toISOString();
  const decided = new Date(Date.UTC(2026, 11, 2, 12, 0, counter) + 12).toISOString();
  return {
    recordVersion: 1,
    invocationId: `inv-${counter.toString().padStart(4, "0")}-0000-0000-0000-000000000000`,
    triggerId: "idn:access-request-pre-approval",
    mode: "async",
    accessRequestId: `ar${counter.toString().padStart(30, "0")}`,
    requestedBy: { id: "2c91808568c529c60168cca6f90c1314", name: "Rob Robertson" },
    people: [{ id: "2c91808568c529c60168cca6f90c1313", name: "William Wilson" }],
    items: [
      {
        id: "2c91808b6ef1d43e016efba0ce470904",
        name: "Engineering Access",
        type: "ACCESS_PROFILE",
        operation: "Add",
      },
    ],
    input: { accessRequestId: "x" },
    decision: {
      label: "deny",
      output: { approved: false, comment: "Terry is not active in ISC.", approver: "svc-isc-responder" },
      ruleId: "deny-inactive-person",
      kind: "rule",
      matched: ["identity.lifecycleState.stateName in [inactive, terminated]"],
      rulesVersion: "sha256:579b3ad5a5b65ca8",
      fallback: false,
      contextUsed: [
        {
          source: "identity",
          id: "2c91808568c529c60168cca6f90c1313",
          fields: { "lifecycleState.stateName": "terminated" },
          from: "api",
          ms: 4,
        },
      ],
    },
    answer: {
      output: { approved: false, comment: "Terry is not active in ISC.", approver: "svc-isc-responder" },
      label: "deny",
      by: "rules",
    },
    context: { needs: ["identity"], reads: [{ kind: "identities", ids: 1, ms: 4 }], cacheHits: 0, ms: 5 },
    timings: { receivedAt: received, decidedAt: decided, completedAt: decided, decisionMs: 12 },
    completion: { outcome: "completed", attempts: 1 },
    timeline: [
      { at: received, event: "received" },
      { at: decided, event: "decided", detail: "deny-inactive-person" },
    ],
    recordedBy: "worker",
    expiresAt: 2_000_000_000,
    ...overrides,
  };
}

/** Newest first by decidedAt; put replaces by invocationId and is announced to subscribers. */
export class FakeRecords implements DecisionRecordSource, WatchableRecords {
  readonly records: DecisionRecord[] = [];
  readonly #listeners = new Set<(record: DecisionRecord) => void>();
  readonly filters: DecisionFilter[] = [];

  async put(record: DecisionRecord): Promise<void> {
    const at = this.records.findIndex((r) => r.invocationId === record.invocationId);
    if (at >= 0) this.records.splice(at, 1);
    this.records.push(record);
    for (const listener of this.#listeners) listener(record);
  }

  async list(filter: DecisionFilter): Promise<DecisionRecord[]> {
    this.filters.push(filter);
    return [...this.records]
      .filter((r) => filter.triggerId === undefined || r.triggerId === filter.triggerId)
      .filter((r) =>
        filter.decision === undefined
          ? true
          : filter.decision === "fallback"
            ? r.decision.fallback
            : r.decision.label === filter.decision,
      )
      .filter((r) => filter.personId === undefined || r.people.some((p) => p.id === filter.personId))
      .sort((a, b) => b.timings.decidedAt.localeCompare(a.timings.decidedAt))
      .slice(0, filter.limit ?? 100);
  }

  async find(id: string): Promise<DecisionRecord[]> {
    return this.records.filter((r) => r.invocationId === id || r.accessRequestId === id);
  }

  subscribe(listener: (record: DecisionRecord) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get listeners(): number {
    return this.#listeners.size;
  }
}
