/**
 * InvocationLedger on DynamoDB (table: partition key `invocationId` (S), TTL attribute `expiresAt`).
 * Every transition is one conditional write, so two Lambdas racing on the same invocation cannot
 * both decide, both hold the lease or both complete; a ConditionalCheckFailedException is an
 * expected outcome, answered from the item the failed write returns (ALL_OLD).
 *
 * Every call is bounded by its `signal`: the SDK gets it (and tears the request down), and the call
 * rejects with LedgerCallAbortedError when it aborts even if the SDK is still waiting (resolving
 * credentials, between retries).
 *
 * The decision's output and explanation are stored as JSON strings: a DynamoDB map refuses some
 * values (empty sets, NaN) and its marshalling would pull @aws-sdk/lib-dynamodb into the bundle.
 */
import type { AttributeValue, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { untilAborted } from "../abortable.ts";
import {
  AwsServiceError,
  awsErrorName,
  LedgerCallAbortedError,
  LedgerRecordNotFoundError,
} from "../errors.ts";
import { DEADLINE_PASSED, newLedgerRecord } from "../ledger-record.ts";
import type {
  InvocationLedger,
  LedgerCallOptions,
  LedgerDecision,
  LedgerRecord,
  LedgerState,
  ReceivedInvocation,
} from "../types.ts";
import { dynamoDbClient } from "./clients.ts";

type Item = Record<string, AttributeValue>;
/** The options of DynamoDBClient.send that carry the signal. */
type SendOptions = { abortSignal?: AbortSignal };

/**
 * DynamoDB items are limited to 400 KB, counted in UTF-8 bytes; an explanation above this is
 * replaced by a marker, so an oversized audit trail can never stop the decision from being stored.
 */
const MAX_EXPLANATION_BYTES = 300_000;

const NUMBER_FIELDS = [
  "receivedAt",
  "deadline",
  "expiresAt",
  "leaseUntil",
  "completedAt",
  "attempts",
  "updatedAt",
] as const;
const STRING_FIELDS = [
  "invocationId",
  "triggerId",
  "accessRequestId",
  "state",
  "leaseOwner",
  "outcome",
] as const;

export function toItem(record: LedgerRecord): Item {
  const item: Item = {};
  for (const field of STRING_FIELDS) {
    const value = record[field];
    if (value !== undefined) item[field] = { S: value };
  }
  for (const field of NUMBER_FIELDS) {
    const value = record[field];
    if (value !== undefined) item[field] = { N: String(value) };
  }
  if (record.decision !== undefined) Object.assign(item, decisionAttributes(record.decision));
  return item;
}

export function fromItem(item: Item): LedgerRecord {
  const record: Record<string, unknown> = {};
  for (const field of STRING_FIELDS) {
    const value = item[field]?.S;
    if (value !== undefined) record[field] = value;
  }
  for (const field of NUMBER_FIELDS) {
    const value = item[field]?.N;
    if (value !== undefined) record[field] = Number(value);
  }
  const output = item.decisionOutput?.S;
  if (output !== undefined) {
    const explanation = item.decisionExplanation?.S;
    record.decision = {
      output: JSON.parse(output) as Record<string, unknown>,
      explanation: explanation === undefined ? undefined : JSON.parse(explanation),
      fallback: item.decisionFallback?.BOOL === true,
      ...actionsFrom(item.decisionActions?.S),
      ...(Number(item.decidedAt?.N ?? 0) > 0 ? { decidedAt: Number(item.decidedAt?.N) } : {}),
    } satisfies LedgerDecision;
  }
  record.attempts ??= 0;
  return record as unknown as LedgerRecord;
}

function actionsFrom(json: string | undefined): Pick<LedgerDecision, "actions"> {
  const actions = json === undefined ? null : (JSON.parse(json) as LedgerDecision["actions"] | null);
  return actions === null || actions === undefined ? {} : { actions };
}

function decisionAttributes(decision: LedgerDecision): Item {
  let explanation = JSON.stringify(decision.explanation ?? null);
  const bytes = Buffer.byteLength(explanation, "utf8");
  if (bytes > MAX_EXPLANATION_BYTES) {
    explanation = JSON.stringify({ truncated: true, chars: explanation.length, bytes });
  }
  return {
    decisionOutput: { S: JSON.stringify(decision.output) },
    decisionExplanation: { S: explanation },
    decisionFallback: { BOOL: decision.fallback },
    // Stored so that a delivery resuming after a crash runs the same actions as the one that decided.
    decisionActions: { S: JSON.stringify(decision.actions ?? null) },
    // When it was decided, for the decision record of a later delivery that reuses it.
    decidedAt: { N: String(decision.decidedAt ?? 0) },
  };
}

const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });
const state = (value: LedgerState): AttributeValue => ({ S: value });

export interface DynamoDbInvocationLedgerOptions {
  tableName: string;
  client?: DynamoDBClient;
  /** Clock for updatedAt (epoch ms). */
  now?: () => number;
}

interface ConditionalOutcome {
  ok: boolean;
  /** The item after the write (ok) or as it was when the condition failed (not ok); undefined if absent. */
  item: Item | undefined;
}

export class DynamoDbInvocationLedger implements InvocationLedger {
  readonly #tableName: string;
  readonly #client: DynamoDBClient | undefined;
  readonly #now: () => number;

  constructor(options: DynamoDbInvocationLedgerOptions) {
    this.#tableName = options.tableName;
    this.#client = options.client;
    this.#now = options.now ?? Date.now;
  }

  async recordReceived(
    invocation: ReceivedInvocation,
    options?: LedgerCallOptions,
  ): Promise<{ created: boolean; record: LedgerRecord }> {
    const record = newLedgerRecord(invocation, this.#now());
    const { PutItemCommand } = await import("@aws-sdk/client-dynamodb");
    const result = await this.#conditional(
      "PutItem",
      async (client, sendOptions) => {
        await client.send(
          new PutItemCommand({
            TableName: this.#tableName,
            Item: toItem(record),
            ConditionExpression: "attribute_not_exists(#id)",
            ExpressionAttributeNames: { "#id": "invocationId" },
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          }),
          sendOptions,
        );
        return toItem(record);
      },
      invocation.invocationId,
      options?.signal,
    );
    if (result.ok) return { created: true, record };
    return { created: false, record: fromItem(this.#present(result.item, invocation.invocationId)) };
  }

  async get(invocationId: string, options?: LedgerCallOptions): Promise<LedgerRecord | undefined> {
    const item = await this.#getItem(invocationId, options?.signal);
    return item === undefined ? undefined : fromItem(item);
  }

  async recordDecision(
    invocationId: string,
    decision: LedgerDecision,
    options?: LedgerCallOptions,
  ): Promise<LedgerRecord> {
    const attributes = decisionAttributes(decision);
    const result = await this.#update(invocationId, options?.signal, {
      UpdateExpression:
        "SET #output = :output, #explanation = :explanation, #fallback = :fallback, #actions = :actions, #decidedAt = :decidedAt, #state = :decided, #updatedAt = :now",
      ConditionExpression: "attribute_exists(#id) AND #state = :received AND attribute_not_exists(#output)",
      ExpressionAttributeNames: {
        "#id": "invocationId",
        "#state": "state",
        "#output": "decisionOutput",
        "#explanation": "decisionExplanation",
        "#fallback": "decisionFallback",
        "#actions": "decisionActions",
        "#decidedAt": "decidedAt",
        "#updatedAt": "updatedAt",
      },
      ExpressionAttributeValues: {
        ":actions": attributes.decisionActions!,
        ":decidedAt": attributes.decidedAt!,
        ":output": attributes.decisionOutput!,
        ":explanation": attributes.decisionExplanation!,
        ":fallback": attributes.decisionFallback!,
        ":decided": state("decided"),
        ":received": state("received"),
        ":now": N(this.#now()),
      },
    });
    return fromItem(this.#present(result.item, invocationId));
  }

  async claimCompletion(
    invocationId: string,
    owner: string,
    leaseMs: number,
    now = Date.now(),
    options?: LedgerCallOptions,
  ): Promise<boolean> {
    const result = await this.#update(invocationId, options?.signal, {
      UpdateExpression: "SET #owner = :owner, #until = :until, #updatedAt = :updated ADD #attempts :one",
      ConditionExpression:
        "attribute_exists(#id) AND #state = :decided AND (attribute_not_exists(#until) OR #until <= :now OR #owner = :owner)",
      ExpressionAttributeNames: {
        "#id": "invocationId",
        "#state": "state",
        "#owner": "leaseOwner",
        "#until": "leaseUntil",
        "#attempts": "attempts",
        "#updatedAt": "updatedAt",
      },
      ExpressionAttributeValues: {
        ":owner": S(owner),
        ":until": N(now + leaseMs),
        ":now": N(now),
        ":one": N(1),
        ":decided": state("decided"),
        ":updated": N(this.#now()),
      },
    });
    this.#present(result.item, invocationId);
    return result.ok;
  }

  async markCompleted(
    invocationId: string,
    completedAt: number,
    outcome?: string,
    options?: LedgerCallOptions,
  ): Promise<boolean> {
    return this.#finish(
      invocationId,
      "completed",
      { "#completedAt": ["completedAt", N(completedAt)] },
      outcome,
      options?.signal,
    );
  }

  async markFailed(invocationId: string, outcome: string, options?: LedgerCallOptions): Promise<boolean> {
    return this.#finish(invocationId, "failed", {}, outcome, options?.signal);
  }

  async releaseCompletion(invocationId: string, owner: string, options?: LedgerCallOptions): Promise<void> {
    await this.#update(invocationId, options?.signal, {
      UpdateExpression: "REMOVE #owner, #until SET #updatedAt = :now",
      ConditionExpression: "#owner = :owner",
      ExpressionAttributeNames: { "#owner": "leaseOwner", "#until": "leaseUntil", "#updatedAt": "updatedAt" },
      ExpressionAttributeValues: { ":owner": S(owner), ":now": N(this.#now()) },
    });
  }

  async #finish(
    invocationId: string,
    final: "completed" | "failed",
    extra: Record<string, [string, AttributeValue]>,
    outcome: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    const names: Record<string, string> = {
      "#id": "invocationId",
      "#state": "state",
      "#owner": "leaseOwner",
      "#until": "leaseUntil",
      "#updatedAt": "updatedAt",
    };
    const values: Item = {
      ":final": state(final),
      ":received": state("received"),
      ":decided": state("decided"),
      ":now": N(this.#now()),
    };
    const sets = ["#state = :final", "#updatedAt = :now"];
    for (const [alias, [name, value]] of Object.entries(extra)) {
      names[alias] = name;
      values[`:${alias.slice(1)}`] = value;
      sets.push(`${alias} = :${alias.slice(1)}`);
    }
    const removes = ["#owner", "#until"];
    // The same rule as canFinish / canComplete (lib/adapters/ledger-record.ts): only an acknowledged
    // completion (no outcome) may supersede "deadline passed", and it clears that outcome.
    let condition = "attribute_exists(#id) AND (#state = :received OR #state = :decided)";
    if (outcome !== undefined) {
      names["#outcome"] = "outcome";
      values[":outcome"] = S(outcome);
      sets.push("#outcome = :outcome");
    } else if (final === "completed") {
      names["#outcome"] = "outcome";
      values[":failed"] = state("failed");
      values[":deadlinePassed"] = S(DEADLINE_PASSED);
      removes.push("#outcome");
      condition =
        "attribute_exists(#id) AND (#state = :received OR #state = :decided OR (#state = :failed AND #outcome = :deadlinePassed))";
    }
    const result = await this.#update(invocationId, signal, {
      UpdateExpression: `SET ${sets.join(", ")} REMOVE ${removes.join(", ")}`,
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
    this.#present(result.item, invocationId);
    return result.ok;
  }

  async #update(
    invocationId: string,
    signal: AbortSignal | undefined,
    input: {
      UpdateExpression: string;
      ConditionExpression: string;
      ExpressionAttributeNames: Record<string, string>;
      ExpressionAttributeValues: Item;
    },
  ): Promise<ConditionalOutcome> {
    const { UpdateItemCommand } = await import("@aws-sdk/client-dynamodb");
    return this.#conditional(
      "UpdateItem",
      async (client, sendOptions) => {
        const reply = await client.send(
          new UpdateItemCommand({
            TableName: this.#tableName,
            Key: { invocationId: S(invocationId) },
            ...input,
            ReturnValues: "ALL_NEW",
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          }),
          sendOptions,
        );
        return reply.Attributes;
      },
      invocationId,
      signal,
    );
  }

  /** Runs a conditional write; a failed condition is an outcome carrying the item as it was. */
  async #conditional(
    operation: string,
    write: (client: DynamoDBClient, sendOptions: SendOptions) => Promise<Item | undefined>,
    invocationId: string,
    signal: AbortSignal | undefined,
  ): Promise<ConditionalOutcome> {
    return this.#bounded(operation, signal, async () => {
      const client = this.#client ?? (await dynamoDbClient());
      try {
        return { ok: true, item: await write(client, sendOptions(signal)) };
      } catch (error) {
        if (signal?.aborted) throw new LedgerCallAbortedError(`DynamoDB ${operation}`, { cause: error });
        if (awsErrorName(error) !== "ConditionalCheckFailedException") {
          throw new AwsServiceError("DynamoDB", operation, error);
        }
        const old = (error as { Item?: Item }).Item;
        // ALL_OLD returns nothing when the item does not exist; read to tell "absent" from "not returned".
        return { ok: false, item: old !== undefined ? old : await this.#getItem(invocationId, signal) };
      }
    });
  }

  async #getItem(invocationId: string, signal: AbortSignal | undefined): Promise<Item | undefined> {
    return this.#bounded("GetItem", signal, async () => {
      const client = this.#client ?? (await dynamoDbClient());
      const { GetItemCommand } = await import("@aws-sdk/client-dynamodb");
      try {
        const reply = await client.send(
          new GetItemCommand({
            TableName: this.#tableName,
            Key: { invocationId: S(invocationId) },
            ConsistentRead: true,
          }),
          sendOptions(signal),
        );
        return reply.Item;
      } catch (error) {
        if (signal?.aborted) throw new LedgerCallAbortedError("DynamoDB GetItem", { cause: error });
        throw new AwsServiceError("DynamoDB", "GetItem", error);
      }
    });
  }

  /** Runs `work` unless `signal` has aborted, and stops waiting for it when `signal` aborts. */
  #bounded<T>(operation: string, signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
    const abandoned = () => new LedgerCallAbortedError(`DynamoDB ${operation}`, { cause: signal?.reason });
    if (signal?.aborted) return Promise.reject(abandoned());
    return untilAborted(work(), signal, abandoned);
  }

  #present(item: Item | undefined, invocationId: string): Item {
    if (item === undefined) throw new LedgerRecordNotFoundError(invocationId);
    return item;
  }
}

function sendOptions(signal: AbortSignal | undefined): SendOptions {
  return signal === undefined ? {} : { abortSignal: signal };
}
