/**
 * The behaviour every InvocationLedger must have, run against the memory ledger (unit tests) and
 * the DynamoDB ledger (integration tests against moto).
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { LedgerCallAbortedError, LedgerRecordNotFoundError } from "../../lib/adapters/errors.ts";
import { ledgerExpiresAt } from "../../lib/adapters/ledger-record.ts";
import type { InvocationLedger, LedgerDecision, ReceivedInvocation } from "../../lib/adapters/types.ts";

const T0 = 1_800_000_000_000;

export function receivedInvocation(overrides: Partial<ReceivedInvocation> = {}): ReceivedInvocation {
  return {
    invocationId: randomUUID(),
    triggerId: "idn:access-request-pre-approval",
    accessRequestId: "4b4d982dddff4267ab12f0f1e72b5a6d",
    receivedAt: T0,
    deadline: T0 + 3_600_000,
    ...overrides,
  };
}

const approve: LedgerDecision = {
  output: { approved: true, comment: "rule r1", approver: "system" },
  explanation: { ruleId: "r1", rulesVersion: "v1", matched: ["requestedItems[0].type == ROLE"], ms: 1.5 },
  fallback: false,
};
const deny: LedgerDecision = {
  output: { approved: false, comment: "fallback", approver: "system" },
  explanation: { reason: "rules error" },
  fallback: true,
};

export function ledgerContract(
  name: string,
  makeLedger: () => InvocationLedger | Promise<InvocationLedger>,
): void {
  describe(`InvocationLedger contract: ${name}`, () => {
    it("creates a record once; a duplicate delivery gets the stored record", async () => {
      const ledger = await makeLedger();
      const invocation = receivedInvocation();
      const first = await ledger.recordReceived(invocation);
      expect(first.created).toBe(true);
      expect(first.record).toMatchObject({
        invocationId: invocation.invocationId,
        triggerId: invocation.triggerId,
        accessRequestId: invocation.accessRequestId,
        state: "received",
        receivedAt: T0,
        deadline: invocation.deadline,
        expiresAt: ledgerExpiresAt(invocation.deadline),
        attempts: 0,
      });
      expect(first.record.expiresAt).toBe(Math.floor(invocation.deadline / 1000) + 7 * 86_400);

      const second = await ledger.recordReceived({
        ...invocation,
        receivedAt: T0 + 5_000,
        deadline: T0 + 9_999_999,
      });
      expect(second.created).toBe(false);
      expect(second.record.receivedAt).toBe(T0);
      expect(second.record.deadline).toBe(invocation.deadline);
      expect(await ledger.get(invocation.invocationId)).toMatchObject({ state: "received", receivedAt: T0 });
    });

    it("get of an unknown id is undefined", async () => {
      const ledger = await makeLedger();
      expect(await ledger.get(randomUUID())).toBeUndefined();
    });

    it("the first decision wins and is returned to later deciders", async () => {
      const ledger = await makeLedger();
      const invocation = receivedInvocation();
      await ledger.recordReceived(invocation);
      const first = await ledger.recordDecision(invocation.invocationId, approve);
      expect(first.state).toBe("decided");
      expect(first.decision).toEqual(approve);
      const second = await ledger.recordDecision(invocation.invocationId, deny);
      expect(second.state).toBe("decided");
      expect(second.decision).toEqual(approve);
      expect((await ledger.get(invocation.invocationId))?.decision).toEqual(approve);
    });

    it("concurrent decisions: exactly one is stored and everyone sees it", async () => {
      const ledger = await makeLedger();
      const invocation = receivedInvocation();
      await ledger.recordReceived(invocation);
      const decisions = Array.from({ length: 10 }, (_, i) => ({
        ...approve,
        explanation: { ruleId: `r${i}` },
      }));
      const results = await Promise.all(
        decisions.map((d) => ledger.recordDecision(invocation.invocationId, d)),
      );
      const stored = (await ledger.get(invocation.invocationId))?.decision;
      expect(stored).toBeDefined();
      for (const result of results) expect(result.decision).toEqual(stored);
    });

    it("a decision for an unknown invocation is an error", async () => {
      const ledger = await makeLedger();
      await expect(ledger.recordDecision(randomUUID(), approve)).rejects.toBeInstanceOf(
        LedgerRecordNotFoundError,
      );
    });

    it("claims need a decision; a lease excludes others until it expires or is released", async () => {
      const ledger = await makeLedger();
      const invocation = receivedInvocation();
      const id = invocation.invocationId;
      await ledger.recordReceived(invocation);
      expect(await ledger.claimCompletion(id, "worker-a", 30_000, T0)).toBe(false);
      await ledger.recordDecision(id, approve);

      expect(await ledger.claimCompletion(id, "worker-a", 30_000, T0)).toBe(true);
      expect(await ledger.claimCompletion(id, "worker-b", 30_000, T0 + 1_000)).toBe(false);
      expect(await ledger.get(id)).toMatchObject({
        leaseOwner: "worker-a",
        leaseUntil: T0 + 30_000,
        attempts: 1,
      });

      // expiry: a crashed holder's lease can be taken over
      expect(await ledger.claimCompletion(id, "worker-b", 30_000, T0 + 30_000)).toBe(true);
      expect(await ledger.get(id)).toMatchObject({ leaseOwner: "worker-b", attempts: 2 });

      // release by someone else is ignored; by the owner frees it at once
      await ledger.releaseCompletion(id, "worker-a");
      expect(await ledger.claimCompletion(id, "worker-c", 30_000, T0 + 31_000)).toBe(false);
      await ledger.releaseCompletion(id, "worker-b");
      const released = await ledger.get(id);
      expect(released?.leaseOwner).toBeUndefined();
      expect(released?.leaseUntil).toBeUndefined();
      expect(await ledger.claimCompletion(id, "worker-c", 30_000, T0 + 31_000)).toBe(true);
    });

    it("concurrent claims: exactly one of 10 wins", async () => {
      const ledger = await makeLedger();
      const invocation = receivedInvocation();
      await ledger.recordReceived(invocation);
      await ledger.recordDecision(invocation.invocationId, approve);
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          ledger.claimCompletion(invocation.invocationId, `worker-${i}`, 60_000, T0),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = `worker-${results.indexOf(true)}`;
      expect((await ledger.get(invocation.invocationId))?.leaseOwner).toBe(winner);
    });

    it("completes once; a completed invocation cannot be claimed, failed or completed again", async () => {
      const ledger = await makeLedger();
      const invocation = receivedInvocation();
      const id = invocation.invocationId;
      await ledger.recordReceived(invocation);
      await ledger.recordDecision(id, approve);
      expect(await ledger.claimCompletion(id, "worker-a", 30_000, T0)).toBe(true);
      expect(await ledger.markCompleted(id, T0 + 500)).toBe(true);
      const record = await ledger.get(id);
      expect(record).toMatchObject({ state: "completed", completedAt: T0 + 500, decision: approve });
      expect(record?.leaseOwner).toBeUndefined();
      expect(await ledger.markCompleted(id, T0 + 600)).toBe(false);
      expect(await ledger.markFailed(id, "deadline passed")).toBe(false);
      expect(await ledger.claimCompletion(id, "worker-b", 30_000, T0 + 99_999_999)).toBe(false);
      expect((await ledger.recordDecision(id, deny)).decision).toEqual(approve);
      expect(await ledger.get(id)).toMatchObject({ state: "completed", completedAt: T0 + 500 });
    });

    it("concurrent completions: exactly one of 10 succeeds", async () => {
      const ledger = await makeLedger();
      const invocation = receivedInvocation();
      await ledger.recordReceived(invocation);
      await ledger.recordDecision(invocation.invocationId, approve);
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => ledger.markCompleted(invocation.invocationId, T0 + i)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it("records an outcome with the completion (already completed or expired)", async () => {
      const ledger = await makeLedger();
      const invocation = receivedInvocation();
      await ledger.recordReceived(invocation);
      expect(
        await ledger.markCompleted(invocation.invocationId, T0 + 1, "already completed or expired"),
      ).toBe(true);
      expect(await ledger.get(invocation.invocationId)).toMatchObject({
        state: "completed",
        outcome: "already completed or expired",
      });
    });

    it("fails once, from received or decided, and is then final", async () => {
      const ledger = await makeLedger();
      const a = receivedInvocation();
      await ledger.recordReceived(a);
      expect(await ledger.markFailed(a.invocationId, "ISC refused the output")).toBe(true);
      expect(await ledger.markFailed(a.invocationId, "again")).toBe(false);
      expect(await ledger.markCompleted(a.invocationId, T0)).toBe(false);
      expect(await ledger.get(a.invocationId)).toMatchObject({
        state: "failed",
        outcome: "ISC refused the output",
      });
      // a failed invocation takes no decision
      expect((await ledger.recordDecision(a.invocationId, approve)).decision).toBeUndefined();

      const b = receivedInvocation();
      await ledger.recordReceived(b);
      await ledger.recordDecision(b.invocationId, deny);
      expect(await ledger.claimCompletion(b.invocationId, "worker-a", 30_000, T0)).toBe(true);
      expect(await ledger.markFailed(b.invocationId, "ISC refused the output")).toBe(true);
      expect(await ledger.get(b.invocationId)).toMatchObject({ state: "failed", decision: deny });
      expect(await ledger.claimCompletion(b.invocationId, "worker-b", 30_000, T0 + 99_999_999)).toBe(false);
    });

    it("a completion acknowledged by ISC supersedes a 'deadline passed' written meanwhile, once", async () => {
      const ledger = await makeLedger();
      const a = receivedInvocation();
      await ledger.recordReceived(a);
      await ledger.recordDecision(a.invocationId, approve);
      expect(await ledger.claimCompletion(a.invocationId, "worker-a", 30_000, T0)).toBe(true);
      // Another delivery found the deadline passed while worker-a's completion was in flight...
      expect(await ledger.markFailed(a.invocationId, "deadline passed")).toBe(true);
      // ...and ISC accepted worker-a's completion: the record says what happened.
      expect(await ledger.markCompleted(a.invocationId, T0 + 1_000)).toBe(true);
      const record = await ledger.get(a.invocationId);
      expect(record).toMatchObject({ state: "completed", completedAt: T0 + 1_000 });
      expect(record?.outcome).toBeUndefined();
      expect(await ledger.markCompleted(a.invocationId, T0 + 2_000)).toBe(false);
      expect(await ledger.markFailed(a.invocationId, "deadline passed")).toBe(false);

      // ISC's "already completed or expired" does not say this delivery's answer was taken: no supersede.
      const b = receivedInvocation();
      await ledger.recordReceived(b);
      expect(await ledger.markFailed(b.invocationId, "deadline passed")).toBe(true);
      expect(await ledger.markCompleted(b.invocationId, T0, "already completed or expired")).toBe(false);
      expect(await ledger.get(b.invocationId)).toMatchObject({ state: "failed", outcome: "deadline passed" });
    });

    it("keeps an explanation with nested values intact", async () => {
      const ledger = await makeLedger();
      const invocation = receivedInvocation();
      await ledger.recordReceived(invocation);
      const decision: LedgerDecision = {
        output: { id: "", name: "", type: "" },
        explanation: {
          steps: [
            { rule: "a", ok: false, detail: null },
            { rule: "b", ok: true },
          ],
          timings: { totalMs: 0.25 },
        },
        fallback: false,
      };
      await ledger.recordDecision(invocation.invocationId, decision);
      expect((await ledger.get(invocation.invocationId))?.decision).toEqual(decision);
    });

    it("keeps the decision's actions so a resumed delivery runs the same ones", async () => {
      const ledger = await makeLedger();
      const invocation = receivedInvocation();
      await ledger.recordReceived(invocation);
      const decision: LedgerDecision = {
        output: { approved: true, comment: "ok", approver: "bot" },
        explanation: { ruleId: "r1" },
        fallback: false,
        actions: [{ type: "complete-campaign", campaignId: "c-1", autoCompleteAction: "REVOKE" }],
      };
      await ledger.recordDecision(invocation.invocationId, decision);
      expect((await ledger.get(invocation.invocationId))?.decision).toEqual(decision);
    });

    it("a call whose signal has aborted rejects with LedgerCallAbortedError and changes nothing", async () => {
      const ledger = await makeLedger();
      const invocation = receivedInvocation();
      const id = invocation.invocationId;
      const aborted = { signal: AbortSignal.abort() };
      await expect(ledger.recordReceived(invocation, aborted)).rejects.toBeInstanceOf(LedgerCallAbortedError);
      expect(await ledger.get(id)).toBeUndefined();

      await ledger.recordReceived(invocation);
      await expect(ledger.get(id, aborted)).rejects.toBeInstanceOf(LedgerCallAbortedError);
      await expect(ledger.recordDecision(id, approve, aborted)).rejects.toBeInstanceOf(
        LedgerCallAbortedError,
      );
      expect(await ledger.get(id)).toMatchObject({ state: "received" });

      await ledger.recordDecision(id, approve);
      await expect(ledger.claimCompletion(id, "worker-a", 30_000, T0, aborted)).rejects.toBeInstanceOf(
        LedgerCallAbortedError,
      );
      expect((await ledger.get(id))?.leaseOwner).toBeUndefined();
      expect(await ledger.claimCompletion(id, "worker-a", 30_000, T0)).toBe(true);
      await expect(ledger.releaseCompletion(id, "worker-a", aborted)).rejects.toBeInstanceOf(
        LedgerCallAbortedError,
      );
      await expect(ledger.markCompleted(id, T0 + 1, undefined, aborted)).rejects.toBeInstanceOf(
        LedgerCallAbortedError,
      );
      await expect(ledger.markFailed(id, "x", aborted)).rejects.toBeInstanceOf(LedgerCallAbortedError);
      expect(await ledger.get(id)).toMatchObject({ state: "decided", leaseOwner: "worker-a", attempts: 1 });
    });

    it("transitions of an unknown invocation are errors, release is a no-op", async () => {
      const ledger = await makeLedger();
      const id = randomUUID();
      await expect(ledger.claimCompletion(id, "w", 1_000, T0)).rejects.toBeInstanceOf(
        LedgerRecordNotFoundError,
      );
      await expect(ledger.markCompleted(id, T0)).rejects.toBeInstanceOf(LedgerRecordNotFoundError);
      await expect(ledger.markFailed(id, "x")).rejects.toBeInstanceOf(LedgerRecordNotFoundError);
      await expect(ledger.releaseCompletion(id, "w")).resolves.toBeUndefined();
    });
  });
}
