/**
 * The full local flow (dev runtime: sandbox, http handler, queue, worker) writes one decision record
 * per sample invocation, for every mode and both triggers, with the context its rules used, and no
 * record holds an invocation secret or the webhook token.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DecisionRecord } from "../../lib/audit/record.ts";
import { type DevSession, startDev } from "../../lib/local/dev.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../../lib/triggers/trigger-ids.ts";

const rulesPath = new URL("../../rules/example.yaml", import.meta.url).pathname;
const recordsPath = join(mkdtempSync(join(tmpdir(), "dev-records-")), "decisions.jsonl");

let session: DevSession;
let records: DecisionRecord[] = [];
const streamed: string[] = [];

beforeAll(async () => {
  session = await startDev({ rulesPath, recordsPath, log: () => {} });
  session.records?.subscribe((record) => streamed.push(record.invocationId));
  const results = await session.runSamples();
  expect(results.every((r) => r.completed)).toBe(true);
  await session.responder.waitForDrain(10_000);
  records = (await session.records?.list({})) ?? [];
}, 60_000);

afterAll(async () => {
  await session?.close();
});

describe("decision records of a full local run", () => {
  it("one per invocation: every mode, both triggers, written by http (replies) or worker (completions)", () => {
    const seen = records
      .map((r) => `${r.triggerId} ${r.mode} ${r.recordedBy} ${r.completion.outcome}`)
      .sort();
    const expected = [PRE_APPROVAL, DYNAMIC_APPROVER].flatMap((trigger) => [
      `${trigger} sync http answered`,
      `${trigger} async worker completed`,
      `${trigger} eventbridge worker completed`,
    ]);
    for (const line of expected) expect(seen).toContain(line);
    // dynamic: answered in the reply, or deferred to the worker when slow.
    expect(seen.filter((line) => line.includes(" dynamic ")).length).toBe(2);
    expect(records).toHaveLength(8);
    expect(streamed.sort()).toEqual(records.map((r) => r.invocationId).sort());
  });

  it("keeps the context the rules used, with where it came from, and the data for replay", () => {
    const withContext = records.filter(
      (r) => r.decision.contextUsed !== undefined && r.decision.contextUsed.length > 0,
    );
    expect(withContext.length).toBeGreaterThanOrEqual(6);
    for (const record of withContext) expect(record.context?.data).toBeDefined();
    // Where each person or item came from (a derived value, such as the SoD prediction, has no origin).
    const origins = withContext.flatMap((r) => r.decision.contextUsed ?? []).map((use) => use.from);
    expect(origins).toContain("api");
  });

  it("no record holds an invocation secret or the webhook token", () => {
    const text = readFileSync(recordsPath, "utf8");
    expect(text.split("\n").filter((line) => line !== "").length).toBeGreaterThanOrEqual(8);
    const secrets = [...session.sandbox.state.invocations.values()].map((invocation) => invocation.secret);
    expect(secrets.length).toBeGreaterThanOrEqual(8);
    for (const secret of [...secrets, session.bearerToken]) expect(text).not.toContain(secret);
    expect(text).not.toContain("callbackURL");
  });
});
