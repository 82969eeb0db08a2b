/**
 * A loopback fake of the AWS Parameters and Secrets Lambda Extension, so a handler started in a
 * fresh process reads its secrets exactly as in Lambda (GET /secretsmanager/get?secretId=...,
 * X-Aws-Parameters-Secrets-Token = AWS_SESSION_TOKEN), without Secrets Manager or the AWS SDK.
 * The real extension listens on `localhost`, so this listens on both loopback addresses.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeExtension {
  port: number;
  sessionToken: string;
  /** Secret reads served so far. */
  reads: number;
  close(): Promise<void>;
}

export async function startFakeExtension(secrets: Record<string, string>): Promise<FakeExtension> {
  const sessionToken = "bench-session-token";
  const state = { reads: 0 };
  const handler: Parameters<typeof createServer>[1] = (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.headers["x-aws-parameters-secrets-token"] !== sessionToken) {
      res.writeHead(401).end("unauthorized");
      return;
    }
    const id = url.searchParams.get("secretId") ?? "";
    const value = url.pathname === "/secretsmanager/get" ? secrets[id] : undefined;
    if (value === undefined) {
      res.writeHead(400).end("ResourceNotFoundException");
      return;
    }
    state.reads++;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        ARN: `arn:aws:secretsmanager:local:000000000000:secret:${id}`,
        Name: id,
        SecretString: value,
      }),
    );
  };
  const servers: Server[] = [];
  const listen = (server: Server, host: string, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
    });
  const v4 = createServer(handler);
  const port = await listen(v4, "127.0.0.1", 0);
  servers.push(v4);
  const v6 = createServer(handler);
  try {
    await listen(v6, "::1", port);
    servers.push(v6);
  } catch {
    // No IPv6 loopback here: localhost resolves to 127.0.0.1 only.
  }
  return {
    port,
    sessionToken,
    get reads() {
      return state.reads;
    },
    close: () =>
      Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      ).then(() => undefined),
  };
}
