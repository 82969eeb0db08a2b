/**
 * DynamoDbDecisionRecords: the paths moto cannot produce (hung calls, failures, bad items) and the
 * item layout, with a scripted DocumentClient. The behaviour against DynamoDB itself is in
 * test/integration/decision-records.test.ts.
 */
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import {
  DecisionRecordCallAbortedError,
  DecisionRecordTooLargeError,
  DynamoDbDecisionRecords,
  fitRecord,
  indexedPeople,
  MAX_INDEXED_PEOPLE,
  MAX_RECORD_JSON_BYTES,
  matchesFilter,
  recordItem,
} from "../../../lib/adapters/aws/dynamodb-decision-records.ts";
import {
  openStackDecisionRecords,
  StackDecisionRecordsError,
} from "../../../lib/adapters/aws/stack-decision-records.ts";
import { AwsServiceError } from "../../../lib/adapters/errors.ts";
import { DecisionRecordInvalidError } from "../../../lib/audit/record.ts";
import { decisionRecord } from "./decision-record-fixture.ts";

type Command = { constructor: { name: string }; input: Record<string, unknown> };

/** A DocumentClient whose `send` is `reply`; it records what was sent. */
function scripted(reply: (command: Command) => Promise<unknown>) {
  const sent: Array<{ name: string; input: Record<string, unknown>; options: unknown }> = [];
  const client = {
    send: (command: Command, options?: unknown) => {
      sent.push({ name: command.constructor.name, input: command.input, options });
      return reply(command);
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, sent };
}

function within<T>(work: Promise<T>, ms: number): Promise<T | "hung"> {
  return Promise.race([work, new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), ms))]);
}

const calls: Array<[string, (store: DynamoDbDecisionRecords, signal: AbortSignal) => Promise<unknown>]> = [
  ["put", (s, signal) => s.put(decisionRecord(), { signal })],
  ["list", (s, signal) => s.list({}, { signal })],
  ["list by person", (s, signal) => s.list({ personId: "p-alice" }, { signal })],
  ["find", (s, signal) => s.find("inv-1", { signal })],
];

describe("DynamoDbDecisionRecords: bounded calls and errors", () => {
  it.each(calls)(
    "%s ends with DecisionRecordCallAbortedError when its signal aborts, even if DynamoDB never answers",
    async (_name, call) => {
      const { client, sent } = scripted(() => new Promise(() => {}));
      const store = new DynamoDbDecisionRecords({ tableName: "records", client });
      const started = Date.now();
      const result = await within(
        call(store, AbortSignal.timeout(100)).then(
          () => "resolved",
          (error: unknown) => error,
        ),
        2_000,
      );
      expect(result).toBeInstanceOf(DecisionRecordCallAbortedError);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(sent[0]?.options).toMatchObject({ abortSignal: expect.any(AbortSignal) });
    },
  );

  it("sends nothing when the signal has already aborted", async () => {
    const { client, sent } = scripted(async () => ({}));
    const store = new DynamoDbDecisionRecords({ tableName: "records", client });
    await expect(store.put(decisionRecord(), { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
      DecisionRecordCallAbortedError,
    );
    expect(sent).toEqual([]);
  });

  it("turns an AWS failure into AwsServiceError naming the operation, without the record's content", async () => {
    const { client } = scripted(async (command) => {
      if (command.constructor.name === "QueryCommand") return { Items: [] };
      throw Object.assign(new Error("Transaction cancelled"), {
        name: "TransactionCanceledException",
        $metadata: { requestId: "REQ1" },
      });
    });
    const store = new DynamoDbDecisionRecords({ tableName: "records", client });
    const error = await store.put(decisionRecord()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AwsServiceError);
    expect((error as AwsServiceError).message).toBe(
      "DynamoDB TransactWriteItems failed (TransactionCanceledException), request id REQ1",
    );
  });

  it("rejects an item that is not a decision record, naming it", async () => {
    // find also lists by access request id: that query finds nothing here.
    const { client } = scripted(async (command) =>
      command.constructor.name === "QueryCommand"
        ? { Items: [] }
        : { Item: { invocationId: "inv-1", entry: "record", record: '{"x":1}' } },
    );
    const store = new DynamoDbDecisionRecords({ tableName: "records", client });
    const error = await store.find("inv-1").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecisionRecordInvalidError);
    expect((error as Error).message).toMatch(/decision record inv-1 in table records/);
  });

  it("retries unprocessed BatchGetItem keys", async () => {
    const record = decisionRecord({ decidedAt: new Date().toISOString(), people: [{ id: "p-x" }] });
    const item = recordItem(record, JSON.stringify(record));
    let batches = 0;
    const { client } = scripted(async (command) => {
      if (command.constructor.name === "QueryCommand")
        return { Items: [{ invocationId: record.invocationId }] };
      batches += 1;
      return batches === 1
        ? {
            Responses: { records: [] },
            UnprocessedKeys: { records: { Keys: [{ invocationId: record.invocationId, entry: "record" }] } },
          }
        : { Responses: { records: [item] } };
    });
    const store = new DynamoDbDecisionRecords({ tableName: "records", client });
    expect(await store.list({ personId: "p-x" })).toEqual([record]);
    expect(batches).toBe(2);
  });
});

describe("DynamoDbDecisionRecords: items", () => {
  it("writes the record, a pointer per person and deletes a stale pointer, in one transaction", async () => {
    const record = decisionRecord({
      decidedAt: "2025-03-03T10:00:00.000Z",
      people: [{ id: "p-a" }, { id: "p-b" }, { id: "p-a" }],
    });
    const { client, sent } = scripted(async (command) =>
      command.constructor.name === "QueryCommand"
        ? { Items: [{ entry: "person#p-a" }, { entry: "person#p-old" }] }
        : {},
    );
    await new DynamoDbDecisionRecords({ tableName: "records", client }).put(record);
    const transaction = sent.find((s) => s.name === "TransactWriteCommand")!;
    const writes = transaction.input.TransactItems as Array<
      Record<string, { Item?: Record<string, unknown>; Key?: unknown }>
    >;
    expect(writes.map((w) => Object.keys(w)[0])).toEqual(["Put", "Put", "Put", "Delete"]);
    expect(writes[0]!.Put!.Item).toMatchObject({
      invocationId: record.invocationId,
      entry: "record",
      day: "2025-03-03",
      decidedAt: Date.parse("2025-03-03T10:00:00.000Z"),
      accessRequestId: record.accessRequestId,
      triggerId: record.triggerId,
      ruleId: "default",
      decision: "approve",
      fallback: false,
      expiresAt: record.expiresAt,
    });
    expect(JSON.parse(writes[0]!.Put!.Item!.record as string)).toEqual(record);
    expect(writes.slice(1, 3).map((w) => w.Put!.Item!.entry)).toEqual(["person#p-a", "person#p-b"]);
    // Pointers carry no accessRequestId or day: they appear in the byPerson index only.
    expect(writes[1]!.Put!.Item).not.toHaveProperty("accessRequestId");
    expect(writes[1]!.Put!.Item).not.toHaveProperty("day");
    expect(writes[3]!.Delete!.Key).toEqual({ invocationId: record.invocationId, entry: "person#p-old" });
  });

  it("indexes at most MAX_INDEXED_PEOPLE people, and splits stale deletes past 100 writes", async () => {
    const many = Array.from({ length: 80 }, (_, i) => ({ id: `p-${i}` }));
    const record = decisionRecord({ people: many });
    expect(indexedPeople(record)).toHaveLength(MAX_INDEXED_PEOPLE);
    const stale = Array.from({ length: 120 }, (_, i) => ({ entry: `person#old-${i}` }));
    const { client, sent } = scripted(async (command) =>
      command.constructor.name === "QueryCommand" ? { Items: stale } : {},
    );
    await new DynamoDbDecisionRecords({ tableName: "records", client }).put(record);
    const sizes = sent
      .filter((s) => s.name === "TransactWriteCommand")
      .map((s) => (s.input.TransactItems as unknown[]).length);
    expect(sizes).toEqual([100, 70]);
  });

  it("drops context data from a record above the item limit, else fails typed", () => {
    const small = decisionRecord();
    expect(fitRecord(small).record).toBe(small);
    const big = decisionRecord({
      context: {
        needs: [],
        reads: [],
        cacheHits: 0,
        ms: 0,
        data: { blob: "é".repeat(MAX_RECORD_JSON_BYTES) },
      },
    });
    const fitted = fitRecord(big);
    expect(fitted.record.context?.data).toBeUndefined();
    expect(fitted.record.context?.dataOmitted).toMatch(/left out/);
    expect(Buffer.byteLength(fitted.json)).toBeLessThanOrEqual(MAX_RECORD_JSON_BYTES);
    expect(() => fitRecord(decisionRecord({ input: { blob: "x".repeat(MAX_RECORD_JSON_BYTES) } }))).toThrow(
      DecisionRecordTooLargeError,
    );
  });

  it("matches every filter on the record itself", () => {
    const record = decisionRecord({
      decidedAt: "2025-03-03T10:00:00.000Z",
      people: [{ id: "p-a" }, { id: "p-b" }],
    });
    const at = Date.parse("2025-03-03T10:00:00.000Z");
    expect(matchesFilter(record, { personId: "p-b", since: at, until: at, decision: "approve" })).toBe(true);
    expect(matchesFilter(record, { personId: "p-c" })).toBe(false);
    expect(matchesFilter(record, { decision: "fallback" })).toBe(false);
    expect(matchesFilter(record, { since: at + 1 })).toBe(false);
    expect(matchesFilter(record, { ruleId: "other" })).toBe(false);
  });
});

describe("openStackDecisionRecords", () => {
  const cloudFormation = (reply: () => Promise<unknown>) => ({ send: reply }) as never;

  it("opens the table named by the stack's DecisionRecordsTableName output", async () => {
    const source = await openStackDecisionRecords("Responder", {
      cloudFormation: cloudFormation(async () => ({
        Stacks: [{ Outputs: [{ OutputKey: "DecisionRecordsTableName", OutputValue: "records-table" }] }],
      })),
    });
    expect(source.tableName).toBe("records-table");
  });

  it("says what to do when the stack is missing or has no records table", async () => {
    const missing = await openStackDecisionRecords("Nope", {
      region: "eu-west-1",
      cloudFormation: cloudFormation(async () => {
        throw Object.assign(new Error("Stack with id Nope does not exist"), { name: "ValidationError" });
      }),
    }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(StackDecisionRecordsError);
    expect((missing as Error).message).toMatch(/stack Nope was not found in eu-west-1: check the name/);
    const old = await openStackDecisionRecords("Old", {
      cloudFormation: cloudFormation(async () => ({ Stacks: [{ Outputs: [] }] })),
    }).catch((e: unknown) => e);
    expect(old).toBeInstanceOf(StackDecisionRecordsError);
    expect((old as Error).message).toMatch(/no DecisionRecordsTableName output: deploy/);
    const denied = await openStackDecisionRecords("Responder", {
      cloudFormation: cloudFormation(async () => {
        throw Object.assign(new Error("not authorized"), { name: "AccessDenied" });
      }),
    }).catch((e: unknown) => e);
    expect((denied as Error).message).toMatch(
      /could not be described \(AccessDenied\): check your AWS credentials/,
    );
  });
});
