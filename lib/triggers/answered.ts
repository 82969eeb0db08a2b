/**
 * The decision an HTTP reply already gave (sync mode), carried with the actions-only copy of the
 * invocation the http function queues: the worker runs exactly these actions instead of deciding
 * again (live context may have changed, and actions must belong to the answer ISC received).
 */
import * as z from "zod/mini";

export const QueuedActionSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("update-task-status"),
    taskId: z.string().check(z.minLength(1), z.maxLength(128)),
    completionStatus: z.enum(["SUCCESS", "WARNING", "ERROR", "TERMINATED", "TEMPERROR"]),
    completed: z.optional(z.string().check(z.maxLength(40))),
  }),
  z.strictObject({
    type: z.literal("complete-campaign"),
    campaignId: z.string().check(z.minLength(1), z.maxLength(128)),
    autoCompleteAction: z.optional(z.enum(["APPROVE", "REVOKE"])),
  }),
  z.strictObject({ type: z.literal("request-role-insights") }),
]);

export const AnsweredDecisionSchema = z.strictObject({
  ruleId: z.string().check(z.maxLength(200)),
  rulesVersion: z.string().check(z.regex(/^sha256:[0-9a-f]{64}$|^[\w:.-]{1,100}$/)),
  actions: z.array(QueuedActionSchema).check(z.maxLength(200)),
});
export type AnsweredDecision = z.infer<typeof AnsweredDecisionSchema>;
