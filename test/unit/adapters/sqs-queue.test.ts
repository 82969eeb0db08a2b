import type { SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { SqsInvocationQueue } from "../../../lib/adapters/aws/sqs-queue.ts";
import { MemoryQueue } from "../../../lib/adapters/local/memory-queue.ts";
import { fromQueuedInvocation, type QueuedInvocation } from "../../../lib/triggers/index.ts";
import { queuedInvocation } from "./fixtures.ts";

// SQS accepts only these characters in a body; others are refused (InvalidMessageContents) or replaced.
const SQS_BODY = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

// Characters a requester can type into a comment or a name, that JSON.stringify leaves as they are.
const AWKWARD = "end\uFFFF \uFFFE done";

function queued(): QueuedInvocation {
  return queuedInvocation("37d6df15-0da2-4e8f-b73a-e644ca0385ef", AWKWARD);
}

function commentOf(body: string): unknown {
  const invocation = fromQueuedInvocation(JSON.parse(body));
  return invocation.triggerType === "requestResponse"
    ? invocation.input.requestedItems[0]?.comment
    : undefined;
}

describe("queue message bodies", () => {
  it("SqsInvocationQueue sends only characters SQS accepts, and the input parses back unchanged", async () => {
    const bodies: string[] = [];
    const client = {
      send: async (command: { input: { MessageBody?: string } }) => {
        bodies.push(command.input.MessageBody ?? "");
        return {};
      },
    } as unknown as SQSClient;
    await new SqsInvocationQueue({ queueUrl: "https://sqs.local/q", client }).enqueue(queued());
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toMatch(SQS_BODY);
    expect(commentOf(bodies[0] as string)).toBe(AWKWARD);
  });

  it("MemoryQueue refuses a body SQS would refuse, and enqueue writes the same safe body as SQS", async () => {
    const queue = new MemoryQueue();
    expect(() => queue.send("bad \uFFFF body")).toThrow(/InvalidMessageContents|characters/);
    expect(() => queue.send("")).toThrow();
    await queue.enqueue(queued());
    const [record] = queue.receive();
    expect(record?.body).toMatch(SQS_BODY);
    expect(commentOf(record?.body ?? "")).toBe(AWKWARD);
  });
});
