import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServedHandler, serveHandler } from "../../../lib/local/function-url.ts";

let served: ServedHandler;
let lastEvent: APIGatewayProxyEventV2 | undefined;

beforeAll(async () => {
  served = await serveHandler(
    async (event): Promise<APIGatewayProxyResultV2> => {
      lastEvent = event;
      if (event.rawPath === "/throw") throw new Error("handler failed");
      if (event.rawPath === "/binary") {
        return {
          statusCode: 201,
          headers: { "X-Kind": "bin" },
          body: Buffer.from([1, 2, 3]).toString("base64"),
          isBase64Encoded: true,
        };
      }
      if (event.rawPath === "/string") return '{"plain":true}';
      return { statusCode: 200, headers: { "content-type": "application/json" }, body: '{"ok":true}' };
    },
    { port: 0, host: "127.0.0.1", maxRequestBytes: 1024 },
  );
});

afterAll(async () => {
  await served.close();
});

describe("serveHandler / Function URL v2 adapter", () => {
  it("listens on a loopback port and builds a v2 event (lower-cased headers, method, path, text body)", async () => {
    expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const response = await fetch(`${served.url}hook?a=1&b=2`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Custom-Header": "Yes", Authorization: "Bearer t" },
      body: '{"x":1}',
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
    const event = lastEvent!;
    expect(event.version).toBe("2.0");
    expect(event.rawPath).toBe("/hook");
    expect(event.rawQueryString).toBe("a=1&b=2");
    expect(event.queryStringParameters).toEqual({ a: "1", b: "2" });
    expect(event.requestContext.http.method).toBe("POST");
    expect(event.headers["x-custom-header"]).toBe("Yes");
    expect(event.headers.authorization).toBe("Bearer t");
    expect(event.body).toBe('{"x":1}');
    expect(event.isBase64Encoded).toBe(false);
    expect(typeof event.requestContext.timeEpoch).toBe("number");
  });

  it("base64-encodes a binary body", async () => {
    await fetch(served.url, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: new Uint8Array([0xff, 0x00, 0x7b]),
    });
    expect(lastEvent!.isBase64Encoded).toBe(true);
    expect(Buffer.from(lastEvent!.body!, "base64")).toEqual(Buffer.from([0xff, 0x00, 0x7b]));
  });

  it("writes base64 results as bytes, string results as 200 JSON", async () => {
    const binary = await fetch(`${served.url}binary`, { method: "POST" });
    expect(binary.status).toBe(201);
    expect(binary.headers.get("x-kind")).toBe("bin");
    expect(new Uint8Array(await binary.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
    const plain = await fetch(`${served.url}string`);
    expect(plain.status).toBe(200);
    expect(await plain.json()).toEqual({ plain: true });
  });

  it("answers 413 past the request limit without calling the handler, and 502 when the handler throws", async () => {
    lastEvent = undefined;
    const big = await fetch(served.url, { method: "POST", body: "x".repeat(5000) });
    expect(big.status).toBe(413);
    expect(lastEvent).toBeUndefined();
    const failed = await fetch(`${served.url}throw`, { method: "POST" });
    expect(failed.status).toBe(502);
  });
});
