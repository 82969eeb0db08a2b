/** Shared fixtures of the sandbox tests: a started sandbox with a token, a fake subscriber, fetch helpers. */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Sandbox, type SandboxOptions, startSandbox } from "../../../lib/sandbox/index.ts";
import { exampleAccessRequestInput } from "../../../lib/triggers/examples.ts";

export const PRE_APPROVAL = "idn:access-request-pre-approval";
export const DYNAMIC_APPROVER = "idn:access-request-dynamic-approver";
export const POST_APPROVAL = "idn:access-request-post-approval";

export const VALID_PRE_APPROVAL_OUTPUT = {
  approved: true,
  comment: "ok",
  approver: "AcmeCorpExternalIntegration",
};

export const ACCESS_REQUEST_INPUT = exampleAccessRequestInput();

export interface Exchange {
  method: string;
  url: string;
  status: number;
  body: unknown;
  headers: Headers;
  requestBody: unknown;
  contentType: string | undefined;
}

/** A sandbox and a bearer token; `call` records every exchange for conformance checks. */
export class Tenant {
  readonly sandbox: Sandbox;
  token = "";
  readonly exchanges: Exchange[] = [];

  constructor(sandbox: Sandbox) {
    this.sandbox = sandbox;
  }

  static async start(options: SandboxOptions = {}): Promise<Tenant> {
    const tenant = new Tenant(await startSandbox({ rateLimit: false, ...options }));
    tenant.token = await tenant.fetchToken();
    return tenant;
  }

  async fetchToken(): Promise<string> {
    const response = await fetch(`${this.sandbox.baseUrl}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: this.sandbox.clientId,
        client_secret: this.sandbox.clientSecret,
      }),
    });
    if (response.status !== 200) throw new Error(`token: ${response.status}`);
    return ((await response.json()) as { access_token: string }).access_token;
  }

  /** JSON call with the tenant token (unless `token: null`) and the experimental header. */
  async call(
    method: string,
    path: string,
    body?: unknown,
    options: { token?: string | null; contentType?: string; headers?: Record<string, string> } = {},
  ): Promise<Exchange> {
    const headers: Record<string, string> = { "x-sailpoint-experimental": "true", ...options.headers };
    const token = options.token === undefined ? this.token : options.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let contentType: string | undefined;
    if (body !== undefined) {
      contentType = options.contentType ?? "application/json";
      headers["content-type"] = contentType;
    }
    const url = `${this.sandbox.baseUrl}${path}`;
    const response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    const exchange = {
      method,
      url,
      status: response.status,
      body: parsed,
      headers: response.headers,
      requestBody: body,
      contentType,
    };
    this.exchanges.push(exchange);
    return exchange;
  }

  async subscribe(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const result = await this.call("POST", "/beta/trigger-subscriptions", body);
    if (result.status !== 201) throw new Error(`subscribe: ${result.status} ${JSON.stringify(result.body)}`);
    return result.body as Record<string, unknown>;
  }

  async testInvocation(triggerId: string, input?: unknown): Promise<{ id: string; secret: string }[]> {
    const result = await this.call("POST", "/beta/trigger-invocations/test", {
      triggerId,
      contentJson: {},
      ...(input === undefined ? {} : { input }),
    });
    if (result.status !== 200)
      throw new Error(`test invocation: ${result.status} ${JSON.stringify(result.body)}`);
    return result.body as { id: string; secret: string }[];
  }

  complete(
    id: string,
    body: unknown,
    options: { token?: string | null; headers?: Record<string, string> } = {},
  ) {
    return this.call("POST", `/beta/trigger-invocations/${id}/complete`, body, { token: null, ...options });
  }

  close(): Promise<void> {
    return this.sandbox.close();
  }
}

export interface ReceivedDelivery {
  headers: IncomingHttpHeaders;
  body: Record<string, unknown> & { _metadata: Record<string, unknown> };
}

/** A fake HTTP subscriber on loopback; `reply` decides each answer. */
export class Subscriber {
  readonly received: ReceivedDelivery[] = [];
  reply: (delivery: ReceivedDelivery) => { status: number; body?: unknown; delayMs?: number } = () => ({
    status: 200,
    body: {},
  });
  readonly #server: Server;
  url = "";

  constructor() {
    this.#server = createServer((req, res) => {
      let text = "";
      req.on("data", (chunk) => {
        text += chunk;
      });
      req.on("end", () => {
        const delivery = { headers: req.headers, body: JSON.parse(text) };
        this.received.push(delivery);
        const answer = this.reply(delivery);
        const send = () => {
          if (res.destroyed) return;
          res.writeHead(answer.status, { "content-type": "application/json" });
          res.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
        };
        if (answer.delayMs) setTimeout(send, answer.delayMs);
        else send();
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hook`;
    return this;
  }

  /** Resolves once `count` deliveries arrived. */
  async waitFor(count: number, timeoutMs = 5_000): Promise<ReceivedDelivery[]> {
    const until = Date.now() + timeoutMs;
    while (this.received.length < count) {
      if (Date.now() > until) throw new Error(`expected ${count} deliveries, got ${this.received.length}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.received;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

export function httpSubscription(url: string, overrides: Record<string, unknown> = {}, mode = "ASYNC") {
  return {
    name: "Responder",
    triggerId: PRE_APPROVAL,
    type: "HTTP",
    httpConfig: { url, httpDispatchMode: mode, httpAuthenticationType: "NO_AUTH" },
    ...overrides,
  };
}
