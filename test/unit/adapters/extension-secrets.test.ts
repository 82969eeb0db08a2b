import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ExtensionSecretsStore,
  extensionSecretsStoreFromEnv,
} from "../../../lib/adapters/aws/extension-secrets.ts";
import { secretsSourceFromEnv, secretsStoreFromEnv } from "../../../lib/adapters/aws/secrets-from-env.ts";
import { SecretsManagerSecretsStore } from "../../../lib/adapters/aws/secrets-manager.ts";
import { SecretNotFoundError, SecretsUnavailableError } from "../../../lib/adapters/errors.ts";

const TOKEN = "session-token-abc";
const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
let server: Server;
let port: number;

// A loopback fake of the Parameters and Secrets extension's /secretsmanager/get endpoint.
beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ url: req.url ?? "", headers: req.headers });
    const url = new URL(req.url ?? "/", "http://x");
    if (req.headers["x-aws-parameters-secrets-token"] !== TOKEN) {
      res.writeHead(401).end("unauthorized");
      return;
    }
    const id = url.searchParams.get("secretId");
    if (url.pathname !== "/secretsmanager/get") res.writeHead(404).end();
    else if (id === "webhook")
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:webhook-AbCdEf",
          Name: "webhook",
          SecretString: '{"type":"bearer","current":"tok"}',
          VersionId: "v1",
          VersionStages: [url.searchParams.get("versionStage") ?? "AWSCURRENT"],
        }),
      );
    else if (id === "binary")
      res.writeHead(200).end(JSON.stringify({ Name: "binary", SecretBinary: "AAEC", SecretString: null }));
    else if (id === "garbled") res.writeHead(200).end("<html>");
    else if (id === "missing-new")
      res.writeHead(400).end('{"__type":"ResourceNotFoundException","message":"x"}');
    else if (id === "slow") setTimeout(() => res.writeHead(200).end("{}"), 500);
    else res.writeHead(400).end("400 Bad Request: an unexpected error occurred while executing request");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function store(overrides: Partial<ConstructorParameters<typeof ExtensionSecretsStore>[0]> = {}) {
  return new ExtensionSecretsStore({ host: "127.0.0.1", port, sessionToken: TOKEN, ...overrides });
}

describe("ExtensionSecretsStore", () => {
  it("GETs /secretsmanager/get?secretId= with the session token header and returns SecretString", async () => {
    expect(await store().getSecretString("webhook")).toBe('{"type":"bearer","current":"tok"}');
    const last = seen.at(-1);
    expect(last?.url).toBe("/secretsmanager/get?secretId=webhook");
    expect(last?.headers["x-aws-parameters-secrets-token"]).toBe(TOKEN);
  });

  it("encodes the secret id (ARNs, slashes) and passes a version stage", async () => {
    await expect(
      store({ versionStage: "AWSPREVIOUS" }).getSecretString("acme/isc creds"),
    ).rejects.toBeInstanceOf(SecretsUnavailableError);
    expect(seen.at(-1)?.url).toBe("/secretsmanager/get?secretId=acme%2Fisc+creds&versionStage=AWSPREVIOUS");
  });

  it("maps a not-found reply to SecretNotFoundError and a generic 400 to SecretsUnavailableError", async () => {
    await expect(store().getSecretString("missing-new")).rejects.toBeInstanceOf(SecretNotFoundError);
    const generic = await store()
      .getSecretString("nope")
      .catch((e: unknown) => e);
    expect(generic).toBeInstanceOf(SecretsUnavailableError);
    expect((generic as SecretsUnavailableError).status).toBe(400);
    expect((generic as Error).message).toContain("nope");
  });

  it("reports a refused token, a binary secret, a non-JSON reply and a timeout, without echoing the token", async () => {
    const refused = await store({ sessionToken: "wrong-token-value" })
      .getSecretString("webhook")
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: "SECRETS_UNAVAILABLE", status: 401 });
    expect((refused as Error).message).not.toContain("wrong-token-value");
    await expect(store().getSecretString("binary")).rejects.toThrow(/no string value/);
    await expect(store().getSecretString("garbled")).rejects.toThrow(/not JSON/);
    await expect(store({ timeoutMs: 50 }).getSecretString("slow")).rejects.toThrow(/timed out/);
  });

  it("reports an unreachable extension", async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, "127.0.0.1", () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    await expect(store({ port: closed }).getSecretString("webhook")).rejects.toThrow(/unreachable/);
  });
});

describe("secretsStoreFromEnv", () => {
  it("uses the extension when its port and a session token are set, else the SDK", async () => {
    expect(
      secretsSourceFromEnv({ PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: "2773", AWS_SESSION_TOKEN: "t" }),
    ).toBe("extension");
    expect(secretsSourceFromEnv({ PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: "2773" })).toBe("sdk");
    expect(secretsSourceFromEnv({})).toBe("sdk");
    expect(
      secretsSourceFromEnv({ PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: "x", AWS_SESSION_TOKEN: "t" }),
    ).toBe("sdk");
    expect(new SecretsManagerSecretsStore()).toBeDefined();
    expect(extensionSecretsStoreFromEnv({})).toBeUndefined();
    expect(
      extensionSecretsStoreFromEnv({
        PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: "2773",
        AWS_SESSION_TOKEN: "t",
      }),
    ).toBeDefined();
  });

  it("returns a cached store that reads through the extension", async () => {
    // secretsStoreFromEnv targets localhost; the fake listens on 127.0.0.1, which localhost reaches.
    const cached = secretsStoreFromEnv({
      PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(port),
      AWS_SESSION_TOKEN: TOKEN,
    });
    const before = seen.length;
    expect(await cached.getSecretString("webhook")).toContain("bearer");
    expect(await cached.getSecretString("webhook")).toContain("bearer");
    expect(seen.length).toBe(before + 1);
  });
});
