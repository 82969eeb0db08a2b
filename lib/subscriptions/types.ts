/**
 * The subset of the ISC API client the subscriptions custom resource and the token rotation call.
 * IscClient (lib/isc/client.ts) implements it; tests may pass a fake.
 */
import type {
  Subscription,
  SubscriptionPostRequest,
  SubscriptionPutRequest,
  ValidateFilterResult,
} from "../isc/schemas.ts";
import type { CallOptions, JsonPatchOperation } from "../isc/types.ts";

export type { Subscription, SubscriptionPostRequest, SubscriptionPutRequest, ValidateFilterResult };

export interface SubscriptionsApi {
  listSubscriptions(query: { filters?: string }, options?: CallOptions): Promise<Subscription[]>;
  createSubscription(body: SubscriptionPostRequest, options?: CallOptions): Promise<Subscription>;
  updateSubscription(id: string, body: SubscriptionPutRequest, options?: CallOptions): Promise<Subscription>;
  patchSubscription(
    id: string,
    operations: JsonPatchOperation[],
    options?: CallOptions,
  ): Promise<Subscription>;
  deleteSubscription(id: string, options?: CallOptions): Promise<void>;
  validateFilter(
    request: { input: Record<string, unknown>; filter: string },
    options?: CallOptions,
  ): Promise<ValidateFilterResult>;
}

/** How ISC authenticates to the http function: from the webhook credentials secret (runtime contract). */
export type WebhookAuth =
  | { type: "bearer"; token: string }
  | { type: "basic"; username: string; password: string };

/** The subscription one custom resource manages (its CloudFormation properties, parsed). */
export interface SubscriptionSpec {
  triggerId: string;
  name: string;
  description: string;
  delivery: "HTTP" | "EVENTBRIDGE";
  /** HTTP: where ISC posts (the Function URL) and how it expects the reply. */
  url?: string;
  httpDispatchMode: "SYNC" | "ASYNC" | "DYNAMIC";
  /** EVENTBRIDGE: the account and region of the partner event source. */
  awsAccount?: string;
  awsRegion?: string;
  responseDeadline: string;
  filter?: string;
  /** Stack deletion (or cleanup after a replacement) disables instead of deleting. */
  retainOnDelete: boolean;
}
