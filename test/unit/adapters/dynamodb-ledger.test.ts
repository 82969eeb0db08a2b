/**
 * The DynamoDB ledger's calls end when their signal aborts, even when DynamoDB never answers
 * (mocked clients: these are the error paths moto cannot produce).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { DynamoDbInvocationLedger } from "../../../lib/adapters/aws/dynamodb-ledger.ts";
import { LedgerCallAbortedError } from "../../../lib/adapters/errors.ts";
import type { InvocationLedger, LedgerCallOptions } from "../../../lib/adapters/types.ts";
import { receivedInvocation } from "../../helpers/ledger-contract.ts";

const ID = "0f6e8c3a-3b3c-4d8e-9a55-7f1f2b0c9d11";
const decision = {
  output: { approved: true, comment: "ok", approver: "rules" },
  explanation: {},
  fallback: false,
};

/** Every ledger method, called with `options`. */
const calls: Array<[string, (ledger: InvocationLedger, options: LedgerCallOptions) => Promise<unknown>]> = [
  ["recordReceived", (l, o) => l.recordReceived(receivedInvocation({ invocationId: ID }), o)],
  ["get", (l, o) => l.get(ID, o)],
  ["recordDecision", (l, o) => l.recordDecision(ID, decision, o)],
  ["claimCompletion", (l, o) => l.claimCompletion(ID, "worker-a", 30_000, Date.now(), o)],
  ["markCompleted", (l, o) => l.markCompleted(ID, Date.now(), undefined, o)],
  ["markFailed", (l, o) => l.markFailed(ID, "deadline passed", o)],
  ["releaseCompletion", (l, o) => l.releaseCompletion(ID, "worker-a", o)],
];

/** Settles with `work`, or with "hung" if it is still pending after `ms`. */
function within<T>(work: Promise<T>, ms: number): Promise<T | "hung"> {
  return Promise.race([work, new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), ms))]);
}

describe("DynamoDbInvocationLedger: bounded calls", () => {
  it.each(calls)(
    "%s rejects with LedgerCallAbortedError when its signal aborts, even if send never returns",
    async (_name, call) => {
      const sent: unknown[] = [];
      const client = {
        send: (_command: unknown, options?: unknown) => {
          sent.push(options);
          return new Promise(() => {}); // DynamoDB never answers, and this client ignores the signal
        },
      } as unknown as DynamoDBClient;
      const ledger = new DynamoDbInvocationLedger({ tableName: "ledger", client });
      const started = Date.now();
      const result = await within(
        call(ledger, { signal: AbortSignal.timeout(100) }).then(
          () => "resolved",
          (error: unknown) => error,
        ),
        2_000,
      );
      expect(result).toBeInstanceOf(LedgerCallAbortedError);
      expect(Date.now() - started).toBeLessThan(1_000);
      // The signal went to the SDK too, so a real request is torn down rather than left running.
      expect(sent[0]).toMatchObject({ abortSignal: expect.any(AbortSignal) });
    },
  );

  it("passes the signal down to the SDK's HTTP handler, which aborts the request", async () => {
    let handlerSignal: AbortSignal | undefined;
    const client = new DynamoDBClient({
      region: "eu-west-1",
      endpoint: "http://127.0.0.1:9",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      maxAttempts: 1,
      requestHandler: {
        handle: (_request: unknown, options?: { abortSignal?: AbortSignal }) => {
          handlerSignal = options?.abortSignal;
          return new Promise((_resolve, reject) => {
            options?.abortSignal?.addEventListener("abort", () =>
              reject(Object.assign(new Error("Request aborted"), { name: "AbortError" })),
            );
          });
        },
      } as never,
    });
    const ledger = new DynamoDbInvocationLedger({ tableName: "ledger", client });
    const result = await within(
      ledger.get(ID, { signal: AbortSignal.timeout(100) }).then(
        () => "resolved",
        (error: unknown) => error,
      ),
      2_000,
    );
    expect(result).toBeInstanceOf(LedgerCallAbortedError);
    expect((result as LedgerCallAbortedError).message).toContain("GetItem");
    expect(handlerSignal?.aborted).toBe(true);
  });

  it("a signal that aborted before the call sends nothing", async () => {
    let sends = 0;
    const client = {
      send: async () => {
        sends += 1;
        return {};
      },
    } as unknown as DynamoDBClient;
    const ledger = new DynamoDbInvocationLedger({ tableName: "ledger", client });
    await expect(ledger.get(ID, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
      LedgerCallAbortedError,
    );
    expect(sends).toBe(0);
  });
});
