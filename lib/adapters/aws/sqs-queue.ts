/**
 * InvocationQueue on SQS: the message body is the JSON QueuedInvocation (it holds the invocation
 * secret, so the queue must be KMS-encrypted and readable only by the worker). Message attributes
 * carry only routing facts (trigger id, mode, invocation id), never the secret.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { QueuedInvocation } from "../../triggers/queued-invocation.ts";
import { AwsServiceError } from "../errors.ts";
import { queueMessageBody } from "../queue-body.ts";
import { type InvocationQueue, MAX_REDELIVERY_DELAY_SECONDS, type RedeliveryQueue } from "../types.ts";
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

  async enqueue(message: QueuedInvocation): Promise<void> {
    await this.#send(message, undefined, undefined);
  }

  async redeliverLater(message: QueuedInvocation, delaySeconds: number, signal?: AbortSignal): Promise<void> {
    const delay = Math.min(Math.max(Math.floor(delaySeconds), 0), MAX_REDELIVERY_DELAY_SECONDS);
    await this.#send(message, Number.isFinite(delay) ? delay : 0, signal);
  }

  async #send(
    message: QueuedInvocation,
    delaySeconds: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const client = this.#client ?? (await sqsClient());
    const { SendMessageCommand } = await import("@aws-sdk/client-sqs");
    const attributes: Record<string, { DataType: string; StringValue: string }> = {
      triggerId: { DataType: "String", StringValue: message.triggerId },
      mode: { DataType: "String", StringValue: message.mode },
    };
    if (message.invocationId !== undefined) {
      attributes.invocationId = { DataType: "String", StringValue: message.invocationId };
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
