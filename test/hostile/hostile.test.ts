/**
 * The hostile-input suite: every request of the corpus goes over real loopback HTTP through the
 * Function URL adapter into the real HTTP handler. Each must get its specified status, and none may
 * enqueue anything, complete anything or send a byte to a host that is not the tenant (an
 * "attacker" server listens on another port and must see zero requests).
 */
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InvocationQueue } from "../../lib/adapters/types.ts";
import { createCachedCredentialsProvider } from "../../lib/http/auth.ts";
import { createHttpHandler, type HttpLogger } from "../../lib/http/handler.ts";
import { type ServedHandler, serveHandler } from "../../lib/local/function-url.ts";
import type { CompiledRules } from "../../lib/rules/types.ts";
import { payloadOnly } from "../helpers/payload-rules.ts";
import { buildCorpus, type HostileCase } from "./corpus.ts";
import { type RecordingServer, startRecordingServer } from "./recording-server.ts";

const BEARER = "hostileSuiteBearerToken0123456789abcdefghijklmnop";
const CORPUS_SECRET = "hostile-corpus-secret-0001";

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function send(base: string, c: HostileCase): Promise<Reply> {
  const url = new URL(base);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    authorization: `Bearer ${BEARER}`,
  };
  for (const [name, value] of Object.entries(c.headers)) {
    if (value === null) delete headers[name];
    else headers[name] = value;
  }
  const payload = typeof c.body === "string" ? Buffer.from(c.body, "utf8") : c.body;
  if (payload.length > 0) headers["content-length"] = String(payload.length);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: "/",
        method: c.method,
        headers,
        agent: false,
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${c.id}: no reply within 10 s`)));
    req.on("error", reject);
    req.end(payload);
  });
}

/** Sends raw bytes and reads the status line of the reply. */
function sendRaw(port: number, raw: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.end(raw));
    let text = "";
    socket.setTimeout(10_000, () => socket.destroy(new Error("no reply within 10 s")));
    socket.on("data", (chunk) => {
      text += chunk.toString("latin1");
    });
    socket.on("close", () => {
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, headers: {}, body: text.split("\r\n\r\n").slice(1).join("\r\n\r\n") });
    });
    socket.on("error", reject);
  });
}

describe("hostile input against the HTTP endpoint", () => {
  let tenant: RecordingServer;
  let attacker: RecordingServer;
  let endpoint: ServedHandler;
  const enqueued: unknown[] = [];
  const logLines: string[] = [];
  let decisions = 0;
  let corpus: HostileCase[] = [];
  const replies = new Map<string, Reply>();

  beforeAll(async () => {
    tenant = await startRecordingServer();
    attacker = await startRecordingServer();
    const queue: InvocationQueue = {
      async enqueue(message) {
        enqueued.push(message);
      },
    };
    const line = (level: string) => (message: string, fields?: Record<string, unknown>) => {
      logLines.push(JSON.stringify({ level, message, ...fields }));
    };
    const logger: HttpLogger = { info: line("INFO"), warn: line("WARN"), error: line("ERROR") };
    // No corpus case may reach a decision; a rules engine that counts calls proves it.
    const rules: CompiledRules = payloadOnly({
      version: "sha256:hostile",
      decide() {
        decisions++;
        throw new Error("no hostile request should be decided");
      },
      fallback() {
        decisions++;
        throw new Error("no hostile request should reach a fallback");
      },
    });
    const handler = createHttpHandler({
      rules,
      credentials: createCachedCredentialsProvider(async () =>
        JSON.stringify({ type: "bearer", current: BEARER }),
      ),
      queue,
      logger,
      tenantBaseUrl: tenant.baseUrl,
      responseDeadlineMs: () => 3_600_000,
    });
    endpoint = await serveHandler(handler);
    corpus = buildCorpus({
      tenantBaseUrl: tenant.baseUrl,
      attackerBaseUrl: attacker.baseUrl,
      bearerToken: BEARER,
    });
    // Sequential, bounded by the corpus size; each request has its own 10 s timeout.
    for (const c of corpus) {
      replies.set(
        c.id,
        c.raw
          ? await sendRaw(endpoint.port, c.raw(`127.0.0.1:${endpoint.port}`))
          : await send(endpoint.url, c),
      );
    }
  }, 60_000);

  afterAll(async () => {
    await endpoint?.close();
    await tenant?.close();
    await attacker?.close();
  });

  it("has at least 150 cases in every category", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(150);
    const categories = new Set(corpus.map((c) => c.category));
    expect([...categories].sort()).toEqual(
      [
        "auth",
        "broken-json",
        "callback-url",
        "deep-nesting",
        "header-injection",
        "huge-body",
        "method",
        "missing-metadata",
        "not-an-object",
        "unknown-trigger",
        "wrong-types",
      ].sort(),
    );
  });

  it("answers every case with its specified status", () => {
    const wrong = corpus
      .map((c) => ({ id: c.id, expected: c.expectStatus, got: replies.get(c.id)?.status }))
      .filter((r) => r.expected !== r.got);
    expect(wrong).toEqual([]);
  });

  it("answers JSON errors that name a code and never echo a secret", () => {
    for (const c of corpus) {
      const reply = replies.get(c.id)!;
      if (c.raw) continue; // refused by the HTTP parser before the handler
      expect(reply.headers["content-type"], c.id).toMatch(/application\/json/);
      const parsed = JSON.parse(reply.body) as { error?: { code?: unknown }; message?: unknown };
      expect(parsed.error?.code ?? parsed.message, c.id).toBeTypeOf("string");
      expect(reply.body, c.id).not.toContain(BEARER);
      expect(reply.body, c.id).not.toContain(CORPUS_SECRET);
    }
  });

  it("challenges refused callers with WWW-Authenticate", () => {
    for (const c of corpus.filter((x) => x.expectStatus === 401)) {
      expect(replies.get(c.id)?.headers["www-authenticate"], c.id).toBe("Bearer");
    }
  });

  it("enqueues nothing, decides nothing and sends nothing anywhere", () => {
    expect(enqueued).toEqual([]);
    expect(decisions).toBe(0);
    expect(attacker.requests).toEqual([]);
    // Nothing on the reply path talks to the tenant either: no completion, no token request.
    expect(tenant.requests).toEqual([]);
  });

  it("logs no secret, token or Authorization header", () => {
    expect(logLines.length).toBeGreaterThan(0);
    for (const line of logLines) {
      expect(line).not.toContain(BEARER);
      expect(line).not.toContain(CORPUS_SECRET);
      expect(line.toLowerCase()).not.toContain("bearer ");
    }
  });
});
