import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IscClient } from "../../../lib/isc/client.ts";
import { createLineLogger } from "../../../lib/local/log.ts";
import { inboundCredentialsFromEnv, ServeConfigError, startServe } from "../../../lib/local/serve.ts";
import { type Sandbox, startSandbox } from "../../../lib/sandbox/index.ts";
import { exampleAccessRequestInput } from "../../../lib/triggers/examples.ts";
import { PRE_APPROVAL } from "../../../lib/triggers/trigger-ids.ts";

const RULES = fileURLToPath(new URL("../../../rules/example.yaml", import.meta.url));
const INPUT = exampleAccessRequestInput();

describe("inboundCredentialsFromEnv", () => {
  it("reads bearer or basic, refuses none or both without echoing values", () => {
    expect(inboundCredentialsFromEnv({ RESPONDER_BEARER_TOKEN: "t" })).toEqual({
      type: "bearer",
      current: "t",
    });
    expect(inboundCredentialsFromEnv({ RESPONDER_BASIC_USER: "u", RESPONDER_BASIC_PASSWORD: "p" })).toEqual({
      type: "basic",
      username: "u",
      current: "p",
    });
    expect(() => inboundCredentialsFromEnv({})).toThrow(ServeConfigError);
    expect(() => inboundCredentialsFromEnv({ RESPONDER_BASIC_USER: "u" })).toThrow(ServeConfigError);
    try {
      inboundCredentialsFromEnv({ RESPONDER_BEARER_TOKEN: "sekrit", RESPONDER_BASIC_USER: "u" });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain("sekrit");
    }
  });
});

describe("startServe against a tenant (the sandbox) with Basic credentials", () => {
  let sandbox: Sandbox;
  let served: Awaited<ReturnType<typeof startServe>>;
  const lines: string[] = [];

  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0 });
    served = await startServe({
      rulesPath: RULES,
      port: 0,
      env: {
        SAIL_BASE_URL: sandbox.baseUrl,
        SAIL_CLIENT_ID: sandbox.clientId,
        SAIL_CLIENT_SECRET: sandbox.clientSecret,
        RESPONDER_BASIC_USER: "isc",
        RESPONDER_BASIC_PASSWORD: "basic-pass-123",
      },
      logger: createLineLogger((line) => lines.push(line), { level: "debug" }),
    });
  });

  afterAll(async () => {
    await served?.close();
    await sandbox?.close();
  });

  it("answers an async delivery and completes it at the tenant with the in-process worker", async () => {
    const client = new IscClient({
      baseUrl: sandbox.baseUrl,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
    });
    const subscription = await client.createSubscription({
      name: "serve test",
      triggerId: PRE_APPROVAL,
      type: "HTTP",
      responseDeadline: "PT1H",
      httpConfig: {
        url: served.url,
        httpDispatchMode: "ASYNC",
        httpAuthenticationType: "BASIC_AUTH",
        basicAuthConfig: { userName: "isc", password: "basic-pass-123" },
      },
    });
    const [created] = await client.testInvocation({
      triggerId: PRE_APPROVAL,
      input: INPUT,
      subscriptionIds: [subscription.id],
    });
    const ended = await sandbox.waitForInvocation(created!.id, 10_000);
    expect(ended.status).toBe("COMPLETED");
    expect(ended.delivery.httpStatus).toBe(200);
    expect(ended.output).toMatchObject({ approved: true });
    const all = lines.join("\n");
    expect(all).not.toContain("basic-pass-123");
    expect(all).not.toContain(ended.secret);
    expect(all).not.toContain(sandbox.clientSecret);
  });

  it("refuses a caller without the Basic credentials", async () => {
    const response = await fetch(served.url, {
      method: "POST",
      body: "{}",
      headers: { authorization: "Basic eDp5" },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toContain("Basic");
  });
});
