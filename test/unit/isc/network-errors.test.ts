import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { IscClient } from "../../../lib/isc/client.ts";
import { describeNetworkCause } from "../../../lib/isc/errors.ts";

async function failureOf(baseUrl: string): Promise<string> {
  const client = new IscClient({
    baseUrl,
    clientId: "a",
    clientSecret: "b",
    rateLimit: false,
    retry: { maxAttempts: 1 },
  });
  try {
    await client.listTriggers();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("the call succeeded");
}

describe("network failures name their cause (loopback)", () => {
  it("connection refused", async () => {
    const server = createServer().listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    expect(await failureOf(`http://127.0.0.1:${port}`)).toMatch(
      /could not reach the tenant \(ECONNREFUSED: connection refused\)/,
    );
  });

  it("a TLS failure", async () => {
    const server = createServer((_req, res) => res.end("plain")).listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      expect(await failureOf(`https://127.0.0.1:${port}`)).toMatch(/\(TLS ERR_SSL_WRONG_VERSION_NUMBER\)/);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("undici's shapes: a DNS failure, happy eyeballs' AggregateError, a certificate error", () => {
    const fetchFailed = (cause: unknown) => Object.assign(new TypeError("fetch failed"), { cause });
    expect(
      describeNetworkCause(fetchFailed(Object.assign(new Error("getaddrinfo"), { code: "ENOTFOUND" }))),
    ).toBe("ENOTFOUND: host name not found");
    const aggregate = new AggregateError([Object.assign(new Error("a"), { code: "ECONNREFUSED" })], "");
    expect(describeNetworkCause(fetchFailed(aggregate))).toBe("ECONNREFUSED: connection refused");
    expect(
      describeNetworkCause(fetchFailed(Object.assign(new Error("x"), { code: "CERT_HAS_EXPIRED" }))),
    ).toBe("TLS CERT_HAS_EXPIRED");
    expect(describeNetworkCause(fetchFailed(new Error("bad port")))).toBe("bad port");
  });
});
