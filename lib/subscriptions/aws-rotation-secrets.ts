/**
 * RotationSecretsApi over Secrets Manager (AWS SDK v3, imported lazily through the shared client).
 * Kept beside the rotation logic because no other code needs these write calls (rotation and
 * `isc-responder credentials revoke-previous`).
 */
import { secretsManagerClient } from "../adapters/aws/clients.ts";
import type { RotationSecretsApi } from "./rotation.ts";

export function awsRotationSecrets(): RotationSecretsApi {
  return {
    async describe(secretId) {
      const client = await secretsManagerClient();
      const { DescribeSecretCommand } = await import("@aws-sdk/client-secrets-manager");
      const reply = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
      return { rotationEnabled: reply.RotationEnabled === true, versions: reply.VersionIdsToStages ?? {} };
    },
    async getValue(secretId, version) {
      const client = await secretsManagerClient();
      const { GetSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
      try {
        const reply = await client.send(
          new GetSecretValueCommand({
            SecretId: secretId,
            VersionId: version.versionId,
            VersionStage: version.stage,
          }),
        );
        return reply.SecretString;
      } catch (error) {
        if ((error as { name?: string }).name === "ResourceNotFoundException") return undefined;
        throw error;
      }
    },
    async putPending(secretId, versionId, value) {
      const client = await secretsManagerClient();
      const { PutSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
      await client.send(
        new PutSecretValueCommand({
          SecretId: secretId,
          ClientRequestToken: versionId,
          SecretString: value,
          VersionStages: ["AWSPENDING"],
        }),
      );
    },
    async promote(secretId, versionId, fromVersionId) {
      const client = await secretsManagerClient();
      const { UpdateSecretVersionStageCommand } = await import("@aws-sdk/client-secrets-manager");
      await client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: secretId,
          VersionStage: "AWSCURRENT",
          MoveToVersionId: versionId,
          RemoveFromVersionId: fromVersionId,
        }),
      );
    },
    async putCurrent(secretId, versionId, value) {
      const client = await secretsManagerClient();
      const { PutSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
      // Without VersionStages, Secrets Manager labels it AWSCURRENT (and the old one AWSPREVIOUS).
      await client.send(
        new PutSecretValueCommand({ SecretId: secretId, ClientRequestToken: versionId, SecretString: value }),
      );
    },
    async removePending(secretId, versionId) {
      const client = await secretsManagerClient();
      const { UpdateSecretVersionStageCommand } = await import("@aws-sdk/client-secrets-manager");
      await client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: secretId,
          VersionStage: "AWSPENDING",
          RemoveFromVersionId: versionId,
        }),
      );
    },
  };
}
