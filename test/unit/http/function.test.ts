/**
 * functions/http.ts wired from the environment as in Lambda: rules.json from RULES_PATH, the webhook
 * and ISC credentials through a loopback fake of the Parameters and Secrets extension, middy around
 * the core, and the sandbox as the tenant the example policy reads its context from.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFailed, vi } from "vitest";
import { DEFAULT_DIRECTORY_IDS } from "../../../lib/context/directory.ts";
import { loadRulesFile } from "../../../lib/rules/load-file.ts";
import { type Sandbox, startSandbox } from "../../../lib/sandbox/index.ts";
import { body, event, TOKEN } from "./fixtures.ts";

let extension: Server;
const readsBySecret: Record<string, number> = {};
let sandbox: Sandbox;
let handler: (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<{ statusCode: number; body: string }>;

beforeAll(async () => {
  sandbox = await startSandbox();
  const secrets: Record<string, unknown> = {
    webhook: { type: "bearer", current: TOKEN },
    isc: { clientId: sandbox.clientId, clientSecret: sandbox.clientSecret },
  };
  extension = createServer((req, res) => {
    if (req.headers["x-aws-parameters-secrets-token"] !== "session-token")
      return void res.writeHead(401).end();
    const secretId = new URL(req.url ?? "/", "http://localhost").searchParams.get("secretId") ?? "";
    readsBySecret[secretId] = (readsBySecret[secretId] ?? 0) + 1;
    if (secrets[secretId] === undefined) return void res.writeHead(404).end();
    res.end(JSON.stringify({ SecretString: JSON.stringify(secrets[secretId]) }));
  });
  await new Promise<void>((resolve) => extension.listen(0, "127.0.0.1", resolve));
  const dir = mkdtempSync(join(tmpdir(), "http-fn-"));
  const rulesFile = fileURLToPath(new URL("../../../rules/example.yaml", import.meta.url));
  writeFileSync(join(dir, "rules.json"), JSON.stringify((await loadRulesFile(rulesFile)).document));
  Object.assign(process.env, {
    SAIL_BASE_URL: sandbox.baseUrl,
    WEBHOOK_CREDENTIALS_SECRET_ID: "webhook",
    ISC_CREDENTIALS_SECRET_ID: "isc",
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

// The function writes its log and EMF lines straight to stdout, as in Lambda: each test keeps them
// (the EMF test reads them) and shows them only if it fails.
let written: string[] = [];
beforeEach(() => {
  written = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  onTestFailed(() => {
    process.stderr.write(`stdout of the failed test:\n${written.join("")}`);
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(async () => {
  await sandbox.close();
  extension.closeAllConnections();
  await new Promise<void>((resolve) => extension.close(() => resolve()));
});

describe("functions/http.ts", () => {
  it("answers a sync invocation from live context, reading each secret once and the context once", async () => {
    const sync = body("sync");
    delete sync._metadata.callbackURL;
    delete sync._metadata.secret;
    const first = await handler(event(sync), {} as Context);
    expect(first.statusCode).toBe(200);
    expect(JSON.parse(first.body)).toMatchObject({ approved: true, approver: "svc-isc-responder" });
    const reads = sandbox.state.contextRequestsTotal();
    expect(reads).toBeGreaterThan(0);
    await handler(event(sync), {} as Context);
    expect(readsBySecret).toEqual({ webhook: 1, isc: 1 });
    // The second decision's context came from the container's cache.
    expect(sandbox.state.contextRequestsTotal()).toBe(reads);
  });

  it("denies a terminated person from live context", async () => {
    const sync = body("sync");
    delete sync._metadata.callbackURL;
    delete sync._metadata.secret;
    sync.requestedFor = { type: "IDENTITY", id: DEFAULT_DIRECTORY_IDS.terry, name: "Terry Terminated" };
    const result = await handler(event(sync), {} as Context);
    expect(JSON.parse(result.body)).toMatchObject({ approved: false });
    expect(JSON.parse(result.body).comment).toContain("not active");
  });

  it("emits its metrics as EMF on stdout, in the configured namespace with the service dimension", async () => {
    const sync = body("sync");
    delete sync._metadata.callbackURL;
    delete sync._metadata.secret;
    expect((await handler(event(sync), {} as Context)).statusCode).toBe(200);
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
