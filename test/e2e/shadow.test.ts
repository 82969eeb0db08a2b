/**
 * Shadow mode through the full local flow: ISC (the sandbox) receives the shadow answer in every
 * delivery mode, while each decision record holds the rules' own answer, marked as not sent.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryDecisionRecords } from "../../lib/adapters/local/memory-decision-records.ts";
import type { DecisionRecord } from "../../lib/audit/record.ts";
import { type DevSession, startDev } from "../../lib/local/dev.ts";
import { DEFAULT_PRE_APPROVAL_SHADOW_COMMENT, defaultShadowAnswer } from "../../lib/responder/shadow.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../../lib/triggers/trigger-ids.ts";

const rulesPath = new URL("../../rules/example.yaml", import.meta.url).pathname;

let session: DevSession;
let records: DecisionRecord[] = [];
const store = new MemoryDecisionRecords();

beforeAll(async () => {
  session = await startDev({
    rulesPath,
    records: store,
    shadow: { [PRE_APPROVAL]: defaultShadowAnswer(PRE_APPROVAL) as { approved: boolean; comment: string } },
    log: () => {},
  });
  const results = await session.runSamples();
  // "completed correctly" means: with the answer ISC must get, the shadow one for pre-approval.
  expect(results.filter((r) => !r.completed)).toEqual([]);
  await session.responder.waitForDrain(10_000);
  records = await store.list({});
}, 60_000);

afterAll(async () => {
  await session?.close();
});

describe("shadow mode (pre-approval), full local run", () => {
  it("ISC receives the shadow answer in every mode", () => {
    const completed = [...session.sandbox.state.invocations.values()].filter(
      (invocation) => invocation.triggerId === PRE_APPROVAL,
    );
    expect(completed.length).toBe(4);
    for (const invocation of completed) {
      expect(invocation.output).toMatchObject({
        approved: true,
        comment: DEFAULT_PRE_APPROVAL_SHADOW_COMMENT,
      });
    }
  });

  it("each pre-approval record holds the rules' answer, the shadow answer sent, and whether they differ", () => {
    const pre = records.filter((r) => r.triggerId === PRE_APPROVAL);
    expect(pre).toHaveLength(4);
    for (const record of pre) {
      expect(record.answer.by).toBe("shadow");
      expect(record.answer.label).toBe("approve");
      expect(record.answer.differs).toBe(
        record.decision.label !== "approve" ||
          record.decision.output?.comment !== DEFAULT_PRE_APPROVAL_SHADOW_COMMENT,
      );
    }
    // The example policy denies some of the samples: those records say deny while ISC got approve.
    const denied = pre.filter((r) => r.decision.label === "deny");
    expect(denied.length).toBeGreaterThanOrEqual(2);
    for (const record of denied) expect(record.decision.ruleId).not.toBe("default");
  });

  it("leaves the other trigger enforcing", () => {
    const dynamic = records.filter((r) => r.triggerId === DYNAMIC_APPROVER);
    expect(dynamic).toHaveLength(4);
    for (const record of dynamic) {
      expect(record.answer.by).toBe("rules");
      expect(record.answer.output).toEqual(record.decision.output);
    }
  });
});
