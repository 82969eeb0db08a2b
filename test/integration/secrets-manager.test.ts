import { randomUUID } from "node:crypto";
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import { SecretsManagerSecretsStore } from "../../lib/adapters/aws/secrets-manager.ts";
import { CachedSecretsStore } from "../../lib/adapters/cached-secrets.ts";
import { SecretNotFoundError } from "../../lib/adapters/errors.ts";

// No endpoint passed: the SDK must pick AWS_ENDPOINT_URL (moto) up by itself.
const client = new SecretsManagerClient({});

describe("Secrets Manager (moto)", () => {
  it("the SDK honours AWS_ENDPOINT_URL without any endpoint option", async () => {
    const probe = new SecretsManagerClient({});
    let target = "";
    probe.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { protocol?: string; hostname?: string; port?: number };
        target = `${request.protocol}//${request.hostname}:${request.port}`;
        return next(args);
      },
      { step: "finalizeRequest" },
    );
    await new SecretsManagerSecretsStore({ client: probe })
      .getSecretString(`probe-${randomUUID()}`)
      .catch(() => {});
    expect(target).toBe(process.env.AWS_ENDPOINT_URL);
  });

  it("reads a secret, caches it for the TTL, sees a rotation after it, and reads AWSPREVIOUS", async () => {
    const name = `isc-credentials-${randomUUID()}`;
    await client.send(
      new CreateSecretCommand({ Name: name, SecretString: '{"clientId":"a","clientSecret":"one"}' }),
    );
    const store = new SecretsManagerSecretsStore();
    expect(JSON.parse(await store.getSecretString(name))).toEqual({ clientId: "a", clientSecret: "one" });

    let now = 1_000;
    const cached = new CachedSecretsStore(store, { ttlMs: 60_000, now: () => now });
    expect(await cached.getSecretString(name)).toContain('"one"');

    await client.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: '{"clientId":"a","clientSecret":"two"}' }),
    );
    expect(await cached.getSecretString(name)).toContain('"one"');
    now += 60_000;
    expect(await cached.getSecretString(name)).toContain('"two"');
    expect(
      await new SecretsManagerSecretsStore({ versionStage: "AWSPREVIOUS" }).getSecretString(name),
    ).toContain('"one"');
  });

  it("an unknown secret is SecretNotFoundError", async () => {
    const error = await new SecretsManagerSecretsStore()
      .getSecretString(`missing-${randomUUID()}`)
      .catch((e) => e);
    expect(error).toBeInstanceOf(SecretNotFoundError);
    expect(error.code).toBe("SECRET_NOT_FOUND");
  });
});
