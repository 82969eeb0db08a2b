/**
 * A DecisionRecordSink over the invocation queue: the http function hands its records to the worker
 * (lib/worker/handler.ts validates and writes them). Builds the message only: nothing is parsed, and
 * queued-record.ts (the zod schema) stays out of the http bundle.
 */
import { untilAborted } from "../adapters/abortable.ts";
import type { InvocationQueue } from "../adapters/types.ts";
import type { QueuedDecisionRecord } from "./queued-record.ts";
import type { DecisionRecordSink } from "./types.ts";

export function queueRecordSink(queue: InvocationQueue): DecisionRecordSink {
  return {
    put: (record, options) => {
      const message: QueuedDecisionRecord = { kind: "decision-record", version: 1, record };
      return untilAborted(
        queue.enqueue(message),
        options?.signal,
        () => new Error("queueing the decision record was abandoned"),
      );
    },
  };
}
