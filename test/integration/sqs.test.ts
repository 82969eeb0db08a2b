import { randomUUID } from "node:crypto";
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { beforeAll, describe, expect, it } from "vitest";
import { SqsInvocationQueue } from "../../lib/adapters/aws/sqs-queue.ts";
import { fromQueuedInvocation, type QueuedInvocation, toQueuedInvocation } from "../../lib/triggers/index.ts";

const client = new SQSClient({});
let queueUrl = "";
let dlqUrl = "";

async function createQueue(name: string, attributes: Record<string, string> = {}): Promise<string> {
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  return QueueUrl ?? "";
}

async function receive(url: string, wait = 1): Promise<Message[]> {
  const { Messages } = await client.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: wait,
      MessageAttributeNames: ["All"],
      MessageSystemAttributeNames: ["ApproximateReceiveCount"],
    }),
  );
  return Messages ?? [];
}

beforeAll(async () => {
  const suffix = randomUUID().slice(0, 8);
  dlqUrl = await createQueue(`invocations-dlq-${suffix}`);
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }),
  );
  queueUrl = await createQueue(`invocations-${suffix}`, {
    VisibilityTimeout: "30",
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount: "2" }),
  });
});

const INVOCATION_ID = "37d6df15-0da2-4e8f-b73a-e644ca0385ef";
const queued: QueuedInvocation = {
  kind: "isc-invocation",
  version: 1,
  invocationId: INVOCATION_ID,
  mode: "eventbridge",
  receivedAt: 1_800_000_000_000,
  deadline: 1_800_003_600_000,
  triggerType: "requestResponse",
  triggerId: "idn:access-request-dynamic-approver",
  callbackUrl: `https://acme.api.identitynow.com/beta/trigger-invocations/${INVOCATION_ID}/complete`,
  secret: "3a24d1e9-6d2d-484a-aece-7b760d7b9965",
  input: {
    accessRequestId: "4b4d982dddff4267ab12f0f1e72b5a6d",
    requestedFor: { id: "2c91808b6ef1d43e016efba0ce470909", name: "Ed Engineer", type: "IDENTITY" },
    requestedItems: [
      { id: "2c91808b6ef1d43e016efba0ce470904", name: "Eng", type: "ACCESS_PROFILE", operation: "Add" },
    ],
    requestedBy: { type: "IDENTITY", id: "2c91808b6ef1d43e016efba0ce470906", name: "Adam Admin" },
  } as Extract<QueuedInvocation, { triggerType: "requestResponse" }>["input"],
};

/** The queued invocation a received body holds (as the worker reads it), back in message form. */
function fromQueuedInvocationBody(body: string | undefined): QueuedInvocation {
  return toQueuedInvocation(fromQueuedInvocation(JSON.parse(body ?? "")));
}

describe("SQS (moto)", () => {
  it("SqsInvocationQueue round trip: the body parses back with fromQueuedInvocation; attributes hold no secret", async () => {
    await new SqsInvocationQueue({ queueUrl }).enqueue(queued);
    const [message] = await receive(queueUrl);
    expect(message?.MessageAttributes?.triggerId?.StringValue).toBe("idn:access-request-dynamic-approver");
    expect(message?.MessageAttributes?.invocationId?.StringValue).toBe(INVOCATION_ID);
    expect(JSON.stringify(message?.MessageAttributes)).not.toContain(
      queued.triggerType === "requestResponse" ? queued.secret : "",
    );
    const invocation = fromQueuedInvocation(JSON.parse(message?.Body ?? ""));
    expect(invocation).toMatchObject({
      invocationId: INVOCATION_ID,
      mode: "eventbridge",
      triggerId: queued.triggerId,
    });
    expect(invocation.secret?.reveal()).toBe("3a24d1e9-6d2d-484a-aece-7b760d7b9965");
    // fail it twice (visibility 0 = the consumer gave up) so it follows the redrive policy
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: message?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const [second] = await receive(queueUrl);
    expect(second?.Attributes?.ApproximateReceiveCount).toBe("2");
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: second?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    // the third receive finds nothing: SQS moved it to the DLQ (maxReceiveCount 2)
    expect(await receive(queueUrl, 0)).toHaveLength(0);
    const dead = await receive(dlqUrl);
    expect(dead).toHaveLength(1);
    expect(fromQueuedInvocation(JSON.parse(dead[0]?.Body ?? "")).invocationId).toBe(INVOCATION_ID);
  });

  it("redeliverLater sends the invocation again, delivered after its delay, with a fresh receive count", async () => {
    const queue = new SqsInvocationQueue({ queueUrl });
    await queue.enqueue(queued);
    const [first] = await receive(queueUrl);
    expect(first?.Attributes?.ApproximateReceiveCount).toBe("1");
    await queue.redeliverLater(fromQueuedInvocationBody(first?.Body), 2, AbortSignal.timeout(5_000));
    await client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: first?.ReceiptHandle }));
    // Delayed: not visible at once.
    expect(await receive(queueUrl, 0)).toHaveLength(0);
    const [copy] = await receive(queueUrl, 5);
    expect(JSON.parse(copy?.Body ?? "")).toEqual(JSON.parse(first?.Body ?? ""));
    expect(copy?.MessageAttributes?.invocationId?.StringValue).toBe(INVOCATION_ID);
    expect(copy?.Attributes?.ApproximateReceiveCount).toBe("1");
    await client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: copy?.ReceiptHandle }));
  });

  it("a missing queue is an AwsServiceError naming SendMessage", async () => {
    const missing = queueUrl.replace(/invocations-[^/]+$/, `nope-${randomUUID().slice(0, 8)}`);
    await expect(new SqsInvocationQueue({ queueUrl: missing }).enqueue(queued)).rejects.toMatchObject({
      code: "AWS_SERVICE_ERROR",
      operation: "SendMessage",
    });
  });
});
