/**
 * The subscriptions custom resource: keeps one ISC trigger subscription per enabled trigger pointing
 * at this deployment. Create adopts an existing subscription of the trigger (ISC allows one per
 * REQUEST_RESPONSE trigger) or creates one; Update replaces it with a full PUT; a change of trigger id
 * yields a new PhysicalResourceId so CloudFormation deletes the old one in its cleanup; Delete deletes
 * it (or disables it when configured to retain). The physical id is the ISC subscription id.
 */
import type { CallOptions } from "../isc/types.ts";
import { exampleAccessRequestInput } from "../triggers/examples.ts";
import { InvalidFilterError, SubscriptionOperationError } from "./errors.ts";
import { parseSubscriptionProperties } from "./properties.ts";
import type {
  Subscription,
  SubscriptionPostRequest,
  SubscriptionSpec,
  SubscriptionsApi,
  WebhookAuth,
} from "./types.ts";

/** The Provider framework's onEvent input (the fields used here). */
export interface CustomResourceEvent {
  RequestType: "Create" | "Update" | "Delete";
  PhysicalResourceId?: string;
  ResourceProperties: Record<string, unknown>;
  OldResourceProperties?: Record<string, unknown>;
}

export interface CustomResourceResult {
  PhysicalResourceId: string;
  Data?: Record<string, string>;
}

export interface ReconcileDeps {
  api: SubscriptionsApi;
  /** Reads the webhook credentials secret (only for HTTP delivery, only when needed). */
  webhookAuth: () => Promise<WebhookAuth>;
  /** Bounds of each ISC call (the Lambda's remaining time). */
  callOptions?: () => CallOptions;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

/** A valid access request input, the mock validate-filter evaluates the filter against (synthetic ids). */
export const FILTER_SAMPLE_INPUT: Record<string, unknown> = exampleAccessRequestInput({ itemDetails: true });

/** The full subscription object this deployment wants (POST body; the PUT body is the same minus triggerId). */
export function desiredSubscription(
  spec: SubscriptionSpec,
  auth: WebhookAuth | undefined,
): SubscriptionPostRequest {
  const body: SubscriptionPostRequest = {
    name: spec.name,
    description: spec.description,
    triggerId: spec.triggerId,
    type: spec.delivery,
    responseDeadline: spec.responseDeadline,
    enabled: true,
  };
  if (spec.filter) body.filter = spec.filter;
  if (spec.delivery === "HTTP") {
    if (!spec.url || !auth)
      throw new Error("HTTP delivery needs the Function URL and the webhook credentials");
    body.httpConfig =
      auth.type === "bearer"
        ? {
            url: spec.url,
            httpDispatchMode: spec.httpDispatchMode,
            httpAuthenticationType: "BEARER_TOKEN",
            bearerTokenAuthConfig: { bearerToken: auth.token },
          }
        : {
            url: spec.url,
            httpDispatchMode: spec.httpDispatchMode,
            httpAuthenticationType: "BASIC_AUTH",
            basicAuthConfig: { userName: auth.username, password: auth.password },
          };
  } else {
    body.eventBridgeConfig = { awsAccount: spec.awsAccount ?? "", awsRegion: spec.awsRegion ?? "" };
  }
  return body;
}

/** validate-filter before any write: an invalid JSONPath fails the deployment with a clear reason. */
export async function checkFilter(
  api: SubscriptionsApi,
  spec: SubscriptionSpec,
  options?: CallOptions,
): Promise<string | undefined> {
  if (!spec.filter) return undefined;
  let result: Awaited<ReturnType<SubscriptionsApi["validateFilter"]>>;
  try {
    result = await api.validateFilter({ input: FILTER_SAMPLE_INPUT, filter: spec.filter }, options);
  } catch (error) {
    const status = (error as { status?: unknown }).status;
    if (status === 400) throw new InvalidFilterError(spec.triggerId, spec.filter, describeRefusal(error));
    throw new SubscriptionOperationError("validating the filter of", spec.triggerId, error);
  }
  if (result.isValidJSONPath === false) {
    throw new InvalidFilterError(spec.triggerId, spec.filter, "it is not a valid JSONPath expression");
  }
  // A valid filter that does not match the sample, or names a path the sample lacks, is allowed.
  return result.isPathExist === false
    ? "the filter names a path that the sample access request does not have"
    : undefined;
}

function describeRefusal(error: unknown): string {
  const e = error as { message?: string; detailCode?: string; trackingId?: string };
  const parts = [
    e.message,
    e.detailCode && `detailCode "${e.detailCode}"`,
    e.trackingId && `trackingId ${e.trackingId}`,
  ];
  return parts.filter(Boolean).join(", ");
}

/** The subscription of this trigger, if the tenant has one (there is at most one per REQUEST_RESPONSE trigger). */
export async function findSubscriptionForTrigger(
  api: SubscriptionsApi,
  triggerId: string,
  options?: CallOptions,
): Promise<Subscription | undefined> {
  const found = await api.listSubscriptions({ filters: `triggerId eq "${triggerId}"` }, options);
  return found.find((subscription) => subscription.triggerId === triggerId);
}

function isNotFound(error: unknown): boolean {
  const status = (error as { status?: unknown } | undefined)?.status;
  return status === 404;
}

/** Creates the subscription, or adopts the trigger's existing one with a full PUT. */
async function createOrAdopt(deps: ReconcileDeps, spec: SubscriptionSpec): Promise<CustomResourceResult> {
  const options = deps.callOptions?.();
  const filterWarning = await checkFilter(deps.api, spec, options);
  const auth = spec.delivery === "HTTP" ? await deps.webhookAuth() : undefined;
  const body = desiredSubscription(spec, auth);

  let existing: Subscription | undefined;
  try {
    existing = await findSubscriptionForTrigger(deps.api, spec.triggerId, options);
  } catch (error) {
    throw new SubscriptionOperationError("looking up", spec.triggerId, error);
  }

  let saved: Subscription;
  if (existing) {
    deps.log?.("adopting the trigger's existing subscription", {
      triggerId: spec.triggerId,
      id: existing.id,
    });
    saved = await put(deps, existing.id, body, options);
  } else {
    try {
      saved = await deps.api.createSubscription(body, options);
    } catch (error) {
      throw new SubscriptionOperationError("creating", spec.triggerId, error);
    }
    deps.log?.("created the subscription", { triggerId: spec.triggerId, id: saved.id });
  }
  return result(saved, spec, existing !== undefined, filterWarning);
}

async function put(
  deps: ReconcileDeps,
  id: string,
  body: SubscriptionPostRequest,
  options: CallOptions | undefined,
): Promise<Subscription> {
  // triggerId is immutable and not part of the PUT body.
  const { triggerId, ...putBody } = body;
  try {
    return await deps.api.updateSubscription(id, putBody, options);
  } catch (error) {
    throw new SubscriptionOperationError(`updating (PUT ${id})`, triggerId, error);
  }
}

function result(
  saved: Subscription,
  spec: SubscriptionSpec,
  adopted: boolean,
  filterWarning: string | undefined,
): CustomResourceResult {
  return {
    PhysicalResourceId: saved.id,
    Data: {
      SubscriptionId: saved.id,
      TriggerId: spec.triggerId,
      Adopted: String(adopted),
      ...(filterWarning ? { FilterWarning: filterWarning } : {}),
    },
  };
}

async function update(
  deps: ReconcileDeps,
  spec: SubscriptionSpec,
  oldSpec: SubscriptionSpec | undefined,
  physicalId: string,
): Promise<CustomResourceResult> {
  if (oldSpec !== undefined && oldSpec.triggerId !== spec.triggerId) {
    // A new trigger is a new subscription: the new id makes CloudFormation delete the old one afterwards.
    deps.log?.("trigger changed: replacing the subscription", {
      from: oldSpec.triggerId,
      to: spec.triggerId,
    });
    return createOrAdopt(deps, spec);
  }
  const options = deps.callOptions?.();
  const filterWarning = await checkFilter(deps.api, spec, options);
  const auth = spec.delivery === "HTTP" ? await deps.webhookAuth() : undefined;
  const body = desiredSubscription(spec, auth);
  try {
    const { triggerId: _immutable, ...putBody } = body;
    const saved = await deps.api.updateSubscription(physicalId, putBody, options);
    return result(saved, spec, false, filterWarning);
  } catch (error) {
    if (!isNotFound(error))
      throw new SubscriptionOperationError(`updating (PUT ${physicalId})`, spec.triggerId, error);
    // Deleted outside CloudFormation: subscribe again (the new id retires the old one).
    deps.log?.("subscription gone: creating it again", { triggerId: spec.triggerId, id: physicalId });
    return createOrAdopt(deps, spec);
  }
}

async function remove(
  deps: ReconcileDeps,
  spec: SubscriptionSpec,
  physicalId: string,
): Promise<CustomResourceResult> {
  const options = deps.callOptions?.();
  try {
    if (spec.retainOnDelete) {
      await deps.api.patchSubscription(
        physicalId,
        [{ op: "replace", path: "/enabled", value: false }],
        options,
      );
      deps.log?.("disabled the subscription (retainOnDelete)", { triggerId: spec.triggerId, id: physicalId });
    } else {
      await deps.api.deleteSubscription(physicalId, options);
      deps.log?.("deleted the subscription", { triggerId: spec.triggerId, id: physicalId });
    }
  } catch (error) {
    // Already gone (or never created: a failed Create leaves a physical id ISC does not know).
    if (!isNotFound(error) && !isRefusedId(error)) {
      throw new SubscriptionOperationError(
        spec.retainOnDelete ? "disabling" : "deleting",
        spec.triggerId,
        error,
      );
    }
  }
  return { PhysicalResourceId: physicalId };
}

/** The client refuses ids that are not plain id characters before sending them; nothing to delete then. */
function isRefusedId(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === "ISC_REQUEST_REFUSED";
}

/** The custom resource's onEvent: one Create/Update/Delete for one trigger subscription. */
export async function handleSubscriptionEvent(
  event: CustomResourceEvent,
  deps: ReconcileDeps,
): Promise<CustomResourceResult> {
  const spec = parseSubscriptionProperties(event.ResourceProperties);
  switch (event.RequestType) {
    case "Create":
      return createOrAdopt(deps, spec);
    case "Update": {
      const oldSpec = event.OldResourceProperties ? safeParseOld(event.OldResourceProperties) : undefined;
      return update(deps, spec, oldSpec, requirePhysicalId(event));
    }
    case "Delete":
      return remove(deps, spec, requirePhysicalId(event));
  }
}

function safeParseOld(properties: Record<string, unknown>): SubscriptionSpec | undefined {
  try {
    return parseSubscriptionProperties(properties);
  } catch {
    return undefined;
  }
}

function requirePhysicalId(event: CustomResourceEvent): string {
  if (!event.PhysicalResourceId) throw new Error(`${event.RequestType} event without a PhysicalResourceId`);
  return event.PhysicalResourceId;
}
