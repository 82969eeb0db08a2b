/**
 * An in-process queue with the SQS semantics the worker relies on, so the local runner drives the
 * real worker handler: a received message is invisible for the visibility timeout and reappears if
 * it is not deleted; each receive increments ApproximateReceiveCount; a message already received
 * maxReceiveCount times goes to the dead-letter list instead of being delivered again; the consumer
 * deletes what a batch handler did not report in batchItemFailures (Lambda's ReportBatchItemFailures).
 */
import { createHash, randomUUID } from "node:crypto";
import type { SQSBatchResponse, SQSMessageAttributes, SQSRecord } from "aws-lambda";
import type { QueuedInvocation } from "../../triggers/queued-invocation.ts";
import { queueMessageBody, routingOf, sqsBodyProblem } from "../queue-body.ts";
import {
  type InvocationQueue,
  MAX_REDELIVERY_DELAY_SECONDS,
  type QueueMessage,
  type RedeliveryQueue,
} from "../types.ts";

export interface MemoryQueueOptions {
  name?: string;
  /** Default 30 s, as SQS. */
  visibilityTimeoutMs?: number;
  /** Receives before a message goes to the dead-letter list (the redrive policy); default 3. */
  maxReceiveCount?: number;
  now?: () => number;
}

export interface DeadLetter {
  messageId: string;
  body: string;
  messageAttributes: SQSMessageAttributes;
  receiveCount: number;
}

interface StoredMessage {
  messageId: string;
  body: string;
  messageAttributes: SQSMessageAttributes;
  sentAt: number;
  firstReceivedAt: number | undefined;
  receiveCount: number;
  visibleAt: number;
  /** The receipt handle of the latest receive; a delete with an older handle is ignored, as SQS would. */
  receiptHandle: string | undefined;
}

// biome-ignore lint/suspicious/noConfusingVoidType: a Lambda SQS handler may return nothing (no failures)
export type BatchHandler = (records: SQSRecord[]) => Promise<SQSBatchResponse | undefined | void>;

export interface ConsumerOptions {
  /** Messages per handler call, 1..10 (default 10). */
  batchSize?: number;
  /** Sleep between empty receives (default 25 ms). */
  pollMs?: number;
  /** Parallel pollers, like Lambda's concurrent batches (default 1). */
  concurrency?: number;
  /** Called when the handler throws (the whole batch is then retried after the visibility timeout). */
  onError?: (error: unknown) => void;
}

export interface Consumer {
  /** Stops polling and waits for in-flight batches to finish and delete their messages. */
  stop(): Promise<void>;
  /**
   * Simulates a crashed worker: stops polling at once and never deletes what is in flight, so those
   * messages reappear after the visibility timeout. Handlers already running are not interrupted.
   */
  crash(): void;
  /** Batches handed to the handler so far. */
  readonly batches: number;
}

export function stringAttribute(value: string): SQSMessageAttributes[string] {
  return { dataType: "String", stringValue: value, stringListValues: [], binaryListValues: [] };
}

export class MemoryQueue implements InvocationQueue, RedeliveryQueue {
  readonly name: string;
  readonly visibilityTimeoutMs: number;
  readonly maxReceiveCount: number;
  readonly #now: () => number;
  readonly #messages = new Map<string, StoredMessage>();
  readonly #deadLetters: DeadLetter[] = [];
  readonly #waiters = new Set<() => void>();

  constructor(options: MemoryQueueOptions = {}) {
    this.name = options.name ?? "local-invocations";
    this.visibilityTimeoutMs = options.visibilityTimeoutMs ?? 30_000;
    this.maxReceiveCount = options.maxReceiveCount ?? 3;
    this.#now = options.now ?? Date.now;
  }

  async enqueue(message: QueueMessage): Promise<void> {
    this.sendLater(message, 0);
  }

  async redeliverLater(message: QueuedInvocation, delaySeconds: number): Promise<void> {
    this.sendLater(message, delaySeconds * 1000);
  }

  /** SendMessage of a queued invocation, visible after `delayMs` (clamped to SQS's 0..900 s). */
  sendLater(message: QueueMessage, delayMs: number): void {
    const delay = Number.isFinite(delayMs)
      ? Math.min(Math.max(delayMs, 0), MAX_REDELIVERY_DELAY_SECONDS * 1000)
      : 0;
    const routed = routingOf(message);
    this.send(
      queueMessageBody(message),
      { triggerId: stringAttribute(routed.triggerId), mode: stringAttribute(routed.mode) },
      delay,
    );
  }

  /** SendMessage (with DelaySeconds as `delayMs`): returns the message id. */
  send(body: string, messageAttributes: SQSMessageAttributes = {}, delayMs = 0): string {
    // Refuse what SQS refuses, so a body that only works locally is caught here.
    const problem = sqsBodyProblem(body);
    if (problem !== undefined) throw new Error(`SendMessage refused: ${problem}`);
    const messageId = randomUUID();
    const now = this.#now();
    this.#messages.set(messageId, {
      messageId,
      body,
      messageAttributes,
      sentAt: now,
      firstReceivedAt: undefined,
      receiveCount: 0,
      visibleAt: now + delayMs,
      receiptHandle: undefined,
    });
    for (const wake of this.#waiters) wake();
    return messageId;
  }

  /** ReceiveMessage: up to `max` visible messages, now invisible for the visibility timeout. */
  receive(max = 10): SQSRecord[] {
    const now = this.#now();
    const records: SQSRecord[] = [];
    for (const message of this.#messages.values()) {
      if (records.length >= max) break;
      if (message.visibleAt > now) continue;
      if (message.receiveCount >= this.maxReceiveCount) {
        // SQS moves it on the receive that would exceed maxReceiveCount.
        this.#messages.delete(message.messageId);
        this.#deadLetters.push({
          messageId: message.messageId,
          body: message.body,
          messageAttributes: message.messageAttributes,
          receiveCount: message.receiveCount,
        });
        continue;
      }
      message.receiveCount += 1;
      message.firstReceivedAt ??= now;
      message.visibleAt = now + this.visibilityTimeoutMs;
      message.receiptHandle = `${message.messageId}:${message.receiveCount}:${randomUUID()}`;
      records.push(this.#toRecord(message));
    }
    return records;
  }

  /** DeleteMessage: false if the handle is stale (the message was received again since) or gone. */
  delete(receiptHandle: string): boolean {
    const messageId = receiptHandle.split(":")[0] ?? "";
    const message = this.#messages.get(messageId);
    if (message === undefined || message.receiptHandle !== receiptHandle) return false;
    this.#messages.delete(messageId);
    return true;
  }

  /** ChangeMessageVisibility (0 makes it visible at once). */
  changeVisibility(receiptHandle: string, timeoutMs: number): boolean {
    const messageId = receiptHandle.split(":")[0] ?? "";
    const message = this.#messages.get(messageId);
    if (message === undefined || message.receiptHandle !== receiptHandle) return false;
    message.visibleAt = this.#now() + timeoutMs;
    return true;
  }

  /** Messages that exhausted their receives (the DLQ). */
  get deadLetters(): readonly DeadLetter[] {
    return this.#deadLetters;
  }

  /** Approximate counts, as SQS reports them. */
  stats(): { visible: number; inFlight: number; deadLetters: number } {
    const now = this.#now();
    let visible = 0;
    let inFlight = 0;
    for (const message of this.#messages.values()) {
      if (message.visibleAt > now) inFlight += 1;
      else visible += 1;
    }
    return { visible, inFlight, deadLetters: this.#deadLetters.length };
  }

  /** True when nothing is left to deliver or in flight. */
  isDrained(): boolean {
    return this.#messages.size === 0;
  }

  /**
   * Polls the queue and calls `handler` with batches of SQSRecord-like objects, as the Lambda SQS
   * event source mapping does with ReportBatchItemFailures: records not listed in
   * batchItemFailures are deleted; listed ones (or the whole batch, if the handler throws) come
   * back after the visibility timeout.
   */
  startConsumer(handler: BatchHandler, options: ConsumerOptions = {}): Consumer {
    const batchSize = Math.min(Math.max(options.batchSize ?? 10, 1), 10);
    const pollMs = options.pollMs ?? 25;
    const concurrency = Math.max(options.concurrency ?? 1, 1);
    let running = true;
    let crashed = false;
    let batches = 0;
    const loops: Promise<void>[] = [];

    const sleep = () =>
      new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.#waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, pollMs);
        this.#waiters.add(wake);
      });

    const settle = (records: SQSRecord[], response: SQSBatchResponse | undefined) => {
      if (crashed) return;
      const failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      for (const record of records) {
        if (!failed.has(record.messageId)) this.delete(record.receiptHandle);
      }
    };

    const loop = async () => {
      while (running) {
        const records = this.receive(batchSize);
        if (records.length === 0) {
          await sleep();
          continue;
        }
        batches += 1;
        try {
          settle(records, (await handler(records)) ?? undefined);
        } catch (error) {
          options.onError?.(error);
        }
      }
    };

    for (let i = 0; i < concurrency; i++) loops.push(loop());
    const wakeAll = () => {
      for (const wake of [...this.#waiters]) wake();
    };
    return {
      async stop() {
        running = false;
        wakeAll();
        await Promise.all(loops);
      },
      crash() {
        running = false;
        crashed = true;
        wakeAll();
      },
      get batches() {
        return batches;
      },
    };
  }

  #toRecord(message: StoredMessage): SQSRecord {
    return {
      messageId: message.messageId,
      receiptHandle: message.receiptHandle ?? "",
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(message.sentAt),
        SenderId: "local",
        ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt ?? message.sentAt),
      },
      messageAttributes: message.messageAttributes,
      md5OfBody: createHash("md5").update(message.body).digest("hex"),
      eventSource: "aws:sqs",
      eventSourceARN: `arn:aws:sqs:local:000000000000:${this.name}`,
      awsRegion: "local",
    };
  }
}
