/**
 * A tiny programmable ISC tenant on loopback for the client tests: records every request (token
 * requests included) and answers with whatever the test's handler returns.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  text: string;
  json: unknown;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Never answer (to exercise per-attempt timeouts). */
  hang?: boolean;
  delayMs?: number;
}

export type Handler = (request: RecordedRequest, index: number) => Reply | Promise<Reply>;

export interface FakeTenant {
  baseUrl: string;
  /** API requests (not /oauth/token). */
  requests: RecordedRequest[];
  tokenRequests: RecordedRequest[];
  /** Every request received, in order. */
  all: RecordedRequest[];
  handle(handler: Handler): void;
  /** Token endpoint behaviour; default: 200 {access_token: "token-<n>", expires_in: 749}. */
  handleToken(handler: Handler): void;
  close(): Promise<void>;
}

export async function startFakeTenant(handler: Handler = () => ({ status: 204 })): Promise<FakeTenant> {
  let apiHandler = handler;
  let tokenHandler: Handler = (_request, index) => ({
    status: 200,
    body: { access_token: `token-${index + 1}`, token_type: "bearer", expires_in: 749 },
  });
  const requests: RecordedRequest[] = [];
  const tokenRequests: RecordedRequest[] = [];
  const all: RecordedRequest[] = [];
  const hanging = new Set<ServerResponse>();

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    let json: unknown;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    const recorded: RecordedRequest = {
      method: req.method ?? "",
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      text,
      json,
    };
    all.push(recorded);
    const isToken = url.pathname === "/oauth/token";
    const list = isToken ? tokenRequests : requests;
    list.push(recorded);
    const reply = await (isToken ? tokenHandler : apiHandler)(recorded, list.length - 1);
    if (reply.hang) {
      hanging.add(res);
      return;
    }
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    const headers: Record<string, string> = { ...reply.headers };
    let body: string | undefined;
    if (reply.body !== undefined) {
      headers["content-type"] ??= "application/json";
      body = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
    }
    res.writeHead(reply.status, headers);
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    tokenRequests,
    all,
    handle(next) {
      apiHandler = next;
    },
    handleToken(next) {
      tokenHandler = next;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** ISC's ErrorResponseDto. */
export function errorDto(detailCode: string, text: string, trackingId = "0123456789abcdef0123456789abcdef") {
  return {
    detailCode,
    trackingId,
    messages: [{ locale: "en-US", localeOrigin: "DEFAULT", text }],
    causes: [],
  };
}

/** A fake clock whose sleep advances time instantly and records each wait. */
export function fakeTime(start = 1_700_000_000_000) {
  let current = start;
  const sleeps: number[] = [];
  return {
    now: () => current,
    sleep: async (ms: number, signal?: AbortSignal) => {
      if (signal?.aborted) throw signal.reason;
      sleeps.push(ms);
      current += ms;
    },
    advance(ms: number) {
      current += ms;
    },
    sleeps,
  };
}
