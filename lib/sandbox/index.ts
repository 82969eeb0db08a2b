/**
 * A local ISC tenant for everything this project calls: OAuth client credentials, trigger
 * subscriptions, test invocations delivered to HTTP subscribers or an EventBridge sink,
 * completions, task status, campaigns, role insights, and the context reads rules use (identities,
 * items, sources, governance groups, SoD, access-request status) served from a Directory; with rate
 * limits per API version, scopes, injectable faults and read latency. Not shipped in Lambda bundles.
 * See docs/sandbox.md.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import * as z from "zod/mini";
import { type Directory, defaultDirectory } from "../context/directory.ts";
import { formatPath } from "../errors.ts";
import { AccessRequestInputSchema, type EventBridgeTriggerEvent } from "../triggers/schemas.ts";
import { isRequestResponseTrigger } from "../triggers/trigger-ids.ts";
import { apiVersionOf, RateLimiter, type SandboxClient, TokenStore } from "./auth.ts";
import { findTrigger } from "./catalog.ts";
import { CONTEXT_ROUTES } from "./context-routes.ts";
import { FaultInjector, type FaultOptions } from "./faults.ts";
import {
  badRequest,
  errorBody,
  HttpReply,
  JWT_EXPIRED_BODY,
  notFound,
  RATE_LIMIT_BODY,
  sendJson,
} from "./http.ts";
import { InvocationEngine } from "./invocations.ts";
import { answerTokenRequest } from "./oauth.ts";
import type { ContextRouteKind } from "./route-types.ts";
import { matchRoute, methodNotAllowed, type RouteReply } from "./routes.ts";
import { type FaultKind, type SandboxInvocation, SandboxState } from "./state.ts";

export type { SandboxClient } from "./auth.ts";
export { CONTEXT_READ_PATHS } from "./context-routes.ts";
export type { FaultOptions } from "./faults.ts";
export { compileJsonPath, isValidJsonPath, JsonPathSyntaxError } from "./json-path.ts";
export type { ContextRouteKind } from "./route-types.ts";
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
export { CONTEXT_ROUTE_KINDS, FAULT_KINDS, SandboxState } from "./state.ts";

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
  /**
   * Default 100 requests per 10_000 ms per client id per API version (v3, v2025, beta and the v1
   * per-service paths each have their own window; a token request counts in each); false: no limit.
   */
  rateLimit?: { requests: number; windowMs: number } | false;
  /** Scopes the main client's tokens lack: a context read that needs one answers 403 naming it. */
  deniedScopes?: string[];
  /** More clients the tenant accepts, each with its own rate-limit windows and denied scopes. */
  clients?: SandboxClient[];
  /** Where context reads are served from (default: defaultDirectory(), the Acme directory). */
  directory?: Directory;
  /** Delay before each context read is answered, in ms (default 0): a tenant's read latency. */
  contextLatencyMs?: number;
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
   * Whether the endpoints ISC's spec marks experimental (the versioned role-insights paths) refuse a
   * call without `X-SailPoint-Experimental: true` (default true).
   */
  requireExperimentalHeader?: boolean;
}

export interface Sandbox {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  state: SandboxState;
  setFaults(faults: FaultOptions | undefined): void;
  /** The directory context reads are served from. */
  readonly directory: Directory;
  setDirectory(directory: Directory): void;
  /** Scopes a client's tokens lack from now on (default client: the main one); [] restores all. */
  setDeniedScopes(scopes: readonly string[], clientId?: string): void;
  /** Delay before each context read is answered, in ms. */
  setContextLatency(ms: number): void;
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

/** Every scope a context route checks (listed in token replies of clients that lack some). */
const CONTEXT_SCOPES = [...new Set(CONTEXT_ROUTES.map((route) => route.context!.scope))];

/** ISC's 403, naming the scope the token lacks (in the message and as the cause). */
function missingScopeBody(scope: string): ReturnType<typeof errorBody> {
  return errorBody(
    "403 Forbidden",
    `The server understood the request but refuses to authorize it: the token lacks the scope ${scope}`,
    [`missing scope: ${scope}`],
  );
}

function checkedLatency(ms: number): number {
  if (!(Number.isFinite(ms) && ms >= 0)) throw new RangeError("contextLatencyMs must be a number >= 0");
  return ms;
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => {});
  const clientId = options.clientId ?? `sandbox-${randomBytes(8).toString("hex")}`;
  const clientSecret = options.clientSecret ?? randomBytes(24).toString("hex");
  const tokens = new TokenStore(
    [{ clientId, clientSecret, deniedScopes: options.deniedScopes ?? [] }, ...(options.clients ?? [])],
    options.tokenTtlSeconds ?? 749,
    now,
  );
  let directory = options.directory ?? defaultDirectory({ now: now() });
  let contextLatencyMs = checkedLatency(options.contextLatencyMs ?? 0);
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

  /** Waits `ms`; false when the caller hung up or the sandbox is closing meanwhile. */
  async function stillWanted(res: ServerResponse, ms: number): Promise<boolean> {
    const gone = new AbortController();
    res.on("close", () => gone.abort());
    await delay(ms, AbortSignal.any([gone.signal, closing.signal]));
    return !(gone.signal.aborted || res.destroyed || closing.signal.aborted);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://sandbox.invalid");
    const path = url.pathname;
    let fault: FaultKind | undefined;
    let client: string | undefined;
    let kind: ContextRouteKind | undefined;
    const finish = (status: number): void => {
      const record = { at: now(), method, path, status, durationMs: Date.now() - started } as Parameters<
        SandboxState["recordRequest"]
      >[0];
      if (client !== undefined) record.clientId = client;
      if (fault !== undefined) record.fault = fault;
      if (kind !== undefined) record.kind = kind;
      state.recordRequest(record);
      log(
        `[sandbox] ${method} ${path} ${status === 0 ? "dropped" : status} ${record.durationMs}ms${fault ? ` fault=${fault}` : ""}${kind ? ` read=${kind}` : ""}`,
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
      kind = matched?.route.context?.kind;

      const presented = tokens.check(req.headers.authorization);
      if (faults !== undefined) {
        fault = faults.pick(
          path,
          (candidate) => candidate !== "tokenExpiry" || (!isToken && presented.ok),
          kind !== undefined,
        );
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
              // A caller that gave up must not have its request applied after all.
              if (!(await stillWanted(res, faults.options.slowMs ?? 2_000))) {
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
        const answer = await answerTokenRequest(req, url, tokens, limiter, CONTEXT_SCOPES);
        client = answer.clientId;
        if (answer.status === 429) state.rateLimited++;
        reply(answer.status, answer.body, answer.headers);
        return;
      }

      const { route, params } = matched!;
      const sentToken = req.headers.authorization !== undefined;
      if (route.auth === "required" || (route.auth === "optional" && sentToken)) {
        if (!presented.ok) {
          reply(401, JWT_EXPIRED_BODY);
          return;
        }
      }
      if (presented.ok) client = presented.clientId;
      if (limiter !== undefined) {
        const version = apiVersionOf(path);
        const retryAfter =
          client !== undefined
            ? limiter.hit(`client:${client}:${version}`)
            : limiter.hit(`anonymous:${req.socket.remoteAddress}:${version}`);
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
      if (route.context !== undefined) {
        if (client !== undefined && !tokens.hasScope(client, route.context.scope)) {
          reply(403, missingScopeBody(route.context.scope));
          return;
        }
        if (contextLatencyMs > 0 && !(await stillWanted(res, contextLatencyMs))) {
          finish(0);
          return;
        }
      }
      const result: RouteReply = await route.handle({
        req,
        params,
        query: url.searchParams,
        state,
        engine,
        directory,
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
    get directory() {
      return directory;
    },
    setDirectory(next) {
      directory = next;
    },
    setDeniedScopes(scopes, forClient = clientId) {
      tokens.setDeniedScopes(forClient, scopes);
    },
    setContextLatency(ms) {
      contextLatencyMs = checkedLatency(ms);
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
