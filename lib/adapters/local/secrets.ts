/**
 * Local SecretsStores: from environment variables (the dev runner) or from memory (tests).
 */
import { SecretNotFoundError } from "../errors.ts";
import type { SecretsStore } from "../types.ts";

/** `my-app/isc-credentials` → `SECRET_MY_APP_ISC_CREDENTIALS` */
export function secretEnvName(secretId: string, prefix = "SECRET_"): string {
  return `${prefix}${secretId.replace(/[^A-Za-z0-9]+/g, "_").toUpperCase()}`;
}

export interface EnvSecretsStoreOptions {
  /** Explicit secretId → variable name mapping; checked before the derived name. */
  names?: Record<string, string>;
  /** Prefix of the derived variable name (default `SECRET_`). */
  prefix?: string;
}

/** Reads a secret from an environment variable: an explicit mapping, else `SECRET_<ID>` (see secretEnvName). */
export class EnvSecretsStore implements SecretsStore {
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #options: EnvSecretsStoreOptions;

  constructor(
    env: Readonly<Record<string, string | undefined>> = process.env,
    options: EnvSecretsStoreOptions = {},
  ) {
    this.#env = env;
    this.#options = options;
  }

  async getSecretString(secretId: string): Promise<string> {
    const name = this.#options.names?.[secretId] ?? secretEnvName(secretId, this.#options.prefix);
    const value = this.#env[name];
    if (value === undefined || value === "") throw new SecretNotFoundError(secretId);
    return value;
  }
}

/** Secrets held in a Map; `set` replaces a value (a rotation), `delete` makes it not found. */
export class MemorySecretsStore implements SecretsStore {
  readonly #values: Map<string, string>;
  /** How many reads were served (tests assert caching with it). */
  reads = 0;

  constructor(initial: Record<string, string> = {}) {
    this.#values = new Map(Object.entries(initial));
  }

  set(secretId: string, value: string): void {
    this.#values.set(secretId, value);
  }

  delete(secretId: string): void {
    this.#values.delete(secretId);
  }

  async getSecretString(secretId: string): Promise<string> {
    this.reads += 1;
    const value = this.#values.get(secretId);
    if (value === undefined) throw new SecretNotFoundError(secretId);
    return value;
  }
}
