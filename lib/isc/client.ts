/**
 * The ISC API client: fetch-based, zod/mini-validated, small enough for the Lambda bundles.
 * Configuration follows SailPoint's SDK and CLI (SAIL_BASE_URL, SAIL_CLIENT_ID, SAIL_CLIENT_SECRET;
 * a personal access token's id and secret work the same).
 */

import type { TokenProvider } from "./auth.ts";
import { checkCallbackUrl, isInvocationId } from "./callback-url.ts";
import {
  ENV_BASE_URL,
  ENV_CLIENT_ID,
  ENV_CLIENT_SECRET,
  type IscClientOptions,
  iscTransport,
} from "./context-client.ts";
import { IscContextApi } from "./context-reads.ts";
import {
  ConfigError,
  detailsOf,
  InvocationGoneError,
  IscNotFoundError,
  IscRequestRefusedError,
  isInvocationGoneResponse,
} from "./errors.ts";
import type { HttpCore } from "./http.ts";
import {
  AcceptedSchema,
  type InvocationStatus,
  InvocationStatusListSchema,
  type RoleInsightsRequest,
  RoleInsightsRequestSchema,
  type Subscription,
  SubscriptionListSchema,
  type SubscriptionPostRequest,
  type SubscriptionPutRequest,
  SubscriptionSchema,
  type TaskCompletionStatus,
  type TaskStatus,
  TaskStatusSchema,
  type TestInvocation,
  TestInvocationListSchema,
  type Trigger,
  TriggerListSchema,
  type ValidateFilterResult,
  ValidateFilterResultSchema,
} from "./schemas.ts";
import type { Clock } from "./timing.ts";
import type {
  CallOptions,
  CompletionBody,
  CompletionTarget,
  IscActionsApi,
  IscCompletionApi,
  JsonPatchOperation,
  ListQuery,
} from "./types.ts";

export {
  ENV_BASE_URL,
  ENV_CLIENT_ID,
  ENV_CLIENT_SECRET,
  type IscClientOptions,
  IscContextClient,
  type IscTransport,
  iscTransport,
  RATE_LIMIT_GUARD,
} from "./context-client.ts";
export type { ListQuery } from "./types.ts";

export interface TestInvocationRequest {
  triggerId: string;
  input?: Record<string, unknown>;
  contentJson?: Record<string, unknown>;
  subscriptionIds?: string[];
}

export class IscClient implements IscCompletionApi, IscActionsApi {
  /** The tenant origin every request goes to. */
  readonly baseUrl: string;
  /** The reads that give rules their context (identities, items, sources, SoD, access requests). */
  readonly context: IscContextApi;
  readonly #tokens: TokenProvider;
  readonly #http: HttpCore;
  readonly #now: Clock;

  /** Builds a client from SAIL_BASE_URL, SAIL_CLIENT_ID and SAIL_CLIENT_SECRET; names any that is missing. */
  static fromEnv(
    env: Record<string, string | undefined> = process.env,
    options: Omit<IscClientOptions, "baseUrl" | "clientId" | "clientSecret"> = {},
  ): IscClient {
    const names = [ENV_BASE_URL, ENV_CLIENT_ID, ENV_CLIENT_SECRET];
    const missing = names.filter((name) => (env[name] ?? "").trim() === "");
    if (missing.length > 0) {
      throw new ConfigError(
        `ISC tenant settings missing: set ${missing.join(", ")} (as for SailPoint's SDK and CLI)`,
        missing,
      );
    }
    return new IscClient({
      ...options,
      baseUrl: (env[ENV_BASE_URL] as string).trim(),
      clientId: (env[ENV_CLIENT_ID] as string).trim(),
      clientSecret: (env[ENV_CLIENT_SECRET] as string).trim(),
    });
  }

  constructor(options: IscClientOptions) {
    // The same transport as IscContextClient (context-client.ts): one set-up of token, limiter and retries.
    const transport = iscTransport(options);
    this.baseUrl = transport.baseUrl;
    this.#tokens = transport.tokens;
    this.#http = transport.http;
    this.#now = transport.now;
    this.context = new IscContextApi(this.#http);
  }

  /** OAuth token requests sent so far (tests and metrics). */
  get tokenRequests(): number {
    return this.#tokens.requests;
  }

  // --- trigger invocations -------------------------------------------------------------------

  /**
   * Completes an invocation: 204 → resolves. A callbackURL is used only if it is the configured
   * tenant's completion endpoint (else CallbackUrlRefusedError before any byte, token included, is
   * sent). 400 `400.1.404` → InvocationGoneError (final).
   */
  async completeInvocation(
    target: CompletionTarget,
    body: CompletionBody,
    options?: CallOptions,
  ): Promise<void> {
    let path: string;
    let invocationId: string;
    if ("callbackUrl" in target) {
      const checked = checkCallbackUrl(target.callbackUrl, this.baseUrl);
      path = checked.url;
      invocationId = checked.invocationId;
    } else {
      if (typeof target.invocationId !== "string" || !isInvocationId(target.invocationId)) {
        throw new IscRequestRefusedError("the invocation id is not a valid id");
      }
      invocationId = target.invocationId;
      path = `/beta/trigger-invocations/${invocationId}/complete`;
    }
    if (typeof body.secret !== "string" || body.secret === "") {
      throw new IscRequestRefusedError(`completion of invocation ${invocationId}: the secret is missing`);
    }
    if (typeof body.output !== "object" || body.output === null || Array.isArray(body.output)) {
      throw new IscRequestRefusedError(`completion of invocation ${invocationId}: output must be an object`);
    }
    const payload: Record<string, unknown> = { secret: body.secret, output: body.output };
    if (body.error !== undefined) payload.error = body.error;
    await this.#http.request({
      method: "POST",
      path,
      body: payload,
      expect: [200, 204],
      mapError: (error, context) =>
        isInvocationGoneResponse(error.status, error.detailCode)
          ? new InvocationGoneError(detailsOf(error), invocationId, context.uncertainEarlierAttempt)
          : error,
      ...withOptions(options),
    });
  }

  /** Sends a test invocation; [] when nobody subscribes (204). */
  async testInvocation(request: TestInvocationRequest, options?: CallOptions): Promise<TestInvocation[]> {
    const body: Record<string, unknown> = {
      triggerId: request.triggerId,
      contentJson: request.contentJson ?? {},
    };
    if (request.input !== undefined) body.input = request.input;
    if (request.subscriptionIds !== undefined) body.subscriptionIds = request.subscriptionIds;
    const response = await this.#http.request({
      method: "POST",
      path: "/beta/trigger-invocations/test",
      body,
      expect: [200, 204],
      schema: TestInvocationListSchema,
      idempotent: false,
      ...withOptions(options),
    });
    return response.data ?? [];
  }

  async listInvocationStatus(query: ListQuery = {}, options?: CallOptions): Promise<InvocationStatus[]> {
    const response = await this.#http.request({
      method: "GET",
      path: "/beta/trigger-invocations/status",
      query: listQuery(query),
      expect: [200],
      schema: InvocationStatusListSchema,
      ...withOptions(options),
    });
    return response.data ?? [];
  }

  async listTriggers(query: ListQuery = {}, options?: CallOptions): Promise<Trigger[]> {
    const response = await this.#http.request({
      method: "GET",
      path: "/beta/triggers",
      query: listQuery(query),
      expect: [200],
      schema: TriggerListSchema,
      ...withOptions(options),
    });
    return response.data ?? [];
  }

  // --- subscriptions -------------------------------------------------------------------------

  async createSubscription(
    subscription: SubscriptionPostRequest,
    options?: CallOptions,
  ): Promise<Subscription> {
    const response = await this.#http.request({
      method: "POST",
      path: "/beta/trigger-subscriptions",
      body: subscription,
      expect: [200, 201],
      schema: SubscriptionSchema,
      idempotent: false,
      ...withOptions(options),
    });
    return response.data as Subscription;
  }

  async listSubscriptions(query: ListQuery = {}, options?: CallOptions): Promise<Subscription[]> {
    const response = await this.#http.request({
      method: "GET",
      path: "/beta/trigger-subscriptions",
      query: listQuery(query),
      expect: [200],
      schema: SubscriptionListSchema,
      ...withOptions(options),
    });
    return response.data ?? [];
  }

  /** There is no GET by id: lists with `id eq "<id>"`; IscNotFoundError if absent. */
  async getSubscription(id: string, options?: CallOptions): Promise<Subscription> {
    const safeId = checkId(id, "subscription id");
    const found = (await this.listSubscriptions({ filters: `id eq "${safeId}"` }, options)).find(
      (subscription) => subscription.id === safeId,
    );
    if (found === undefined) throw new IscNotFoundError("subscription", safeId);
    return found;
  }

  /**
   * PUT: replaces the whole subscription. `id` and `triggerId` are immutable: if the body carries
   * them with other values the call is refused here, before sending (ISC would answer 400).
   */
  async updateSubscription(
    id: string,
    subscription: SubscriptionPutRequest,
    options?: CallOptions,
  ): Promise<Subscription> {
    const safeId = checkId(id, "subscription id");
    const { id: bodyId, triggerId, ...rest } = subscription;
    if (bodyId !== undefined && bodyId !== safeId) {
      throw new IscRequestRefusedError(
        `subscription ${safeId}: the body's id differs from the path id; a subscription's id cannot change`,
      );
    }
    if (triggerId !== undefined) {
      const existing = await this.getSubscription(safeId, options);
      if (existing.triggerId !== triggerId) {
        throw new IscRequestRefusedError(
          `subscription ${safeId}: triggerId cannot change (it is ${existing.triggerId}); create a new subscription instead`,
        );
      }
    }
    const response = await this.#http.request({
      method: "PUT",
      path: `/beta/trigger-subscriptions/${safeId}`,
      body: rest,
      expect: [200],
      schema: SubscriptionSchema,
      ...withOptions(options),
    });
    return response.data as Subscription;
  }

  async patchSubscription(
    id: string,
    operations: JsonPatchOperation[],
    options?: CallOptions,
  ): Promise<Subscription> {
    const safeId = checkId(id, "subscription id");
    checkPatch(operations);
    const response = await this.#http.request({
      method: "PATCH",
      path: `/beta/trigger-subscriptions/${safeId}`,
      body: operations,
      contentType: "application/json-patch+json",
      expect: [200],
      schema: SubscriptionSchema,
      ...withOptions(options),
    });
    return response.data as Subscription;
  }

  async deleteSubscription(id: string, options?: CallOptions): Promise<void> {
    const safeId = checkId(id, "subscription id");
    await this.#http.request({
      method: "DELETE",
      path: `/beta/trigger-subscriptions/${safeId}`,
      expect: [204, 200],
      ...withOptions(options),
    });
  }

  async validateFilter(
    request: { input: Record<string, unknown>; filter: string },
    options?: CallOptions,
  ): Promise<ValidateFilterResult> {
    const response = await this.#http.request({
      method: "POST",
      path: "/beta/trigger-subscriptions/validate-filter",
      body: { input: request.input, filter: request.filter },
      expect: [200],
      schema: ValidateFilterResultSchema,
      ...withOptions(options),
    });
    return response.data as ValidateFilterResult;
  }

  // --- task status, campaigns, role insights ------------------------------------------------

  async getTaskStatus(taskId: string, options?: CallOptions): Promise<TaskStatus> {
    const safeId = checkId(taskId, "task id");
    const response = await this.#http.request({
      method: "GET",
      path: `/beta/task-status/${safeId}`,
      expect: [200],
      schema: TaskStatusSchema,
      ...withOptions(options),
    });
    return response.data as TaskStatus;
  }

  async updateTaskStatus(
    taskId: string,
    operations: JsonPatchOperation[],
    options?: CallOptions,
  ): Promise<TaskStatus> {
    const safeId = checkId(taskId, "task id");
    checkPatch(operations);
    const response = await this.#http.request({
      method: "PATCH",
      path: `/beta/task-status/${safeId}`,
      body: operations,
      contentType: "application/json-patch+json",
      expect: [200],
      schema: TaskStatusSchema,
      ...withOptions(options),
    });
    return response.data as TaskStatus;
  }

  /** Clears a pending task: the documented patch of `/completionStatus` and `/completed` (default now). */
  clearPendingTask(
    taskId: string,
    change: { completionStatus: TaskCompletionStatus; completed?: string },
    options?: CallOptions,
  ): Promise<TaskStatus> {
    return this.updateTaskStatus(taskId, clearPendingTaskPatch(change, this.#now), options);
  }

  /** POST /{beta|v3}/campaigns/{id}/complete (default beta, as the seed); 202 → resolves. */
  async completeCampaign(
    campaignId: string,
    request: { autoCompleteAction?: "APPROVE" | "REVOKE" } = {},
    options: CallOptions & { apiVersion?: "beta" | "v3" } = {},
  ): Promise<void> {
    const safeId = checkId(campaignId, "campaign id");
    const { apiVersion = "beta", ...callOptions } = options;
    if (apiVersion !== "beta" && apiVersion !== "v3") {
      throw new IscRequestRefusedError('apiVersion must be "beta" or "v3"');
    }
    const body: Record<string, unknown> = {};
    if (request.autoCompleteAction !== undefined) body.autoCompleteAction = request.autoCompleteAction;
    await this.#http.request({
      method: "POST",
      path: `/${apiVersion}/campaigns/${safeId}/complete`,
      body,
      expect: [202, 200, 204],
      schema: AcceptedSchema,
      ...withOptions(callOptions),
    });
  }

  /** POST /beta/role-insights/requests (no body) → 201 with the request to poll. */
  async createRoleInsightsRequest(options?: CallOptions): Promise<RoleInsightsRequest> {
    const response = await this.#http.request({
      method: "POST",
      path: "/beta/role-insights/requests",
      expect: [201, 200, 202],
      schema: RoleInsightsRequestSchema,
      idempotent: false,
      ...withOptions(options),
    });
    return response.data as RoleInsightsRequest;
  }

  async getRoleInsightsRequest(id: string, options?: CallOptions): Promise<RoleInsightsRequest> {
    const safeId = checkId(id, "role insights request id");
    const response = await this.#http.request({
      method: "GET",
      path: `/beta/role-insights/requests/${safeId}`,
      expect: [200],
      schema: RoleInsightsRequestSchema,
      ...withOptions(options),
    });
    return response.data as RoleInsightsRequest;
  }
}

/** The JSON Patch that clears a pending task (exported for the CLI and tests). */
export function clearPendingTaskPatch(
  change: { completionStatus: TaskCompletionStatus; completed?: string },
  now: Clock = Date.now,
): JsonPatchOperation[] {
  return [
    { op: "replace", path: "/completionStatus", value: change.completionStatus },
    { op: "replace", path: "/completed", value: change.completed ?? new Date(now()).toISOString() },
  ];
}

/** Ids go into URL paths (and `getSubscription`'s filter): accept only plain id characters. */
function checkId(id: string, what: string): string {
  if (typeof id !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/.test(id)) {
    throw new IscRequestRefusedError(`the ${what} is missing or has characters an id cannot have`);
  }
  return id;
}

const PATCH_OPS = new Set(["add", "remove", "replace", "move", "copy", "test"]);

function checkPatch(operations: JsonPatchOperation[]): void {
  if (!Array.isArray(operations) || operations.length === 0) {
    throw new IscRequestRefusedError("a JSON Patch must be a non-empty array of operations");
  }
  operations.forEach((operation, index) => {
    if (
      typeof operation !== "object" ||
      operation === null ||
      !PATCH_OPS.has(operation.op) ||
      typeof operation.path !== "string"
    ) {
      throw new IscRequestRefusedError(`JSON Patch operation [${index}] needs a valid op and a path`);
    }
  });
}

function listQuery(query: ListQuery): Record<string, string | number | boolean | undefined> {
  return {
    limit: query.limit,
    offset: query.offset,
    count: query.count,
    filters: query.filters,
    sorters: query.sorters,
  };
}

function withOptions(options: CallOptions | undefined): { options?: CallOptions } {
  return options === undefined ? {} : { options };
}
