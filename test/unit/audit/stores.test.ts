/** FileDecisionRecords and MemoryDecisionRecords: the same DecisionFilter semantics; the file's own rules. */
import { appendFileSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FileDecisionRecords } from "../../../lib/adapters/local/file-decision-records.ts";
import { MemoryDecisionRecords } from "../../../lib/adapters/local/memory-decision-records.ts";
import { DecisionRecordInvalidError } from "../../../lib/audit/record.ts";
import type { DecisionRecordStore, WatchableRecords } from "../../../lib/audit/types.ts";
import { NOW, sampleRecord } from "./record-fixture.ts";

const tempPath = () => join(mkdtempSync(join(tmpdir(), "records-")), "nested", "decisions.jsonl");

const stores: Array<[string, () => DecisionRecordStore & WatchableRecords]> = [
  ["file", () => new FileDecisionRecords(tempPath(), { clock: () => NOW, warn: () => {} })],
  ["memory", () => new MemoryDecisionRecords({ clock: () => NOW })],
];

describe.each(stores)("%s decision records", (_name, create) => {
  async function seeded() {
    const store = create();
    await store.put(
      sampleRecord({ invocationId: "a", accessRequestId: "ar-1", at: "2026-03-01T09:00:00.000Z" }),
    );
    await store.put(
      sampleRecord({
        invocationId: "b",
        accessRequestId: "ar-2",
        at: "2026-03-02T09:00:00.000Z",
        label: "approve",
        people: [{ id: "p-2", name: "Sam" }],
      }),
    );
    await store.put(
      sampleRecord({
        invocationId: "c",
        accessRequestId: "ar-2",
        triggerId: "idn:access-request-dynamic-approver",
        at: "2026-03-03T09:00:00.000Z",
        label: "no-approver",
        decision: {
          ...sampleRecord().decision,
          label: "no-approver",
          ruleId: "fallback",
          kind: "fallback",
          fallback: true,
        },
      }),
    );
    return store;
  }
  const ids = (records: Array<{ invocationId: string }>) => records.map((r) => r.invocationId);

  it("round-trips a record and lists newest first", async () => {
    const store = await seeded();
    const listed = await store.list({});
    expect(ids(listed)).toEqual(["c", "b", "a"]);
    expect(listed[2]).toEqual(
      sampleRecord({ invocationId: "a", accessRequestId: "ar-1", at: "2026-03-01T09:00:00.000Z" }),
    );
  });

  it("filters by each field, combined with AND, and limits", async () => {
    const store = await seeded();
    expect(ids(await store.list({ accessRequestId: "ar-2" }))).toEqual(["c", "b"]);
    expect(ids(await store.list({ personId: "p-2" }))).toEqual(["b"]);
    expect(ids(await store.list({ ruleId: "fallback" }))).toEqual(["c"]);
    expect(ids(await store.list({ decision: "approve" }))).toEqual(["b"]);
    expect(ids(await store.list({ decision: "fallback" }))).toEqual(["c"]);
    expect(ids(await store.list({ triggerId: "idn:access-request-dynamic-approver" }))).toEqual(["c"]);
    expect(ids(await store.list({ since: Date.parse("2026-03-02T09:00:00Z") }))).toEqual(["c", "b"]);
    expect(ids(await store.list({ until: Date.parse("2026-03-02T09:00:00Z") }))).toEqual(["b", "a"]);
    expect(ids(await store.list({ accessRequestId: "ar-2", decision: "approve" }))).toEqual(["b"]);
    expect(ids(await store.list({ limit: 1 }))).toEqual(["c"]);
  });

  it("finds by invocation id or access request id", async () => {
    const store = await seeded();
    expect(ids(await store.find("a"))).toEqual(["a"]);
    expect(ids(await store.find("ar-2"))).toEqual(["c", "b"]);
    expect(await store.find("nothing")).toEqual([]);
  });

  it("a later put of the same invocation id replaces the earlier record", async () => {
    const store = await seeded();
    await store.put(
      sampleRecord({ invocationId: "a", at: "2026-03-01T09:00:00.000Z", completion: { outcome: "failed" } }),
    );
    const found = await store.find("a");
    expect(found).toHaveLength(1);
    expect(found[0]?.completion.outcome).toBe("failed");
    expect(await store.list({})).toHaveLength(3);
  });

  it("skips expired records", async () => {
    const store = create();
    await store.put(sampleRecord({ invocationId: "old", expiresAt: Math.floor(NOW / 1000) - 1 }));
    expect(await store.list({})).toEqual([]);
    expect(await store.find("old")).toEqual([]);
  });

  it("announces each put to subscribers until they unsubscribe; refuses an invalid record", async () => {
    const store = create();
    const seen: string[] = [];
    const stop = store.subscribe((record) => seen.push(record.invocationId));
    await store.put(sampleRecord({ invocationId: "x" }));
    stop();
    await store.put(sampleRecord({ invocationId: "y" }));
    expect(seen).toEqual(["x"]);
    await expect(store.put({ ...sampleRecord(), invocationId: "" })).rejects.toThrow(
      DecisionRecordInvalidError,
    );
  });
});

describe("FileDecisionRecords", () => {
  it("creates its directory and a 0600 file of JSON lines", async () => {
    const path = tempPath();
    const store = new FileDecisionRecords(path, { clock: () => NOW });
    await store.put(sampleRecord());
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const lines = readFileSync(path, "utf8").split("\n");
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0] ?? "")).toEqual(sampleRecord());
  });

  it("reads nothing from a missing file", async () => {
    expect(await new FileDecisionRecords(tempPath()).list({})).toEqual([]);
  });

  it("skips a bad line with one warning naming file:line; strict mode refuses it; a half-written last line is ignored", async () => {
    const path = tempPath();
    const warnings: string[] = [];
    const store = new FileDecisionRecords(path, { clock: () => NOW, warn: (m) => warnings.push(m) });
    await store.put(sampleRecord({ invocationId: "good-1" }));
    appendFileSync(path, "not json\n");
    appendFileSync(path, `${JSON.stringify({ ...sampleRecord(), recordVersion: 99 })}\n`);
    await store.put(sampleRecord({ invocationId: "good-2" }));
    appendFileSync(path, JSON.stringify(sampleRecord({ invocationId: "partial" })).slice(0, 50));
    expect((await store.list({})).map((r) => r.invocationId).sort()).toEqual(["good-1", "good-2"]);
    await store.list({});
    expect(warnings).toEqual([
      `${path}:2: not JSON; line skipped`,
      expect.stringContaining(`${path}:3: not a decision record (recordVersion`),
    ]);
    const strict = new FileDecisionRecords(path, { clock: () => NOW, strict: true });
    await expect(strict.list({})).rejects.toThrow(`${path}:2: not JSON`);
  });

  it("keeps lines whole when puts overlap", async () => {
    const path = tempPath();
    const store = new FileDecisionRecords(path, { clock: () => NOW });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.put(sampleRecord({ invocationId: `i-${i}` }))),
    );
    expect(await store.list({})).toHaveLength(20);
  });
});
