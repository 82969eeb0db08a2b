/**
 * The context read APIs of the sandbox tenant (v2025 and v3, as the OpenAPI subsets
 * v2025-context-reads.json and v3-context-reads.json define them), served from its Directory:
 * identities, entitlements, access profiles, roles, sources, governance groups and their members,
 * SoD prediction and policies, access-request status and approvers. Each route names the kind it
 * serves (counted in state.contextRequests) and the scope a client needs (403 without it); auth, rate
 * limits, faults and the configured read latency are applied by index.ts before a handler runs.
 */
import * as z from "zod/mini";
import { DirectoryNotFoundError } from "../context/directory.ts";
import { type ContextKind, SCOPE_OF_KIND } from "../context/types.ts";
import { formatPath } from "../errors.ts";
import { badRequest, mediaType, notFound, parseJsonBody, readBody } from "./http.ts";
import { listQuery, wantsCount } from "./list-query.ts";
import {
  type ContextRouteKind,
  type Route,
  type RouteContext,
  type RouteReply,
  route,
} from "./route-types.ts";

/** A list reply: filters, sorters, limit (at most `maxLimit`), offset, and X-Total-Count on count=true. */
function list<T extends object>(
  ctx: RouteContext,
  items: readonly T[],
  filterFields: readonly string[],
  sorters: readonly string[],
  maxLimit = 250,
): RouteReply {
  const count = wantsCount(ctx.query);
  const { page, total } = listQuery(items, ctx.query, filterFields, sorters, { maxLimit });
  return { status: 200, body: page, ...(count ? { headers: { "x-total-count": String(total) } } : {}) };
}

function found(value: unknown, what: string, id: string): RouteReply {
  if (value === undefined) throw notFound(`${what} ${id.slice(0, 100)}`);
  return { status: 200, body: value };
}

const param = (ctx: RouteContext, name: string): string => ctx.params[name] ?? "";

// ---------- identities, items, sources, governance groups ----------

const listIdentities = async (ctx: RouteContext) =>
  list(ctx, ctx.directory.identities(), ["id", "name", "alias"], ["name", "alias", "id"]);
const getIdentity = async (ctx: RouteContext) =>
  found(ctx.directory.identity(param(ctx, "id")), "Identity", param(ctx, "id"));

const listEntitlements = async (ctx: RouteContext) =>
  list(
    ctx,
    ctx.directory.entitlements(),
    ["id", "name", "source.id", "attribute", "value"],
    ["name", "id", "created", "modified"],
  );
const getEntitlement = async (ctx: RouteContext) =>
  found(ctx.directory.entitlement(param(ctx, "id")), "Entitlement", param(ctx, "id"));

const listAccessProfiles = async (ctx: RouteContext) =>
  list(
    ctx,
    ctx.directory.accessProfiles(),
    ["id", "name", "source.id", "owner.id"],
    ["name", "id", "created"],
  );
// The subset documents no 404 for these GETs; ISC answers one, and so does the sandbox (docs/sandbox.md).
const getAccessProfile = async (ctx: RouteContext) =>
  found(ctx.directory.accessProfile(param(ctx, "id")), "Access profile", param(ctx, "id"));

const listRoles = async (ctx: RouteContext) =>
  list(ctx, ctx.directory.roles(), ["id", "name", "owner.id"], ["name", "id", "created"], 50);
const getRole = async (ctx: RouteContext) =>
  found(ctx.directory.role(param(ctx, "id")), "Role", param(ctx, "id"));

const listSources = async (ctx: RouteContext) =>
  list(ctx, ctx.directory.sources(), ["id", "name", "owner.id"], ["name", "id"]);
const getSource = async (ctx: RouteContext) =>
  found(ctx.directory.source(param(ctx, "id")), "Source", param(ctx, "id"));

const listWorkgroups = async (ctx: RouteContext) =>
  list(ctx, ctx.directory.workgroups(), ["id", "name"], ["name", "id"]);
const getWorkgroup = async (ctx: RouteContext) =>
  found(ctx.directory.workgroup(param(ctx, "id")), "Governance group", param(ctx, "id"));
async function listWorkgroupMembers(ctx: RouteContext): Promise<RouteReply> {
  const members = ctx.directory.workgroupMembers(param(ctx, "workgroupId"));
  if (members === undefined) throw notFound(`Governance group ${param(ctx, "workgroupId").slice(0, 100)}`);
  return list(ctx, members, [], ["name", "id"], 50);
}

// ---------- SoD ----------

const PredictBodySchema = z.object({
  identityId: z.string().check(z.minLength(1)),
  accessRefs: z.array(z.looseObject({ type: z.string(), id: z.string().check(z.minLength(1)) })),
});

async function predictSodViolations(ctx: RouteContext): Promise<RouteReply> {
  const type = mediaType(ctx.req);
  if (type !== "application/json" && type !== "") {
    throw badRequest(`Content-Type must be application/json, not ${type.slice(0, 80)}`);
  }
  const parsed = z.safeParse(PredictBodySchema, parseJsonBody(await readBody(ctx.req)));
  if (!parsed.success) {
    throw badRequest(
      "The request body is invalid",
      parsed.error.issues.map((issue) => `${formatPath(issue.path) || "(root)"}: ${issue.message}`),
    );
  }
  const { identityId, accessRefs } = parsed.data;
  const wrong = accessRefs.flatMap((ref, index) =>
    ref.type === "ENTITLEMENT"
      ? []
      : [`accessRefs[${index}].type: ${ref.type.slice(0, 40)} is not ENTITLEMENT`],
  );
  if (wrong.length > 0) {
    throw badRequest(
      "Only ENTITLEMENT access refs can be predicted: expand access profiles and roles to their entitlements first",
      wrong,
    );
  }
  try {
    const ids = accessRefs.map((ref) => ref.id);
    return { status: 200, body: ctx.directory.predictSod(identityId, ids) };
  } catch (error) {
    if (error instanceof DirectoryNotFoundError) throw notFound(`${error.what} ${error.id.slice(0, 100)}`);
    throw error;
  }
}

const getSodPolicy = async (ctx: RouteContext) =>
  found(ctx.directory.sodPolicy(param(ctx, "id")), "SoD policy", param(ctx, "id"));

// ---------- access requests ----------

async function listAccessRequestStatus(ctx: RouteContext): Promise<RouteReply> {
  const filter: { requestedFor?: string; requestedBy?: string; regardingIdentity?: string } = {};
  const requestedFor = ctx.query.get("requested-for");
  const requestedBy = ctx.query.get("requested-by");
  const regarding = ctx.query.get("regarding-identity");
  if (requestedFor !== null) filter.requestedFor = requestedFor;
  if (requestedBy !== null) filter.requestedBy = requestedBy;
  if (regarding !== null) filter.regardingIdentity = regarding;
  // Newest first unless sorters say otherwise.
  return list(
    ctx,
    ctx.directory.accessRequestStatus(filter),
    ["id", "accessRequestId", "state", "type", "requestedFor.id", "requester.id"],
    ["created", "modified", "name", "accessRequestId"],
  );
}

async function listAccessRequestApprovers(ctx: RouteContext): Promise<RouteReply> {
  const approvers = ctx.directory.accessRequestApprovers(param(ctx, "accessRequestId"));
  if (approvers === undefined)
    throw notFound(`Access request ${param(ctx, "accessRequestId").slice(0, 100)}`);
  return list(ctx, approvers, [], []);
}

// ---------- table ----------

const reads = (kind: ContextKind) => ({ context: { kind, scope: SCOPE_OF_KIND[kind] } });
const browse = (kind: ContextRouteKind, scope: string) => ({ context: { kind, scope } });

/** Ordered: literal segments before `{id}` (members before the group itself is not needed: distinct depth). */
export const CONTEXT_ROUTES: readonly Route[] = [
  ...route("GET", ["/v2025/identities"], "listIdentities", listIdentities, reads("identities")),
  ...route("GET", ["/v2025/identities/{id}"], "getIdentity", getIdentity, reads("identities")),
  ...route("GET", ["/v2025/entitlements"], "listEntitlements", listEntitlements, reads("entitlements")),
  ...route("GET", ["/v2025/entitlements/{id}"], "getEntitlement", getEntitlement, reads("entitlements")),
  ...route("GET", ["/v3/access-profiles"], "listAccessProfiles", listAccessProfiles, reads("accessProfiles")),
  ...route(
    "GET",
    ["/v3/access-profiles/{id}"],
    "getAccessProfile",
    getAccessProfile,
    reads("accessProfiles"),
  ),
  ...route("GET", ["/v3/roles"], "listRoles", listRoles, reads("roles")),
  ...route("GET", ["/v3/roles/{id}"], "getRole", getRole, reads("roles")),
  ...route("GET", ["/v3/sources"], "listSources", listSources, reads("sources")),
  ...route("GET", ["/v3/sources/{id}"], "getSource", getSource, reads("sources")),
  ...route(
    "GET",
    ["/v2025/workgroups"],
    "listWorkgroups",
    listWorkgroups,
    browse("workgroups", "idn:workgroup:read"),
  ),
  ...route(
    "GET",
    ["/v2025/workgroups/{id}"],
    "getWorkgroup",
    getWorkgroup,
    browse("workgroups", "idn:workgroup:read"),
  ),
  ...route(
    "GET",
    ["/v2025/workgroups/{workgroupId}/members"],
    "listWorkgroupMembers",
    listWorkgroupMembers,
    browse("workgroups", "idn:workgroup:read"),
  ),
  ...route(
    "POST",
    ["/v3/sod-violations/predict"],
    "startPredictSodViolations",
    predictSodViolations,
    reads("sodPrediction"),
  ),
  ...route("GET", ["/v3/sod-policies/{id}"], "getSodPolicy", getSodPolicy, reads("sodPolicy")),
  ...route(
    "GET",
    ["/v3/access-request-status"],
    "listAccessRequestStatus",
    listAccessRequestStatus,
    reads("accessRequestStatus"),
  ),
  ...route(
    "GET",
    ["/v2025/access-request-approvals/{accessRequestId}/approvers"],
    "listAccessRequestApprovers",
    listAccessRequestApprovers,
    browse("approvers", "idn:access-request-administration:read"),
  ),
];

/** Every path a context route serves (for `faults.paths` and log filters). */
export const CONTEXT_READ_PATHS =
  /^\/(?:v2025\/(?:identities|entitlements|workgroups|access-request-approvals)|v3\/(?:access-profiles|roles|sources|sod-violations|sod-policies|access-request-status))(?:\/|$)/;
