/**
 * Trigger subscription rules as ISC applies them: required fields, HTTP needs httpConfig,
 * EVENTBRIDGE needs eventBridgeConfig, one subscription per REQUEST_RESPONSE trigger,
 * responseDeadline an ISO-8601 duration (default PT1H, truncated to whole minutes), immutable
 * id/triggerId, secrets write-only.
 */
import * as z from "zod/mini";
import { zodIssueTexts } from "../errors.ts";
import { parseIsoDuration, responseDeadlineMs } from "../triggers/duration.ts";
import { isRequestResponseTrigger } from "../triggers/trigger-ids.ts";
import { findTrigger } from "./catalog.ts";
import { badRequest, isPlainObject, notFound } from "./http.ts";
import { type PatchOperation, pointerTokens } from "./json-patch.ts";
import { compileJsonPath, JsonPathSyntaxError } from "./json-path.ts";
import type { SandboxState, StoredSubscription } from "./state.ts";

const HttpConfigSchema = z.object({
  url: z.string().check(z.minLength(1)),
  httpDispatchMode: z.enum(["SYNC", "ASYNC", "DYNAMIC"]),
  httpAuthenticationType: z.optional(z.enum(["NO_AUTH", "BASIC_AUTH", "BEARER_TOKEN"])),
  basicAuthConfig: z.optional(
    z.nullable(z.object({ userName: z.optional(z.string()), password: z.optional(z.nullable(z.string())) })),
  ),
  bearerTokenAuthConfig: z.optional(
    z.nullable(z.object({ bearerToken: z.optional(z.nullable(z.string())) })),
  ),
});

const SubscriptionBodySchema = z.object({
  id: z.optional(z.string()),
  name: z.string().check(z.minLength(1), z.maxLength(255)),
  description: z.optional(z.nullable(z.string())),
  triggerId: z.optional(z.string()),
  triggerName: z.optional(z.string()),
  type: z.enum(["HTTP", "EVENTBRIDGE", "INLINE", "SCRIPT", "WORKFLOW"]),
  responseDeadline: z.optional(z.nullable(z.string())),
  httpConfig: z.optional(z.nullable(HttpConfigSchema)),
  eventBridgeConfig: z.optional(z.nullable(z.object({ awsAccount: z.string(), awsRegion: z.string() }))),
  enabled: z.optional(z.nullable(z.boolean())),
  filter: z.optional(z.nullable(z.string())),
});

/** Fields no PUT or PATCH may change. */
const IMMUTABLE = ["id", "triggerId", "triggerName"];

function canonicalDeadline(text: string): string {
  let ms: number;
  let raw: number;
  try {
    raw = parseIsoDuration(text);
    ms = responseDeadlineMs(text);
  } catch {
    throw badRequest(
      "responseDeadline must be an ISO-8601 duration of at least one minute, like PT1H or PT30M",
      ["responseDeadline"],
    );
  }
  // Keep what the caller wrote unless ISC's truncation to whole minutes changed its value.
  if (raw === ms) return text;
  const minutes = ms / 60_000;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return `PT${hours > 0 ? `${hours}H` : ""}${rest > 0 ? `${rest}M` : ""}`;
}

/**
 * A validated subscription from a POST or PUT body. `existing` is the subscription a PUT replaces:
 * its id and trigger are kept, and write-only secrets sent back as null keep their stored value.
 */
export function subscriptionFromBody(
  body: unknown,
  state: SandboxState,
  id: string,
  existing?: StoredSubscription,
): StoredSubscription {
  if (!isPlainObject(body)) throw badRequest("The request body must be a JSON object");
  const parsed = z.safeParse(SubscriptionBodySchema, body);
  if (!parsed.success) {
    const causes = zodIssueTexts(parsed.error.issues, body);
    throw badRequest("The subscription is invalid", causes);
  }
  const input = parsed.data;
  if (existing !== undefined) {
    for (const field of IMMUTABLE) {
      const sent = (input as Record<string, unknown>)[field];
      const current = (existing as unknown as Record<string, unknown>)[field];
      if (sent !== undefined && sent !== current)
        throw badRequest(`The field ${field} is immutable`, [field]);
    }
  }
  const triggerId = existing?.triggerId ?? input.triggerId;
  if (triggerId === undefined || triggerId === "") throw badRequest("triggerId is required", ["triggerId"]);
  const trigger = findTrigger(triggerId);
  if (trigger === undefined)
    throw badRequest(`Trigger ${triggerId.slice(0, 100)} does not exist`, ["triggerId"]);
  if (input.type !== "HTTP" && input.type !== "EVENTBRIDGE") {
    throw badRequest(`Subscription type ${input.type} is not available through this API in the sandbox`, [
      "type",
    ]);
  }

  const subscription: StoredSubscription = {
    id,
    name: input.name,
    triggerId,
    triggerName: trigger.name,
    type: input.type,
    responseDeadline: canonicalDeadline(input.responseDeadline ?? "PT1H"),
    enabled: input.enabled ?? true,
  };
  if (typeof input.description === "string") subscription.description = input.description;

  if (input.type === "HTTP") {
    const http = input.httpConfig;
    if (http === undefined || http === null)
      throw badRequest("An HTTP subscription needs httpConfig", ["httpConfig"]);
    let url: URL;
    try {
      url = new URL(http.url);
    } catch {
      throw badRequest("httpConfig.url is not a valid URL", ["httpConfig.url"]);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw badRequest("httpConfig.url must be an http(s) URL", ["httpConfig.url"]);
    }
    const authType = http.httpAuthenticationType ?? "NO_AUTH";
    const config: NonNullable<StoredSubscription["httpConfig"]> = {
      url: http.url,
      httpDispatchMode: http.httpDispatchMode,
      httpAuthenticationType: authType,
    };
    const previous = existing?.httpConfig;
    if (authType === "BASIC_AUTH") {
      const userName = http.basicAuthConfig?.userName;
      const password =
        http.basicAuthConfig?.password ??
        (previous?.httpAuthenticationType === "BASIC_AUTH" ? previous.basicAuthConfig?.password : undefined);
      if (!userName || !password) {
        throw badRequest("BASIC_AUTH needs basicAuthConfig.userName and basicAuthConfig.password", [
          "httpConfig.basicAuthConfig",
        ]);
      }
      config.basicAuthConfig = { userName, password };
    } else if (authType === "BEARER_TOKEN") {
      const bearerToken =
        http.bearerTokenAuthConfig?.bearerToken ??
        (previous?.httpAuthenticationType === "BEARER_TOKEN"
          ? previous.bearerTokenAuthConfig?.bearerToken
          : undefined);
      if (!bearerToken) {
        throw badRequest("BEARER_TOKEN needs bearerTokenAuthConfig.bearerToken", [
          "httpConfig.bearerTokenAuthConfig",
        ]);
      }
      config.bearerTokenAuthConfig = { bearerToken };
    }
    subscription.httpConfig = config;
  } else {
    const eventBridge = input.eventBridgeConfig;
    if (eventBridge === undefined || eventBridge === null) {
      throw badRequest("An EVENTBRIDGE subscription needs eventBridgeConfig", ["eventBridgeConfig"]);
    }
    if (!/^\d{12}$/.test(eventBridge.awsAccount)) {
      throw badRequest("eventBridgeConfig.awsAccount must be a 12-digit AWS account id", [
        "eventBridgeConfig.awsAccount",
      ]);
    }
    if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(eventBridge.awsRegion)) {
      throw badRequest("eventBridgeConfig.awsRegion must be an AWS region like us-east-1", [
        "eventBridgeConfig.awsRegion",
      ]);
    }
    subscription.eventBridgeConfig = { awsAccount: eventBridge.awsAccount, awsRegion: eventBridge.awsRegion };
  }

  if (typeof input.filter === "string" && input.filter !== "") {
    try {
      compileJsonPath(input.filter);
    } catch (error) {
      if (error instanceof JsonPathSyntaxError)
        throw badRequest(`filter is not a valid JSONPath: ${error.message}`, ["filter"]);
      throw error;
    }
    subscription.filter = input.filter;
  }

  if (isRequestResponseTrigger(triggerId)) {
    for (const other of state.subscriptions.values()) {
      if (other.triggerId === triggerId && other.id !== id) {
        throw badRequest(
          `Trigger ${triggerId} already has a subscription; a REQUEST_RESPONSE trigger allows one`,
          ["triggerId"],
        );
      }
    }
  }
  return subscription;
}

/** PATCH: refuses operations on immutable fields before anything is applied. */
export function checkSubscriptionPatch(operations: readonly PatchOperation[]): void {
  for (const [index, operation] of operations.entries()) {
    for (const pointer of [operation.path, operation.from]) {
      if (pointer === undefined) continue;
      const first = pointerTokens(pointer)[0];
      if (first === undefined || IMMUTABLE.includes(first)) {
        throw badRequest(`Patch operation [${index}] may not change ${first ?? "the whole subscription"}`, [
          pointer,
        ]);
      }
    }
  }
}

/** The API's view: write-only secrets read back as null. */
export function subscriptionView(subscription: StoredSubscription): Record<string, unknown> {
  const view = structuredClone(subscription) as StoredSubscription;
  if (view.httpConfig?.basicAuthConfig) view.httpConfig.basicAuthConfig.password = null;
  if (view.httpConfig?.bearerTokenAuthConfig) view.httpConfig.bearerTokenAuthConfig.bearerToken = null;
  return view as unknown as Record<string, unknown>;
}

export function getSubscription(state: SandboxState, id: string): StoredSubscription {
  const subscription = state.subscriptions.get(id);
  if (subscription === undefined) throw notFound(`Subscription ${id.slice(0, 100)}`);
  return subscription;
}
