/**
 * Everything the sandbox tenant holds, inspectable by tests and tools. Stored subscriptions keep
 * their secrets (the sandbox needs them to call subscribers); the API reads them back as null.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { iso } from "./http.ts";
import type { ContextRouteKind } from "./route-types.ts";

export type FaultKind = "status429" | "status500" | "status503" | "slow" | "drop" | "tokenExpiry";
export const FAULT_KINDS: readonly FaultKind[] = [
  "status429",
  "status500",
  "status503",
  "slow",
  "drop",
  "tokenExpiry",
];

/** The context read kinds the sandbox counts (state.contextRequests, RequestRecord.kind). */
export const CONTEXT_ROUTE_KINDS: readonly ContextRouteKind[] = [
  "identities",
  "entitlements",
  "accessProfiles",
  "roles",
  "sources",
  "sodPrediction",
  "sodPolicy",
  "accessRequestStatus",
  "workgroups",
  "approvers",
  "search",
];

export type SubscriptionType = "HTTP" | "EVENTBRIDGE" | "INLINE" | "SCRIPT" | "WORKFLOW";
export type HttpDispatchMode = "SYNC" | "ASYNC" | "DYNAMIC";
export type HttpAuthenticationType = "NO_AUTH" | "BASIC_AUTH" | "BEARER_TOKEN";

export interface StoredSubscription {
  id: string;
  name: string;
  description?: string;
  triggerId: string;
  triggerName: string;
  type: SubscriptionType;
  responseDeadline: string;
  httpConfig?: {
    url: string;
    httpDispatchMode: HttpDispatchMode;
    httpAuthenticationType: HttpAuthenticationType;
    basicAuthConfig?: { userName: string; password: string | null } | null;
    bearerTokenAuthConfig?: { bearerToken: string | null } | null;
  };
  eventBridgeConfig?: { awsAccount: string; awsRegion: string };
  enabled: boolean;
  filter?: string;
}

export type InvocationStatus = "PENDING" | "COMPLETED" | "FAILED";
export type SandboxDeliveryMode = "sync" | "async" | "dynamic" | "eventbridge";

export interface CompletionAttempt {
  /** Epoch ms (sandbox clock). */
  at: number;
  /** HTTP status the sandbox answered: 204 or 400. */
  httpStatus: number;
  /** What it did: COMPLETED / FAILED (applied), or REJECTED (400, nothing changed). */
  result: "COMPLETED" | "FAILED" | "REJECTED";
  detailCode?: string;
  reason?: string;
  /** Whether the call carried a (valid) bearer token. */
  withToken: boolean;
}

export interface DeliveryOutcome {
  mode: SandboxDeliveryMode;
  /** Where: the subscriber URL, or "eventbridge". */
  target: string;
  startedAt?: number;
  finishedAt?: number;
  /** HTTP status of the subscriber's reply (HTTP subscriptions). */
  httpStatus?: number;
  /** Why the delivery failed (timeout, refused, no sink...). */
  error?: string;
}

export interface SandboxInvocation {
  id: string;
  triggerId: string;
  triggerType: "requestResponse" | "fireAndForget";
  subscriptionId: string;
  subscriptionName: string;
  /** TEST for POST /trigger-invocations/test, REAL_TIME for fireTrigger. */
  type: "TEST" | "REAL_TIME";
  secret: string;
  input: Record<string, unknown>;
  contentJson: Record<string, unknown>;
  /** Epoch ms. */
  created: number;
  /** Epoch ms after which completions are refused and a PENDING invocation fails. */
  deadline: number;
  status: InvocationStatus;
  /** Epoch ms when it left PENDING. */
  completed?: number;
  output?: Record<string, unknown> | null;
  /** Why it failed: the completion's `error`, "invocation timed out", an output schema problem... */
  error?: string;
  completions: CompletionAttempt[];
  delivery: DeliveryOutcome;
}

/** ISC's TaskStatus (beta). */
export interface TaskStatus {
  id: string;
  type: "QUARTZ" | "QPOC" | "QUEUED_TASK";
  uniqueName: string;
  description: string;
  parentName: string | null;
  launcher: string;
  target: { id: string; type: "APPLICATION" | "IDENTITY" | null; name: string } | null;
  created: string;
  modified: string | null;
  launched: string | null;
  completed: string | null;
  completionStatus: "SUCCESS" | "WARNING" | "ERROR" | "TERMINATED" | "TEMPERROR" | null;
  messages: {
    type: "INFO" | "WARN" | "ERROR";
    localizedText: { locale: string; message: string } | null;
    key: string;
    parameters: (Record<string, unknown> | string)[] | null;
  }[];
  returns: { name: string; attributeName: string }[];
  attributes: Record<string, unknown>;
  progress: string | null;
  percentComplete: number;
  taskDefinitionSummary?: {
    id: string;
    uniqueName: string;
    description: string;
    parentName: string;
    executor: string | null;
    arguments: Record<string, unknown>;
  };
}

export interface SandboxCampaign {
  id: string;
  name: string;
  /** Epoch ms; a campaign completes only once past it. */
  deadline: number;
  status: "ACTIVE" | "COMPLETED";
  autoCompleteAction?: "APPROVE" | "REVOKE";
}

export interface RoleInsightsRequest {
  id: string;
  created: number;
  roleIds: string[];
  reads: number;
}

export interface RequestRecord {
  at: number;
  method: string;
  /** Path without the query string. */
  path: string;
  status: number;
  durationMs: number;
  clientId?: string;
  fault?: FaultKind;
  /** Context reads: the kind of object read. */
  kind?: ContextRouteKind;
}

/** At most this many request records are kept (a soak run must not grow memory without bound). */
export const MAX_REQUEST_RECORDS = 100_000;

export function hexId(): string {
  return randomBytes(16).toString("hex");
}

export class SandboxState {
  readonly subscriptions = new Map<string, StoredSubscription>();
  readonly invocations = new Map<string, SandboxInvocation>();
  readonly tasks = new Map<string, TaskStatus>();
  readonly campaigns = new Map<string, SandboxCampaign>();
  readonly roleInsights = new Map<string, RoleInsightsRequest>();
  readonly faultsInjected: Record<FaultKind, number> = {
    status429: 0,
    status500: 0,
    status503: 0,
    slow: 0,
    drop: 0,
    tokenExpiry: 0,
  };
  /**
   * Requests answered (or dropped), oldest first, the last MAX_REQUEST_RECORDS (100_000). Older
   * ones are dropped, so count with `requestsTotal`, not with indexes into this array.
   */
  readonly requests: RequestRecord[] = [];
  /** Every request recorded since start, including those no longer in `requests`. */
  requestsTotal = 0;
  /** Requests answered 429 by the rate limiter (not injected faults). */
  rateLimited = 0;
  /**
   * Context read requests received, per kind, whatever their outcome (200, 4xx, 429, faults): the
   * ISC requests a reader made. Reset them with `resetContextRequests()` between phases of a run.
   */
  readonly contextRequests: Record<ContextRouteKind, number> = Object.fromEntries(
    CONTEXT_ROUTE_KINDS.map((kind) => [kind, 0]),
  ) as Record<ContextRouteKind, number>;
  readonly seeded: { taskIds: string[]; pastDueCampaignId: string; activeCampaignId: string };
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
    const taskIds = [0, 1, 2].map(
      (n) =>
        this.createTask({ uniqueName: `Sandbox pending task ${n + 1}`, description: "Pending sandbox task" })
          .id,
    );
    const pastDue = this.createCampaign({ name: "Sandbox past-due campaign", deadline: now() - 86_400_000 });
    const active = this.createCampaign({
      name: "Sandbox active campaign",
      deadline: now() + 30 * 86_400_000,
    });
    this.seeded = { taskIds, pastDueCampaignId: pastDue.id, activeCampaignId: active.id };
  }

  /** Adds a pending task (completionStatus null) and returns it; fields override the defaults. */
  createTask(fields: Partial<TaskStatus> = {}): TaskStatus {
    const created = iso(this.#now());
    const task: TaskStatus = {
      id: hexId(),
      type: "QUARTZ",
      uniqueName: "Sandbox task",
      description: "A task of the sandbox tenant",
      parentName: null,
      launcher: "sandbox",
      target: null,
      created,
      modified: created,
      launched: created,
      completed: null,
      completionStatus: null,
      messages: [],
      returns: [],
      attributes: {},
      progress: "Started",
      percentComplete: 0,
      ...fields,
    };
    this.tasks.set(task.id, task);
    return task;
  }

  /** Adds a campaign; `deadline` in epoch ms (default: past due since yesterday). */
  createCampaign(fields: { id?: string; name?: string; deadline?: number } = {}): SandboxCampaign {
    const campaign: SandboxCampaign = {
      id: fields.id ?? hexId(),
      name: fields.name ?? "Sandbox campaign",
      deadline: fields.deadline ?? this.#now() - 86_400_000,
      status: "ACTIVE",
    };
    this.campaigns.set(campaign.id, campaign);
    return campaign;
  }

  newInvocationId(): string {
    return randomUUID();
  }

  recordRequest(record: RequestRecord): void {
    this.requests.push(record);
    this.requestsTotal++;
    if (record.kind !== undefined) this.contextRequests[record.kind]++;
    // Trimmed in batches: one splice per 10% overflow, not one per request.
    if (this.requests.length > MAX_REQUEST_RECORDS * 1.1) {
      this.requests.splice(0, this.requests.length - MAX_REQUEST_RECORDS);
    }
  }

  /** Context read requests received since start (or the last reset), all kinds together. */
  contextRequestsTotal(): number {
    return Object.values(this.contextRequests).reduce((sum, count) => sum + count, 0);
  }

  resetContextRequests(): void {
    for (const kind of CONTEXT_ROUTE_KINDS) this.contextRequests[kind] = 0;
  }

  /** Invocations by status, for quick assertions. */
  countInvocations(): Record<InvocationStatus, number> {
    const counts: Record<InvocationStatus, number> = { PENDING: 0, COMPLETED: 0, FAILED: 0 };
    for (const invocation of this.invocations.values()) counts[invocation.status]++;
    return counts;
  }
}
