/**
 * Picks the SecretsStore for a Lambda function from its environment: the Parameters and Secrets
 * extension when its layer is attached (PARAMETERS_SECRETS_EXTENSION_HTTP_PORT and
 * AWS_SESSION_TOKEN set), else Secrets Manager through the SDK; both behind a TTL cache.
 */
import { CachedSecretsStore, DEFAULT_SECRET_TTL_MS } from "../cached-secrets.ts";
import type { SecretsStore } from "../types.ts";
import { ExtensionSecretsStore } from "./extension-secrets.ts";
import { SecretsManagerSecretsStore } from "./secrets-manager.ts";

export interface SecretsStoreFromEnvOptions {
  ttlMs?: number;
  staleIfErrorMs?: number;
}

export function secretsStoreFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: SecretsStoreFromEnvOptions = {},
): CachedSecretsStore {
  const port = Number(env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT);
  const sessionToken = env.AWS_SESSION_TOKEN;
  const inner: SecretsStore =
    Number.isInteger(port) && port > 0 && sessionToken
      ? new ExtensionSecretsStore({ port, sessionToken })
      : new SecretsManagerSecretsStore();
  return new CachedSecretsStore(inner, {
    ttlMs: options.ttlMs ?? DEFAULT_SECRET_TTL_MS,
    staleIfErrorMs: options.staleIfErrorMs ?? 0,
  });
}

/** Which store secretsStoreFromEnv would use (for startup logs and tests). */
export function secretsSourceFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): "extension" | "sdk" {
  const port = Number(env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT);
  return Number.isInteger(port) && port > 0 && env.AWS_SESSION_TOKEN ? "extension" : "sdk";
}
