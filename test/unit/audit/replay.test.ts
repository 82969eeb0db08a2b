import { beforeAll, describe, expect, it } from "vitest";
import type { DecisionRecord } from "../../../lib/audit/record.ts";
import { invocationOfRecord, replayRecord, replayRecords } from "../../../lib/audit/replay.ts";
import { buildReplayReport, formatReplayReport } from "../../../lib/audit/replay-report.ts";
import { IscApiError } from "../../../lib/isc/errors.ts";
import type { CompiledRules, Decision } from "../../../lib/rules/types.ts";
import { defineRules } from "../../../lib/rules/typescript-api.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../../../lib/triggers/trigger-ids.ts";
import {
  compile,
  directoryReader,
  exampleApprovingPrivileged,
  exampleText,
  exampleWith,
  PRIVILEGED_RULE,
  recordOf,
  sampleInputs,
  sampleRecords,
  T0,
} from "./replay-fixtures.ts";

const PAYLOAD_ONLY = `
format: 1
name: payload only
approver: svc-isc-responder
preApproval:
  default: { decision: approve, comment: Approved from the payload. }
dynamicApprover:
  default: { approver: none }
`;

const meta = {
  candidate: { file: "candidate.yaml", version: "sha256:0" },
  records: "records test",
  filter: { limit: 10_000 },
  live: false,
};

let example: CompiledRules;
let records: DecisionRecord[];

beforeAll(async () => {
  example = compile(exampleText(), "rules/example.yaml");
  records = await sampleRecords(example);
});

describe("replayRecords", () => {
  it("the recorded rules themselves change nothing, decided over the recorded context alone", async () => {
    const outcomes = await replayRecords(records, example);
    expect(outcomes).toHaveLength(80);
    expect(outcomes.filter((o) => o.class !== "unchanged")).toEqual([]);
    // Most needed context, and it came from the records (no reader was given).
    expect(outcomes.filter((o) => o.context === "recorded").length).toBeGreaterThan(50);
    expect(new Set(records.map((r) => r.decision.ruleId)).size).toBeGreaterThanOrEqual(6);
  });

  it("a candidate that changes one rule's outcome reports exactly the invocations that rule decided", async () => {
    const decidedByRule = records
      .filter((r) => r.decision.ruleId === PRIVILEGED_RULE)
      .map((r) => r.invocationId);
    expect(decidedByRule.length).toBeGreaterThan(3);
    const outcomes = await replayRecords(records, compile(exampleApprovingPrivileged()));
    const changed = outcomes.filter((o) => o.class === "changed");
    expect(changed.map((o) => o.invocationId).sort()).toEqual([...decidedByRule].sort());
    expect(outcomes.filter((o) => o.class === "unchanged")).toHaveLength(80 - decidedByRule.length);
    for (const o of changed) {
      expect(o.recorded).toMatchObject({ label: "deny", ruleId: PRIVILEGED_RULE });
      expect(o.candidate).toMatchObject({ label: "approve", ruleId: PRIVILEGED_RULE, fallback: false });
    }

    const report = buildReplayReport(outcomes, meta);
    expect(report).toMatchObject({ total: 80, changed: decidedByRule.length, undecidable: 0 });
    expect(report.transitions).toHaveLength(1);
    expect(report.transitions[0]).toMatchObject({
      triggerId: PRE_APPROVAL,
      from: "deny",
      to: "approve",
      fromRule: PRIVILEGED_RULE,
      toRule: PRIVILEGED_RULE,
      count: decidedByRule.length,
    });
    const examples = report.transitions[0]?.examples ?? [];
    expect(examples.length).toBe(Math.min(5, decidedByRule.length));
    expect(examples[0]).toMatchObject({
      invocationId: expect.any(String),
      accessRequestId: expect.any(String),
      people: [expect.any(String)],
      items: [expect.stringMatching(/\(Add\)$/)],
      from: "deny",
      to: "approve",
      fromComment: expect.stringContaining("is privileged access"),
    });
    const text = formatReplayReport(report);
    expect(text).toContain(
      `pre-approval: deny -> approve  (rule ${PRIVILEGED_RULE} -> ${PRIVILEGED_RULE}): ${decidedByRule.length}`,
    );
    expect(text).toMatch(/changed\s+\d+/);
  });

  it("a renamed rule is the same answer by another rule, not a change", async () => {
    const renamed = compile(exampleWith("- id: deny-sod-violation", "- id: deny-sod-conflict"));
    const outcomes = await replayRecords(records, renamed);
    const shifted = outcomes.filter((o) => o.class === "same-answer-different-rule");
    const sod = records.filter((r) => r.decision.ruleId === "deny-sod-violation");
    expect(sod.length).toBeGreaterThan(0);
    expect(shifted.map((o) => o.invocationId).sort()).toEqual(sod.map((r) => r.invocationId).sort());
    expect(outcomes.filter((o) => o.class === "changed")).toEqual([]);
    const report = buildReplayReport(outcomes, meta);
    expect(report.differentRule[0]).toMatchObject({
      label: "deny",
      fromRule: "deny-sod-violation",
      toRule: "deny-sod-conflict",
      count: sod.length,
    });
  });

  it("is undecidable when the record did not keep the context the candidate needs; --live reads it", async () => {
    const payloadRecords = await sampleRecords(compile(PAYLOAD_ONLY));
    expect(payloadRecords.every((r) => r.context === undefined)).toBe(true);
    const offline = await replayRecords(payloadRecords, example);
    const undecidable = offline.filter((o) => o.class === "undecidable");
    // Only removals (approved from the payload) and nothing else can be decided without context.
    const removals = offline.filter((o) => o.items.every((item) => item.operation === "Remove"));
    expect(undecidable).toHaveLength(80 - removals.length);
    expect(undecidable[0]?.missing).toEqual(expect.arrayContaining(["identity"]));
    expect(undecidable[0]?.reason).toMatch(/needs .*identity.*: the record kept no context .*--live/);
    expect(removals.every((o) => o.context === "payload" && o.class !== "undecidable")).toBe(true);

    const report = buildReplayReport(offline, meta);
    expect(report.undecidable).toBe(undecidable.length);
    expect(report.undecidableReasons.reduce((n, g) => n + g.count, 0)).toBe(undecidable.length);

    const live = await replayRecords(payloadRecords, example, { reader: directoryReader() });
    expect(live.filter((o) => o.class === "undecidable")).toEqual([]);
    expect(live.filter((o) => o.context === "live")).toHaveLength(undecidable.length);
    // Over the same directory, live decisions are the ones the example made when it recorded.
    const byId = new Map(records.map((r) => [r.invocationId, r]));
    for (const o of live) expect(o.candidate?.ruleId).toBe(byId.get(o.invocationId)?.decision.ruleId);
  });

  it("awaits a TypeScript candidate's async predicate, as the pipeline does", async () => {
    let calls = 0;
    const candidate = defineRules({
      approver: "svc",
      preApproval: {
        rules: [
          {
            id: "risk-service",
            when: async function risky() {
              calls++;
              await new Promise((resolve) => setTimeout(resolve, 2));
              return true;
            },
            ["th" + "en"]: { decision: "deny", comment: "Risky." },
          } as never,
        ],
        default: { decision: "approve", comment: "OK" },
        fallback: { decision: "deny", comment: "Denied for safety." },
      },
    });
    const [record] = records.filter(
      (r) =>
        r.triggerId === PRE_APPROVAL && r.items[0]?.operation === "Add" && r.decision.label === "approve",
    );
    const outcome = await replayRecord(record!, candidate);
    expect(outcome.class).toBe("changed");
    expect(outcome.candidate).toMatchObject({ label: "deny", ruleId: "risk-service", fallback: false });
    expect(calls).toBe(1);
  });

  it("names a record whose context data was omitted for size", async () => {
    const [first] = records.filter((r) => r.context?.data !== undefined && r.triggerId === PRE_APPROVAL);
    const omitted = structuredClone(first) as DecisionRecord;
    delete omitted.context?.data;
    if (omitted.context !== undefined)
      omitted.context.dataOmitted = "context data of 70000 bytes is above the bound";
    const outcome = await replayRecord(omitted, example);
    expect(outcome.class).toBe("undecidable");
    expect(outcome.reason).toContain("the record kept no context data (context data of 70000 bytes");
  });

  it("a live read that fails makes the record undecidable, never a change to the fallback", async () => {
    const payloadRecords = await sampleRecords(compile(PAYLOAD_ONLY));
    const failing = directoryReader({
      failWith: (kind) =>
        kind === "identities"
          ? new IscApiError({ status: 403, operation: "GET identities", detailCode: "403 Forbidden" })
          : undefined,
    });
    const [outcome] = await replayRecords(
      payloadRecords.filter((r) => r.items[0]?.operation === "Add").slice(0, 1),
      example,
      { reader: failing },
    );
    expect(outcome?.class).toBe("undecidable");
    expect(outcome?.reason).toMatch(/^the live read failed: context identities/);
  });

  it("flags records whose recorded decision was a fallback, and compares them all the same", async () => {
    const input = sampleInputs().find((i) => i.requestedItems[0]?.operation === "Add");
    if (input === undefined) throw new Error("no input");
    const failing = directoryReader({
      failWith: () =>
        new IscApiError({ status: 403, operation: "GET identities", detailCode: "403 Forbidden" }),
    });
    const record = await recordOf(example, PRE_APPROVAL, input, {
      invocationId: "inv-fb",
      at: T0,
      reader: failing,
    });
    expect(record.decision).toMatchObject({ fallback: true, label: "deny", ruleId: "fallback" });
    const offline = await replayRecord(record, example);
    expect(offline).toMatchObject({ class: "undecidable", recordedFallback: true });
    const live = await replayRecord(record, example, { reader: directoryReader() });
    expect(live).toMatchObject({ class: "changed", recordedFallback: true, context: "live" });
    const report = buildReplayReport([live], meta);
    expect(report.recordedFallbacks).toBe(1);
    expect(report.transitions[0]).toMatchObject({ from: "deny (fallback)", fromRule: "fallback" });
    expect(report.transitions[0]?.examples[0]?.recordedFallback).toBe(true);
    expect(formatReplayReport(report)).toContain("recorded decision was a fallback");
  });

  it("an output that fails the trigger's schema is the candidate's fallback, as in production", async () => {
    const broken: CompiledRules = {
      ...example,
      version: example.version,
      decide: (invocation) => example.decide(invocation),
      contextNeeds: (id) => example.contextNeeds(id),
      fallback: (id, reason) => example.fallback(id, reason),
      evaluate: (invocation, context) => {
        const decision = example.evaluate(invocation, context);
        if ("contextRequired" in decision) return decision;
        return { ...decision, output: { approved: "yes" } } as unknown as Decision;
      },
    };
    const record = records.find((r) => r.triggerId === PRE_APPROVAL && r.decision.label === "approve");
    if (record === undefined) throw new Error("no approval recorded");
    const outcome = await replayRecord(record, broken);
    expect(outcome.class).toBe("changed");
    expect(outcome.candidate).toMatchObject({ fallback: true, ruleId: "fallback", label: "deny" });
    expect(outcome.candidate?.fallbackReason).toContain(
      "fails the idn:access-request-pre-approval output schema",
    );
  });

  it("rebuilds the invocation with the record's time and mode, and no secret or callback", () => {
    const record = records.find((r) => r.triggerId === DYNAMIC_APPROVER) as DecisionRecord;
    const invocation = invocationOfRecord(record);
    expect(invocation).toMatchObject({
      triggerId: DYNAMIC_APPROVER,
      mode: record.mode,
      invocationId: record.invocationId,
      receivedAt: Date.parse(record.timings.receivedAt),
      secret: undefined,
      callbackUrl: undefined,
    });
    const bad = { ...record, input: { accessRequestId: "x" } } as DecisionRecord;
    expect(() => invocationOfRecord(bad)).toThrow(/recorded input is invalid/);
  });
});
