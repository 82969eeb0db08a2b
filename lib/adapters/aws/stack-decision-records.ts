/**
 * `--stack NAME`: the decision records of a deployed stack. The table name comes from the stack's
 * `DecisionRecordsTableName` output (infra/decision-records.ts); AWS credentials and region as the
 * SDK finds them (AWS_PROFILE, AWS_REGION, ...), or `options.region`.
 */
import type { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import type { DecisionRecordSource } from "../../audit/types.ts";
import { ResponderError } from "../../errors.ts";
import { AWS_HTTP_TIMEOUTS } from "./clients.ts";
import { DynamoDbDecisionRecords, type DynamoDbDecisionRecordsOptions } from "./dynamodb-decision-records.ts";

/** The stack output holding the table name (infra/decision-records.ts declares it). */

/** DescribeStacks, retries included, must answer within this (a CLI command must not hang). */
const DESCRIBE_STACKS_TIMEOUT_MS = 15_000;
export const DECISION_RECORDS_TABLE_OUTPUT = "DecisionRecordsTableName";

/** The stack, or its table output, is not there; the message says what to do. */
export class StackDecisionRecordsError extends ResponderError {
  readonly stackName: string;
  constructor(stackName: string, message: string, options: { cause?: unknown } = {}) {
    super("STACK_DECISION_RECORDS_UNAVAILABLE", message, { httpStatus: 404, cause: options.cause });
    this.stackName = stackName;
  }
}

export interface StackDecisionRecordsOptions
  extends Pick<DynamoDbDecisionRecordsOptions, "maxRequests" | "lookbackDays" | "onTruncated"> {
  region?: string;
  /** A CloudFormation client (tests); default one for `region`. */
  cloudFormation?: Pick<CloudFormationClient, "send">;
}

/** Reads the stack's table name and returns its decision records (read-only use: list and find). */
export async function openStackDecisionRecords(
  stackName: string,
  options: StackDecisionRecordsOptions = {},
): Promise<DecisionRecordSource & { tableName: string }> {
  const { CloudFormationClient, DescribeStacksCommand } = await import("@aws-sdk/client-cloudformation");
  const cloudFormation =
    options.cloudFormation ??
    new CloudFormationClient({
      requestHandler: { ...AWS_HTTP_TIMEOUTS },
      ...(options.region === undefined ? {} : { region: options.region }),
    });
  const where = options.region === undefined ? "" : ` in ${options.region}`;
  let outputs: Array<{ OutputKey?: string; OutputValue?: string }>;
  try {
    // The client bounds each attempt (AWS_HTTP_TIMEOUTS); this bounds the call, retries included.
    const reply = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }), {
      abortSignal: AbortSignal.timeout(DESCRIBE_STACKS_TIMEOUT_MS),
    });
    outputs = reply.Stacks?.[0]?.Outputs ?? [];
  } catch (error) {
    const message = (error as { message?: unknown } | undefined)?.message;
    // CloudFormation answers an unknown stack with ValidationError "Stack with id X does not exist".
    if (typeof message === "string" && /does not exist/i.test(message)) {
      throw new StackDecisionRecordsError(
        stackName,
        `stack ${stackName} was not found${where}: check the name (stackName in responder.config.json) and the region (--region or AWS_REGION)`,
        { cause: error },
      );
    }
    const name = (error as { name?: unknown } | undefined)?.name;
    throw new StackDecisionRecordsError(
      stackName,
      `stack ${stackName} could not be described${where}${typeof name === "string" ? ` (${name})` : ""}: check your AWS credentials and their cloudformation:DescribeStacks permission`,
      { cause: error },
    );
  }
  const tableName = outputs.find((o) => o.OutputKey === DECISION_RECORDS_TABLE_OUTPUT)?.OutputValue;
  if (tableName === undefined || tableName === "") {
    throw new StackDecisionRecordsError(
      stackName,
      `stack ${stackName} has no ${DECISION_RECORDS_TABLE_OUTPUT} output: deploy this version with decisionRecords.enabled true (the default), or read a local file with --records PATH`,
    );
  }
  const store = new DynamoDbDecisionRecords({
    tableName,
    ...(options.maxRequests === undefined ? {} : { maxRequests: options.maxRequests }),
    ...(options.lookbackDays === undefined ? {} : { lookbackDays: options.lookbackDays }),
    ...(options.onTruncated === undefined ? {} : { onTruncated: options.onTruncated }),
    ...(options.region === undefined ? {} : { client: await documentClientIn(options.region) }),
  });
  return {
    tableName,
    list: (filter, callOptions) => store.list(filter, callOptions),
    find: (id, callOptions) => store.find(id, callOptions),
  };
}

/** A DocumentClient in `region` (the container's shared client uses the default region). */
async function documentClientIn(region: string) {
  const [{ DynamoDBClient }, { DynamoDBDocumentClient }] = await Promise.all([
    import("@aws-sdk/client-dynamodb"),
    import("@aws-sdk/lib-dynamodb"),
  ]);
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({ region, requestHandler: { ...AWS_HTTP_TIMEOUTS } }),
  );
}
