/**
 * The SQS message body of a QueuedInvocation, shared by the SQS queue and the memory queue so both
 * carry exactly the same bytes. SQS accepts only #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD |
 * #x10000-#x10FFFF in a body; it refuses (or rewrites to U+FFFD) anything else. JSON.stringify
 * already escapes control characters and lone surrogates but leaves U+FFFE and U+FFFF, which a
 * requester can type into a comment: escaping them keeps the JSON value identical.
 */
import type { QueueMessage } from "./types.ts";

/** SQS SendMessage's body limit (1 MiB). */
export const SQS_MAX_BODY_BYTES = 1_048_576;

const INVALID_SQS_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export function queueMessageBody(message: QueueMessage): string {
  return JSON.stringify(message).replace(
    /[\uFFFE\uFFFF]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * The trigger and mode a message is routed by (SQS message attributes): an invocation's own, a
 * decision record's (lib/audit/queued-record.ts: version 1 carries the record, version 2 its draft).
 */
export function routingOf(message: QueueMessage): {
  triggerId: string;
  mode: string;
  invocationId?: string | undefined;
} {
  if (message.kind === "isc-invocation") return message;
  return message.version === 1 ? message.record : message.draft.invocation;
}

/** Why SQS would refuse this body, or undefined if it would take it. */
export function sqsBodyProblem(body: string): string | undefined {
  if (body.length === 0) return "the body is empty";
  if (INVALID_SQS_CHARACTER.test(body)) return "InvalidMessageContents: the body has characters SQS refuses";
  if (Buffer.byteLength(body, "utf8") > SQS_MAX_BODY_BYTES) return "the body is longer than 1 MiB";
  return undefined;
}
