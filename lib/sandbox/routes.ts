/**
 * The sandbox tenant's API: one handler per operation of the official OpenAPI subset, for each
 * path form (beta, per-service v1, v3); context reads are in context-routes.ts. Handlers return a
 * reply or throw HttpReply; they never see faults, auth, scopes or rate limits (index.ts handles
 * those first).
 */
import { randomUUID } from "node:crypto";
import * as z from "zod/mini";
import { type ZodIssueLike, zodIssueTexts } from "../errors.ts";
import { AccessRequestInputSchema } from "../triggers/schemas.ts";
import { isRequestResponseTrigger } from "../triggers/trigger-ids.ts";
import { findTrigger, sampleInputOf, TRIGGERS } from "./catalog.ts";
import { CONTEXT_ROUTES } from "./context-routes.ts";
import {
  badRequest,
  errorBody,
  HttpReply,
  iso,
  mediaType,
  notFound,
  parseJsonBody,
  readBody,
  referenceNotFound,
} from "./http.ts";
import { applyPatch, parsePatch } from "./json-patch.ts";
import { compileJsonPath, JsonPathSyntaxError } from "./json-path.ts";
import { listQuery } from "./list-query.ts";
import { type Route, type RouteContext, type RouteReply, route } from "./route-types.ts";
import type { TaskStatus } from "./state.ts";
import {
  checkSubscriptionPatch,
  getSubscription,
  subscriptionFromBody,
  subscriptionView,
} from "./subscriptions.ts";

async function jsonBody(ctx: RouteContext): Promise<unknown> {
  return parseJsonBody(await readBody(ctx.req));
}

async function patchBody(ctx: RouteContext): Promise<unknown> {
  const type = mediaType(ctx.req);
  if (type !== "application/json-patch+json") {
    throw badRequest(
      `Content-Type must be application/json-patch+json for a JSON Patch, not ${type.slice(0, 80) || "none"}`,
    );
  }
  return jsonBody(ctx);
}

/** Each field at fault and what it must be ("required", "must have at least 1 item"). */
function issuesToCauses(issues: ReadonlyArray<ZodIssueLike>, input: unknown): string[] {
  return zodIssueTexts(issues, input);
}

// ---------- triggers ----------

async function listTriggers(ctx: RouteContext): Promise<RouteReply> {
  const { page } = listQuery(
    TRIGGERS.map((trigger) => ({ ...trigger })),
    ctx.query,
    ["id", "type", "name"],
    ["id", "name"],
  );
  return { status: 200, body: page };
}

// ---------- subscriptions ----------

async function createSubscription(ctx: RouteContext): Promise<RouteReply> {
  const subscription = subscriptionFromBody(await jsonBody(ctx), ctx.state, randomUUID());
  ctx.state.subscriptions.set(subscription.id, subscription);
  return { status: 201, body: subscriptionView(subscription) };
}

async function listSubscriptions(ctx: RouteContext): Promise<RouteReply> {
  const views = [...ctx.state.subscriptions.values()].map(subscriptionView);
  const { page } = listQuery(
    views,
    ctx.query,
    ["id", "triggerId", "type", "name"],
    ["triggerId", "triggerName", "name", "id"],
  );
  return { status: 200, body: page };
}

async function putSubscription(ctx: RouteContext): Promise<RouteReply> {
  const existing = getSubscription(ctx.state, ctx.params.id!);
  const subscription = subscriptionFromBody(await jsonBody(ctx), ctx.state, existing.id, existing);
  ctx.state.subscriptions.set(subscription.id, subscription);
  return { status: 200, body: subscriptionView(subscription) };
}

const SUBSCRIPTION_PATCH_OPS = new Set(["add", "remove", "replace", "move", "copy"]);

async function patchSubscription(ctx: RouteContext): Promise<RouteReply> {
  const existing = getSubscription(ctx.state, ctx.params.id!);
  const operations = parsePatch(await patchBody(ctx), SUBSCRIPTION_PATCH_OPS);
  checkSubscriptionPatch(operations);
  const patched = applyPatch(existing, operations);
  const subscription = subscriptionFromBody(patched, ctx.state, existing.id, existing);
  ctx.state.subscriptions.set(subscription.id, subscription);
  return { status: 200, body: subscriptionView(subscription) };
}

async function deleteSubscription(ctx: RouteContext): Promise<RouteReply> {
  const existing = getSubscription(ctx.state, ctx.params.id!);
  ctx.state.subscriptions.delete(existing.id);
  return { status: 204 };
}

const ValidateFilterSchema = z.object({ input: z.record(z.string(), z.unknown()), filter: z.string() });

async function validateFilter(ctx: RouteContext): Promise<RouteReply> {
  const body = await jsonBody(ctx);
  const parsed = z.safeParse(ValidateFilterSchema, body);
  if (!parsed.success)
    throw badRequest("The request body is invalid", issuesToCauses(parsed.error.issues, body));
  let isValidJSONPath = false;
  let isPathExist = false;
  try {
    isPathExist = compileJsonPath(parsed.data.filter).evaluate(parsed.data.input).length > 0;
    isValidJSONPath = true;
  } catch (error) {
    if (!(error instanceof JsonPathSyntaxError)) throw error;
  }
  return { status: 200, body: { isValid: isValidJSONPath && isPathExist, isValidJSONPath, isPathExist } };
}

// ---------- invocations ----------

const TestInvocationSchema = z.object({
  triggerId: z.string().check(z.minLength(1)),
  input: z.optional(z.record(z.string(), z.unknown())),
  contentJson: z.record(z.string(), z.unknown()),
  subscriptionIds: z.optional(z.array(z.string())),
});

async function startTestInvocation(ctx: RouteContext): Promise<RouteReply> {
  const body = await jsonBody(ctx);
  const parsed = z.safeParse(TestInvocationSchema, body);
  if (!parsed.success)
    throw badRequest("The request body is invalid", issuesToCauses(parsed.error.issues, body));
  const { triggerId, contentJson, subscriptionIds } = parsed.data;
  const trigger = findTrigger(triggerId);
  if (trigger === undefined)
    throw badRequest(`Trigger ${triggerId.slice(0, 100)} does not exist`, ["triggerId"]);
  const input = parsed.data.input ?? sampleInputOf(trigger);
  if (isRequestResponseTrigger(triggerId)) {
    const valid = z.safeParse(AccessRequestInputSchema, input);
    if (!valid.success) {
      throw badRequest(
        `The input does not match the ${triggerId} input schema`,
        issuesToCauses(valid.error.issues, input),
      );
    }
  }
  const invocations = ctx.engine.create(triggerId, input, contentJson, "TEST", subscriptionIds);
  if (invocations.length === 0) return { status: 204 };
  return {
    status: 200,
    body: invocations.map((invocation) => ({
      id: invocation.id,
      triggerId: invocation.triggerId,
      secret: invocation.secret,
      contentJson: invocation.contentJson,
    })),
    after: () => ctx.engine.deliverLater(invocations),
  };
}

async function completeInvocation(ctx: RouteContext): Promise<RouteReply> {
  const type = mediaType(ctx.req);
  if (type !== "application/json" && type !== "") {
    throw badRequest(`Content-Type must be application/json, not ${type.slice(0, 80)}`);
  }
  ctx.engine.complete(ctx.params.id!, await jsonBody(ctx), ctx.withToken);
  return { status: 204 };
}

async function listInvocationStatus(ctx: RouteContext): Promise<RouteReply> {
  ctx.engine.expireOverdue();
  const views = [...ctx.state.invocations.values()].map((invocation) => ctx.engine.statusView(invocation));
  const { page } = listQuery(
    views,
    ctx.query,
    ["id", "triggerId", "subscriptionId", "type"],
    ["created", "triggerId", "subscriptionName", "subscriptionId"],
  );
  return { status: 200, body: page };
}

// ---------- task status ----------

function getTask(ctx: RouteContext): TaskStatus {
  const task = ctx.state.tasks.get(ctx.params.id!);
  if (task === undefined) throw notFound(`Task status ${ctx.params.id!.slice(0, 100)}`);
  return task;
}

async function getTaskStatus(ctx: RouteContext): Promise<RouteReply> {
  // The spec documents this 404 without a body.
  if (!ctx.state.tasks.has(ctx.params.id!)) return { status: 404 };
  return { status: 200, body: getTask(ctx) };
}

const COMPLETION_STATUSES = ["SUCCESS", "WARNING", "ERROR", "TERMINATED", "TEMPERROR"] as const;

async function patchTaskStatus(ctx: RouteContext): Promise<RouteReply> {
  const task = getTask(ctx);
  const operations = parsePatch(await patchBody(ctx), new Set(["add", "replace", "test"]));
  for (const [index, operation] of operations.entries()) {
    if (operation.op === "test") continue;
    if (operation.path === "/completionStatus") {
      const value = typeof operation.value === "string" ? operation.value.toUpperCase() : undefined;
      if (value === undefined || !(COMPLETION_STATUSES as readonly string[]).includes(value)) {
        throw badRequest(
          `Patch operation [${index}]: completionStatus must be one of ${COMPLETION_STATUSES.join(", ")}`,
        );
      }
      // The docs' example writes "Error": ISC's enum is upper case.
      operation.value = value;
    } else if (operation.path === "/completed") {
      if (typeof operation.value !== "string" || Number.isNaN(Date.parse(operation.value))) {
        throw badRequest(`Patch operation [${index}]: completed must be an ISO-8601 date-time`);
      }
      operation.value = new Date(operation.value).toISOString();
    } else {
      throw badRequest(`Patch operation [${index}]: only /completionStatus and /completed can be changed`);
    }
  }
  const updated = applyPatch(task, operations);
  updated.modified = iso(ctx.now());
  if (updated.completionStatus !== null && updated.completed !== null) updated.percentComplete = 100;
  ctx.state.tasks.set(updated.id, updated);
  return { status: 200, body: updated };
}

// ---------- campaigns ----------

const CompleteCampaignSchema = z.object({ autoCompleteAction: z.optional(z.enum(["APPROVE", "REVOKE"])) });

async function completeCampaign(ctx: RouteContext): Promise<RouteReply> {
  const body = (await jsonBody(ctx)) ?? {};
  const parsed = z.safeParse(CompleteCampaignSchema, body);
  if (!parsed.success)
    throw badRequest("The request body is invalid", issuesToCauses(parsed.error.issues, body));
  const campaign = ctx.state.campaigns.get(ctx.params.id!);
  if (campaign === undefined) throw notFound(`Campaign ${ctx.params.id!.slice(0, 100)}`);
  if (campaign.status === "COMPLETED") throw badRequest(`Campaign ${campaign.id} is already completed`);
  if (campaign.deadline > ctx.now()) {
    throw badRequest(
      `Campaign ${campaign.id} is not past due: it can be completed after ${iso(campaign.deadline)}`,
    );
  }
  campaign.status = "COMPLETED";
  campaign.autoCompleteAction = parsed.data.autoCompleteAction ?? "APPROVE";
  return { status: 202, body: {} };
}

// ---------- role insights ----------

const ROLE_INSIGHTS_STATUSES = ["CREATED", "IN PROGRESS", "COMPLETED"] as const;

function roleInsightsView(ctx: RouteContext, id: string): Record<string, unknown> {
  const request = ctx.state.roleInsights.get(id)!;
  // Advances with time (one step a second) and with reads (one step per GET), whichever is further.
  const step = Math.min(2, Math.max(Math.floor((ctx.now() - request.created) / 1000), request.reads));
  const status = ROLE_INSIGHTS_STATUSES[step]!;
  return {
    id: request.id,
    createdDate: iso(request.created),
    lastGenerated: iso(status === "COMPLETED" ? request.created + 1000 : request.created),
    numberOfUpdates: status === "COMPLETED" ? request.roleIds.length : 0,
    roleIds: request.roleIds,
    status,
  };
}

async function createRoleInsightsRequest(ctx: RouteContext): Promise<RouteReply> {
  const id = randomUUID();
  ctx.state.roleInsights.set(id, {
    id,
    created: ctx.now(),
    roleIds: [0, 1, 2].map(() => randomUUID().replace(/-/g, "")),
    reads: 0,
  });
  return { status: 201, body: roleInsightsView(ctx, id) };
}

async function getRoleInsightsRequest(ctx: RouteContext): Promise<RouteReply> {
  const request = ctx.state.roleInsights.get(ctx.params.id!);
  // The spec lists no 404 here; ISC's reference error is a 400.
  if (request === undefined)
    throw referenceNotFound(`Role insights request ${ctx.params.id!.slice(0, 100)} does not exist`);
  request.reads++;
  return { status: 200, body: roleInsightsView(ctx, request.id) };
}

// ---------- table ----------

/**
 * `/beta/...` with the versioned forms ISC serves beside it: `/v2024/...` and `/v2025/...` (and, for
 * the trigger service, the per-service `/.../v1` paths).
 */
function versions(path: string, v1?: string): string[] {
  return [`/beta${path}`, `/v2024${path}`, `/v2025${path}`, ...(v1 === undefined ? [] : [v1])];
}

/** Ordered: fixed segments (validate-filter, test, status) before `{id}`. */
export const ROUTES: readonly Route[] = [
  ...route("GET", versions("/triggers", "/triggers/v1"), "listTriggers", listTriggers),
  ...route(
    "POST",
    versions("/trigger-subscriptions/validate-filter", "/trigger-subscriptions/v1/validate-filter"),
    "testSubscriptionFilter",
    validateFilter,
  ),
  ...route(
    "POST",
    versions("/trigger-subscriptions", "/trigger-subscriptions/v1"),
    "createSubscription",
    createSubscription,
  ),
  ...route(
    "GET",
    versions("/trigger-subscriptions", "/trigger-subscriptions/v1"),
    "listSubscriptions",
    listSubscriptions,
  ),
  ...route(
    "PUT",
    versions("/trigger-subscriptions/{id}", "/trigger-subscriptions/v1/{id}"),
    "updateSubscription",
    putSubscription,
  ),
  ...route(
    "PATCH",
    versions("/trigger-subscriptions/{id}", "/trigger-subscriptions/v1/{id}"),
    "patchSubscription",
    patchSubscription,
  ),
  ...route(
    "DELETE",
    versions("/trigger-subscriptions/{id}", "/trigger-subscriptions/v1/{id}"),
    "deleteSubscription",
    deleteSubscription,
  ),
  ...route(
    "POST",
    versions("/trigger-invocations/test", "/trigger-invocations/v1/test"),
    "startTestTriggerInvocation",
    startTestInvocation,
  ),
  ...route(
    "GET",
    versions("/trigger-invocations/status", "/trigger-invocations/v1/status"),
    "listTriggerInvocationStatus",
    listInvocationStatus,
  ),
  // No X-SailPoint-Experimental needed: the current spec has none here (SailPoint's own example
  // subscriber calls back without it); our client still sends it, harmlessly.
  ...route(
    "POST",
    versions("/trigger-invocations/{id}/complete", "/trigger-invocations/v1/{id}/complete"),
    "completeTriggerInvocation",
    completeInvocation,
    { auth: "optional" },
  ),
  ...route("GET", versions("/task-status/{id}"), "getTaskStatus", getTaskStatus),
  ...route("PATCH", versions("/task-status/{id}"), "updateTaskStatus", patchTaskStatus),
  ...route(
    "POST",
    [...versions("/campaigns/{id}/complete"), "/v3/campaigns/{id}/complete"],
    "completeCampaign",
    completeCampaign,
  ),
  ...route(
    "POST",
    versions("/role-insights/requests"),
    "createRoleInsightRequests",
    createRoleInsightsRequest,
    {
      experimental: "versioned",
    },
  ),
  ...route(
    "GET",
    versions("/role-insights/requests/{id}"),
    "getRoleInsightsRequests",
    getRoleInsightsRequest,
    {
      experimental: "versioned",
    },
  ),
  ...CONTEXT_ROUTES,
];

/** The route for a request, a 405 when the path exists with another method, or undefined (404). */
export function matchRoute(
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } | { methodNotAllowed: true } | undefined {
  let pathExists = false;
  for (const candidate of ROUTES) {
    const match = candidate.pattern.exec(path);
    if (match === null) continue;
    pathExists = true;
    if (candidate.method !== method) continue;
    const params: Record<string, string> = {};
    for (const [name, raw] of Object.entries(match.groups ?? {})) {
      try {
        params[name] = decodeURIComponent(raw);
      } catch {
        params[name] = raw;
      }
    }
    return { route: candidate, params };
  }
  return pathExists ? { methodNotAllowed: true } : undefined;
}

export type { Route, RouteContext, RouteReply } from "./route-types.ts";

export function methodNotAllowed(method: string): HttpReply {
  return new HttpReply(
    405,
    errorBody("405 Method Not Allowed", `Method ${method.slice(0, 10)} is not allowed here`),
  );
}
