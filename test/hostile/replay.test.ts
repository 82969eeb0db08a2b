/**
 * Replayed invocations through the whole local pipeline: a real async invocation from the sandbox is
 * completed once; replaying its request (as is, with another secret, with another input, and with
 * its callbackURL pointed at an attacker) never completes it again, never sends a wrong secret and
 * never reaches the attacker.
 */
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IscClient } from "../../lib/isc/client.ts";
import { type ServedHandler, serveHandler } from "../../lib/local/function-url.ts";
import { createLineLogger } from "../../lib/local/log.ts";
import { type LocalResponder, startLocalResponder } from "../../lib/local/responder.ts";
import { compileRules } from "../../lib/rules/compile.ts";
import { parseRulesDocument } from "../../lib/rules/parse.ts";
import { type Sandbox, type SandboxInvocation, startSandbox } from "../../lib/sandbox/index.ts";
import { createWorkerHandler } from "../../lib/worker/handler.ts";
import { validInput } from "./corpus.ts";
import { type RecordingServer, startRecordingServer } from "./recording-server.ts";

const BEARER = "replaySuiteBearerToken0123456789abcdefghijklmnop";
const RULES = {
  format: 1,
  approver: "replay.approver",
  preApproval: { default: { decision: "approve", comment: "ok" } },
};

async function post(url: string, body: string, authorization = `Bearer ${BEARER}`): Promise<number> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  await response.text();
  return response.status;
}

describe("replayed invocations", () => {
  let sandbox: Sandbox;
  let responder: LocalResponder;
  let endpoint: ServedHandler;
  let attacker: RecordingServer;
  const bodies: string[] = [];
  const logLines: string[] = [];
  let original: SandboxInvocation;

  beforeAll(async () => {
    attacker = await startRecordingServer();
    sandbox = await startSandbox({ rateLimit: false });
    const client = new IscClient({
      baseUrl: sandbox.baseUrl,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
      rateLimit: false,
    });
    responder = await startLocalResponder({
      rules: compileRules(parseRulesDocument(RULES)),
      tenantBaseUrl: sandbox.baseUrl,
      credentials: { type: "bearer", current: BEARER },
      client,
      logger: createLineLogger((line) => logLines.push(line), { level: "debug" }),
      createWorker: (deps) => {
        const handler = createWorkerHandler(deps);
        return (event) => handler(event);
      },
      visibilityTimeoutMs: 2_000,
    });
    // Records what ISC sent, so it can be replayed byte for byte.
    endpoint = await serveHandler(async (event: APIGatewayProxyEventV2) => {
      if (event.body !== undefined) bodies.push(event.body);
      return responder.handler(event);
    });
    await client.createSubscription({
      name: "replay",
      triggerId: "idn:access-request-pre-approval",
      type: "HTTP",
      responseDeadline: "PT1H",
      httpConfig: {
        url: endpoint.url,
        httpDispatchMode: "ASYNC",
        httpAuthenticationType: "BEARER_TOKEN",
        bearerTokenAuthConfig: { bearerToken: BEARER },
      },
      enabled: true,
    } as unknown as Parameters<IscClient["createSubscription"]>[0]);
    const [fired] = await sandbox.fireTrigger("idn:access-request-pre-approval", validInput());
    original = await sandbox.waitForInvocation(fired!.id, 15_000);
  }, 60_000);

  afterAll(async () => {
    await endpoint?.close();
    await responder?.close();
    await sandbox?.close();
    await attacker?.close();
  });

  it("completes the original once", () => {
    expect(original.status).toBe("COMPLETED");
    expect(original.completions.filter((c) => c.result === "COMPLETED")).toHaveLength(1);
    expect(bodies).toHaveLength(1);
  });

  it("never completes a replay again, whatever was changed", async () => {
    const sent = JSON.parse(bodies[0]!) as Record<string, unknown> & { _metadata: Record<string, unknown> };
    const variants = [
      bodies[0]!,
      bodies[0]!,
      JSON.stringify({ ...sent, _metadata: { ...sent._metadata, secret: "replayed-with-another-secret" } }),
      JSON.stringify({ ...sent, accessRequestId: "another-access-request" }),
      JSON.stringify({ ...sent, _metadata: { ...sent._metadata, responseMode: "dynamic" } }),
    ];
    for (const body of variants) expect(await post(endpoint.url, body)).toBeLessThan(300);
    // The replayed callbackURL pointed at the attacker is refused before anything is queued.
    const hostile = JSON.stringify({
      ...sent,
      _metadata: {
        ...sent._metadata,
        callbackURL: `${attacker.baseUrl}/beta/trigger-invocations/${original.id}/complete`,
      },
    });
    expect(await post(endpoint.url, hostile)).toBe(400);
    // And a replay with a wrong token is refused outright.
    expect(await post(endpoint.url, bodies[0]!, "Bearer wrong")).toBe(401);

    await responder.waitForDrain(20_000);
    const after = sandbox.state.invocations.get(original.id)!;
    expect(after.status).toBe("COMPLETED");
    expect(after.completions.filter((c) => c.result !== "REJECTED")).toHaveLength(1);
    expect(after.completions.filter((c) => c.reason === "wrong secret")).toHaveLength(0);
    expect(after.output).toEqual(original.output);
    expect(attacker.requests).toEqual([]);
    expect(responder.queue.deadLetters).toHaveLength(0);
  });

  it("logs neither the invocation secret nor the webhook token", () => {
    for (const line of logLines) {
      expect(line).not.toContain(original.secret);
      expect(line).not.toContain(BEARER);
    }
  });
});
