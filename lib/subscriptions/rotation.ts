/**
 * Rotation of the webhook token (Secrets Manager rotation Lambda, four steps). The new secret
 * version keeps the old token as `previous`, so the http handler accepts both (runtime contract).
 * ISC is switched to the new token only in finishSecret, AFTER the new version is AWSCURRENT and
 * after waiting out the http function's forced re-read interval: a container that refuses the new
 * token then re-reads the secret at once (no 401s), and ISC's in-flight deliveries with the old
 * token still pass as `previous`. Once ISC uses the new token, a last version gives `previous` an
 * expiry (`previousExpiresAt`, a grace period later), so an old token does not stay valid until the
 * next rotation. `isc-responder credentials revoke-previous` drops it at once (after a leak).
 * finishSecret is idempotent: a failed ISC update fails the step, and the retry repeats it.
 */
import { createHash, randomInt } from "node:crypto";
import { ResponderError } from "../errors.ts";
import {
  FORCED_REFRESH_INTERVAL_MS,
  parseWebhookCredentials,
  serializeWebhookCredentials,
  type WebhookCredentials,
} from "../http/auth.ts";
import type { CallOptions } from "../isc/types.ts";
import { SubscriptionOperationError } from "./errors.ts";
import type { SubscriptionPutRequest, SubscriptionsApi, WebhookAuth } from "./types.ts";

export interface RotationEvent {
  Step: "createSecret" | "setSecret" | "testSecret" | "finishSecret";
  SecretId: string;
  ClientRequestToken: string;
}

/** The Secrets Manager calls rotation needs (an AWS adapter implements it). */
export interface RotationSecretsApi {
  /** Version ids and their staging labels; whether rotation is enabled. */
  describe(secretId: string): Promise<{ rotationEnabled: boolean; versions: Record<string, string[]> }>;
  /** The secret string of a version (by id) or of a stage; undefined if that version/stage does not exist. */
  getValue(secretId: string, version: { versionId?: string; stage?: string }): Promise<string | undefined>;
  /** Stores `value` as version `versionId` labelled AWSPENDING. */
  putPending(secretId: string, versionId: string, value: string): Promise<void>;
  /** Moves AWSCURRENT to `versionId` (from `fromVersionId`). */
  promote(secretId: string, versionId: string, fromVersionId: string | undefined): Promise<void>;
  /** Stores `value` as a new version `versionId` labelled AWSCURRENT (PutSecretValue; idempotent per id). */
  putCurrent(secretId: string, versionId: string, value: string): Promise<void>;
  /** Removes the AWSPENDING label from `versionId`. */
  removePending(secretId: string, versionId: string): Promise<void>;
}

/** How long the old token stays valid after ISC was switched to the new one (in-flight deliveries). */
export const DEFAULT_PREVIOUS_TOKEN_GRACE_MS = 15 * 60_000;
/** Between promotion and the ISC switch: longer than the http function's forced re-read interval. */
export const PROMOTION_SETTLE_MS = FORCED_REFRESH_INTERVAL_MS + 5_000;

export interface RotationDeps {
  secrets: RotationSecretsApi;
  api: SubscriptionsApi;
  /** The http function's URL: only subscriptions pointing there are switched to the new token. */
  functionUrl: string;
  /** The trigger ids this deployment subscribes over HTTP. */
  triggerIds: readonly string[];
  callOptions?: () => CallOptions;
  log?: (message: string, fields?: Record<string, unknown>) => void;
  /** New token generator (tests pass a fixed one). */
  newToken?: () => string;
  /** Default DEFAULT_PREVIOUS_TOKEN_GRACE_MS. */
  previousTokenGraceMs?: number;
  /** Tests pass a fake clock and sleep. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export class RotationError extends ResponderError {
  constructor(message: string) {
    super("TOKEN_ROTATION_FAILED", message, { httpStatus: 500 });
  }
}

const TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** 48 characters, letters and digits, uniformly random (the same shape the stack generates). */
export function generateToken(length = 48): string {
  let token = "";
  for (let i = 0; i < length; i++) token += TOKEN_ALPHABET[randomInt(TOKEN_ALPHABET.length)];
  return token;
}

/** The next version: a new `current`, the old `current` kept as `previous` (no expiry until ISC switched). */
export function nextCredentials(current: WebhookCredentials, token: string): WebhookCredentials {
  return current.type === "basic"
    ? { type: "basic", username: current.username, current: token, previous: current.current }
    : { type: "bearer", current: token, previous: current.current };
}

/** The same credentials without `previous` (revocation). */
export function withoutPrevious(credentials: WebhookCredentials): WebhookCredentials {
  return credentials.type === "basic"
    ? { type: "basic", username: credentials.username, current: credentials.current }
    : { type: "bearer", current: credentials.current };
}

/** The version id of the version that gives `previous` its expiry: derived, so a retry reuses it. */
export function settledVersionId(rotationVersionId: string): string {
  const hex = createHash("sha256").update(`settled:${rotationVersionId}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function webhookAuthOf(credentials: WebhookCredentials): WebhookAuth {
  return credentials.type === "basic"
    ? { type: "basic", username: credentials.username, password: credentials.current }
    : { type: "bearer", token: credentials.current };
}

export async function handleRotationEvent(event: RotationEvent, deps: RotationDeps): Promise<void> {
  const { SecretId: secretId, ClientRequestToken: token } = event;
  const metadata = await deps.secrets.describe(secretId);
  if (!metadata.rotationEnabled) throw new RotationError(`rotation is not enabled on the webhook secret`);
  const stages = metadata.versions[token];
  if (stages === undefined)
    throw new RotationError(`version ${token} is not a version of the webhook secret`);
  const currentVersion = Object.entries(metadata.versions).find(([, labels]) =>
    labels.includes("AWSCURRENT"),
  )?.[0];

  switch (event.Step) {
    case "createSecret": {
      if (await deps.secrets.getValue(secretId, { versionId: token, stage: "AWSPENDING" })) return;
      const current = parseWebhookCredentials(await requireValue(deps, secretId, { stage: "AWSCURRENT" }));
      const next = nextCredentials(current, (deps.newToken ?? generateToken)());
      await deps.secrets.putPending(secretId, token, serializeWebhookCredentials(next));
      deps.log?.("created the pending webhook token version", { versionId: token });
      return;
    }
    case "setSecret":
      // Nothing yet: ISC is switched in finishSecret, once the handler accepts the new token.
      return;
    case "testSecret": {
      // The pending version must be a valid credentials document before it can become current.
      parseWebhookCredentials(await requireValue(deps, secretId, { versionId: token, stage: "AWSPENDING" }));
      return;
    }
    case "finishSecret": {
      await finishSecret(deps, secretId, token, currentVersion, stages.includes("AWSPENDING"));
      return;
    }
  }
}

async function finishSecret(
  deps: RotationDeps,
  secretId: string,
  token: string,
  currentVersion: string | undefined,
  pendingLabelled: boolean,
): Promise<void> {
  const rotated = parseWebhookCredentials(await requireValue(deps, secretId, { versionId: token }));
  let current = parseWebhookCredentials(await requireValue(deps, secretId, { stage: "AWSCURRENT" }));
  // A retry after the expiry version was written (or after a revoke) finds the same token current.
  if (currentVersion !== token && current.current !== rotated.current) {
    await deps.secrets.promote(secretId, token, currentVersion);
    deps.log?.("promoted the new webhook token version", { versionId: token });
    current = rotated;
    // Every container that read the secret before the promotion may force a re-read by now.
    await (deps.sleep ?? sleep)(PROMOTION_SETTLE_MS);
  }
  await switchSubscriptions(deps, webhookAuthOf(current));
  if (current.previous !== undefined && current.previousExpiresAt === undefined) {
    const expiresAt =
      (deps.now ?? Date.now)() + (deps.previousTokenGraceMs ?? DEFAULT_PREVIOUS_TOKEN_GRACE_MS);
    const versionId = settledVersionId(token);
    await deps.secrets.putCurrent(
      secretId,
      versionId,
      serializeWebhookCredentials({ ...current, previousExpiresAt: expiresAt }),
    );
    deps.log?.("the previous webhook token expires", {
      versionId,
      previousExpiresAt: new Date(expiresAt).toISOString(),
    });
  }
  // The rotated version is no longer AWSCURRENT: left AWSPENDING, the next rotation would be refused.
  if (pendingLabelled) await deps.secrets.removePending(secretId, token);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function requireValue(
  deps: RotationDeps,
  secretId: string,
  version: { versionId?: string; stage?: string },
): Promise<string> {
  const value = await deps.secrets.getValue(secretId, version);
  if (value === undefined) {
    throw new RotationError(
      `the webhook secret has no ${version.stage ?? "requested"} version ${version.versionId ?? ""}`.trim(),
    );
  }
  return value;
}

/**
 * PUTs each of this deployment's HTTP subscriptions with the new credentials, keeping every other
 * field as ISC has it (secrets read back as null, so the auth block is always rewritten).
 */
export async function switchSubscriptions(deps: RotationDeps, auth: WebhookAuth): Promise<string[]> {
  const options = deps.callOptions?.();
  const switched: string[] = [];
  for (const triggerId of deps.triggerIds) {
    let subscriptions: Awaited<ReturnType<SubscriptionsApi["listSubscriptions"]>>;
    try {
      subscriptions = await deps.api.listSubscriptions({ filters: `triggerId eq "${triggerId}"` }, options);
    } catch (error) {
      throw new SubscriptionOperationError("looking up", triggerId, error);
    }
    for (const existing of subscriptions) {
      if (
        existing.triggerId !== triggerId ||
        existing.type !== "HTTP" ||
        existing.httpConfig?.url !== deps.functionUrl
      ) {
        continue;
      }
      const body: SubscriptionPutRequest = {
        name: existing.name,
        type: "HTTP",
        enabled: existing.enabled,
        ...(existing.description ? { description: existing.description } : {}),
        ...(existing.responseDeadline ? { responseDeadline: existing.responseDeadline } : {}),
        ...(existing.filter ? { filter: existing.filter } : {}),
        httpConfig:
          auth.type === "bearer"
            ? {
                url: existing.httpConfig.url,
                httpDispatchMode: existing.httpConfig.httpDispatchMode,
                httpAuthenticationType: "BEARER_TOKEN",
                bearerTokenAuthConfig: { bearerToken: auth.token },
              }
            : {
                url: existing.httpConfig.url,
                httpDispatchMode: existing.httpConfig.httpDispatchMode,
                httpAuthenticationType: "BASIC_AUTH",
                basicAuthConfig: { userName: auth.username, password: auth.password },
              },
      };
      try {
        await deps.api.updateSubscription(existing.id, body, options);
      } catch (error) {
        throw new SubscriptionOperationError(`switching the token of (PUT ${existing.id})`, triggerId, error);
      }
      switched.push(existing.id);
      deps.log?.("switched the subscription to the new webhook token", { triggerId, id: existing.id });
    }
  }
  return switched;
}
