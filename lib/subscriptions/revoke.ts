/**
 * Emergency revocation of the previous webhook token (after a leak): a new AWSCURRENT version of
 * the webhook secret without `previous`, so only the current token is accepted from the next read
 * on (each http container within its cache TTL). Refused while a rotation is unfinished: ISC may
 * still be sending the previous token then, and would be locked out.
 */
import { randomUUID } from "node:crypto";
import { ResponderError } from "../errors.ts";
import { parseWebhookCredentials, serializeWebhookCredentials } from "../http/auth.ts";
import { type RotationSecretsApi, withoutPrevious } from "./rotation.ts";

export class RevokeRefusedError extends ResponderError {
  constructor(message: string) {
    super("REVOKE_REFUSED", message, { httpStatus: 409 });
  }
}

export interface RevokeResult {
  revoked: boolean;
  /** The new AWSCURRENT version (when revoked). */
  versionId?: string;
  /** Why nothing was written. */
  reason?: string;
}

export async function revokePreviousToken(
  secrets: RotationSecretsApi,
  secretId: string,
  options: { force?: boolean; newVersionId?: () => string } = {},
): Promise<RevokeResult> {
  const { versions } = await secrets.describe(secretId);
  const pending = Object.entries(versions).find(([, stages]) => stages.includes("AWSPENDING"))?.[0];
  if (pending !== undefined && options.force !== true) {
    throw new RevokeRefusedError(
      `a rotation of the webhook secret has not finished (version ${pending} is AWSPENDING): ISC may still send the previous token. Finish the rotation (aws secretsmanager rotate-secret --secret-id ...) and run this again, or pass --force to lock the previous token out anyway`,
    );
  }
  const text = await secrets.getValue(secretId, { stage: "AWSCURRENT" });
  if (text === undefined) throw new RevokeRefusedError("the webhook secret has no AWSCURRENT version");
  const current = parseWebhookCredentials(text);
  if (current.previous === undefined) return { revoked: false, reason: "the secret holds no previous token" };
  const versionId = (options.newVersionId ?? randomUUID)();
  await secrets.putCurrent(secretId, versionId, serializeWebhookCredentials(withoutPrevious(current)));
  return { revoked: true, versionId };
}
