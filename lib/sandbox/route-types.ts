/**
 * What a sandbox route is: method, path pattern, the operation it implements, its auth rule and, for
 * context reads, the kind of ISC object it serves and the OAuth scope it needs. Shared by the route
 * tables (routes.ts, context-routes.ts) and the server (index.ts).
 */
import type { IncomingMessage } from "node:http";
import type { Directory } from "../context/directory.ts";
import type { ContextKind } from "../context/types.ts";
import type { InvocationEngine } from "./invocations.ts";
import type { SandboxState } from "./state.ts";

/** The kinds of context read the sandbox serves and counts: the reader's kinds plus browsing reads. */
export type ContextRouteKind = ContextKind | "workgroups" | "approvers" | "search";

export interface RouteContext {
  req: IncomingMessage;
  params: Record<string, string>;
  query: URLSearchParams;
  state: SandboxState;
  engine: InvocationEngine;
  directory: Directory;
  now: () => number;
  /** Whether the call carried a valid bearer token. */
  withToken: boolean;
}

export interface RouteReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Runs after the reply is sent (e.g. deliver test invocations). */
  after?: () => void;
}

export type AuthRule = "required" | "optional" | "none";

export interface Route {
  method: string;
  pattern: RegExp;
  /** The OpenAPI operationId it implements (or a sandbox name). */
  operation: string;
  auth: AuthRule;
  /** Whether this path form needs `X-SailPoint-Experimental: true` (as ISC's current spec says). */
  experimental: boolean;
  /** Context reads: what they serve (counted per kind) and the scope a client needs (else 403). */
  context?: { kind: ContextRouteKind; scope: string };
  handle(ctx: RouteContext): Promise<RouteReply>;
}

export interface RouteOptions {
  auth?: AuthRule;
  /**
   * Where the header is required: "versioned" on the /v2024 and /v2025 forms only (role insights, as
   * ISC's current spec has it); default nowhere (completion and task status need it in no version).
   */
  experimental?: "versioned";
  context?: { kind: ContextRouteKind; scope: string };
}

/** One Route per path form; `{name}` in a path is a parameter (`params.name`, URL-decoded). */
export function route(
  method: string,
  paths: string[],
  operation: string,
  handle: Route["handle"],
  options: RouteOptions = {},
): Route[] {
  return paths.map((path) => ({
    method,
    pattern: new RegExp(`^${path.replace(/\{(\w+)\}/g, "(?<$1>[^/]+)")}$`),
    operation,
    auth: options.auth ?? "required",
    experimental: options.experimental === "versioned" && /^\/v20\d\d\//.test(path),
    ...(options.context === undefined ? {} : { context: options.context }),
    handle,
  }));
}
