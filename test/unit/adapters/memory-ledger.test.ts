import { expect, it } from "vitest";
import { MemoryInvocationLedger } from "../../../lib/adapters/local/memory-ledger.ts";
import { ledgerContract, receivedInvocation } from "../../helpers/ledger-contract.ts";

ledgerContract("memory", () => new MemoryInvocationLedger());

it("returned records are copies: mutating one does not change the ledger", async () => {
  const ledger = new MemoryInvocationLedger();
  const invocation = receivedInvocation();
  const { record } = await ledger.recordReceived(invocation);
  record.state = "completed";
  expect((await ledger.get(invocation.invocationId))?.state).toBe("received");
  expect(ledger.list()).toHaveLength(1);
});
