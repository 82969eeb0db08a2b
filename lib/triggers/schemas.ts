/**
 * zod schemas of every trigger payload: the single source of their types (z.infer).
 * zod/mini keeps the Lambda bundles small (15 KB against 85 KB for classic zod): these schemas sit
 * on the synchronous reply path.
 *
 * Inputs are tolerant (unknown fields kept, `requestedFor` as an object or an array), outputs are
 * strict: exactly the output schemas in shared/reference/trigger-schemas.
 */
import * as z from "zod/mini";

const nullableString = z.optional(z.nullable(z.string()));

/** `{type, id, name}` of an identity. `type` is loose: ISC sends "IDENTITY" but we need not refuse others. */
export const IdentityRefSchema = z.looseObject({
  id: z.string().check(z.minLength(1)),
  name: z.string(),
  type: z.string(),
});
export type IdentityRef = z.infer<typeof IdentityRefSchema>;

export const RequestedItemSchema = z.looseObject({
  id: z.string().check(z.minLength(1)),
  name: z.string(),
  description: nullableString,
  type: z.enum(["ACCESS_PROFILE", "ROLE", "ENTITLEMENT"]),
  operation: z.enum(["Add", "Remove"]),
  comment: nullableString,
  form: z.optional(z.nullable(z.looseObject({}))),
});
export type RequestedItem = z.infer<typeof RequestedItemSchema>;

/** Input of both REQUEST_RESPONSE access request triggers (pre-approval and dynamic approver). */
export const AccessRequestInputSchema = z.looseObject({
  accessRequestId: z.string().check(z.minLength(1)),
  // The current spec says array (1..10); every documented and observed payload sends one object.
  requestedFor: z.union([
    IdentityRefSchema,
    z.array(IdentityRefSchema).check(z.minLength(1), z.maxLength(10)),
  ]),
  requestedItems: z.array(RequestedItemSchema).check(z.minLength(1), z.maxLength(25)),
  requestedBy: IdentityRefSchema,
});
export type AccessRequestInput = z.infer<typeof AccessRequestInputSchema>;

/** FIRE_AND_FORGET inputs are not validated beyond being an object: rules may read them, nothing answers them. */
export const FireAndForgetInputSchema = z.looseObject({});
export type FireAndForgetInput = z.infer<typeof FireAndForgetInputSchema>;

export const PreApprovalOutputSchema = z.strictObject({
  approved: z.boolean(),
  comment: z.string(),
  approver: z.string(),
});
export type PreApprovalOutput = z.infer<typeof PreApprovalOutputSchema>;

export const DynamicApproverSchema = z.strictObject({
  id: z.string().check(z.minLength(1)),
  name: z.string(),
  type: z.enum(["IDENTITY", "GOVERNANCE_GROUP"]),
});
/** "No additional approver", as the trigger documentation writes it. */
export const NoAdditionalApproverSchema = z.strictObject({
  id: z.literal(""),
  name: z.literal(""),
  type: z.literal(""),
});
export const DynamicApproverOutputSchema = z.union([DynamicApproverSchema, NoAdditionalApproverSchema]);
export type DynamicApproverOutput = z.infer<typeof DynamicApproverOutputSchema>;
export const NO_ADDITIONAL_APPROVER: DynamicApproverOutput = Object.freeze({ id: "", name: "", type: "" });

export type TriggerOutput = PreApprovalOutput | DynamicApproverOutput;

export const ResponseModeSchema = z.enum(["sync", "async", "dynamic"]);
export type ResponseMode = z.infer<typeof ResponseModeSchema>;

/** `_metadata` of an HTTP delivery. `invocationId` is absent for REQUEST_RESPONSE: it is in the callbackURL. */
export const HttpMetadataSchema = z.looseObject({
  triggerId: z.string().check(z.minLength(1)),
  triggerType: z.enum(["requestResponse", "fireAndForget"]),
  responseMode: z.optional(ResponseModeSchema),
  callbackURL: z.optional(z.string()),
  secret: z.optional(z.string().check(z.minLength(1))),
  invocationId: z.optional(z.string().check(z.minLength(1))),
});
export type HttpMetadata = z.infer<typeof HttpMetadataSchema>;

/** The body ISC POSTs to an HTTP subscription: the trigger input at top level plus `_metadata`. */
export const HttpTriggerBodySchema = z.looseObject({ _metadata: HttpMetadataSchema });
export type HttpTriggerBody = z.infer<typeof HttpTriggerBodySchema>;

export const EventBridgeMetadataSchema = z.looseObject({
  invocationId: z.string().check(z.minLength(1)),
  triggerId: z.string().check(z.minLength(1)),
  triggerType: z.enum(["requestResponse", "fireAndForget"]),
  callbackURL: z.optional(z.string()),
  secret: z.optional(z.string().check(z.minLength(1))),
  responseMode: z.optional(z.string()),
});

/** An event from the SailPoint partner event source: `detail-type` = trigger id, `detail` = input + `_metadata`. */
export const EventBridgeTriggerEventSchema = z.looseObject({
  version: z.optional(z.string()),
  id: z.optional(z.string()),
  "detail-type": z.string().check(z.minLength(1)),
  source: z.string().check(z.startsWith("aws.partner/sailpoint.com")),
  account: z.optional(z.string()),
  time: z.optional(z.string()),
  region: z.optional(z.string()),
  resources: z.optional(z.array(z.unknown())),
  detail: z.looseObject({ _metadata: EventBridgeMetadataSchema }),
});
export type EventBridgeTriggerEvent = z.infer<typeof EventBridgeTriggerEventSchema>;

/** Body of POST /trigger-invocations/{id}/complete. `error` fails the invocation on purpose (output then `{}`). */
export const CompleteInvocationBodySchema = z.object({
  secret: z.string().check(z.minLength(1)),
  output: z.record(z.string(), z.unknown()),
  error: z.optional(z.string()),
});
export type CompleteInvocationBody = z.infer<typeof CompleteInvocationBodySchema>;
