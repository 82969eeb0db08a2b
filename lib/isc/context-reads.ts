/**
 * The ISC reads that give rules their context: identities, entitlements, access profiles, roles,
 * sources, governance groups, SoD prediction and policies, access-request status. `IscClient.context`
 * serves them over the client's request core (token, per-version limiter, retries, typed errors).
 *
 * Every id goes into a path or a filter only as a plain id (lib/context/ids.ts): anything else is
 * IscRequestRefusedError before a request is made. Each response is validated with the zod schemas of
 * context-schemas.ts (IscResponseError when it does not match). The OpenAPI subsets mark none of
 * these operations experimental, so they are sent without `X-SailPoint-Experimental`.
 */
import type * as z from "zod/mini";
import { checkPlainId } from "../context/ids.ts";
import {
  type AccessProfile,
  AccessProfileListSchema,
  AccessProfileSchema,
  type AccessRequestStatus,
  AccessRequestStatusListSchema,
  type Entitlement,
  EntitlementListSchema,
  EntitlementSchema,
  type Identity,
  IdentityListSchema,
  IdentitySchema,
  type Role,
  RoleListSchema,
  RoleSchema,
  type SodPolicy,
  SodPolicySchema,
  type Source,
  SourceListSchema,
  SourceSchema,
  type ViolationPrediction,
  ViolationPredictionSchema,
  type Workgroup,
  type WorkgroupMember,
  WorkgroupMemberListSchema,
  WorkgroupSchema,
} from "./context-schemas.ts";
import { IscRequestRefusedError } from "./errors.ts";
import type { HttpCore, HttpMethod } from "./http.ts";
import type { CallOptions, ListQuery } from "./types.ts";

/** `GET /v2025/identities` also takes `defaultFilter`: NONE so that a filter by id finds uncorrelated identities too. */
export interface IdentityListQuery extends ListQuery {
  defaultFilter?: "CORRELATED_ONLY" | "NONE";
}

export interface AccessRequestStatusQuery {
  /** The identity the requests were made for (`requested-for`). */
  requestedFor: string;
  limit?: number;
  offset?: number;
  count?: boolean;
  filters?: string;
  sorters?: string;
}

/** `IdentityWithNewAccess`: one identity and the entitlements it would be given. */
export interface SodPredictionRequest {
  identityId: string;
  accessRefs: ReadonlyArray<{ type: "ENTITLEMENT"; id: string }>;
}

/** What `IscClient.context` offers (the ISC ContextFetcher and tests code against this). */
export interface IscContextReads {
  listIdentities(query?: IdentityListQuery, options?: CallOptions): Promise<Identity[]>;
  getIdentity(id: string, options?: CallOptions): Promise<Identity>;
  listEntitlements(query?: ListQuery, options?: CallOptions): Promise<Entitlement[]>;
  getEntitlement(id: string, options?: CallOptions): Promise<Entitlement>;
  listAccessProfiles(query?: ListQuery, options?: CallOptions): Promise<AccessProfile[]>;
  getAccessProfile(id: string, options?: CallOptions): Promise<AccessProfile>;
  listRoles(query?: ListQuery, options?: CallOptions): Promise<Role[]>;
  getRole(id: string, options?: CallOptions): Promise<Role>;
  listSources(query?: ListQuery, options?: CallOptions): Promise<Source[]>;
  getSource(id: string, options?: CallOptions): Promise<Source>;
  getWorkgroup(id: string, options?: CallOptions): Promise<Workgroup>;
  listWorkgroupMembers(
    workgroupId: string,
    query?: Omit<ListQuery, "filters">,
    options?: CallOptions,
  ): Promise<WorkgroupMember[]>;
  predictSodViolations(request: SodPredictionRequest, options?: CallOptions): Promise<ViolationPrediction>;
  getSodPolicy(id: string, options?: CallOptions): Promise<SodPolicy>;
  listAccessRequestStatus(
    query: AccessRequestStatusQuery,
    options?: CallOptions,
  ): Promise<AccessRequestStatus[]>;
}

/** Largest `limit` each list endpoint accepts (roles and governance group members: 50). */
export const LIST_LIMITS = {
  identities: 250,
  entitlements: 250,
  accessProfiles: 250,
  roles: 50,
  sources: 250,
  workgroupMembers: 50,
  accessRequestStatus: 250,
} as const;

type Query = Record<string, string | number | boolean | undefined>;

export class IscContextApi implements IscContextReads {
  readonly #http: HttpCore;

  constructor(http: HttpCore) {
    this.#http = http;
  }

  async listIdentities(query: IdentityListQuery = {}, options?: CallOptions): Promise<Identity[]> {
    const { defaultFilter, ...rest } = query;
    if (defaultFilter !== undefined && defaultFilter !== "CORRELATED_ONLY" && defaultFilter !== "NONE") {
      throw new IscRequestRefusedError('defaultFilter must be "CORRELATED_ONLY" or "NONE"');
    }
    const params = { ...collection(rest, LIST_LIMITS.identities), defaultFilter };
    return this.#list("/v2025/identities", params, IdentityListSchema, options);
  }

  async getIdentity(id: string, options?: CallOptions): Promise<Identity> {
    return this.#get(`/v2025/identities/${checkPlainId(id, "identity id")}`, IdentitySchema, options);
  }

  async listEntitlements(query: ListQuery = {}, options?: CallOptions): Promise<Entitlement[]> {
    const params = collection(query, LIST_LIMITS.entitlements);
    return this.#list("/v2025/entitlements", params, EntitlementListSchema, options);
  }

  async getEntitlement(id: string, options?: CallOptions): Promise<Entitlement> {
    const path = `/v2025/entitlements/${checkPlainId(id, "entitlement id")}`;
    return this.#get(path, EntitlementSchema, options);
  }

  async listAccessProfiles(query: ListQuery = {}, options?: CallOptions): Promise<AccessProfile[]> {
    const params = collection(query, LIST_LIMITS.accessProfiles);
    return this.#list("/v3/access-profiles", params, AccessProfileListSchema, options);
  }

  async getAccessProfile(id: string, options?: CallOptions): Promise<AccessProfile> {
    const path = `/v3/access-profiles/${checkPlainId(id, "access profile id")}`;
    return this.#get(path, AccessProfileSchema, options);
  }

  async listRoles(query: ListQuery = {}, options?: CallOptions): Promise<Role[]> {
    return this.#list("/v3/roles", collection(query, LIST_LIMITS.roles), RoleListSchema, options);
  }

  async getRole(id: string, options?: CallOptions): Promise<Role> {
    return this.#get(`/v3/roles/${checkPlainId(id, "role id")}`, RoleSchema, options);
  }

  async listSources(query: ListQuery = {}, options?: CallOptions): Promise<Source[]> {
    return this.#list("/v3/sources", collection(query, LIST_LIMITS.sources), SourceListSchema, options);
  }

  async getSource(id: string, options?: CallOptions): Promise<Source> {
    return this.#get(`/v3/sources/${checkPlainId(id, "source id")}`, SourceSchema, options);
  }

  async getWorkgroup(id: string, options?: CallOptions): Promise<Workgroup> {
    const path = `/v2025/workgroups/${checkPlainId(id, "governance group id")}`;
    return this.#get(path, WorkgroupSchema, options);
  }

  async listWorkgroupMembers(
    workgroupId: string,
    query: Omit<ListQuery, "filters"> = {},
    options?: CallOptions,
  ): Promise<WorkgroupMember[]> {
    const path = `/v2025/workgroups/${checkPlainId(workgroupId, "governance group id")}/members`;
    const { limit, offset, count, sorters } = query;
    const params = collection({ limit, offset, count, sorters }, LIST_LIMITS.workgroupMembers);
    return this.#list(path, params, WorkgroupMemberListSchema, options);
  }

  /** A read despite the POST: nothing is created, so it is retried like a GET. */
  async predictSodViolations(
    request: SodPredictionRequest,
    options?: CallOptions,
  ): Promise<ViolationPrediction> {
    const identityId = checkPlainId(request.identityId, "identity id");
    if (!Array.isArray(request.accessRefs)) {
      throw new IscRequestRefusedError("an SoD prediction needs a list of access refs");
    }
    const accessRefs = request.accessRefs.map((ref) => {
      if (ref?.type !== "ENTITLEMENT") {
        throw new IscRequestRefusedError("an SoD prediction takes ENTITLEMENT refs only");
      }
      return { type: "ENTITLEMENT", id: checkPlainId(ref.id, "entitlement id") };
    });
    const prediction = await this.#send("POST", "/v3/sod-violations/predict", {
      body: { identityId, accessRefs },
      schema: ViolationPredictionSchema,
      idempotent: true,
      options,
    });
    return prediction as ViolationPrediction;
  }

  async getSodPolicy(id: string, options?: CallOptions): Promise<SodPolicy> {
    return this.#get(`/v3/sod-policies/${checkPlainId(id, "SoD policy id")}`, SodPolicySchema, options);
  }

  async listAccessRequestStatus(
    query: AccessRequestStatusQuery,
    options?: CallOptions,
  ): Promise<AccessRequestStatus[]> {
    const { requestedFor, ...rest } = query;
    const params = {
      "requested-for": checkPlainId(requestedFor, "requested-for identity id"),
      ...collection(rest, LIST_LIMITS.accessRequestStatus),
    };
    return this.#list("/v3/access-request-status", params, AccessRequestStatusListSchema, options);
  }

  /**
   * GET /v3/access-request-status without `requested-for`: the tenant's requested items (ORG_ADMIN),
   * for `rules replay --from-tenant`. Not a context read (no rule reaches it), so it is not part of
   * IscContextReads; it goes through the same request core and rate limiter.
   */
  async listTenantAccessRequestStatus(
    query: ListQuery = {},
    options?: CallOptions,
  ): Promise<AccessRequestStatus[]> {
    const params = collection(query, LIST_LIMITS.accessRequestStatus);
    return this.#list("/v3/access-request-status", params, AccessRequestStatusListSchema, options);
  }

  async #list<T>(
    path: string,
    query: Query,
    schema: z.ZodMiniType<T[]>,
    options: CallOptions | undefined,
  ): Promise<T[]> {
    return (await this.#send("GET", path, { query, schema, options })) ?? [];
  }

  async #get<T>(path: string, schema: z.ZodMiniType<T>, options: CallOptions | undefined): Promise<T> {
    return (await this.#send("GET", path, { schema, options })) as T;
  }

  async #send<T>(
    method: HttpMethod,
    path: string,
    request: {
      query?: Query;
      body?: unknown;
      schema: z.ZodMiniType<T>;
      idempotent?: boolean;
      options: CallOptions | undefined;
    },
  ): Promise<T | undefined> {
    const { options, ...rest } = request;
    const response = await this.#http.request({
      method,
      path,
      expect: [200],
      experimental: false,
      ...rest,
      ...(options === undefined ? {} : { options }),
    });
    return response.data;
  }
}

/** The standard collection parameters, refused before sending when ISC would answer 400. */
function collection(query: ListQuery, maxLimit: number): Query {
  const { limit, offset, count, filters, sorters } = query;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0 && limit <= maxLimit)) {
    throw new IscRequestRefusedError(`limit must be an integer from 0 to ${maxLimit}`);
  }
  if (offset !== undefined && !(Number.isInteger(offset) && offset >= 0)) {
    throw new IscRequestRefusedError("offset must be a non-negative integer");
  }
  return { limit, offset, count, filters, sorters };
}
