/**
 * The console's JSON API. Each route returns a status and a body; server.ts reads requests, checks
 * them (guard.ts) and writes replies.
 *
 *   GET  /api/info                     what the page shows and which controls it gets
 *   GET  /api/decisions?trigger=&decision=&person=&limit=   list rows, newest first
 *   GET  /api/decisions/:id            the records of an invocation id or access request id
 *   GET  /api/sandbox/choices          people and items to fire with
 *   GET  /api/sandbox/invocations      the sandbox's invocations, by status
 *   POST /api/sandbox/invocations      fire one ({triggerId, mode, personId, itemIds, ...})
 *   GET  /api/sandbox/faults           fault injection state
 *   PUT  /api/sandbox/faults           turn it on or off ({enabled, rate?, target?})
 */
import type { DecisionRecordSource } from "../audit/types.ts";
import { ResponderError } from "../errors.ts";
import {
  FaultsRequestSchema,
  FireRequestSchema,
  parseBody,
  type SandboxControls,
} from "./sandbox-controls.ts";
import { parseListQuery, rowMatches, toRow } from "./summary.ts";

export interface ConsoleContext {
  records: DecisionRecordSource;
  sandbox: SandboxControls | undefined;
  /** Where the records come from, for the page's header ("local responder", "stack acme-prod"...). */
  source: string;
  /** Whether new records arrive by themselves (the page shows "live" or offers a refresh). */
  live: boolean;
}

export interface ApiReply {
  status: number;
  body: unknown;
}

export class NotFound extends ResponderError {
  constructor(what: string) {
    super("NOT_FOUND", `${what} not found`, { httpStatus: 404 });
  }
}

export class MethodNotAllowed extends ResponderError {
  readonly allow: string;
  constructor(allow: string) {
    super("METHOD_NOT_ALLOWED", `use ${allow}`, { httpStatus: 405 });
    this.allow = allow;
  }
}

const RECORD_TIMEOUT_MS = 10_000;

function sandboxOf(ctx: ConsoleContext): SandboxControls {
  if (ctx.sandbox === undefined) throw new NotFound("the sandbox (this console is read-only)");
  return ctx.sandbox;
}

function only(method: string, allowed: string): void {
  if (method !== allowed) throw new MethodNotAllowed(allowed);
}

/** Routes a request; `readBody` is called only by routes that take one. */
export async function routeApi(
  ctx: ConsoleContext,
  method: string,
  url: URL,
  readBody: () => Promise<unknown>,
): Promise<ApiReply> {
  const path = url.pathname;
  const signal = AbortSignal.timeout(RECORD_TIMEOUT_MS);
  if (path === "/api/info") {
    only(method, "GET");
    return { status: 200, body: { source: ctx.source, live: ctx.live, sandbox: ctx.sandbox !== undefined } };
  }
  if (path === "/api/decisions") {
    only(method, "GET");
    const query = parseListQuery(url.searchParams);
    const records = await ctx.records.list(query.filter, { signal });
    const rows = records
      .map(toRow)
      .filter((row) => rowMatches(row, query))
      .slice(0, query.limit);
    return { status: 200, body: { decisions: rows } };
  }
  if (path.startsWith("/api/decisions/")) {
    only(method, "GET");
    let id: string;
    try {
      id = decodeURIComponent(path.slice("/api/decisions/".length));
    } catch {
      throw new NotFound("the decision");
    }
    if (id === "" || id.length > 200) throw new NotFound("the decision");
    const records = await ctx.records.find(id, { signal });
    if (records.length === 0) throw new NotFound("the decision");
    return { status: 200, body: { records } };
  }
  if (path === "/api/sandbox/choices") {
    only(method, "GET");
    return { status: 200, body: sandboxOf(ctx).choices() };
  }
  if (path === "/api/sandbox/invocations") {
    const sandbox = sandboxOf(ctx);
    if (method === "GET") return { status: 200, body: sandbox.invocations() };
    if (method !== "POST") throw new MethodNotAllowed("GET, POST");
    const request = parseBody(FireRequestSchema, await readBody(), "the invocation to fire");
    return { status: 200, body: { result: await sandbox.fire(request) } };
  }
  if (path === "/api/sandbox/faults") {
    const sandbox = sandboxOf(ctx);
    if (method === "GET") return { status: 200, body: sandbox.faults() };
    if (method !== "PUT") throw new MethodNotAllowed("GET, PUT");
    const request = parseBody(FaultsRequestSchema, await readBody(), "the fault settings");
    return { status: 200, body: sandbox.setFaults(request) };
  }
  throw new NotFound(`${path.slice(0, 100)}`);
}
