/**
 * SecretsStore over the AWS Parameters and Secrets Lambda Extension: a GET to
 * `http://localhost:<PARAMETERS_SECRETS_EXTENSION_HTTP_PORT>/secretsmanager/get?secretId=<id>`
 * with header `X-Aws-Parameters-Secrets-Token: <AWS_SESSION_TOKEN>`; the reply is the
 * GetSecretValue JSON ({ARN, Name, SecretString, VersionId, VersionStages, ...}). No AWS SDK, so
 * the synchronous HTTP path stays small. The extension answers an unknown secret with 400 (older
 * layers, generic text) or with the Secrets Manager error name in the body.
 */
import { CachedSecretsStore, DEFAULT_SECRET_TTL_MS } from "../cached-secrets.ts";
import { SecretNotFoundError, SecretsUnavailableError } from "../errors.ts";
import type { SecretsStore } from "../types.ts";

export const EXTENSION_TOKEN_HEADER = "X-Aws-Parameters-Secrets-Token";
export const DEFAULT_EXTENSION_PORT = 2773;

export interface ExtensionSecretsStoreOptions {
  /** PARAMETERS_SECRETS_EXTENSION_HTTP_PORT (default 2773). */
  port?: number;
  /** AWS_SESSION_TOKEN of the function: the extension authenticates callers with it. */
  sessionToken: string;
  /** Only for tests (loopback fake); the extension listens on localhost. */
  host?: string;
  versionStage?: string;
  /** Per-request timeout (default 2000 ms). */
  timeoutMs?: number;
}

export class ExtensionSecretsStore implements SecretsStore {
  readonly #base: string;
  readonly #options: ExtensionSecretsStoreOptions;

  constructor(options: ExtensionSecretsStoreOptions) {
    this.#options = options;
    this.#base = `http://${options.host ?? "localhost"}:${options.port ?? DEFAULT_EXTENSION_PORT}`;
  }

  async getSecretString(secretId: string): Promise<string> {
    const url = new URL("/secretsmanager/get", this.#base);
    url.searchParams.set("secretId", secretId);
    if (this.#options.versionStage !== undefined)
      url.searchParams.set("versionStage", this.#options.versionStage);

    let response: Response;
    try {
      response = await fetch(url, {
        headers: { [EXTENSION_TOKEN_HEADER]: this.#options.sessionToken },
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 2_000),
      });
    } catch (error) {
      const reason =
        (error as { name?: string }).name === "TimeoutError"
          ? "the extension timed out"
          : "the extension is unreachable";
      throw new SecretsUnavailableError(secretId, reason, { cause: error });
    }
    const text = await response.text();
    if (!response.ok) {
      // The body may echo the request but never a secret value; still, keep only the error name.
      if (response.status === 404 || /ResourceNotFoundException/.test(text))
        throw new SecretNotFoundError(secretId);
      const hint =
        response.status === 400
          ? " (the secret may not exist, or the function may lack secretsmanager:GetSecretValue)"
          : response.status === 401 || response.status === 403
            ? " (the session token was refused)"
            : "";
      throw new SecretsUnavailableError(secretId, `the extension answered HTTP ${response.status}${hint}`, {
        status: response.status,
      });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new SecretsUnavailableError(secretId, "the extension's reply is not JSON", {
        status: response.status,
      });
    }
    const secretString = (body as { SecretString?: unknown } | null)?.SecretString;
    if (typeof secretString !== "string") {
      throw new SecretsUnavailableError(
        secretId,
        "it has no string value (binary secrets are not supported)",
      );
    }
    return secretString;
  }
}

/**
 * The extension store (cached) when the layer is attached, else undefined. Unlike
 * secretsStoreFromEnv it never references the AWS SDK, so a bundle that imports only this stays
 * small even when @aws-sdk/* is bundled rather than external.
 */
export function extensionSecretsStoreFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: { ttlMs?: number } = {},
): CachedSecretsStore | undefined {
  const port = Number(env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT);
  const sessionToken = env.AWS_SESSION_TOKEN;
  if (!Number.isInteger(port) || port <= 0 || !sessionToken) return undefined;
  return new CachedSecretsStore(new ExtensionSecretsStore({ port, sessionToken }), {
    ttlMs: options.ttlMs ?? DEFAULT_SECRET_TTL_MS,
  });
}
