/**
 * AWS SDK v3 clients, one per container, created on first use and imported lazily so a handler
 * that never touches a service does not load (or, when @aws-sdk/* is external, even read) its
 * client at cold start. The SDK honours AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> natively
 * (@smithy/core getEndpointUrlConfig), which is how the integration tests point them at moto.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { SQSClient } from "@aws-sdk/client-sqs";

let secretsManager: Promise<SecretsManagerClient> | undefined;
let dynamoDb: Promise<DynamoDBClient> | undefined;
let sqs: Promise<SQSClient> | undefined;

export function secretsManagerClient(): Promise<SecretsManagerClient> {
  secretsManager ??= import("@aws-sdk/client-secrets-manager").then(
    ({ SecretsManagerClient }) => new SecretsManagerClient({}),
  );
  return secretsManager;
}

export function dynamoDbClient(): Promise<DynamoDBClient> {
  dynamoDb ??= import("@aws-sdk/client-dynamodb").then(({ DynamoDBClient }) => new DynamoDBClient({}));
  return dynamoDb;
}

export function sqsClient(): Promise<SQSClient> {
  sqs ??= import("@aws-sdk/client-sqs").then(({ SQSClient }) => new SQSClient({}));
  return sqs;
}

/** Drops the cached clients (tests that change AWS_* variables between cases). */
export function resetAwsClients(): void {
  secretsManager = undefined;
  dynamoDb = undefined;
  sqs = undefined;
}
