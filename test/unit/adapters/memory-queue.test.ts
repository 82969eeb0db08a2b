import type { SQSRecord } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { MemoryQueue } from "../../../lib/adapters/local/memory-queue.ts";
import { fromQueuedInvocation } from "../../../lib/triggers/index.ts";
import { queuedInvocation } from "./fixtures.ts";

async function until(condition: () => boolean, limitMs = 5_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("MemoryQueue (SQS semantics)", () => {
  it("hides received messages for the visibility timeout and counts receives", () => {
    let now = 0;
    const queue = new MemoryQueue({ visibilityTimeoutMs: 1_000, maxReceiveCount: 5, now: () => now });
    queue.send("a");
    const [first] = queue.receive();
    expect(first?.attributes.ApproximateReceiveCount).toBe("1");
    expect(queue.receive()).toHaveLength(0);
    expect(queue.stats()).toEqual({ visible: 0, inFlight: 1, deadLetters: 0 });
    now = 1_000;
    const [again] = queue.receive();
    expect(again?.messageId).toBe(first?.messageId);
    expect(again?.attributes.ApproximateReceiveCount).toBe("2");
    // the first receipt handle is stale now
    expect(queue.delete(first?.receiptHandle ?? "")).toBe(false);
    expect(queue.delete(again?.receiptHandle ?? "")).toBe(true);
    expect(queue.isDrained()).toBe(true);
  });

  it("moves a message received maxReceiveCount times to the dead-letter list", () => {
    let now = 0;
    const queue = new MemoryQueue({ visibilityTimeoutMs: 10, maxReceiveCount: 2, now: () => now });
    queue.send("poison", { triggerId: { dataType: "String", stringValue: "t" } });
    expect(queue.receive()).toHaveLength(1);
    now += 10;
    expect(queue.receive()).toHaveLength(1);
    now += 10;
    expect(queue.receive()).toHaveLength(0);
    expect(queue.deadLetters).toEqual([
      expect.objectContaining({ body: "poison", receiveCount: 2, messageAttributes: expect.any(Object) }),
    ]);
    expect(queue.isDrained()).toBe(true);
  });

  it("redeliverLater sends the invocation again as a new message, visible after its delay (at most 900 s)", async () => {
    let now = 0;
    const queue = new MemoryQueue({ visibilityTimeoutMs: 1_000, maxReceiveCount: 1, now: () => now });
    const message = queuedInvocation("37d6df15-0da2-4e8f-b73a-e644ca0385ef");
    await queue.redeliverLater(message, 3);
    expect(queue.receive()).toHaveLength(0);
    now = 3_000;
    const [copy] = queue.receive();
    expect(fromQueuedInvocation(JSON.parse(copy?.body ?? "")).invocationId).toBe(message.invocationId);
    expect(copy?.attributes.ApproximateReceiveCount).toBe("1");
    await queue.redeliverLater(message, 5_000);
    now += 899_999;
    expect(queue.receive()).toHaveLength(0);
    now += 1;
    expect(queue.receive()).toHaveLength(1);
  });

  it("respects the batch size and changeVisibility", () => {
    const now = 0;
    const queue = new MemoryQueue({ now: () => now });
    for (let i = 0; i < 15; i++) queue.send(String(i));
    expect(queue.receive(10)).toHaveLength(10);
    const rest = queue.receive(10);
    expect(rest.map((r) => r.body)).toEqual(["10", "11", "12", "13", "14"]);
    expect(queue.changeVisibility(rest[0]?.receiptHandle ?? "", 0)).toBe(true);
    expect(queue.receive(10).map((r) => r.body)).toEqual(["10"]);
  });

  it("enqueue sends the JSON QueuedInvocation with a trigger id attribute (no secret in attributes)", async () => {
    const queue = new MemoryQueue();
    await queue.enqueue(queuedInvocation("6b3ab7a0-1b5b-4a5e-8a66-0c3f7cbf2a11"));
    const [record] = queue.receive();
    expect(record?.messageAttributes.triggerId?.stringValue).toBe("idn:access-request-pre-approval");
    expect(JSON.stringify(record?.messageAttributes)).not.toContain("s3cr3t-value");
    const invocation = fromQueuedInvocation(JSON.parse(record?.body ?? ""));
    expect(invocation.invocationId).toBe("6b3ab7a0-1b5b-4a5e-8a66-0c3f7cbf2a11");
    expect(invocation.secret?.reveal()).toBe("s3cr3t-value");
    expect(record?.eventSource).toBe("aws:sqs");
  });

  it("consumer deletes successes, retries reported failures, and dead-letters after maxReceiveCount", async () => {
    const queue = new MemoryQueue({ visibilityTimeoutMs: 20, maxReceiveCount: 2 });
    const seen = new Map<string, number>();
    const consumer = queue.startConsumer(
      async (records: SQSRecord[]) => {
        const failures = [];
        for (const record of records) {
          seen.set(record.body, (seen.get(record.body) ?? 0) + 1);
          if (record.body === "bad") failures.push({ itemIdentifier: record.messageId });
        }
        return { batchItemFailures: failures };
      },
      { batchSize: 5, pollMs: 5 },
    );
    for (const body of ["a", "b", "bad", "c"]) queue.send(body);
    await until(() => queue.deadLetters.length === 1 && queue.isDrained());
    await consumer.stop();
    expect(seen.get("a")).toBe(1);
    expect(seen.get("c")).toBe(1);
    expect(seen.get("bad")).toBe(2);
    expect(queue.deadLetters[0]?.body).toBe("bad");
    expect(consumer.batches).toBeGreaterThanOrEqual(2);
  });

  it("a throwing handler fails the whole batch", async () => {
    const queue = new MemoryQueue({ visibilityTimeoutMs: 10, maxReceiveCount: 2 });
    const errors: unknown[] = [];
    const consumer = queue.startConsumer(
      async () => {
        throw new Error("handler crashed");
      },
      { pollMs: 5, onError: (e) => errors.push(e) },
    );
    queue.send("x");
    queue.send("y");
    await until(() => queue.deadLetters.length === 2);
    await consumer.stop();
    expect(errors.length).toBeGreaterThanOrEqual(2);
  });

  it("stop() waits for the in-flight batch and deletes its messages", async () => {
    const queue = new MemoryQueue({ visibilityTimeoutMs: 60_000 });
    let started = false;
    let finished = false;
    const consumer = queue.startConsumer(
      async () => {
        started = true;
        await new Promise((r) => setTimeout(r, 30));
        finished = true;
        return { batchItemFailures: [] };
      },
      { pollMs: 5 },
    );
    queue.send("slow");
    await until(() => started);
    await consumer.stop();
    expect(finished).toBe(true);
    expect(queue.isDrained()).toBe(true);
  });

  it("crash() abandons in-flight messages, which reappear after the visibility timeout", async () => {
    const queue = new MemoryQueue({ visibilityTimeoutMs: 30, maxReceiveCount: 5 });
    let release: () => void = () => {};
    const first = queue.startConsumer(
      () =>
        new Promise((resolve) => {
          release = () => resolve({ batchItemFailures: [] });
        }),
      { pollMs: 5 },
    );
    queue.send("m");
    await until(() => queue.stats().inFlight === 1);
    first.crash();
    release(); // the crashed worker's handler finishing must not delete anything
    await new Promise((r) => setTimeout(r, 5));
    expect(queue.isDrained()).toBe(false);

    const received: SQSRecord[] = [];
    const second = queue.startConsumer(
      async (records) => {
        received.push(...records);
        return { batchItemFailures: [] };
      },
      { pollMs: 5 },
    );
    await until(() => queue.isDrained());
    await second.stop();
    expect(received).toHaveLength(1);
    expect(received[0]?.attributes.ApproximateReceiveCount).toBe("2");
  });

  it("concurrent pollers deliver each message once", async () => {
    const queue = new MemoryQueue({ visibilityTimeoutMs: 60_000 });
    const bodies: string[] = [];
    const consumer = queue.startConsumer(
      async (records) => {
        await new Promise((r) => setTimeout(r, 1));
        bodies.push(...records.map((r) => r.body));
        return { batchItemFailures: [] };
      },
      { batchSize: 3, pollMs: 2, concurrency: 4 },
    );
    for (let i = 0; i < 50; i++) queue.send(String(i));
    await until(() => queue.isDrained());
    await consumer.stop();
    expect(bodies.sort()).toEqual(Array.from({ length: 50 }, (_, i) => String(i)).sort());
  });
});
