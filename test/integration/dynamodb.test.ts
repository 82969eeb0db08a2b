import { randomUUID } from "node:crypto";
import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { DynamoDbInvocationLedger } from "../../lib/adapters/aws/dynamodb-ledger.ts";
import { ledgerExpiresAt } from "../../lib/adapters/ledger-record.ts";
import { ledgerContract, receivedInvocation } from "../helpers/ledger-contract.ts";

const client = new DynamoDBClient({});
const tableName = `ledger-${randomUUID()}`;

beforeAll(async () => {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: "invocationId", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "invocationId", KeyType: "HASH" }],
    }),
  );
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
    }),
  );
});

describe("DynamoDB ledger table (moto)", () => {
  it("has TTL enabled on expiresAt", async () => {
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    expect(ttl.TimeToLiveDescription).toMatchObject({
      AttributeName: "expiresAt",
      TimeToLiveStatus: "ENABLED",
    });
  });

  it("stores expiresAt as a number (epoch seconds, deadline + 7 days) and the decision as JSON strings", async () => {
    const ledger = new DynamoDbInvocationLedger({ tableName });
    const invocation = receivedInvocation();
    await ledger.recordReceived(invocation);
    await ledger.recordDecision(invocation.invocationId, {
      output: { approved: true, comment: "ok", approver: "system" },
      explanation: { ruleId: "r1" },
      fallback: false,
    });
    const { Item } = await client.send(
      new GetItemCommand({ TableName: tableName, Key: { invocationId: { S: invocation.invocationId } } }),
    );
    expect(Item?.expiresAt).toEqual({ N: String(ledgerExpiresAt(invocation.deadline)) });
    expect(Item?.state).toEqual({ S: "decided" });
    expect(JSON.parse(Item?.decisionOutput?.S ?? "null")).toEqual({
      approved: true,
      comment: "ok",
      approver: "system",
    });
    expect(Item?.decisionFallback).toEqual({ BOOL: false });
  });

  it("records a decision whose explanation is under the char cap but over 400 KB in UTF-8", async () => {
    // Explanations quote input values (names, comments) that may be in any script: 3 bytes a char here.
    const ledger = new DynamoDbInvocationLedger({ tableName });
    const invocation = receivedInvocation();
    await ledger.recordReceived(invocation);
    const output = { approved: true, comment: "ok", approver: "system" };
    const stored = await ledger.recordDecision(invocation.invocationId, {
      output,
      explanation: { matched: ["\u20ac".repeat(150_000)] },
      fallback: false,
    });
    expect(stored.state).toBe("decided");
    expect(stored.decision?.output).toEqual(output);
    expect(stored.decision?.explanation).toMatchObject({ truncated: true });
  });

  it("a table that does not exist is an AwsServiceError naming the operation", async () => {
    const ledger = new DynamoDbInvocationLedger({ tableName: `missing-${randomUUID()}` });
    await expect(ledger.recordReceived(receivedInvocation())).rejects.toMatchObject({
      code: "AWS_SERVICE_ERROR",
      operation: "PutItem",
      awsErrorName: "ResourceNotFoundException",
    });
  });
});

ledgerContract("DynamoDB (moto)", () => new DynamoDbInvocationLedger({ tableName }));
