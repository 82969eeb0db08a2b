/**
 * Lambda Function URL handler (payload format 2.0): ISC's HTTP subscription delivers here.
 * Thin: builds the dependencies once per container from the environment (docs/runtime-contract.md)
 * and hands each request to createHttpHandler (lib/http/handler.ts), which holds all the behaviour.
 *
 * Cold start is the budget: no AWS SDK on the sync path (the webhook credentials come through the
 * Parameters and Secrets extension when its layer is attached; the SDK is imported lazily only
 * without it, and the SQS client only on the first enqueue), zod/mini only, rules from RULES_PATH
 * JSON (validated at synth, compiled here once, no YAML parser in the bundle).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import middy from "@middy/core";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { extensionSecretsStoreFromEnv } from "../lib/adapters/aws/extension-secrets.ts";
import { SqsInvocationQueue } from "../lib/adapters/aws/sqs-queue.ts";
import { createCachedCredentialsProvider } from "../lib/http/auth.ts";
import { httpConfigFromEnv } from "../lib/http/config.ts";
import { createHttpHandler, type HttpLogger } from "../lib/http/handler.ts";
import { compileRules, parseRulesDocument } from "../lib/rules/compile.ts";

/** One JSON line per event, as CloudWatch and Powertools readers expect; callers pass ids, never secrets. */
function jsonLogger(service: string, level: string): HttpLogger {
  const order = ["DEBUG", "INFO", "WARN", "ERROR"];
  const min = Math.max(order.indexOf(level.toUpperCase()), 0);
  const write =
    (name: string, stream: (line: string) => void) => (message: string, fields?: Record<string, unknown>) => {
      if (order.indexOf(name) < min) return;
      stream(
        JSON.stringify({ level: name, message, service, timestamp: new Date().toISOString(), ...fields }),
      );
    };
  return {
    info: write("INFO", console.log),
    warn: write("WARN", console.warn),
    error: write("ERROR", console.error),
  };
}

const env = process.env;
const config = httpConfigFromEnv(env);
const logger = jsonLogger(
  env.POWERTOOLS_SERVICE_NAME ?? "isc-trigger-responder-http",
  env.POWERTOOLS_LOG_LEVEL ?? "INFO",
);

const rulesPath = config.rulesPath ?? fileURLToPath(new URL("./rules.json", import.meta.url));
const rules = compileRules(parseRulesDocument(JSON.parse(readFileSync(rulesPath, "utf8")), rulesPath));

// The provider caches (TTL, rotation re-read); the store under it must not cache too, or a re-read would see the old value.
// Without the extension layer, the Secrets Manager SDK is imported on the first read only.
const extension = extensionSecretsStoreFromEnv(env, { ttlMs: 0 });
async function readWebhookSecret(): Promise<string> {
  if (extension !== undefined) return extension.getSecretString(config.webhookCredentialsSecretId);
  const { SecretsManagerSecretsStore } = await import("../lib/adapters/aws/secrets-manager.ts");
  return new SecretsManagerSecretsStore().getSecretString(config.webhookCredentialsSecretId);
}
const credentials = createCachedCredentialsProvider(readWebhookSecret, { ttlMs: 60_000 });

const core = createHttpHandler({
  rules,
  credentials,
  queue: new SqsInvocationQueue({ queueUrl: config.queueUrl }),
  logger,
  tenantBaseUrl: config.tenantBaseUrl,
  responseDeadlineMs: config.responseDeadlineMs,
  dynamicBudgetMs: config.dynamicBudgetMs,
  maxBodyBytes: config.maxBodyBytes,
});

export const handler = middy<APIGatewayProxyEventV2>().handler((event) => core(event));
