/**
 * zod/mini schemas of the ISC responses the client reads (beta OpenAPI subset in
 * shared/reference/openapi). Tolerant of extra fields (looseObject: ISC adds fields without notice),
 * strict on the fields we rely on.
 */
import * as z from "zod/mini";

const optionalString = z.optional(z.string());
const nullableString = z.optional(z.nullable(z.string()));

// The token and error bodies every request may read live apart: the http bundle's context reads need
// them without the rest of this file.
export {
  type IscErrorBody,
  IscErrorBodySchema,
  type OAuthToken,
  OAuthTokenSchema,
} from "./transport-schemas.ts";

export const SubscriptionTypeSchema = z.enum(["HTTP", "EVENTBRIDGE", "INLINE", "SCRIPT", "WORKFLOW"]);
export const HttpDispatchModeSchema = z.enum(["SYNC", "ASYNC", "DYNAMIC"]);
export const HttpAuthenticationTypeSchema = z.enum(["NO_AUTH", "BASIC_AUTH", "BEARER_TOKEN"]);

export const HttpConfigSchema = z.looseObject({
  url: z.string(),
  httpDispatchMode: HttpDispatchModeSchema,
  httpAuthenticationType: z.optional(HttpAuthenticationTypeSchema),
  basicAuthConfig: z.optional(
    z.nullable(z.looseObject({ userName: optionalString, password: nullableString })),
  ),
  bearerTokenAuthConfig: z.optional(z.nullable(z.looseObject({ bearerToken: nullableString }))),
});
export type HttpConfig = z.infer<typeof HttpConfigSchema>;

export const EventBridgeConfigSchema = z.looseObject({
  awsAccount: z.string(),
  awsRegion: z.string(),
});
export type EventBridgeConfig = z.infer<typeof EventBridgeConfigSchema>;

export const SubscriptionSchema = z.looseObject({
  id: z.string().check(z.minLength(1)),
  name: z.string(),
  description: nullableString,
  triggerId: z.string().check(z.minLength(1)),
  triggerName: z.string(),
  type: SubscriptionTypeSchema,
  responseDeadline: nullableString,
  httpConfig: z.optional(z.nullable(HttpConfigSchema)),
  eventBridgeConfig: z.optional(z.nullable(EventBridgeConfigSchema)),
  enabled: z.boolean(),
  filter: nullableString,
});
export type Subscription = z.infer<typeof SubscriptionSchema>;
export const SubscriptionListSchema = z.array(SubscriptionSchema);

/** What createSubscription sends (SubscriptionPostRequest). */
export interface SubscriptionPostRequest {
  name: string;
  description?: string;
  triggerId: string;
  type: z.infer<typeof SubscriptionTypeSchema>;
  responseDeadline?: string;
  httpConfig?: {
    url: string;
    httpDispatchMode: z.infer<typeof HttpDispatchModeSchema>;
    httpAuthenticationType?: z.infer<typeof HttpAuthenticationTypeSchema>;
    basicAuthConfig?: { userName?: string; password?: string | null } | null;
    bearerTokenAuthConfig?: { bearerToken?: string | null } | null;
  };
  eventBridgeConfig?: { awsAccount: string; awsRegion: string };
  enabled?: boolean;
  filter?: string;
}

/** What updateSubscription sends (SubscriptionPutRequest: the whole object, id and triggerId immutable). */
export type SubscriptionPutRequest = Omit<SubscriptionPostRequest, "triggerId"> & {
  /** Not part of the PUT body; if given it must equal the existing subscription's (checked client-side). */
  id?: string;
  triggerId?: string;
};

export const ValidateFilterResultSchema = z.looseObject({
  isValid: z.optional(z.boolean()),
  isValidJSONPath: z.optional(z.boolean()),
  isPathExist: z.optional(z.boolean()),
});
export type ValidateFilterResult = z.infer<typeof ValidateFilterResultSchema>;

export const TestInvocationSchema = z.looseObject({
  id: z.string().check(z.minLength(1)),
  triggerId: z.string(),
  secret: z.string(),
  contentJson: z.optional(z.nullable(z.looseObject({}))),
});
export type TestInvocation = z.infer<typeof TestInvocationSchema>;
export const TestInvocationListSchema = z.array(TestInvocationSchema);

export const InvocationStatusSchema = z.looseObject({
  id: z.string().check(z.minLength(1)),
  triggerId: z.string(),
  subscriptionId: z.string(),
  subscriptionName: z.string(),
  type: z.string(),
  created: z.string(),
  completed: nullableString,
  startInvocationInput: z.looseObject({
    triggerId: optionalString,
    input: z.optional(z.nullable(z.looseObject({}))),
    contentJson: z.optional(z.nullable(z.looseObject({}))),
  }),
  completeInvocationInput: z.optional(
    z.nullable(
      z.looseObject({
        localizedError: z.optional(
          z.nullable(z.looseObject({ locale: optionalString, message: optionalString })),
        ),
        output: z.optional(z.nullable(z.looseObject({}))),
      }),
    ),
  ),
});
export type InvocationStatus = z.infer<typeof InvocationStatusSchema>;
export const InvocationStatusListSchema = z.array(InvocationStatusSchema);

export const TriggerSchema = z.looseObject({
  id: z.string().check(z.minLength(1)),
  name: z.string(),
  type: z.enum(["REQUEST_RESPONSE", "FIRE_AND_FORGET"]),
  description: nullableString,
  inputSchema: z.optional(z.nullable(z.string())),
  exampleInput: z.optional(z.unknown()),
  outputSchema: z.optional(z.nullable(z.string())),
  exampleOutput: z.optional(z.unknown()),
});
export type Trigger = z.infer<typeof TriggerSchema>;
export const TriggerListSchema = z.array(TriggerSchema);

export const TaskCompletionStatusSchema = z.enum(["SUCCESS", "WARNING", "ERROR", "TERMINATED", "TEMPERROR"]);
export type TaskCompletionStatus = z.infer<typeof TaskCompletionStatusSchema>;

export const TaskStatusSchema = z.looseObject({
  id: z.string().check(z.minLength(1)),
  type: optionalString,
  uniqueName: optionalString,
  description: nullableString,
  launcher: nullableString,
  created: nullableString,
  modified: nullableString,
  launched: nullableString,
  completed: nullableString,
  // The docs' own example writes "Error": do not refuse a status we do not know.
  completionStatus: nullableString,
  progress: nullableString,
  percentComplete: z.optional(z.nullable(z.number())),
  messages: z.optional(z.nullable(z.array(z.unknown()))),
  attributes: z.optional(z.nullable(z.looseObject({}))),
});
export type TaskStatus = z.infer<typeof TaskStatusSchema>;

export const RoleInsightsStatusSchema = z.enum(["CREATED", "IN PROGRESS", "COMPLETED", "FAILED"]);
export const RoleInsightsRequestSchema = z.looseObject({
  id: z.string().check(z.minLength(1)),
  createdDate: optionalString,
  lastGenerated: nullableString,
  numberOfUpdates: z.optional(z.number()),
  roleIds: z.optional(z.nullable(z.array(z.string()))),
  status: RoleInsightsStatusSchema,
});
export type RoleInsightsRequest = z.infer<typeof RoleInsightsRequestSchema>;

/** Campaign completion answers 202 with `{}` (any object). */
export const AcceptedSchema = z.looseObject({});
