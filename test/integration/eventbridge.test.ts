/**
 * The EventBridge delivery path: SailPoint's partner event source → a bus → a rule on the partner
 * source prefix and the trigger id → an SQS queue the worker consumes.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  CreateEventBusCommand,
  CreatePartnerEventSourceCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { beforeAll, describe, expect, it } from "vitest";
import { invocationFromEventBridgeEvent } from "../../lib/triggers/index.ts";
import { EXAMPLES_DIR } from "../helpers/reference.ts";

const events = new EventBridgeClient({});
const sqs = new SQSClient({});
const example = JSON.parse(
  readFileSync(`${EXAMPLES_DIR}eventbridge-dynamic-approver.event.json`, "utf8"),
) as {
  source: string;
  "detail-type": string;
  detail: Record<string, unknown> & { _metadata: Record<string, string> };
};

const PARTNER_SOURCE = example.source.replace(/\/idn\/[^/]+$/, "/idn/access-request-pre-approval");
const ctx = { tenantBaseUrl: "https://acme.api.identitynow.com", responseDeadlineMs: () => 3_600_000 };
let busName = "";
let partnerBusArn = "";
let preApprovalQueue = "";
let dynamicQueue = "";

async function queueWithArn(name: string): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
  );
  return { url: QueueUrl ?? "", arn: Attributes?.QueueArn ?? "" };
}

async function drain(url: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!Messages?.length) return all;
    all.push(...Messages);
    for (const m of Messages)
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
  }
}

function preApprovalDetail(invocationId: string) {
  return {
    ...example.detail,
    _metadata: {
      ...example.detail._metadata,
      triggerId: "idn:access-request-pre-approval",
      invocationId,
      callbackURL: `https://acme.api.identitynow.com/beta/trigger-invocations/${invocationId}/complete`,
    },
  };
}

beforeAll(async () => {
  const suffix = randomUUID().slice(0, 8);
  // What ISC does (as the partner) when the EventBridge subscription is saved, then what the
  // customer does: associate the source with a bus of the same name (moto's default account).
  await events.send(new CreatePartnerEventSourceCommand({ Name: PARTNER_SOURCE, Account: "123456789012" }));
  const partnerBus = await events.send(
    new CreateEventBusCommand({ Name: PARTNER_SOURCE, EventSourceName: PARTNER_SOURCE }),
  );
  partnerBusArn = partnerBus.EventBusArn ?? "";
  // moto 5.x cannot put rules on that bus: EventsBackend._normalize_event_bus_arn keeps only the
  // text after the last "/" of the bus name, so PutRule answers ResourceNotFoundException. The rules
  // therefore live on a custom bus; the events keep the partner source, which is what the rule matches.
  busName = `sailpoint-triggers-${suffix}`;
  await events.send(new CreateEventBusCommand({ Name: busName }));
  const pre = await queueWithArn(`eb-pre-approval-${suffix}`);
  const dyn = await queueWithArn(`eb-dynamic-${suffix}`);
  preApprovalQueue = pre.url;
  dynamicQueue = dyn.url;
  const rules = [
    { name: `pre-approval-${suffix}`, detailType: "idn:access-request-pre-approval", arn: pre.arn },
    { name: `dynamic-${suffix}`, detailType: "idn:access-request-dynamic-approver", arn: dyn.arn },
  ];
  for (const rule of rules) {
    await events.send(
      new PutRuleCommand({
        Name: rule.name,
        EventBusName: busName,
        EventPattern: JSON.stringify({
          source: [{ prefix: "aws.partner/sailpoint.com" }],
          "detail-type": [rule.detailType],
        }),
      }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: rule.name,
        EventBusName: busName,
        Targets: [{ Id: "queue", Arn: rule.arn }],
      }),
    );
  }
});

describe("EventBridge → SQS (moto)", () => {
  it("a bus can be associated with the SailPoint partner event source", () => {
    expect(partnerBusArn).toMatch(
      /:event-bus\/aws\.partner\/sailpoint\.com\/.+\/idn\/access-request-pre-approval$/,
    );
  });

  it("a pre-approval event from the partner source reaches the queue and parses as an Invocation", async () => {
    const invocationId = randomUUID();
    const put = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: busName,
            Source: PARTNER_SOURCE,
            DetailType: "idn:access-request-pre-approval",
            Detail: JSON.stringify(preApprovalDetail(invocationId)),
          },
        ],
      }),
    );
    expect(put.FailedEntryCount).toBe(0);
    const messages = await drain(preApprovalQueue);
    expect(messages).toHaveLength(1);
    const event = JSON.parse(messages[0]?.Body ?? "");
    expect(event).toMatchObject({ source: PARTNER_SOURCE, "detail-type": "idn:access-request-pre-approval" });
    const invocation = invocationFromEventBridgeEvent(event, ctx);
    expect(invocation).toMatchObject({
      triggerId: "idn:access-request-pre-approval",
      invocationId,
      mode: "eventbridge",
      callbackUrl: `https://acme.api.identitynow.com/beta/trigger-invocations/${invocationId}/complete`,
    });
    expect(invocation.secret?.reveal()).toBe(example.detail._metadata.secret);
  });

  it("the documented dynamic-approver example goes to its own rule's queue, not the pre-approval one", async () => {
    await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: busName,
            Source: example.source,
            DetailType: example["detail-type"],
            Detail: JSON.stringify(example.detail),
          },
        ],
      }),
    );
    const dynamic = await drain(dynamicQueue);
    expect(dynamic).toHaveLength(1);
    const invocation = invocationFromEventBridgeEvent(JSON.parse(dynamic[0]?.Body ?? ""), ctx);
    expect(invocation).toMatchObject({
      triggerId: "idn:access-request-dynamic-approver",
      invocationId: "37d6df15-0da2-4e8f-b73a-e644ca0385ef",
    });
    expect(await drain(preApprovalQueue)).toHaveLength(0);
  });

  it("events from another source or with another detail-type match no rule", async () => {
    await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: busName,
            Source: "com.example.not-sailpoint",
            DetailType: "idn:access-request-pre-approval",
            Detail: JSON.stringify(preApprovalDetail(randomUUID())),
          },
          {
            EventBusName: busName,
            Source: PARTNER_SOURCE,
            DetailType: "idn:access-request-post-approval",
            Detail: JSON.stringify({ accessRequestId: "x" }),
          },
        ],
      }),
    );
    expect(await drain(preApprovalQueue)).toHaveLength(0);
    expect(await drain(dynamicQueue)).toHaveLength(0);
  });
});
