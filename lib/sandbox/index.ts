/**
 * A local ISC tenant for everything this project calls: OAuth client credentials, trigger
 * subscriptions, test invocations delivered to HTTP subscribers or an EventBridge sink,
 * completions, task status, campaigns, role insights; with rate limits and injectable faults.
 * Not shipped in Lambda bundles. See docs/sandbox.md.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import * as z from "zod/mini";
import { formatPath } from "../errors.ts";
import { AccessRequestInputSchema, type EventBridgeTriggerEvent } from "../triggers/schemas.ts";
import { isRequestResponseTrigger } from "../triggers/trigger-ids.ts";
import { RateLimiter, TokenStore } from "./auth.ts";
import { findTrigger } from "./catalog.ts";
import { FaultInjector, type FaultOptions } from "./faults.ts";
import {
  badRequest,
  errorBody,
  HttpReply,
  JWT_EXPIRED_BODY,
  notFound,
  RATE_LIMIT_BODY,
  readBody,
  sendJson,
} from "./http.ts";
import { InvocationEngine } from "./invocations.ts";
import { matchRoute, methodNotAllowed, type RouteReply } from "./routes.ts";
import { type FaultKind, type SandboxInvocation, SandboxState } from "./state.ts";

export type { FaultOptions } from "./faults.ts";
export { compileJsonPath, isValidJsonPath, JsonPathSyntaxError } from "./json-path.ts";
export type {
  CompletionAttempt,
  DeliveryOutcome,
  FaultKind,
  InvocationStatus,
  RequestRecord,
  RoleInsightsRequest,
  SandboxCampaign,
  SandboxDeliveryMode,
  SandboxInvocation,
  StoredSubscription,
  TaskStatus,
} from "./state.ts";
export { FAULT_KINDS, SandboxState } from "./state.ts";

export interface SandboxOptions {
  /** 0 = random (default 0). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Generated when absent. */
  clientId?: string;
  clientSecret?: string;
  /** Lifetime of issued tokens (default 749, like the docs' example). */
  tokenTtlSeconds?: number;
  /** Default 100 requests per 10_000 ms per client id; false: no limit. */
  rateLimit?: { requests: number; windowMs: number } | false;
  faults?: FaultOptions;
  /** Where EVENTBRIDGE subscriptions deliver. Without it their events are dropped (ISC does not retry). */
  eventBridgeSink?: (event: EventBridgeTriggerEvent) => void | Promise<void>;
  /** ISC's window for the subscriber's HTTP reply (default 10_000 ms). */
  deliveryTimeoutMs?: number;
  /** Injectable clock (epoch ms) for deadline and token expiry tests. */
  now?: () => number;
  /** Request log, one line per request (never secrets). Default: no log. */
  log?: (line: string) => void;
  /**
   * Whether beta experimental endpoints (completion, task status, role insights) refuse a call
   * without `X-SailPoint-Experimental: true`, as the API pages say they do (default true).
   */
  requireExperimentalHeader?: boolean;
}

export interface Sandbox {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  state: SandboxState;
  setFaults(faults: FaultOptions | undefined): void;
  /** Creates an invocation per matching subscription and delivers it, like POST /beta/trigger-invocations/test, in process. */
  fireTrigger(
    triggerId: string,
    input: unknown,
    options?: {
      subscriptionIds?: string[];
      contentJson?: Record<string, unknown>;
      skipInputValidation?: boolean;
    },
  ): Promise<SandboxInvocation[]>;
  /** Resolves when the invocation is completed or failed (or after timeoutMs, default 15_000, with it still PENDING). */
  waitForInvocation(id: string, timeoutMs?: number): Promise<SandboxInvocation>;
  /** Makes every issued token invalid (the next call gets 401). */
  revokeTokens(): void;
  close(): Promise<void>;
}

const PROBLEM_FAULTS: Record<
  Exclude<FaultKind, "slow" | "drop" | "tokenExpiry" | "status429">,
  [number, string, string]
> = {
  status500: [500, "500.0 Internal Fault", "An internal fault occurred (injected by the sandbox)"],
  status503: [503, "503 Service Unavailable", "The service is unavailable (injected by the sandbox)"],
};

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** client_credentials from the form body, the query string (as SailPoint's SDK sends them) or Basic auth. */
async function tokenRequest(
  req: IncomingMessage,
  url: URL,
): Promise<{ grantType?: string; clientId?: string; clientSecret?: string }> {
  const form = new URLSearchParams(await readBody(req));
  const pick = (name: string): string | undefined =>
    form.get(name) ?? url.searchParams.get(name) ?? undefined;
  let clientId = pick("client_id");
  let clientSecret = pick("client_secret");
  const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? "");
  if (basic && clientId === undefined) {
    const decoded = Buffer.from(basic[1]!, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon > 0) {
      clientId = decodeURIComponent(decoded.slice(0, colon));
      clientSecret = decodeURIComponent(decoded.slice(colon + 1));
    }
  }
  const result: { grantType?: string; clientId?: string; clientSecret?: string } = {};
  const grantType = pick("grant_type");
  if (grantType !== undefined) result.grantType = grantType;
  if (clientId !== undefined) result.clientId = clientId;
  if (clientSecret !== undefined) result.clientSecret = clientSecret;
  return result;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => {});
  const clientId = options.clientId ?? `sandbox-${randomBytes(8).toString("hex")}`;
  const clientSecret = options.clientSecret ?? randomBytes(24).toString("hex");
  const tokens = new TokenStore(clientId, clientSecret, options.tokenTtlSeconds ?? 749, now);
  const rateLimit = options.rateLimit ?? { requests: 100, windowMs: 10_000 };
  const limiter = rateLimit === false ? undefined : new RateLimiter(rateLimit, now);
  const requireExperimental = options.requireExperimentalHeader ?? true;
  let faults = options.faults === undefined ? undefined : new FaultInjector(options.faults);
  const state = new SandboxState(now);
  let baseUrl = "";
  const engine = new InvocationEngine({
    state,
    baseUrl: () => baseUrl,
    now,
    deliveryTimeoutMs: options.deliveryTimeoutMs ?? 10_000,
    eventBridgeSink: options.eventBridgeSink,
    log,
  });
  const closing = new AbortController();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://sandbox.invalid");
    const path = url.pathname;
    let fault: FaultKind | undefined;
    let client: string | undefined;
    const finish = (status: number): void => {
      const record = { at: now(), method, path, status, durationMs: Date.now() - started } as Parameters<
        SandboxState["recordRequest"]
      >[0];
      if (client !== undefined) record.clientId = client;
      if (fault !== undefined) record.fault = fault;
      state.recordRequest(record);
      log(
        `[sandbox] ${method} ${path} ${status === 0 ? "dropped" : status} ${record.durationMs}ms${fault ? ` fault=${fault}` : ""}`,
      );
    };
    const reply = (status: number, body?: unknown, headers?: Record<string, string>): void => {
      sendJson(res, status, body, headers);
      finish(status);
    };

    try {
      engine.expireOverdue();
      if (method === "GET" && path === "/sandbox/health") {
        reply(200, { status: "ok" });
        return;
      }
      const isToken = path === "/oauth/token";
      const matched = isToken ? undefined : matchRoute(method, path);
      if (!isToken && matched === undefined) throw notFound(`Path ${path.slice(0, 200)}`);
      if (isToken && method !== "POST") throw methodNotAllowed(method);
      if (matched !== undefined && "methodNotAllowed" in matched) throw methodNotAllowed(method);

      const presented = tokens.check(req.headers.authorization);
      if (faults !== undefined) {
        fault = faults.pick(path, (kind) => kind !== "tokenExpiry" || (!isToken && presented.ok));
        if (fault !== undefined) {
          state.faultsInjected[fault]++;
          switch (fault) {
            case "drop":
              // No reply at all: the caller sees a reset connection.
              req.socket.destroy();
              finish(0);
              return;
            case "status429":
              reply(429, RATE_LIMIT_BODY, { "retry-after": String(faults.options.retryAfterSeconds ?? 1) });
              return;
            case "tokenExpiry":
              if (presented.ok) tokens.revoke(presented.token);
              reply(401, JWT_EXPIRED_BODY);
              return;
            case "slow": {
              const gone = new AbortController();
              res.on("close", () => gone.abort());
              await delay(faults.options.slowMs ?? 2_000, AbortSignal.any([gone.signal, closing.signal]));
              // A caller that gave up must not have its request applied after all.
              if (gone.signal.aborted || res.destroyed || closing.signal.aborted) {
                finish(0);
                return;
              }
              break;
            }
            default: {
              const [status, detailCode, text] = PROBLEM_FAULTS[fault];
              reply(status, errorBody(detailCode, text));
              return;
            }
          }
        }
      }

      if (isToken) {
        const request = await tokenRequest(req, url);
        client = request.clientId;
        if (limiter !== undefined) {
          const retryAfter = limiter.hit(`client:${request.clientId ?? "anonymous"}`);
          if (retryAfter !== undefined) {
            state.rateLimited++;
            reply(429, RATE_LIMIT_BODY, { "retry-after": String(retryAfter) });
            return;
          }
        }
        if (request.grantType !== "client_credentials") {
          reply(400, {
            error: "unsupported_grant_type",
            error_description: "Only client_credentials is supported",
          });
          return;
        }
        if (
          request.clientId === undefined ||
          request.clientSecret === undefined ||
          !tokens.validClient(request.clientId, request.clientSecret)
        ) {
          reply(401, { error: "unauthorized", error_description: "Bad credentials" });
          return;
        }
        const issued = tokens.issue(request.clientId);
        reply(200, {
          access_token: issued.token,
          token_type: "bearer",
          expires_in: issued.expiresInSeconds,
          scope: "sp:scopes:all",
          tenant_id: "sandbox",
          pod: "sandbox",
          strong_auth_supported: false,
          org: "sandbox",
          jti: randomUUID(),
        });
        return;
      }

      const { route, params } = matched as Exclude<typeof matched, undefined | { methodNotAllowed: true }>;
      const sentToken = req.headers.authorization !== undefined;
      if (route.auth === "required" || (route.auth === "optional" && sentToken)) {
        if (!presented.ok) {
          reply(401, JWT_EXPIRED_BODY);
          return;
        }
      }
      if (presented.ok) client = presented.clientId;
      if (limiter !== undefined) {
        const retryAfter = limiter.hit(
          client !== undefined ? `client:${client}` : `anonymous:${req.socket.remoteAddress}`,
        );
        if (retryAfter !== undefined) {
          state.rateLimited++;
          reply(429, RATE_LIMIT_BODY, { "retry-after": String(retryAfter) });
          return;
        }
      }
      if (route.experimental && requireExperimental) {
        const header = req.headers["x-sailpoint-experimental"];
        if (typeof header !== "string" || header.trim().toLowerCase() !== "true") {
          throw badRequest(
            "This API is experimental: send the header X-SailPoint-Experimental: true to use it",
            ["X-SailPoint-Experimental"],
          );
        }
      }
      const result: RouteReply = await route.handle({
        req,
        params,
        query: url.searchParams,
        state,
        engine,
        now,
        withToken: presented.ok,
      });
      reply(result.status, result.body, result.headers);
      result.after?.();
    } catch (error) {
      if (error instanceof HttpReply) {
        reply(error.status, error.body, error.headers);
        return;
      }
      log(`[sandbox] ${method} ${path} failed: ${(error as Error).message}`);
      reply(500, errorBody("500.0 Internal Fault", "The sandbox failed to handle the request"));
    }
  }

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  baseUrl = `http://${host}:${address.port}`;

  return {
    baseUrl,
    clientId,
    clientSecret,
    state,
    setFaults(next) {
      faults = next === undefined ? undefined : new FaultInjector(next);
    },
    async fireTrigger(triggerId, input, fireOptions = {}) {
      const trigger = findTrigger(triggerId);
      if (trigger === undefined) throw new Error(`unknown trigger ${triggerId}`);
      if (typeof input !== "object" || input === null || Array.isArray(input)) {
        throw new TypeError("fireTrigger: input must be a JSON object");
      }
      if (isRequestResponseTrigger(triggerId) && fireOptions.skipInputValidation !== true) {
        const valid = z.safeParse(AccessRequestInputSchema, input);
        if (!valid.success) {
          const paths = valid.error.issues.map((issue) => formatPath(issue.path) || "(root)").join(", ");
          throw new TypeError(
            `fireTrigger: the input does not match the ${triggerId} input schema at ${paths}`,
          );
        }
      }
      const invocations = engine.create(
        triggerId,
        input as Record<string, unknown>,
        fireOptions.contentJson ?? {},
        "REAL_TIME",
        fireOptions.subscriptionIds,
      );
      engine.deliverLater(invocations);
      return invocations;
    },
    waitForInvocation(id, timeoutMs = 15_000) {
      return engine.waitFor(id, timeoutMs);
    },
    revokeTokens() {
      tokens.revokeAll();
    },
    async close() {
      closing.abort();
      await engine.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
