/**
 * The local console: a page listing every decision record live, with its explanation, and the
 * sandbox's controls where the sandbox runs. Its own HTTP server on loopback (127.0.0.1 unless told
 * otherwise), plain files from lib/console/assets, no framework, nothing fetched at run time.
 * See docs/console.md.
 */
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import type { DecisionRecordSource, WatchableRecords } from "../audit/types.ts";
import { ResponderError, ValidationError } from "../errors.ts";
import { allowedHosts, checkControlRequest, checkHost, containsSecret, newConsoleToken } from "./guard.ts";
import { EventStream, isWatchable, pollingFeed } from "./live.ts";
import { MethodNotAllowed, routeApi } from "./routes.ts";
import type { SandboxControls } from "./sandbox-controls.ts";

export interface ConsoleOptions {
  records: DecisionRecordSource;
  /**
   * Where new records are announced. Default: `records` itself when it can be watched, else polling
   * it every `pollMs` (0: not live; the page offers a refresh).
   */
  live?: WatchableRecords;
  pollMs?: number;
  /** The sandbox's controls (npm start); absent: read-only. */
  sandbox?: SandboxControls;
  /** What the header says the records are ("local responder", "stack acme-prod", a file path). */
  source: string;
  /** Default 127.0.0.1: the console shows personal data and, with a sandbox, fires invocations. */
  host?: string;
  /** More names the page may be reached by (a proxy's or tunnel's host), checked against Host. */
  hostNames?: string[];
  /** Default 0 (a free port). */
  port?: number;
  /** Values no reply may contain (tokens, secrets): a reply that does is refused (500) instead. */
  secrets?: () => Iterable<string>;
  /** Failures the console survives (a source that fails a read, a refused reply); never record content. */
  onError?: (error: unknown) => void;
}

export interface ConsoleServer {
  url: string;
  port: number;
  /** The token the page sends with its controls (tests use it). */
  token: string;
  events: EventStream;
  close(): Promise<void>;
}

const ASSETS: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/console.js": { file: "console.js", type: "text/javascript; charset=utf-8" },
  "/dom.js": { file: "dom.js", type: "text/javascript; charset=utf-8" },
  "/detail.js": { file: "detail.js", type: "text/javascript; charset=utf-8" },
  "/sandbox.js": { file: "sandbox.js", type: "text/javascript; charset=utf-8" },
  "/console.css": { file: "console.css", type: "text/css; charset=utf-8" },
};

const SECURITY_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-resource-policy": "same-origin",
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
} as const;

const MAX_BODY_BYTES = 16_384;

async function loadAssets(token: string): Promise<Map<string, { body: Buffer; type: string }>> {
  const assets = new Map<string, { body: Buffer; type: string }>();
  for (const [path, { file, type }] of Object.entries(ASSETS)) {
    let text = await readFile(new URL(`./assets/${file}`, import.meta.url), "utf8");
    // The token is hex: safe in an attribute as is.
    if (file === "index.html") text = text.replace("__CONSOLE_TOKEN__", token);
    assets.set(path, { body: Buffer.from(text), type });
  }
  return assets;
}

function readJsonBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ResponderError("BODY_TOO_LARGE", "the body is too large", { httpStatus: 413 }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch {
        reject(new ValidationError("the body", [{ path: "", message: "not JSON" }], "INVALID_JSON"));
      }
    });
    req.on("error", reject);
  });
}

function errorReply(error: unknown): { status: number; body: unknown; headers?: Record<string, string> } {
  if (error instanceof ResponderError) {
    const body: { code: string; message: string; issues?: unknown } = {
      code: error.code,
      message: error.message,
    };
    if (error instanceof ValidationError) body.issues = error.issues;
    return {
      status: error.httpStatus,
      body: { error: body },
      ...(error instanceof MethodNotAllowed ? { headers: { allow: error.allow } } : {}),
    };
  }
  // Unknown failures say nothing of their cause (it may quote a record or a path).
  return { status: 500, body: { error: { code: "INTERNAL", message: "the console failed to answer" } } };
}

export async function startConsole(options: ConsoleOptions): Promise<ConsoleServer> {
  const host = options.host ?? "127.0.0.1";
  const token = newConsoleToken();
  const assets = await loadAssets(token);
  const secrets = () => [token, ...(options.secrets?.() ?? [])];
  const poller =
    options.live === undefined && !isWatchable(options.records) && (options.pollMs ?? 0) > 0
      ? pollingFeed(options.records, {
          intervalMs: options.pollMs!,
          ...(options.onError === undefined ? {} : { onError: options.onError }),
        })
      : undefined;
  const feed = options.live ?? (isWatchable(options.records) ? options.records : poller);
  const events = new EventStream(feed, {
    ...(options.secrets === undefined ? {} : { secrets: options.secrets }),
    ...(options.onError === undefined ? {} : { onError: options.onError }),
  });
  const ctx = {
    records: options.records,
    sandbox: options.sandbox,
    source: options.source,
    live: feed !== undefined,
  };
  let hosts = new Set<string>();

  function send(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    let text = JSON.stringify(body);
    // The console's own token may appear only in its page, never in JSON.
    if (containsSecret(text, secrets())) {
      options.onError?.(new Error("a console reply held a secret value: refused"));
      status = 500;
      text = JSON.stringify({ error: { code: "REFUSED", message: "the reply was withheld" } });
    }
    res.writeHead(status, { ...SECURITY_HEADERS, "content-type": "application/json", ...headers });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://console.invalid");
    try {
      checkHost(req, hosts);
      const asset = assets.get(url.pathname);
      if (asset !== undefined) {
        if (method !== "GET" && method !== "HEAD") throw new MethodNotAllowed("GET");
        res.writeHead(200, { ...SECURITY_HEADERS, "content-type": asset.type });
        res.end(method === "HEAD" ? undefined : asset.body);
        return;
      }
      if (url.pathname === "/api/events") {
        if (method !== "GET") throw new MethodNotAllowed("GET");
        events.handle(req, res);
        return;
      }
      if (method !== "GET" && method !== "HEAD") checkControlRequest(req, token, hosts);
      const reply = await routeApi(ctx, method, url, () => readJsonBody(req));
      send(res, reply.status, reply.body);
    } catch (error) {
      if (!(error instanceof ResponderError) || error.httpStatus >= 500) options.onError?.(error);
      const reply = errorReply(error);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      send(res, reply.status, reply.body, reply.headers);
    }
  }

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  // Listening on every interface: this machine's addresses are its names too.
  const wildcard = host === "0.0.0.0" || host === "::";
  const own = wildcard
    ? Object.values(networkInterfaces())
        .flat()
        .map((i) => (i?.family === "IPv6" ? `[${i.address}]` : (i?.address ?? "")))
    : [];
  hosts = allowedHosts(host, address.port, [...own, ...(options.hostNames ?? [])]);
  const shown = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host;
  return {
    url: `http://${shown}:${address.port}/`,
    port: address.port,
    token,
    events,
    async close() {
      events.close();
      poller?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
