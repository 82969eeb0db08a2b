/**
 * The contract of the ISC API client (lib/isc/client.ts implements it). The pipeline, the
 * handlers and the CDK custom resource depend on this interface, so tests can pass a fake.
 */

/** Bounds every call, retries included: stop at `signal` abort or at `deadline` (epoch ms), whichever first. */
export interface CallOptions {
  signal?: AbortSignal;
  deadline?: number;
}

/** Standard collection parameters of ISC list endpoints. */
export interface ListQuery {
  limit?: number;
  offset?: number;
  count?: boolean;
  filters?: string;
  sorters?: string;
}

/** Where to complete: the invocation id (the client builds the tenant URL) or the received callbackURL. */
export type CompletionTarget = { invocationId: string } | { callbackUrl: string };

export interface CompletionBody {
  secret: string;
  output: Record<string, unknown>;
  /** Fails the invocation on purpose; `output` is then `{}`. */
  error?: string;
}

export type JsonPatchOperation = {
  op: "add" | "remove" | "replace" | "move" | "copy" | "test";
  path: string;
  value?: unknown;
  from?: string;
};

export interface IscCompletionApi {
  /** 204 → resolves. 400 `400.1.404` → rejects with InvocationGoneError (final). */
  completeInvocation(target: CompletionTarget, body: CompletionBody, options?: CallOptions): Promise<void>;
}

export interface IscActionsApi {
  updateTaskStatus(taskId: string, operations: JsonPatchOperation[], options?: CallOptions): Promise<unknown>;
  completeCampaign(
    campaignId: string,
    request?: { autoCompleteAction?: "APPROVE" | "REVOKE" },
    options?: CallOptions & { apiVersion?: "beta" | "v3" },
  ): Promise<void>;
  createRoleInsightsRequest(options?: CallOptions): Promise<{ id: string; status: string }>;
}
