/**
 * SecretsStore over Secrets Manager GetSecretValue (AWS SDK, loaded lazily). Used where the
 * Parameters and Secrets extension is not attached (the worker may use either).
 */
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { AwsServiceError, awsErrorName, SecretNotFoundError, SecretsUnavailableError } from "../errors.ts";
import type { SecretsStore } from "../types.ts";
import { secretsManagerClient } from "./clients.ts";

export interface SecretsManagerSecretsStoreOptions {
  /** A client to use instead of the shared one. */
  client?: SecretsManagerClient;
  /** AWSCURRENT unless told (AWSPREVIOUS reads the version before a rotation). */
  versionStage?: string;
}

export class SecretsManagerSecretsStore implements SecretsStore {
  readonly #options: SecretsManagerSecretsStoreOptions;

  constructor(options: SecretsManagerSecretsStoreOptions = {}) {
    this.#options = options;
  }

  async getSecretString(secretId: string): Promise<string> {
    const client = this.#options.client ?? (await secretsManagerClient());
    const { GetSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
    let reply: { SecretString?: string | undefined };
    try {
      reply = await client.send(
        new GetSecretValueCommand({ SecretId: secretId, VersionStage: this.#options.versionStage }),
      );
    } catch (error) {
      if (awsErrorName(error) === "ResourceNotFoundException")
        throw new SecretNotFoundError(secretId, { cause: error });
      throw new AwsServiceError("SecretsManager", "GetSecretValue", error);
    }
    if (typeof reply.SecretString !== "string") {
      throw new SecretsUnavailableError(
        secretId,
        "it has no string value (binary secrets are not supported)",
      );
    }
    return reply.SecretString;
  }
}
