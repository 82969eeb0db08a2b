import { randomUUID } from "node:crypto";
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseWebhookCredentials } from "../../lib/http/auth.ts";
import { IscClient } from "../../lib/isc/client.ts";
import { type Sandbox, startSandbox } from "../../lib/sandbox/index.ts";
import { awsRotationSecrets } from "../../lib/subscriptions/aws-rotation-secrets.ts";
import { revokePreviousToken } from "../../lib/subscriptions/revoke.ts";
import {
  handleRotationEvent,
  type RotationSecretsApi,
  settledVersionId,
} from "../../lib/subscriptions/rotation.ts";
import { PRE_APPROVAL } from "../../lib/triggers/trigger-ids.ts";

// The rotation's Secrets Manager calls against moto: staging labels as Secrets Manager moves them.
const client = new SecretsManagerClient({});
const FUNCTION_URL = "https://abc123.lambda-url.eu-west-1.on.aws/";
const OLD = "oldTokenAAAAbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjj";
const NEW = "newTokenAAAAbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjj";
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, rateLimit: false });
});
afterAll(async () => {
  await sandbox.close();
});

describe("webhook token rotation on Secrets Manager (moto)", () => {
  it("promotes, switches ISC, gives previous an expiry, leaves nothing AWSPENDING", async () => {
    const name = `webhook-${randomUUID()}`;
    await client.send(
      new CreateSecretCommand({ Name: name, SecretString: JSON.stringify({ type: "bearer", current: OLD }) }),
    );
    // moto cannot invoke a rotation Lambda: enable rotation in the answer, as RotateSecret would.
    const aws = awsRotationSecrets();
    const secrets: RotationSecretsApi = {
      ...aws,
      describe: async (id) => ({ ...(await aws.describe(id)), rotationEnabled: true }),
    };
    const api = new IscClient({
      baseUrl: sandbox.baseUrl,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
      rateLimit: false,
    });
    await api.createSubscription({
      name: "s",
      triggerId: PRE_APPROVAL,
      type: "HTTP",
      httpConfig: {
        url: FUNCTION_URL,
        httpDispatchMode: "SYNC",
        httpAuthenticationType: "BEARER_TOKEN",
        bearerTokenAuthConfig: { bearerToken: OLD },
      },
    });
    // RotateSecret's version id, with the value createSecret writes (moto cannot hold a valueless AWSPENDING version).
    const rotation = randomUUID();
    await aws.putPending(name, rotation, JSON.stringify({ type: "bearer", current: NEW, previous: OLD }));
    const deps = {
      secrets,
      api,
      functionUrl: FUNCTION_URL,
      triggerIds: [PRE_APPROVAL],
      now: () => Date.parse("2025-03-01T12:00:00Z"),
      sleep: async () => {},
    };
    for (const Step of ["createSecret", "setSecret", "testSecret", "finishSecret"] as const) {
      await handleRotationEvent({ Step, SecretId: name, ClientRequestToken: rotation }, deps);
    }
    // A retried finishSecret changes nothing.
    await handleRotationEvent({ Step: "finishSecret", SecretId: name, ClientRequestToken: rotation }, deps);
    // Read by version id: moto's UpdateSecretVersionStage does not update its "default version", so
    // its next PutSecretValue leaves AWSCURRENT on the promoted version too (Secrets Manager moves it).
    const settled = parseWebhookCredentials(
      (await aws.getValue(name, { versionId: settledVersionId(rotation) })) ?? "",
    );
    expect(settled).toEqual({
      type: "bearer",
      current: NEW,
      previous: OLD,
      previousExpiresAt: Date.parse("2025-03-01T12:15:00Z"),
    });
    expect(
      (await client.send(new DescribeSecretCommand({ SecretId: name }))).VersionIdsToStages?.[
        settledVersionId(rotation)
      ],
    ).toContain("AWSCURRENT");
    const stages =
      (await client.send(new DescribeSecretCommand({ SecretId: name }))).VersionIdsToStages ?? {};
    expect(Object.values(stages).flat()).not.toContain("AWSPENDING");
    const [subscription] = [...sandbox.state.subscriptions.values()];
    expect(subscription?.httpConfig?.bearerTokenAuthConfig?.bearerToken).toBe(NEW);
  });

  it("revoke-previous writes a current version without previous", async () => {
    const name = `webhook-${randomUUID()}`;
    await client.send(
      new CreateSecretCommand({
        Name: name,
        SecretString: JSON.stringify({ type: "bearer", current: NEW, previous: OLD }),
      }),
    );
    const aws = awsRotationSecrets();
    expect((await revokePreviousToken(aws, name)).revoked).toBe(true);
    expect(parseWebhookCredentials((await aws.getValue(name, { stage: "AWSCURRENT" })) ?? "")).toEqual({
      type: "bearer",
      current: NEW,
    });
    expect(parseWebhookCredentials((await aws.getValue(name, { stage: "AWSPREVIOUS" })) ?? "").previous).toBe(
      OLD,
    );
  });
});
