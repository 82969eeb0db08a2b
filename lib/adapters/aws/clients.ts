/**
 * AWS SDK v3 clients, one per container, created on first use and imported lazily so a handler
 * that never touches a service does not load (or, when @aws-sdk/* is external, even read) its
 * client at cold start. The SDK honours AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> natively
 * (@smithy/core getEndpointUrlConfig), which is how the integration tests point them at moto.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { SQSClient } from "@aws-sdk/client-sqs";

/**
 * Every client gives up on a connection after 1 s and on a request without an answer after 3 s;
 * the SDK's default is no request timeout at all (a hung request waits for the socket, minutes).
 * Without `throwOnRequestTimeout` the SDK only logs a warning when requestTimeout passes. The SDK's
 * own retries (3 attempts) still apply; callers bound the whole call with an abort signal.
 */
export const AWS_HTTP_TIMEOUTS = {
  connectionTimeout: 1_000,
  requestTimeout: 3_000,
  throwOnRequestTimeout: true,
} as const;

/** The SDK builds its NodeHttpHandler from these options (no direct @smithy dependency needed). */
function clientConfig(): { requestHandler: typeof AWS_HTTP_TIMEOUTS } {
  return { requestHandler: { ...AWS_HTTP_TIMEOUTS } };
}

let secretsManager: Promise<SecretsManagerClient> | undefined;
let dynamoDb: Promise<DynamoDBClient> | undefined;
let sqs: Promise<SQSClient> | undefined;

export function secretsManagerClient(): Promise<SecretsManagerClient> {
  secretsManager ??= import("@aws-sdk/client-secrets-manager").then(
    ({ SecretsManagerClient }) => new SecretsManagerClient(clientConfig()),
  );
  return secretsManager;
}

export function dynamoDbClient(): Promise<DynamoDBClient> {
  dynamoDb ??= import("@aws-sdk/client-dynamodb").then(
    ({ DynamoDBClient }) => new DynamoDBClient(clientConfig()),
  );
  return dynamoDb;
}

export function sqsClient(): Promise<SQSClient> {
  sqs ??= import("@aws-sdk/client-sqs").then(({ SQSClient }) => new SQSClient(clientConfig()));
  return sqs;
}

/** Drops the cached clients (tests that change AWS_* variables between cases). */
export function resetAwsClients(): void {
  secretsManager = undefined;
  dynamoDb = undefined;
  sqs = undefined;
}
