/**
 * One normalised `Invocation` for the rest of the code, whichever way it arrived (HTTP body,
 * EventBridge event, queue message). Building it validates the envelope and the input, and refuses
 * callbackURLs outside the tenant, so everything downstream can trust it.
 */

import * as z from "zod/mini";
import { issuesFromZod, ResponderError, ValidationError } from "../errors.ts";
import { CallbackUrlRefusedError, checkCallbackUrl } from "../isc/callback-url.ts";
import type { AnsweredDecision } from "./answered.ts";
import {
  type AccessRequestInput,
  AccessRequestInputSchema,
  EventBridgeTriggerEventSchema,
  type FireAndForgetInput,
  FireAndForgetInputSchema,
  HttpTriggerBodySchema,
  type ResponseMode,
} from "./schemas.ts";
import { InvocationSecret } from "./secret.ts";
import {
  type FireAndForgetTriggerId,
  isKnownTrigger,
  isRequestResponseTrigger,
  type RequestResponseTriggerId,
} from "./trigger-ids.ts";

export class UnknownTriggerError extends ResponderError {
  readonly triggerId: string;
  constructor(triggerId: string) {
    super("UNKNOWN_TRIGGER", `trigger "${triggerId.slice(0, 100)}" is not one this responder answers`, {
      httpStatus: 400,
    });
    this.triggerId = triggerId;
  }
}

/** How the invocation reached us; `eventbridge` has no HTTP reply, only the callback. */
export type DeliveryMode = ResponseMode | "eventbridge";

interface InvocationBase {
  /** Absent only for sync HTTP deliveries, which carry no callbackURL. */
  invocationId: string | undefined;
  mode: DeliveryMode;
  /** Epoch ms when we received it. */
  receivedAt: number;
  /** Epoch ms after which ISC no longer accepts a completion (receivedAt + the subscription's responseDeadline). */
  deadline: number;
}

export interface RequestResponseInvocation extends InvocationBase {
  triggerType: "requestResponse";
  triggerId: RequestResponseTriggerId;
  /** A sync invocation queued for its actions: the decision its HTTP reply gave (lib/triggers/answered.ts). */
  answered?: AnsweredDecision;
  input: AccessRequestInput;
  /** Present for async, dynamic and EventBridge; may be absent for sync. Already checked against the tenant. */
  callbackUrl: string | undefined;
  secret: InvocationSecret | undefined;
}

export interface FireAndForgetInvocation extends InvocationBase {
  triggerType: "fireAndForget";
  triggerId: FireAndForgetTriggerId;
  input: FireAndForgetInput;
  callbackUrl: undefined;
  secret: undefined;
}

export type Invocation = RequestResponseInvocation | FireAndForgetInvocation;

export interface InvocationContext {
  /** `SAIL_BASE_URL`: callbackURLs must have its origin. */
  tenantBaseUrl: string;
  /** The subscription's responseDeadline in ms, per trigger (PT1H → 3_600_000). */
  responseDeadlineMs: (triggerId: RequestResponseTriggerId) => number;
  /** Epoch ms of receipt; defaults to Date.now(). */
  receivedAt?: number;
}

interface RawMetadata {
  triggerId: string;
  triggerType: "requestResponse" | "fireAndForget";
  callbackURL?: string | undefined;
  secret?: string | undefined;
  invocationId?: string | undefined;
}

function parseOrThrow<T>(schema: z.ZodMiniType<T>, value: unknown, what: string): T {
  const result = z.safeParse(schema, value);
  if (!result.success) throw new ValidationError(what, issuesFromZod(result.error.issues, value));
  return result.data;
}

function build(
  meta: RawMetadata,
  mode: DeliveryMode,
  rawInput: Record<string, unknown>,
  ctx: InvocationContext,
): Invocation {
  const receivedAt = ctx.receivedAt ?? Date.now();
  if (!isKnownTrigger(meta.triggerId)) throw new UnknownTriggerError(meta.triggerId);
  const { _metadata: _drop, ...inputFields } = rawInput;

  if (!isRequestResponseTrigger(meta.triggerId)) {
    if (meta.triggerType !== "fireAndForget") {
      throw new ValidationError("invocation", [
        { path: "_metadata.triggerType", message: `${meta.triggerId} is a fireAndForget trigger` },
      ]);
    }
    return {
      triggerType: "fireAndForget",
      triggerId: meta.triggerId,
      invocationId: meta.invocationId,
      mode,
      receivedAt,
      deadline: receivedAt,
      input: parseOrThrow(FireAndForgetInputSchema, inputFields, "trigger input"),
      callbackUrl: undefined,
      secret: undefined,
    };
  }

  const triggerId = meta.triggerId;
  if (meta.triggerType !== "requestResponse") {
    throw new ValidationError("invocation", [
      { path: "_metadata.triggerType", message: `${triggerId} is a requestResponse trigger` },
    ]);
  }
  const input = parseOrThrow(AccessRequestInputSchema, inputFields, "trigger input");

  // sync may omit callbackURL and secret; every other mode needs both to complete the invocation.
  const needsCallback = mode !== "sync";
  const missing = [];
  if (needsCallback && meta.callbackURL === undefined) missing.push("_metadata.callbackURL");
  if (needsCallback && meta.secret === undefined) missing.push("_metadata.secret");
  if (missing.length > 0) {
    throw new ValidationError(
      "invocation",
      missing.map((path) => ({ path, message: `required when the response mode is ${mode}` })),
    );
  }

  let invocationId = meta.invocationId;
  let callbackUrl: string | undefined;
  if (meta.callbackURL !== undefined) {
    const checked = checkCallbackUrl(meta.callbackURL, ctx.tenantBaseUrl);
    if (invocationId !== undefined && invocationId !== checked.invocationId) {
      throw new CallbackUrlRefusedError("its invocation id does not match _metadata.invocationId");
    }
    invocationId = checked.invocationId;
    callbackUrl = checked.url;
  }

  return {
    triggerType: "requestResponse",
    triggerId,
    invocationId,
    mode,
    receivedAt,
    deadline: receivedAt + ctx.responseDeadlineMs(triggerId),
    input,
    callbackUrl,
    secret: meta.secret === undefined ? undefined : new InvocationSecret(meta.secret),
  };
}

/** From the JSON body ISC POSTs to an HTTP subscription. A missing responseMode means sync. */
export function invocationFromHttpBody(body: unknown, ctx: InvocationContext): Invocation {
  const parsed = parseOrThrow(HttpTriggerBodySchema, body, "request body");
  const meta = parsed._metadata;
  const mode: DeliveryMode = meta.triggerType === "fireAndForget" ? "async" : (meta.responseMode ?? "sync");
  return build(meta, mode, parsed, ctx);
}

/** From an event of the SailPoint partner event source (rule → queue or direct target). */
export function invocationFromEventBridgeEvent(event: unknown, ctx: InvocationContext): Invocation {
  const parsed = parseOrThrow(EventBridgeTriggerEventSchema, event, "EventBridge event");
  const meta = parsed.detail._metadata;
  if (parsed["detail-type"] !== meta.triggerId) {
    throw new ValidationError("EventBridge event", [
      { path: "detail-type", message: "does not match detail._metadata.triggerId" },
    ]);
  }
  return build(meta, "eventbridge", parsed.detail, ctx);
}

/** True for objects that look like an EventBridge event (have `detail-type` and `detail`). */
export function looksLikeEventBridgeEvent(value: unknown): boolean {
  return typeof value === "object" && value !== null && "detail-type" in value && "detail" in value;
}

/**
 * For tools (`rules eval`, tests): an EventBridge event, an HTTP body with `_metadata`, or a bare
 * trigger input (then `triggerId` says which trigger, and the invocation is a sync one).
 */
export function invocationFromAnyPayload(
  payload: unknown,
  ctx: InvocationContext,
  triggerId?: string,
): Invocation {
  if (looksLikeEventBridgeEvent(payload)) return invocationFromEventBridgeEvent(payload, ctx);
  if (typeof payload === "object" && payload !== null && "_metadata" in payload) {
    return invocationFromHttpBody(payload, ctx);
  }
  if (triggerId === undefined) {
    throw new ValidationError("payload", [
      { path: "_metadata", message: "a bare trigger input needs the trigger id (--trigger)" },
    ]);
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    throw new ValidationError("payload", [{ path: "", message: "expected a JSON object" }]);
  }
  const triggerType = isRequestResponseTrigger(triggerId) ? "requestResponse" : "fireAndForget";
  return invocationFromHttpBody(
    { ...payload, _metadata: { triggerId, triggerType, responseMode: "sync" } },
    ctx,
  );
}
