/**
 * DynamoDbDecisionRecords against moto's DynamoDB, on a table with the stack's keys, indexes and TTL
 * (DECISION_RECORDS_TABLE, as infra/decision-records.ts declares them).
 */
import { randomUUID } from "node:crypto";
import { CloudFormationClient, CreateStackCommand } from "@aws-sdk/client-cloudformation";
import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import {
  DECISION_RECORDS_TABLE,
  DecisionRecordTooLargeError,
  DynamoDbDecisionRecords,
  type ListTruncation,
} from "../../lib/adapters/aws/dynamodb-decision-records.ts";
import {
  openStackDecisionRecords,
  StackDecisionRecordsError,
} from "../../lib/adapters/aws/stack-decision-records.ts";
import { DYNAMIC_APPROVER } from "../../lib/triggers/trigger-ids.ts";
import { decisionRecord } from "../unit/adapters/decision-record-fixture.ts";

const client = new DynamoDBClient({});

async function createTable(): Promise<string> {
  const tableName = `decision-records-${randomUUID()}`;
  const { partitionKey, sortKey, indexes, filterAttributes } = DECISION_RECORDS_TABLE;
  const keyAttributes = new Map<string, "S" | "N">([
    [partitionKey, "S"],
    [sortKey, "S"],
  ]);
  for (const index of Object.values(indexes)) {
    keyAttributes.set(index.partitionKey, "S");
    keyAttributes.set(index.sortKey, "N");
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [...keyAttributes].map(([AttributeName, AttributeType]) => ({
        AttributeName,
        AttributeType,
      })),
      KeySchema: [
        { AttributeName: partitionKey, KeyType: "HASH" },
        { AttributeName: sortKey, KeyType: "RANGE" },
      ],
      GlobalSecondaryIndexes: Object.entries(indexes).map(([IndexName, index]) => ({
        IndexName,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: "HASH" },
          { AttributeName: index.sortKey, KeyType: "RANGE" },
        ],
        Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: [...filterAttributes] },
      })),
    }),
  );
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: DECISION_RECORDS_TABLE.ttlAttribute, Enabled: true },
    }),
  );
  return tableName;
}

let tableName: string;
let store: DynamoDbDecisionRecords;

// Twelve records over three days: two people, two access requests shared by several invocations.
const alice = { id: "p-alice", name: "Alice Anders" };
const bob = { id: "p-bob", name: "Bob Berg" };
const records = [
  decisionRecord({ decidedAt: "2025-03-01T09:00:00.000Z", accessRequestId: "ar-1", people: [alice] }),
  decisionRecord({ decidedAt: "2025-03-01T12:00:00.000Z", accessRequestId: "ar-1", people: [alice, bob] }),
  decisionRecord({
    decidedAt: "2025-03-02T08:00:00.000Z",
    accessRequestId: "ar-2",
    people: [bob],
    decision: {
      ...decisionRecord().decision,
      label: "deny",
      ruleId: "deny-sod-violation",
      kind: "rule",
    },
  }),
  decisionRecord({
    decidedAt: "2025-03-02T09:00:00.000Z",
    people: [alice],
    decision: {
      ...decisionRecord().decision,
      label: "deny",
      ruleId: "fallback",
      kind: "fallback",
      fallback: true,
    },
  }),
  decisionRecord({
    decidedAt: "2025-03-02T10:00:00.000Z",
    triggerId: DYNAMIC_APPROVER,
    people: [bob],
    decision: { ...decisionRecord().decision, label: "approver", ruleId: "privileged-item-owner-approves" },
  }),
  ...Array.from({ length: 7 }, (_, i) =>
    decisionRecord({
      decidedAt: `2025-03-03T${String(10 + i).padStart(2, "0")}:00:00.000Z`,
      people: i % 2 === 0 ? [alice] : [bob],
    }),
  ),
];
const ids = (list: Array<{ invocationId: string }>) => list.map((r) => r.invocationId);
const NOW = Date.parse("2025-03-04T00:00:00.000Z");

beforeAll(async () => {
  tableName = await createTable();
  store = new DynamoDbDecisionRecords({ tableName, now: () => NOW });
  for (const record of records) await store.put(record);
});

describe("DynamoDbDecisionRecords (moto)", () => {
  it("lists every record newest first, by day, without a filter", async () => {
    const listed = await store.list({});
    expect(ids(listed)).toEqual(ids([...records].reverse()));
  });

  it("applies the limit, paging across days", async () => {
    const listed = await store.list({ limit: 9 });
    expect(ids(listed)).toEqual(ids([...records].reverse().slice(0, 9)));
  });

  it("finds records by access request, newest first", async () => {
    expect(ids(await store.list({ accessRequestId: "ar-1" }))).toEqual(ids([records[1]!, records[0]!]));
  });

  it("finds a record from each of its people", async () => {
    const forBob = await store.list({ personId: "p-bob" });
    expect(ids(forBob)).toEqual(ids(records.filter((r) => r.people.some((p) => p.id === "p-bob")).reverse()));
    expect(ids(forBob)).toContain(records[1]!.invocationId);
    const forAlice = await store.list({ personId: "p-alice", limit: 3 });
    expect(ids(forAlice)).toEqual([
      records[11]!.invocationId,
      records[9]!.invocationId,
      records[7]!.invocationId,
    ]);
  });

  it("filters by rule, decision, fallback and trigger", async () => {
    expect(ids(await store.list({ ruleId: "deny-sod-violation" }))).toEqual([records[2]!.invocationId]);
    expect(ids(await store.list({ decision: "deny" }))).toEqual(ids([records[3]!, records[2]!]));
    expect(ids(await store.list({ decision: "fallback" }))).toEqual([records[3]!.invocationId]);
    expect(ids(await store.list({ triggerId: DYNAMIC_APPROVER }))).toEqual([records[4]!.invocationId]);
    expect(ids(await store.list({ personId: "p-bob", decision: "deny" }))).toEqual([
      records[2]!.invocationId,
    ]);
    expect(await store.list({ accessRequestId: "ar-1", personId: "p-nobody" })).toEqual([]);
  });

  it("filters by time (since and until on decidedAt)", async () => {
    const since = Date.parse("2025-03-02T00:00:00.000Z");
    const until = Date.parse("2025-03-02T09:30:00.000Z");
    expect(ids(await store.list({ since, until }))).toEqual(ids([records[3]!, records[2]!]));
    expect(ids(await store.list({ personId: "p-bob", since, until }))).toEqual([records[2]!.invocationId]);
    expect(await store.list({ since: Date.parse("2025-03-05T00:00:00.000Z") })).toEqual([]);
  });

  it("returns records as written (validated on read)", async () => {
    const [found] = await store.find(records[2]!.invocationId);
    expect(found).toEqual(records[2]);
  });

  it("finds by invocation id or by access request id", async () => {
    expect(ids(await store.find(records[0]!.invocationId))).toEqual([records[0]!.invocationId]);
    expect(ids(await store.find("ar-1"))).toEqual(ids([records[1]!, records[0]!]));
    expect(await store.find("nothing-like-it")).toEqual([]);
  });

  it("replaces the invocation's record and its person pointers on a second put", async () => {
    const first = decisionRecord({ decidedAt: "2025-02-20T10:00:00.000Z", people: [alice, bob] });
    await store.put(first);
    const second = {
      ...first,
      people: [{ id: "p-carol", name: "Carol" }],
      completion: { outcome: "already-completed" as const, reason: "completed earlier" },
    };
    await store.put(second);
    await store.put(second);
    expect(await store.find(first.invocationId)).toEqual([second]);
    expect(ids(await store.list({ personId: "p-carol" }))).toEqual([first.invocationId]);
    expect(ids(await store.list({ personId: "p-alice", limit: 100 }))).not.toContain(first.invocationId);
    const entries = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: "invocationId = :id",
        ExpressionAttributeValues: { ":id": { S: first.invocationId } },
      }),
    );
    expect(entries.Items?.map((item) => item.entry?.S).sort()).toEqual(["person#p-carol", "record"]);
  });

  it("stores expiresAt (epoch seconds, the TTL attribute) on the record and its pointers; TTL is on", async () => {
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    expect(ttl.TimeToLiveDescription).toMatchObject({
      AttributeName: "expiresAt",
      TimeToLiveStatus: "ENABLED",
    });
    const record = records[1]!;
    for (const entry of ["record", "person#p-alice", "person#p-bob"]) {
      const { Item } = await client.send(
        new GetItemCommand({
          TableName: tableName,
          Key: { invocationId: { S: record.invocationId }, entry: { S: entry } },
        }),
      );
      expect(Item?.expiresAt).toEqual({ N: String(record.expiresAt) });
    }
  });

  it("leaves out the context data of a record too big for an item, and says so", async () => {
    const big = decisionRecord({
      decidedAt: "2025-02-10T10:00:00.000Z",
      context: {
        needs: ["identity"],
        reads: [],
        cacheHits: 0,
        ms: 1,
        // 3 bytes a character in UTF-8: 600 KB.
        data: { identity: { id: "p-alice", notes: "\u20ac".repeat(200_000) } },
      },
    });
    await store.put(big);
    const [stored] = await store.find(big.invocationId);
    expect(stored?.context?.data).toBeUndefined();
    expect(stored?.context?.dataOmitted).toMatch(/item limit/);
    expect({ ...stored, context: undefined }).toEqual({ ...big, context: undefined });
  });

  it("refuses a record too big even without its context data (typed error, nothing written)", async () => {
    const huge = decisionRecord({ input: { blob: "x".repeat(450_000) } });
    await expect(store.put(huge)).rejects.toBeInstanceOf(DecisionRecordTooLargeError);
    expect(await store.find(huge.invocationId)).toEqual([]);
  });

  it("stops at its request budget and says so", async () => {
    const truncations: ListTruncation[] = [];
    const bounded = new DynamoDbDecisionRecords({
      tableName,
      now: () => NOW,
      maxRequests: 3,
      onTruncated: (t) => truncations.push(t),
    });
    // No record in the 3 days queried first (the budget): the walk stops before 2025-03-01.
    const listed = await bounded.list({ since: Date.parse("2025-02-01T00:00:00.000Z"), ruleId: "nope" });
    expect(listed).toEqual([]);
    expect(truncations).toEqual([{ requests: 3, found: 0, index: "byDay" }]);
  });
});

describe("openStackDecisionRecords (moto CloudFormation)", () => {
  const cloudFormation = new CloudFormationClient({});
  const createStack = async (outputs: Record<string, unknown>) => {
    const stackName = `responder-${randomUUID().slice(0, 8)}`;
    await cloudFormation.send(
      new CreateStackCommand({
        StackName: stackName,
        TemplateBody: JSON.stringify({
          Resources: { Topic: { Type: "AWS::SNS::Topic" } },
          Outputs: outputs,
        }),
      }),
    );
    return stackName;
  };

  it("reads the table name from the stack's DecisionRecordsTableName output and lists from it", async () => {
    const stackName = await createStack({ DecisionRecordsTableName: { Value: tableName } });
    const source = await openStackDecisionRecords(stackName, { region: "us-east-1" });
    expect(source.tableName).toBe(tableName);
    // Recent records (the stack's store reads with the real clock: the fixtures above are past retention).
    const hourAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
    const recent = [
      decisionRecord({ decidedAt: hourAgo(2), accessRequestId: "ar-stack" }),
      decisionRecord({ decidedAt: hourAgo(1), accessRequestId: "ar-stack" }),
    ];
    for (const record of recent) await store.put(record);
    expect(ids(await source.list({ accessRequestId: "ar-stack" }))).toEqual(ids([recent[1]!, recent[0]!]));
    // Past its retention (TTL deletes lazily), a record is not returned.
    expect(await source.list({ accessRequestId: "ar-1" })).toEqual([]);
    expect(await source.find(records[0]!.invocationId)).toEqual([]);
  });

  it("serves a deployed stack's records in the console, read-only (isc-responder console --stack)", async () => {
    const stackName = await createStack({ DecisionRecordsTableName: { Value: tableName } });
    const source = await openStackDecisionRecords(stackName, { region: "us-east-1" });
    const recent = decisionRecord({ decidedAt: new Date(Date.now() - 60_000).toISOString() });
    await store.put(recent);
    const { startConsole } = await import("../../lib/console/server.ts");
    const server = await startConsole({
      records: { list: source.list.bind(source), find: source.find.bind(source) },
      source: `stack ${stackName}`,
    });
    try {
      const list = (await (await fetch(`${server.url}api/decisions`)).json()) as {
        decisions: Array<{ invocationId: string }>;
      };
      expect(list.decisions.map((row) => row.invocationId)).toContain(recent.invocationId);
      const detail = await fetch(`${server.url}api/decisions/${recent.invocationId}`);
      expect(detail.status).toBe(200);
      // No sandbox: the controls answer 404, nothing can be fired at a deployed stack's tenant.
      const fire = await fetch(`${server.url}api/sandbox/invocations`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-console-token": server.token },
        body: "{}",
      });
      expect(fire.status).toBeGreaterThanOrEqual(400);
    } finally {
      await server.close();
    }
  });

  it("says what to do when the stack does not exist or has no records table", async () => {
    const missing = await openStackDecisionRecords("no-such-stack").catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(StackDecisionRecordsError);
    expect((missing as Error).message).toMatch(/stack no-such-stack was not found: check the name/);
    const older = await createStack({ QueueUrl: { Value: "https://example.com/q" } });
    const noOutput = await openStackDecisionRecords(older).catch((e: unknown) => e);
    expect((noOutput as Error).message).toMatch(/has no DecisionRecordsTableName output/);
  });
});
