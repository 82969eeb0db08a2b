/**
 * The message that carries an invocation from the HTTP handler to the worker through the queue.
 * It holds the secret in clear (the queue is encrypted and only the two functions may use it), so
 * it is built and read only here.
 */
import * as z from "zod/mini";
import { issuesFromZod, ValidationError } from "../errors.ts";
import { AnsweredDecisionSchema } from "./answered.ts";
import type { Invocation } from "./invocation.ts";
import { AccessRequestInputSchema, FireAndForgetInputSchema } from "./schemas.ts";
import { InvocationSecret } from "./secret.ts";
import { FIRE_AND_FORGET_TRIGGERS, REQUEST_RESPONSE_TRIGGERS } from "./trigger-ids.ts";

const common = {
  kind: z.literal("isc-invocation"),
  version: z.literal(1),
  invocationId: z.optional(z.string().check(z.minLength(1))),
  mode: z.enum(["sync", "async", "dynamic", "eventbridge"]),
  receivedAt: z.number(),
  deadline: z.number(),
};

export const QueuedInvocationSchema = z.discriminatedUnion("triggerType", [
  z.object({
    ...common,
    triggerType: z.literal("requestResponse"),
    triggerId: z.enum(REQUEST_RESPONSE_TRIGGERS),
    callbackUrl: z.optional(z.string()),
    secret: z.optional(z.string()),
    input: AccessRequestInputSchema,
    answered: z.optional(AnsweredDecisionSchema),
  }),
  z.object({
    ...common,
    triggerType: z.literal("fireAndForget"),
    triggerId: z.enum(FIRE_AND_FORGET_TRIGGERS),
    input: FireAndForgetInputSchema,
  }),
]);
export type QueuedInvocation = z.infer<typeof QueuedInvocationSchema>;

export function toQueuedInvocation(invocation: Invocation): QueuedInvocation {
  const common = {
    kind: "isc-invocation" as const,
    version: 1 as const,
    invocationId: invocation.invocationId,
    mode: invocation.mode,
    receivedAt: invocation.receivedAt,
    deadline: invocation.deadline,
  };
  if (invocation.triggerType === "fireAndForget") {
    return {
      ...common,
      triggerType: "fireAndForget",
      triggerId: invocation.triggerId,
      input: invocation.input,
    };
  }
  return {
    ...common,
    triggerType: "requestResponse",
    triggerId: invocation.triggerId,
    callbackUrl: invocation.callbackUrl,
    secret: invocation.secret?.reveal(),
    input: invocation.input,
    ...(invocation.answered === undefined ? {} : { answered: invocation.answered }),
  };
}

/**
 * Back to an Invocation. The callbackURL is re-checked against the tenant by the caller's
 * `checkCallbackUrl` before any completion (the client does it), so a tampered message cannot
 * redirect the secret.
 */
export function fromQueuedInvocation(message: unknown): Invocation {
  const result = z.safeParse(QueuedInvocationSchema, message);
  if (!result.success) throw new ValidationError("queued invocation", issuesFromZod(result.error.issues));
  const m = result.data;
  const base = { invocationId: m.invocationId, mode: m.mode, receivedAt: m.receivedAt, deadline: m.deadline };
  if (m.triggerType === "fireAndForget") {
    return {
      ...base,
      triggerType: "fireAndForget",
      triggerId: m.triggerId,
      input: m.input,
      callbackUrl: undefined,
      secret: undefined,
    };
  }
  return {
    ...base,
    triggerType: "requestResponse",
    triggerId: m.triggerId,
    input: m.input,
    callbackUrl: m.callbackUrl,
    secret: m.secret === undefined ? undefined : new InvocationSecret(m.secret),
    ...(m.answered === undefined ? {} : { answered: m.answered }),
  };
}

export function isQueuedInvocation(value: unknown): boolean {
  return (
    typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "isc-invocation"
  );
}
