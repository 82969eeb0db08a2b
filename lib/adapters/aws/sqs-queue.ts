/**
 * InvocationQueue on SQS: the message body is the JSON QueuedInvocation. It holds the invocation
 * secret, so the stack encrypts the queue and its DLQs with a customer-managed KMS key whose policy
 * admits only the http function and the worker (and listed operator roles); of those, only the worker
 * may receive (infra/stack.ts, docs/deploy.md "Queue encryption"). Message attributes carry only
 * routing facts (trigger id, mode, invocation id), never the secret.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { QueuedInvocation } from "../../triggers/queued-invocation.ts";
import { AwsServiceError } from "../errors.ts";
import { queueMessageBody, routingOf } from "../queue-body.ts";
import {
  type InvocationQueue,
  MAX_REDELIVERY_DELAY_SECONDS,
  type QueueMessage,
  type RedeliveryQueue,
} from "../types.ts";
import { sqsClient } from "./clients.ts";

export interface SqsInvocationQueueOptions {
  queueUrl: string;
  client?: SQSClient;
}

export class SqsInvocationQueue implements InvocationQueue, RedeliveryQueue {
  readonly #queueUrl: string;
  readonly #client: SQSClient | undefined;

  constructor(options: SqsInvocationQueueOptions) {
    this.#queueUrl = options.queueUrl;
    this.#client = options.client;
  }

  async enqueue(message: QueueMessage): Promise<void> {
    await this.#send(message, undefined, undefined);
  }

  async redeliverLater(message: QueuedInvocation, delaySeconds: number, signal?: AbortSignal): Promise<void> {
    const delay = Math.min(Math.max(Math.floor(delaySeconds), 0), MAX_REDELIVERY_DELAY_SECONDS);
    await this.#send(message, Number.isFinite(delay) ? delay : 0, signal);
  }

  async #send(
    message: QueueMessage,
    delaySeconds: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const client = this.#client ?? (await sqsClient());
    const { SendMessageCommand } = await import("@aws-sdk/client-sqs");
    const routed = routingOf(message);
    const attributes: Record<string, { DataType: string; StringValue: string }> = {
      triggerId: { DataType: "String", StringValue: routed.triggerId },
      mode: { DataType: "String", StringValue: routed.mode },
    };
    if (message.kind === "decision-record")
      attributes.kind = { DataType: "String", StringValue: message.kind };
    if (routed.invocationId !== undefined) {
      attributes.invocationId = { DataType: "String", StringValue: routed.invocationId };
    }
    try {
      await client.send(
        new SendMessageCommand({
          QueueUrl: this.#queueUrl,
          MessageBody: queueMessageBody(message),
          MessageAttributes: attributes,
          ...(delaySeconds === undefined ? {} : { DelaySeconds: delaySeconds }),
        }),
        signal === undefined ? {} : { abortSignal: signal },
      );
    } catch (error) {
      throw new AwsServiceError("SQS", "SendMessage", error);
    }
  }
}
