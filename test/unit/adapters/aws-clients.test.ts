/**
 * Every AWS client gives up on a request that gets no answer (the SDK's own default waits for the
 * socket, minutes): a loopback server accepts connections and never replies.
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  AWS_HTTP_TIMEOUTS,
  dynamoDbClient,
  resetAwsClients,
  secretsManagerClient,
  sqsClient,
} from "../../../lib/adapters/aws/clients.ts";

let server: Server;
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on("data", () => {}); // read the request, answer nothing
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  vi.stubEnv("AWS_ENDPOINT_URL", `http://127.0.0.1:${address.port}`);
  vi.stubEnv("AWS_REGION", "eu-west-1");
  vi.stubEnv("AWS_ACCESS_KEY_ID", "test");
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", "test");
  vi.stubEnv("AWS_SESSION_TOKEN", "");
  vi.stubEnv("AWS_MAX_ATTEMPTS", "1"); // one attempt: the test measures the timeout, not the retries
  resetAwsClients();
});

afterAll(async () => {
  resetAwsClients();
  vi.unstubAllEnvs();
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** How `work` ended and when: its error, or "hung" after `ms`. */
async function outcome(work: () => Promise<unknown>, ms: number) {
  const started = Date.now();
  const result = await Promise.race([
    work().then(
      () => "resolved" as const,
      (error: unknown) => error,
    ),
    new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), ms)),
  ]);
  return { result, elapsedMs: Date.now() - started };
}

describe("AWS clients", () => {
  it("set a connection and a request timeout", () => {
    expect(AWS_HTTP_TIMEOUTS.connectionTimeout).toBeGreaterThan(0);
    expect(AWS_HTTP_TIMEOUTS.connectionTimeout).toBeLessThanOrEqual(2_000);
    expect(AWS_HTTP_TIMEOUTS.requestTimeout).toBeGreaterThan(0);
    expect(AWS_HTTP_TIMEOUTS.requestTimeout).toBeLessThanOrEqual(5_000);
  });

  it("DynamoDB, SQS and Secrets Manager calls fail after the request timeout when nothing answers", async () => {
    const { GetItemCommand } = await import("@aws-sdk/client-dynamodb");
    const { GetQueueUrlCommand } = await import("@aws-sdk/client-sqs");
    const { GetSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
    const limit = AWS_HTTP_TIMEOUTS.requestTimeout + 2_000;
    const results = await Promise.all([
      outcome(
        async () =>
          (await dynamoDbClient()).send(
            new GetItemCommand({ TableName: "ledger", Key: { invocationId: { S: "x" } } }),
          ),
        limit,
      ),
      outcome(async () => (await sqsClient()).send(new GetQueueUrlCommand({ QueueName: "q" })), limit),
      outcome(
        async () => (await secretsManagerClient()).send(new GetSecretValueCommand({ SecretId: "s" })),
        limit,
      ),
    ]);
    for (const { result, elapsedMs } of results) {
      expect(result).toMatchObject({ name: "TimeoutError" });
      expect(elapsedMs).toBeLessThan(limit);
    }
  }, 15_000);
});
