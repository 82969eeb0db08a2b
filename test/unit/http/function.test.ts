/**
 * functions/http.ts wired from the environment as in Lambda: rules.json from RULES_PATH, the webhook
 * credentials through a loopback fake of the Parameters and Secrets extension, middy around the core.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loadRulesFile } from "../../../lib/rules/load-file.ts";
import { body, event, TENANT, TOKEN } from "./fixtures.ts";

let extension: Server;
let extensionReads = 0;
let handler: (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<{ statusCode: number; body: string }>;

beforeAll(async () => {
  extension = createServer((req, res) => {
    extensionReads++;
    if (req.headers["x-aws-parameters-secrets-token"] !== "session-token")
      return void res.writeHead(401).end();
    res.end(JSON.stringify({ SecretString: JSON.stringify({ type: "bearer", current: TOKEN }) }));
  });
  await new Promise<void>((resolve) => extension.listen(0, "127.0.0.1", resolve));
  const dir = mkdtempSync(join(tmpdir(), "http-fn-"));
  const rulesFile = fileURLToPath(new URL("../../../rules/example.yaml", import.meta.url));
  writeFileSync(join(dir, "rules.json"), JSON.stringify((await loadRulesFile(rulesFile)).document));
  Object.assign(process.env, {
    SAIL_BASE_URL: TENANT,
    WEBHOOK_CREDENTIALS_SECRET_ID: "webhook",
    QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/never-used",
    RULES_PATH: join(dir, "rules.json"),
    PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String((extension.address() as AddressInfo).port),
    AWS_SESSION_TOKEN: "session-token",
    POWERTOOLS_LOG_LEVEL: "ERROR",
    POWERTOOLS_SERVICE_NAME: "svc-under-test",
    POWERTOOLS_METRICS_NAMESPACE: "NsUnderTest",
  });
  // The extension listens on localhost in Lambda; here on 127.0.0.1 (localhost resolves to it).
  ({ handler } = (await import("../../../functions/http.ts")) as unknown as { handler: typeof handler });
});

afterAll(async () => {
  extension.closeAllConnections();
  await new Promise<void>((resolve) => extension.close(() => resolve()));
});

describe("functions/http.ts", () => {
  it("answers a sync invocation with the rules' decision, reading the credentials once", async () => {
    const sync = body("sync");
    delete sync._metadata.callbackURL;
    delete sync._metadata.secret;
    const first = await handler(event(sync), {} as Context);
    expect(first.statusCode).toBe(200);
    expect(JSON.parse(first.body)).toMatchObject({ approved: true, approver: "svc-isc-responder" });
    await handler(event(sync), {} as Context);
    expect(extensionReads).toBe(1);
  });

  it("emits its metrics as EMF on stdout, in the configured namespace with the service dimension", async () => {
    const sync = body("sync");
    delete sync._metadata.callbackURL;
    delete sync._metadata.secret;
    const written: string[] = [];
    const stdout = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      expect((await handler(event(sync), {} as Context)).statusCode).toBe(200);
    } finally {
      stdout.mockRestore();
    }
    const decisions = written
      .map(
        (line) => JSON.parse(line) as Record<string, unknown> & { _aws?: { CloudWatchMetrics: unknown[] } },
      )
      .filter((doc) => doc._aws !== undefined && "Decisions" in doc);
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({
      _aws: {
        CloudWatchMetrics: [{ Namespace: "NsUnderTest", Dimensions: [["service", "trigger", "kind"]] }],
      },
      service: "svc-under-test",
      trigger: "idn:access-request-pre-approval",
    });
  });

  it("refuses a wrong token with 401", async () => {
    const result = await handler(event(body("sync"), { authorization: "Bearer wrong" }), {} as Context);
    expect(result.statusCode).toBe(401);
  });
});
