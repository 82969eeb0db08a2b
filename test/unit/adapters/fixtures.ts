/** The queued async invocation the queue tests enqueue; `itemComment` puts text of the test's choosing in the body. */
import type { QueuedInvocation } from "../../../lib/triggers/index.ts";

export function queuedInvocation(id: string, itemComment?: string): QueuedInvocation {
  return {
    kind: "isc-invocation",
    version: 1,
    invocationId: id,
    mode: "async",
    receivedAt: 1,
    deadline: 2,
    triggerType: "requestResponse",
    triggerId: "idn:access-request-pre-approval",
    callbackUrl: `https://acme.api.identitynow.com/beta/trigger-invocations/${id}/complete`,
    secret: "s3cr3t-value",
    input: {
      accessRequestId: "ar1",
      requestedFor: { id: "i1", name: "Ed", type: "IDENTITY" },
      requestedItems: [
        {
          id: "x",
          name: "X",
          type: "ROLE",
          operation: "Add",
          ...(itemComment === undefined ? {} : { comment: itemComment }),
        },
      ],
      requestedBy: { type: "IDENTITY", id: "i2", name: "Adam" },
    } as Extract<QueuedInvocation, { triggerType: "requestResponse" }>["input"],
  };
}
