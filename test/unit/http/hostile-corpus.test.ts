/**
 * The shared hostile corpus (test/hostile/corpus.ts) against the real handler, served over loopback
 * through the Function URL adapter: each case gets its expected status, and nothing is decided,
 * queued or sent to the attacker's address.
 */
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCachedCredentialsProvider } from "../../../lib/http/auth.ts";
import { createHttpHandler } from "../../../lib/http/handler.ts";
import { type ServedHandler, serveHandler } from "../../../lib/local/function-url.ts";
import { buildCorpus, type HostileCase } from "../../hostile/corpus.ts";
import { captureLogger, FakeQueue, fakeRules } from "./fixtures.ts";

const TOKEN = "hostileCorpusToken0123456789abcdefghijklmnopqrstu";
let served: ServedHandler;
let attacker: Server;
let attackerHits = 0;
let attackerBaseUrl = "";
const queue = new FakeQueue();
const rules = fakeRules();
const logger = captureLogger();
const tenantBaseUrl = "http://127.0.0.1:9"; // never contacted: the handler does not complete anything itself

function send(c: HostileCase): Promise<number> {
  const url = new URL(served.url);
  if (c.raw !== undefined) {
    const raw = c.raw(url.host);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => socket.write(raw));
      let text = "";
      socket.on("data", (chunk) => {
        text += chunk.toString("latin1");
      });
      socket.on("end", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
      socket.on("error", reject);
      socket.setTimeout(3000, () => socket.destroy(new Error(`${c.id}: no reply`)));
    });
  }
  const headers: Record<string, string> = {
    authorization: `Bearer ${TOKEN}`,
    "content-type": "application/json",
  };
  // Node's client sends DELETE/OPTIONS bodies without a length unless told: say it, as ISC would.
  if (c.body.length > 0) headers["content-length"] = String(Buffer.byteLength(c.body));
  for (const [name, value] of Object.entries(c.headers)) {
    if (value === null) delete headers[name];
    else headers[name] = value;
  }
  return new Promise((resolve, reject) => {
    const req = request(served.url, { method: c.method, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(c.body);
  });
}

beforeAll(async () => {
  attacker = createServer((_req, res) => {
    attackerHits++;
    res.end();
  });
  await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
  attackerBaseUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
  const handler = createHttpHandler({
    rules,
    queue,
    logger,
    credentials: createCachedCredentialsProvider(async () =>
      JSON.stringify({ type: "bearer", current: TOKEN }),
    ),
    tenantBaseUrl,
    responseDeadlineMs: () => 3_600_000,
  });
  served = await serveHandler(handler, { port: 0 });
});

afterAll(async () => {
  await served?.close();
  await new Promise<void>((resolve) => attacker?.close(() => resolve()));
});

describe("hostile corpus against the HTTP handler", () => {
  it("answers every case with its expected status and acts on none", async () => {
    const cases = buildCorpus({ tenantBaseUrl, attackerBaseUrl, bearerToken: TOKEN });
    expect(cases.length).toBeGreaterThan(100);
    const wrong: string[] = [];
    for (const c of cases) {
      const status = await send(c);
      if (status !== c.expectStatus) wrong.push(`${c.id}: expected ${c.expectStatus}, got ${status}`);
    }
    expect(wrong).toEqual([]);
    expect(queue.messages).toHaveLength(0);
    expect(rules.calls).toBe(0);
    expect(attackerHits).toBe(0);
    expect(logger.lines.join("\n")).not.toContain(TOKEN);
  }, 60_000);
});
