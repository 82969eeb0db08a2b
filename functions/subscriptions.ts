/**
 * Lambda entry of the trigger subscriptions: the CloudFormation custom resource (Provider framework
 * onEvent) and the rotation of the webhook token (Secrets Manager rotation steps). Logic lives in
 * lib/subscriptions; this file wires the ISC client and Secrets Manager from the environment
 * (docs/runtime-contract.md).
 */
import { SecretsManagerSecretsStore } from "../lib/adapters/aws/secrets-manager.ts";
import { parseWebhookCredentials } from "../lib/http/auth.ts";
import { createJsonLineLogger } from "../lib/http/logger.ts";
import { IscClient } from "../lib/isc/client.ts";
import { parseIscCredentials } from "../lib/isc/credentials.ts";
import { ConfigError } from "../lib/isc/errors.ts";
import { writeStdoutLine } from "../lib/observability/emf.ts";
import { awsRotationSecrets } from "../lib/subscriptions/aws-rotation-secrets.ts";
import { failureReason } from "../lib/subscriptions/errors.ts";
import { type CustomResourceEvent, handleSubscriptionEvent } from "../lib/subscriptions/reconcile.ts";
import { handleRotationEvent, type RotationEvent, webhookAuthOf } from "../lib/subscriptions/rotation.ts";

/** Leaves this much of the Lambda's time for reporting a failure instead of timing out. */
const SAFETY_MARGIN_MS = 5_000;

// The same JSON lines and redaction as the http function's, straight to stdout (Lambda's JSON log
// format would wrap console.* lines in another JSON object).
const logger = createJsonLineLogger("isc-trigger-subscriptions", "INFO", (_level, line) =>
  writeStdoutLine(line),
);
const log = (message: string, fields?: Record<string, unknown>): void => logger.info(message, fields);

function requireEnv(name: string): string {
  const value = process.env[name]?.trim();
  if (!value) throw new ConfigError(`environment variable ${name} is not set`, [name]);
  return value;
}

function isRotationEvent(event: unknown): event is RotationEvent {
  return typeof event === "object" && event !== null && "Step" in event && "SecretId" in event;
}

export const handler = async (
  event: CustomResourceEvent | RotationEvent,
  context?: { getRemainingTimeInMillis(): number },
): Promise<unknown> => {
  const deadline = Date.now() + (context?.getRemainingTimeInMillis() ?? 60_000) - SAFETY_MARGIN_MS;
  const callOptions = () => ({ deadline });
  const secrets = new SecretsManagerSecretsStore();
  // Everything secret read during this call, cut out of any failure reason.
  const seen: string[] = [];

  const iscClient = async (): Promise<IscClient> => {
    const secretId = requireEnv("ISC_CREDENTIALS_SECRET_ID");
    // Not a bare JSON.parse: V8's SyntaxError quotes the text, which would put a plaintext secret
    // into the CloudFormation failure reason and the log.
    const credentials = parseIscCredentials(await secrets.getSecretString(secretId), secretId);
    seen.push(credentials.clientSecret);
    return new IscClient({
      baseUrl: requireEnv("SAIL_BASE_URL"),
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
    });
  };

  try {
    const api = await iscClient();
    if (isRotationEvent(event)) {
      log("rotation step", { step: event.Step, versionId: event.ClientRequestToken });
      await handleRotationEvent(event, {
        secrets: awsRotationSecrets(),
        api,
        functionUrl: requireEnv("FUNCTION_URL"),
        triggerIds: (process.env.SUBSCRIBED_HTTP_TRIGGERS ?? "").split(",").filter(Boolean),
        callOptions,
        log,
      });
      return undefined;
    }
    log("custom resource event", { requestType: event.RequestType, physicalId: event.PhysicalResourceId });
    return await handleSubscriptionEvent(event, {
      api,
      webhookAuth: async () => {
        const text = await secrets.getSecretString(requireEnv("WEBHOOK_CREDENTIALS_SECRET_ID"));
        const credentials = parseWebhookCredentials(text);
        seen.push(credentials.current);
        if (credentials.previous) seen.push(credentials.previous);
        return webhookAuthOf(credentials);
      },
      callOptions,
      log,
    });
  } catch (error) {
    // The Provider framework turns this message into the CloudFormation failure reason.
    const reason = failureReason(error, seen);
    logger.error(reason);
    throw new Error(reason);
  }
};
