/**
 * The console server over loopback: its page and API, the live stream, the same-origin checks on
 * controls, the Host check, and the refusal of any reply that would carry a known secret.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import type { SandboxControls } from "../../../lib/console/sandbox-controls.ts";
import { type ConsoleServer, startConsole } from "../../../lib/console/server.ts";
import { FakeRecords, makeRecord } from "./records.ts";

interface Reply {
  status: number;
  headers: IncomingMessage["headers"];
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: replies are read as loosely typed JSON in assertions
  json: () => any;
}

function call(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? "GET", headers: options.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
        });
      },
    );
    req.setTimeout(5_000, () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end(options.body);
  });
}

/** Reads an event stream until `until` matches what arrived (bounded). */
function readStream(url: string, until: RegExp, act: () => Promise<void> | void): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    let acted = false;
    const req = httpRequest(url, (res) => {
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
        if (!acted && text.includes("event: hello")) {
          acted = true;
          void Promise.resolve(act()).catch(reject);
        }
        if (until.test(text)) {
          req.destroy();
          resolve(text);
        }
      });
    });
    req.setTimeout(5_000, () => req.destroy(new Error(`stream timed out with ${JSON.stringify(text)}`)));
    req.on("error", (error) => (until.test(text) ? resolve(text) : reject(error)));
    req.end();
  });
}

function fakeSandbox(calls: unknown[]): SandboxControls {
  return {
    choices: () => ({
      people: [{ id: "p1", name: "Ed Engineer" }],
      items: [{ id: "i1", name: "Wiki", type: "ENTITLEMENT" }],
    }),
    fire: async (request) => {
      calls.push(request);
      return {
        trigger: "pre-approval",
        mode: request.mode,
        sample: "fired from the console",
        invocationId: "inv-fired",
        decision: "approve",
        ruleId: "default",
        completed: true,
        fallback: false,
        latencyMs: 5,
      };
    },
    faults: () => ({ enabled: false, rate: 0.2, target: "all", injected: {} }),
    setFaults: (request) => {
      calls.push(request);
      return {
        enabled: request.enabled,
        rate: request.rate ?? 0.2,
        target: request.target ?? "all",
        injected: {},
      };
    },
    invocations: () => ({ counts: { PENDING: 0, COMPLETED: 1, FAILED: 0 }, invocations: [] }),
    secrets: () => ["sandbox-client-secret-value"],
  };
}

let server: ConsoleServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("console server", () => {
  it("serves the page with its token and a strict CSP, and the assets", async () => {
    server = await startConsole({ records: new FakeRecords(), source: "test" });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await call(server.url);
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toContain("text/html");
    expect(page.text).toContain(`<meta name="console-token" content="${server.token}">`);
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(page.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(page.headers["x-frame-options"]).toBe("DENY");
    for (const asset of ["console.js", "console.css"]) {
      const reply = await call(`${server.url}${asset}`);
      expect(reply.status).toBe(200);
      expect(reply.text.length).toBeGreaterThan(1000);
    }
    // Nothing from another origin: no CDN, no remote font.
    expect(page.text).not.toMatch(/https?:\/\//);
  });

  it("lists rows newest first with the filters, and gives one invocation's records", async () => {
    const records = new FakeRecords();
    const older = makeRecord();
    const newer = makeRecord({
      triggerId: "idn:access-request-dynamic-approver",
      mode: "sync",
      people: [{ id: "2c91808568c529c60168cca6f90c9999", name: "Ed Engineer" }],
      decision: {
        ...makeRecord().decision,
        label: "approver",
        output: { id: "x", name: "Dana DevOps", type: "IDENTITY" },
        fallback: true,
      },
      completion: { outcome: "answered" },
    });
    await records.put(older);
    await records.put(newer);
    server = await startConsole({ records, source: "test" });
    const all = (await call(`${server.url}api/decisions`)).json();
    expect(all.decisions.map((r: { invocationId: string }) => r.invocationId)).toEqual([
      newer.invocationId,
      older.invocationId,
    ]);
    const row = all.decisions[1];
    expect(row).toMatchObject({
      triggerId: "idn:access-request-pre-approval",
      decision: "deny",
      summary: "deny: Terry is not active in ISC.",
      ruleId: "deny-inactive-person",
      completed: true,
      fallback: false,
      latencyMs: 12,
    });
    // Rows carry no input and no context data: the detail view reads those.
    expect(row.input).toBeUndefined();
    expect(all.decisions[0]).toMatchObject({
      summary: "Dana DevOps (IDENTITY)",
      completed: true,
      fallback: true,
    });

    const ids = async (query: string) =>
      (await call(`${server!.url}api/decisions?${query}`))
        .json()
        .decisions.map((r: { invocationId: string }) => r.invocationId);
    expect(await ids("trigger=dynamic-approver")).toEqual([newer.invocationId]);
    expect(await ids("trigger=idn:access-request-pre-approval")).toEqual([older.invocationId]);
    expect(await ids("decision=deny")).toEqual([older.invocationId]);
    expect(await ids("decision=fallback")).toEqual([newer.invocationId]);
    expect(await ids("person=2c91808568c529c60168cca6f90c1313")).toEqual([older.invocationId]);
    expect(await ids("person=ed%20eng")).toEqual([newer.invocationId]);
    expect(await ids("person=wilson")).toEqual([older.invocationId]);

    const bad = await call(`${server.url}api/decisions?decision=maybe`);
    expect(bad.status).toBe(400);
    expect(bad.json().error.code).toBe("INVALID_PAYLOAD");

    const detail = await call(`${server.url}api/decisions/${encodeURIComponent(older.invocationId)}`);
    expect(detail.status).toBe(200);
    expect(detail.json().records[0]).toEqual(older);
    const byRequest = await call(`${server.url}api/decisions/${older.accessRequestId}`);
    expect(byRequest.json().records).toHaveLength(1);
    expect((await call(`${server.url}api/decisions/nope`)).status).toBe(404);
    expect((await call(`${server.url}api/nothing`)).status).toBe(404);
  });

  it("streams each new record as its row", async () => {
    const records = new FakeRecords();
    server = await startConsole({ records, source: "test" });
    const record = makeRecord();
    const text = await readStream(`${server.url}api/events`, /event: decision\ndata: .*\n\n/, () =>
      records.put(record),
    );
    expect(text).toContain('event: hello\ndata: {"live":true}');
    const data = JSON.parse(/event: decision\ndata: (.*)\n/.exec(text)![1]!);
    expect(data).toMatchObject({ invocationId: record.invocationId, decision: "deny" });
    // The page hung up: the console stops listening to the store.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(records.listeners).toBe(0);
  });

  it("refuses requests whose Host is not the console's (DNS rebinding)", async () => {
    server = await startConsole({ records: new FakeRecords(), source: "test" });
    const port = server.port;
    expect((await call(`${server.url}api/decisions`, { headers: { host: "evil.example" } })).status).toBe(
      421,
    );
    expect((await call(`${server.url}`, { headers: { host: `evil.example:${port}` } })).status).toBe(421);
    expect((await call(`${server.url}api/info`, { headers: { host: `localhost:${port}` } })).status).toBe(
      200,
    );
  });

  it("takes controls only from its own page: token, same Origin, JSON", async () => {
    const calls: unknown[] = [];
    server = await startConsole({ records: new FakeRecords(), source: "test", sandbox: fakeSandbox(calls) });
    const url = `${server.url}api/sandbox/invocations`;
    const body = JSON.stringify({
      triggerId: "idn:access-request-pre-approval",
      mode: "sync",
      personId: "p1",
      itemIds: ["i1"],
    });
    const json = { "content-type": "application/json" };
    const origin = server.url.slice(0, -1);

    // A cross-site form or fetch: no token, or another Origin, or not JSON.
    expect((await call(url, { method: "POST", headers: json, body })).status).toBe(403);
    expect(
      (await call(url, { method: "POST", headers: { ...json, "x-console-token": "0".repeat(48) }, body }))
        .status,
    ).toBe(403);
    const foreign = await call(url, {
      method: "POST",
      headers: { ...json, "x-console-token": server.token, origin: "http://evil.example" },
      body,
    });
    expect(foreign.status).toBe(403);
    expect(foreign.json().error.code).toBe("ORIGIN_REFUSED");
    const form = await call(url, {
      method: "POST",
      headers: { "content-type": "text/plain", "x-console-token": server.token, origin },
      body,
    });
    expect(form.status).toBe(415);
    expect(calls).toHaveLength(0);

    const fired = await call(url, {
      method: "POST",
      headers: { ...json, "x-console-token": server.token, origin },
      body,
    });
    expect(fired.status).toBe(200);
    expect(fired.json().result.invocationId).toBe("inv-fired");
    expect(calls).toEqual([JSON.parse(body)]);

    const invalid = await call(url, {
      method: "POST",
      headers: { ...json, "x-console-token": server.token },
      body: JSON.stringify({ triggerId: "idn:other", mode: "sync", personId: "p1", itemIds: [] }),
    });
    expect(invalid.status).toBe(400);
    expect(invalid.json().error.issues.map((i: { path: string }) => i.path)).toEqual([
      "triggerId",
      "itemIds",
    ]);

    const faults = await call(`${server.url}api/sandbox/faults`, {
      method: "PUT",
      headers: { ...json, "x-console-token": server.token },
      body: JSON.stringify({ enabled: true, rate: 0.5 }),
    });
    expect(faults.json()).toMatchObject({ enabled: true, rate: 0.5 });
    expect(
      (
        await call(`${server.url}api/sandbox/faults`, {
          method: "DELETE",
          headers: { "x-console-token": server.token, ...json },
        })
      ).headers.allow,
    ).toBe("GET, PUT");
    expect((await call(`${server.url}api/sandbox/invocations`)).json().counts.COMPLETED).toBe(1);
    expect((await call(`${server.url}api/info`)).json()).toEqual({
      source: "test",
      live: true,
      sandbox: true,
    });
  });

  it("is read-only without a sandbox", async () => {
    server = await startConsole({ records: new FakeRecords(), source: "stack acme" });
    expect((await call(`${server.url}api/info`)).json().sandbox).toBe(false);
    expect((await call(`${server.url}api/sandbox/invocations`)).status).toBe(404);
    const post = await call(`${server.url}api/sandbox/invocations`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-console-token": server.token },
      body: "{}",
    });
    expect(post.status).toBe(404);
  });

  it("withholds a reply or an event that would carry a known secret, and says which nowhere", async () => {
    const secret = "webhook-token-abcdef0123456789";
    const records = new FakeRecords();
    const leaky = makeRecord({ items: [{ id: "i1", name: `pasted ${secret}` }] });
    await records.put(leaky);
    const errors: unknown[] = [];
    server = await startConsole({
      records,
      source: "test",
      secrets: () => [secret],
      onError: (error) => errors.push(error),
    });
    const list = await call(`${server.url}api/decisions`);
    expect(list.status).toBe(500);
    expect(list.text).not.toContain(secret);
    const detail = await call(`${server.url}api/decisions/${leaky.invocationId}`);
    expect(detail.status).toBe(500);
    expect(detail.text).not.toContain(secret);
    expect(errors.map(String).join("\n")).not.toContain(secret);

    // The stream drops it and sends the next, clean one.
    const clean = makeRecord();
    const text = await readStream(`${server.url}api/events`, new RegExp(clean.invocationId), async () => {
      await records.put(makeRecord({ people: [{ id: "p", name: secret }] }));
      await records.put(clean);
    });
    expect(text).not.toContain(secret);
    expect(text.match(/event: decision/g)).toHaveLength(1);
  });

  it("polls a source that cannot be watched and announces what appears", async () => {
    const store = new FakeRecords();
    await store.put(makeRecord());
    const source = { list: store.list.bind(store), find: store.find.bind(store) };
    server = await startConsole({ records: source, source: "file", pollMs: 30 });
    const added = makeRecord();
    const text = await readStream(`${server.url}api/events`, new RegExp(added.invocationId), async () => {
      // After the first poll has seen what was there.
      await new Promise((resolve) => setTimeout(resolve, 100));
      await store.put(added);
    });
    expect(text.match(/event: decision/g)).toHaveLength(1);

    await server.close();
    server = await startConsole({ records: source, source: "stack" });
    const hello = await readStream(`${server.url}api/events`, /event: hello\ndata: .*\n/, () => {});
    expect(hello).toContain('{"live":false}');
  });
});
