/**
 * A minimal loopback tenant for the cold-start runs: issues OAuth tokens (form or multipart body,
 * as the SDK sends) and answers 204 to every completion, counting them. The throughput and soak
 * runs use the full sandbox instead; here only the client's cold path is being timed.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeTenant {
  baseUrl: string;
  tokens: number;
  completions: number;
  close(): Promise<void>;
}

export async function startFakeTenant(): Promise<FakeTenant> {
  const counts = { tokens: 0, completions: 0 };
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      if (req.method === "POST" && path === "/oauth/token") {
        counts.tokens++;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ access_token: "bench-token", token_type: "bearer", expires_in: 749 }));
        return;
      }
      if (req.method === "POST" && /\/trigger-invocations\/(v1\/)?[^/]+\/complete$/.test(path)) {
        counts.completions++;
        res.writeHead(204).end();
        return;
      }
      res.writeHead(404, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    get tokens() {
      return counts.tokens;
    },
    get completions() {
      return counts.completions;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
