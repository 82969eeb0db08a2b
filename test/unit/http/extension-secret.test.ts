import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createExtensionSecretReader, ExtensionSecretError } from "../../../lib/http/extension-secret.ts";

let server: Server;
let port = 0;
const seenTokens: Array<string | undefined> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    seenTokens.push(req.headers["x-aws-parameters-secrets-token"] as string | undefined);
    const id = url.searchParams.get("secretId");
    if (req.headers["x-aws-parameters-secrets-token"] !== "session")
      return void res.writeHead(401).end("nope");
    if (id === "hang") return; // never answers
    if (id === "binary") return void res.end(JSON.stringify({ Name: id, SecretBinary: "AAAA" }));
    if (id === "garbage") return void res.end("not json SECRETVALUE");
    if (id !== "webhook/creds") return void res.writeHead(400).end("ResourceNotFoundException webhook/creds");
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ Name: id, SecretString: '{"current":"tok"}' }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("createExtensionSecretReader", () => {
  it("reads SecretString with the session token header, reusing the connection", async () => {
    const read = createExtensionSecretReader({ port, sessionToken: "session", host: "127.0.0.1" });
    expect(await read("webhook/creds")).toBe('{"current":"tok"}');
    expect(await read("webhook/creds")).toBe('{"current":"tok"}');
    expect(seenTokens.at(-1)).toBe("session");
  });

  it("turns every failure into ExtensionSecretError without quoting the reply", async () => {
    const read = createExtensionSecretReader({
      port,
      sessionToken: "session",
      host: "127.0.0.1",
      timeoutMs: 100,
    });
    for (const id of ["missing", "binary", "garbage", "hang"]) {
      const error = await read(id).catch((e: unknown) => e);
      expect(error, id).toBeInstanceOf(ExtensionSecretError);
      expect((error as Error).message).not.toContain("SECRETVALUE");
    }
    const wrongToken = createExtensionSecretReader({ port, sessionToken: "other", host: "127.0.0.1" });
    await expect(wrongToken("webhook/creds")).rejects.toThrow(/HTTP 401/);
    const unreachable = createExtensionSecretReader({ port: 1, sessionToken: "session", host: "127.0.0.1" });
    await expect(unreachable("webhook/creds")).rejects.toThrow(/unreachable/);
  });
});
