/**
 * An AnswerRecordSink over the invocation queue: the http function hands the drafts of its records
 * to the worker (lib/worker/handler.ts validates them, builds the records and writes them). Builds
 * the message only: nothing is parsed or built here, so queued-record.ts (the zod schemas) and the
 * record builder stay out of the http bundle.
 */
import { untilAborted } from "../adapters/abortable.ts";
import type { InvocationQueue } from "../adapters/types.ts";
import type { AnswerRecordSink } from "./answer-draft.ts";
import type { QueuedDecisionRecord } from "./queued-record.ts";

export function queueRecordSink(queue: InvocationQueue): AnswerRecordSink {
  return {
    putAnswer: (draft, options) => {
      const message: QueuedDecisionRecord = { kind: "decision-record", version: 2, draft };
      return untilAborted(
        queue.enqueue(message),
        options?.signal,
        () => new Error("queueing the decision record was abandoned"),
      );
    },
  };
}
