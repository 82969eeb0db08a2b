/**
 * The decision records table in the stack: its layout is the adapter's (DECISION_RECORDS_TABLE), it
 * is an audit trail (retained, PITR, CMK, TTL), only the worker writes it, auditors read it, and
 * `--stack` finds it in the outputs. Synthesized without bundling; cdk-nag runs on synth.
 */
import type { CfnElement } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigurationError, loadResponderConfig } from "../../../infra/config.ts";
import { AUDITOR_POLICY_OUTPUT, DECISION_RECORDS_WRITE_ACTIONS } from "../../../infra/decision-records.ts";
import type { ResponderStack } from "../../../infra/stack.ts";
import { DECISION_RECORDS_TABLE } from "../../../lib/adapters/aws/dynamodb-decision-records.ts";
import { DECISION_RECORDS_TABLE_OUTPUT } from "../../../lib/adapters/aws/stack-decision-records.ts";
import { baseConfig, buildApp, writeConfig } from "./helpers.ts";

type Resource = {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
};
type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

let stack: ResponderStack;
let resources: Record<string, Resource>;
let outputs: Record<string, { Value: unknown }>;

const idOf = (s: ResponderStack, construct: { node: { defaultChild?: unknown } }) =>
  s.getLogicalId(construct.node.defaultChild as CfnElement);
const list = (action: string | string[]) => (Array.isArray(action) ? action : [action]);

/** Statements of the IAM policies attached to `roleId`. */
function roleStatements(roleId: string): Statement[] {
  return Object.values(resources)
    .filter((r) => r.Type === "AWS::IAM::Policy")
    .filter((r) => JSON.stringify(r.Properties?.Roles).includes(`"${roleId}"`))
    .flatMap((r) => (r.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);
}

beforeAll(async () => {
  const built = await buildApp(baseConfig({ decisionRecords: { retentionDays: 730 } }), { bundle: false });
  // cdk-nag (AwsSolutions) runs here: an unacknowledged finding makes synth throw.
  built.app.synth();
  stack = built.stack;
  const json = Template.fromStack(stack).toJSON() as {
    Resources: Record<string, Resource>;
    Outputs: Record<string, { Value: unknown }>;
  };
  resources = json.Resources;
  outputs = json.Outputs;
}, 120_000);

describe("decision records table", () => {
  it("is on demand, with PITR, TTL expiresAt, its own rotated KMS key, deletion protection, retained", () => {
    const records = stack.decisionRecords!;
    const table = resources[idOf(stack, records.table)]!;
    expect(table.Type).toBe("AWS::DynamoDB::Table");
    expect(table.DeletionPolicy).toBe("Retain");
    expect(table.UpdateReplacePolicy).toBe("Retain");
    expect(table.Properties).toMatchObject({
      BillingMode: "PAY_PER_REQUEST",
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
      DeletionProtectionEnabled: true,
      SSESpecification: { SSEEnabled: true, SSEType: "KMS" },
      KeySchema: [
        { AttributeName: "invocationId", KeyType: "HASH" },
        { AttributeName: "entry", KeyType: "RANGE" },
      ],
    });
    expect(JSON.stringify(table.Properties!.SSESpecification)).toContain(idOf(stack, records.key));
    const key = resources[idOf(stack, records.key)]!;
    expect(key.DeletionPolicy).toBe("Retain");
    expect(key.Properties).toMatchObject({ EnableKeyRotation: true });
  });

  it("has the adapter's indexes: keys and the filter attributes only", () => {
    const table = resources[idOf(stack, stack.decisionRecords!.table)]!;
    const indexes = table.Properties!.GlobalSecondaryIndexes as Array<Record<string, unknown>>;
    const expected = Object.entries(DECISION_RECORDS_TABLE.indexes).map(([IndexName, index]) => ({
      IndexName,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: "HASH" },
        { AttributeName: index.sortKey, KeyType: "RANGE" },
      ],
      Projection: {
        ProjectionType: "INCLUDE",
        NonKeyAttributes: [...DECISION_RECORDS_TABLE.filterAttributes],
      },
    }));
    expect(indexes).toEqual(expected);
    expect(table.Properties!.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: "accessRequestId", AttributeType: "S" },
        { AttributeName: "personId", AttributeType: "S" },
        { AttributeName: "day", AttributeType: "S" },
        { AttributeName: "decidedAt", AttributeType: "N" },
      ]),
    );
  });

  it("is written by the worker only (put, delete, query on the table; its key), never by http or subscriptions", () => {
    const records = stack.decisionRecords!;
    const tableId = idOf(stack, records.table);
    const keyId = idOf(stack, records.key);
    const worker = roleStatements(idOf(stack, stack.workerFunction.role as never));
    const onTable = worker.filter((s) => JSON.stringify(s.Resource).includes(`"${tableId}"`));
    expect(onTable.flatMap((s) => list(s.Action)).sort()).toEqual([...DECISION_RECORDS_WRITE_ACTIONS].sort());
    // The table itself, not its indexes: the worker never lists.
    expect(JSON.stringify(onTable.map((s) => s.Resource))).not.toContain("/index/");
    const onKey = worker.filter((s) => JSON.stringify(s.Resource).includes(`"${keyId}"`));
    expect(onKey.flatMap((s) => list(s.Action)).sort()).toEqual([
      "kms:Decrypt",
      "kms:Encrypt",
      "kms:GenerateDataKey",
    ]);
    for (const fn of [stack.httpFunction, stack.subscriptionsFunction]) {
      const text = JSON.stringify(roleStatements(idOf(stack, fn.role as never)));
      expect(text).not.toContain(`"${tableId}"`);
      expect(text).not.toContain(`"${keyId}"`);
    }
  });

  it("gives auditors a read-only managed policy on the table, its indexes by name, the key and the stack", () => {
    const records = stack.decisionRecords!;
    const policy = resources[idOf(stack, records.auditorPolicy)]!;
    expect(policy.Type).toBe("AWS::IAM::ManagedPolicy");
    const statements = (policy.Properties!.PolicyDocument as { Statement: Statement[] }).Statement;
    const actions = statements.flatMap((s) => list(s.Action));
    expect(actions.sort()).toEqual(
      [
        "cloudformation:DescribeStacks",
        "dynamodb:BatchGetItem",
        "dynamodb:DescribeTable",
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "kms:Decrypt",
        "kms:DescribeKey",
      ].sort(),
    );
    for (const action of actions) {
      expect(action).not.toMatch(/Put|Update|Delete|Write|Encrypt|\*/);
    }
    const resourcesText = JSON.stringify(statements.map((s) => s.Resource));
    for (const index of Object.keys(DECISION_RECORDS_TABLE.indexes)) {
      expect(resourcesText).toContain(`/index/${index}`);
    }
    expect(resourcesText).not.toContain("*");
    // Attached to nobody by the stack: whoever deploys attaches it to the auditors.
    expect(policy.Properties).not.toHaveProperty("Roles");
    expect(policy.Properties).not.toHaveProperty("Users");
  });

  it("outputs the table name (what --stack reads) and the auditor policy ARN", () => {
    expect(outputs[DECISION_RECORDS_TABLE_OUTPUT]!.Value).toEqual({
      Ref: idOf(stack, stack.decisionRecords!.table),
    });
    expect(outputs[AUDITOR_POLICY_OUTPUT]!.Value).toEqual({
      Ref: idOf(stack, stack.decisionRecords!.auditorPolicy),
    });
  });

  it("tells the worker the table and the retention, and the http function that records are on", () => {
    const env = (fn: { node: { defaultChild?: unknown } }) =>
      (resources[idOf(stack, fn)]!.Properties!.Environment as { Variables: Record<string, unknown> })
        .Variables;
    expect(env(stack.workerFunction)).toMatchObject({
      DECISION_RECORDS_TABLE_NAME: { Ref: idOf(stack, stack.decisionRecords!.table) },
      DECISION_RECORDS_RETENTION_DAYS: "730",
    });
    expect(env(stack.httpFunction)).toMatchObject({ DECISION_RECORDS_RETENTION_DAYS: "730" });
    expect(env(stack.httpFunction)).not.toHaveProperty("DECISION_RECORDS_TABLE_NAME");
  });

  it("alarms when records cannot be written, per trigger", () => {
    const alarms = Object.values(resources)
      .filter((r) => r.Type === "AWS::CloudWatch::Alarm")
      .map((r) => r.Properties!)
      .filter((a) => a.MetricName === "DecisionRecordFailures");
    expect(alarms).toHaveLength(2);
    expect(alarms[0]!.Dimensions).toEqual(
      expect.arrayContaining([{ Name: "service", Value: "isc-trigger-responder" }]),
    );
  });
});

describe("decision records switched off", () => {
  it("has no table, no output, no alarm and no records variables", async () => {
    const built = await buildApp(baseConfig({ decisionRecords: { enabled: false } }), { bundle: false });
    built.app.synth();
    expect(built.stack.decisionRecords).toBeUndefined();
    const json = Template.fromStack(built.stack).toJSON() as {
      Resources: Record<string, Resource>;
      Outputs: Record<string, unknown>;
    };
    expect(json.Outputs).not.toHaveProperty(DECISION_RECORDS_TABLE_OUTPUT);
    const text = JSON.stringify(json.Resources);
    expect(text).not.toContain("DECISION_RECORDS_");
    expect(text).not.toContain("DecisionRecordFailures");
    expect(Object.values(json.Resources).filter((r) => r.Type === "AWS::DynamoDB::Table")).toHaveLength(1);
  });
});

describe("decisionRecords configuration", () => {
  it("defaults to on with 400 days, and refuses a retention outside 1..3650 days", async () => {
    const config = loadResponderConfig({ configFile: writeConfig(baseConfig()) });
    expect(config.decisionRecords).toEqual({ enabled: true, retentionDays: 400 });
    for (const retentionDays of [0, 3651, 1.5]) {
      const error = await buildApp(baseConfig({ decisionRecords: { retentionDays } }), {
        bundle: false,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).issues.map((i) => i.path)).toEqual([
        "decisionRecords.retentionDays",
      ]);
    }
  });

  it("can be overridden from CDK context", () => {
    const config = loadResponderConfig({
      configFile: writeConfig(baseConfig()),
      context: { "decisionRecords.retentionDays": "30" },
    });
    expect(config.decisionRecords.retentionDays).toBe(30);
  });
});
