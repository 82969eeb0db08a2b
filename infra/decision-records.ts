/**
 * The decision records table (docs/deploy.md "Decision records"): the audit trail, kept for
 * `decisionRecords.retentionDays` (TTL on expiresAt), long after the ledger's items have expired.
 *
 * - Encrypted with its own customer managed key, not the AWS managed one: the records hold personal
 *   data (names, comments, the context read), and with a CMK reading them takes kms:Decrypt on this
 *   key as well as DynamoDB read access, each use is in CloudTrail, and disabling the key makes every
 *   copy unreadable (the table, its PITR backups). About 1 USD a month; DynamoDB caches the data key.
 * - RETAIN for the table and the key: deleting the stack must not delete an audit trail (a table
 *   without its key cannot be read). Deletion protection guards it against DeleteTable too.
 * - Only the worker writes (the http function hands its records over through the queue); auditors
 *   get a read-only managed policy, attached to whoever needs it.
 */
import { CfnOutput, RemovalPolicy, Stack } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import { Construct } from "constructs";
import { DECISION_RECORDS_TABLE } from "../lib/adapters/aws/decision-records-items.ts";
import { DECISION_RECORDS_TABLE_OUTPUT } from "../lib/adapters/aws/stack-decision-records.ts";

/** The stack output holding the auditors' policy ARN. */
export const AUDITOR_POLICY_OUTPUT = "DecisionRecordsAuditorPolicyArn";

/** What the worker does to the table (lib/adapters/aws/dynamodb-decision-records.ts `put`). */
export const DECISION_RECORDS_WRITE_ACTIONS = ["dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Query"];
/** What `decisions list/show` and `rules replay --stack` do (and what the console needs to browse). */
export const DECISION_RECORDS_READ_ACTIONS = [
  "dynamodb:BatchGetItem",
  "dynamodb:DescribeTable",
  "dynamodb:GetItem",
  "dynamodb:Query",
  "dynamodb:Scan",
];

export interface DecisionRecordsProps {
  retentionDays: number;
}

export class DecisionRecords extends Construct {
  readonly table: dynamodb.Table;
  readonly key: kms.Key;
  readonly auditorPolicy: iam.ManagedPolicy;
  readonly retentionDays: number;

  constructor(scope: Construct, id: string, props: DecisionRecordsProps) {
    super(scope, id);
    this.retentionDays = props.retentionDays;
    const { partitionKey, sortKey, ttlAttribute, indexes, filterAttributes } = DECISION_RECORDS_TABLE;

    this.key = new kms.Key(this, "Key", {
      description: "Encrypts the ISC trigger responder's decision records (personal data, audit trail)",
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table = new dynamodb.Table(this, "Table", {
      partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const [indexName, index] of Object.entries(indexes)) {
      this.table.addGlobalSecondaryIndex({
        indexName,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.NUMBER },
        // Keys and the filter attributes only: a record's body is stored once, read with BatchGetItem.
        projectionType: dynamodb.ProjectionType.INCLUDE,
        nonKeyAttributes: [...filterAttributes],
      });
    }

    const stack = Stack.of(this);
    this.auditorPolicy = new iam.ManagedPolicy(this, "AuditorPolicy", {
      description:
        "Read-only access to the ISC trigger responder's decision records (isc-responder decisions --stack, rules replay --stack)",
      statements: [
        new iam.PolicyStatement({
          actions: DECISION_RECORDS_READ_ACTIONS,
          // The indexes by name: no wildcard.
          resources: [
            this.table.tableArn,
            ...Object.keys(indexes).map((name) => `${this.table.tableArn}/index/${name}`),
          ],
        }),
        new iam.PolicyStatement({
          actions: ["kms:Decrypt", "kms:DescribeKey"],
          resources: [this.key.keyArn],
        }),
        // `--stack NAME` finds the table in the stack's outputs.
        new iam.PolicyStatement({ actions: ["cloudformation:DescribeStacks"], resources: [stack.stackId] }),
      ],
    });

    new CfnOutput(stack, DECISION_RECORDS_TABLE_OUTPUT, {
      value: this.table.tableName,
      description: "Decision records table (isc-responder decisions --stack reads it)",
    });
    new CfnOutput(stack, AUDITOR_POLICY_OUTPUT, {
      value: this.auditorPolicy.managedPolicyArn,
      description: "Attach to the people or roles that may read the decision records",
    });
  }

  /** Lets `grantee` write records (the worker): put, replace and delete its items; no scan, no index. */
  grantWrite(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: DECISION_RECORDS_WRITE_ACTIONS,
      resourceArns: [this.table.tableArn],
    });
    this.key.grant(grantee, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey");
  }

  /** The variables the worker reads (docs/runtime-contract.md). */
  workerEnvironment(): Record<string, string> {
    return {
      DECISION_RECORDS_TABLE_NAME: this.table.tableName,
      DECISION_RECORDS_RETENTION_DAYS: String(this.retentionDays),
    };
  }

  /** The variables the http function reads: records on, handed to the worker through the queue. */
  httpEnvironment(): Record<string, string> {
    return { DECISION_RECORDS_RETENTION_DAYS: String(this.retentionDays) };
  }
}
