/**
 * The worker's settings and dependencies from the Lambda environment (docs/runtime-contract.md),
 * kept out of functions/worker.ts so they can be tested. A missing or malformed setting fails the
 * first invocation loudly (and the batch is retried) rather than answering wrongly.
 */
import * as z from "zod/mini";
import type { SecretsStore } from "../adapters/types.ts";
import { type ContextSettings, contextSettingsFromEnv } from "../context/settings.ts";
import { ResponderError } from "../errors.ts";
import { tenantOrigin } from "../isc/callback-url.ts";
import type { IscClientOptions } from "../isc/client.ts";
import type { IscContextReads } from "../isc/context-reads.ts";
import type {
  CallOptions,
  CompletionBody,
  CompletionTarget,
  IscActionsApi,
  IscCompletionApi,
  JsonPatchOperation,
} from "../isc/types.ts";
import { responseDeadlineMs } from "../triggers/duration.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL, type RequestResponseTriggerId } from "../triggers/trigger-ids.ts";

export class WorkerConfigError extends ResponderError {
  readonly variable: string;
  constructor(variable: string, problem: string) {
    super("WORKER_CONFIG_INVALID", `${variable} ${problem}`, { httpStatus: 500 });
    this.variable = variable;
  }
}

export interface WorkerConfig {
  tenantBaseUrl: string;
  iscCredentialsSecretId: string;
  ledgerTableName: string;
  /** The worker's own queue (`QUEUE_URL`), where retryable invocations go back with a delay; optional. */
  queueUrl: string | undefined;
  /** undefined: `rules.json` beside the handler. */
  rulesPath: string | undefined;
  responseDeadlineMs: (triggerId: RequestResponseTriggerId) => number;
  /** CONTEXT_SETTINGS: this container's share of the tenant's read budget, cache TTLs and bound. */
  context: ContextSettings;
}

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new WorkerConfigError(name, "is required");
  return value;
}

function deadline(env: Env, name: string): number {
  try {
    return responseDeadlineMs(env[name]?.trim() || "PT1H");
  } catch {
    throw new WorkerConfigError(name, "must be an ISO-8601 duration of at least one minute, like PT1H");
  }
}

export function workerConfigFromEnv(env: Env): WorkerConfig {
  const tenantBaseUrl = required(env, "SAIL_BASE_URL");
  try {
    tenantOrigin(tenantBaseUrl);
  } catch {
    throw new WorkerConfigError("SAIL_BASE_URL", "is not a valid URL");
  }
  const deadlines: Record<RequestResponseTriggerId, number> = {
    [PRE_APPROVAL]: deadline(env, "RESPONSE_DEADLINE_PRE_APPROVAL"),
    [DYNAMIC_APPROVER]: deadline(env, "RESPONSE_DEADLINE_DYNAMIC_APPROVER"),
  };
  return {
    tenantBaseUrl,
    iscCredentialsSecretId: required(env, "ISC_CREDENTIALS_SECRET_ID"),
    ledgerTableName: required(env, "LEDGER_TABLE_NAME"),
    queueUrl: env.QUEUE_URL?.trim() || undefined,
    rulesPath: env.RULES_PATH?.trim() || undefined,
    responseDeadlineMs: (triggerId) => deadlines[triggerId],
    context: contextSettings(env),
  };
}

function contextSettings(env: Env): ContextSettings {
  try {
    return contextSettingsFromEnv(env.CONTEXT_SETTINGS);
  } catch (error) {
    throw new WorkerConfigError("CONTEXT_SETTINGS", (error as Error).message);
  }
}

const IscCredentialsSchema = z.looseObject({
  clientId: z.string().check(z.minLength(1)),
  clientSecret: z.string().check(z.minLength(1)),
});

/** `{"clientId": "...", "clientSecret": "..."}`; the error never quotes the secret's text. */
export function parseIscCredentials(
  text: string,
  secretId: string,
): { clientId: string; clientSecret: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new WorkerConfigError(
      `secret ${secretId}`,
      'is not JSON {"clientId": "...", "clientSecret": "..."}',
    );
  }
  const parsed = z.safeParse(IscCredentialsSchema, json);
  if (!parsed.success) {
    throw new WorkerConfigError(`secret ${secretId}`, 'must hold {"clientId": "...", "clientSecret": "..."}');
  }
  return { clientId: parsed.data.clientId, clientSecret: parsed.data.clientSecret };
}

export type IscApi = IscCompletionApi & IscActionsApi;
/** An ISC client with its context reads (IscClient); fakes in tests may leave the reads out. */
export type IscApiWithContext = IscApi & { context?: IscContextReads };

const CONTEXT_READS = [
  "listIdentities",
  "getIdentity",
  "listEntitlements",
  "getEntitlement",
  "listAccessProfiles",
  "getAccessProfile",
  "listRoles",
  "getRole",
  "listSources",
  "getSource",
  "getWorkgroup",
  "listWorkgroupMembers",
  "predictSodViolations",
  "getSodPolicy",
  "listAccessRequestStatus",
] as const satisfies ReadonlyArray<keyof IscContextReads>;

/**
 * An ISC client that follows credential rotation: every call reads the credentials secret (the
 * store caches it) and builds a new client when its value changed, so a rotated client secret is
 * picked up without a cold start. Its `context` reads go through the same client.
 */
export function rotatingIscClient(
  secrets: SecretsStore,
  secretId: string,
  makeClient: (
    options: Pick<IscClientOptions, "clientId" | "clientSecret">,
  ) => IscApiWithContext | Promise<IscApiWithContext>,
): IscApi & { context: IscContextReads } {
  let current: { secretText: string; client: Promise<IscApiWithContext> } | undefined;
  const client = async (): Promise<IscApiWithContext> => {
    const secretText = await secrets.getSecretString(secretId);
    if (current?.secretText !== secretText) {
      const credentials = parseIscCredentials(secretText, secretId);
      current = { secretText, client: Promise.resolve(makeClient(credentials)) };
    }
    return current.client;
  };
  // One client per credentials value serves completions, actions and context reads: one limiter per container.
  const context = Object.fromEntries(
    CONTEXT_READS.map((name) => [
      name,
      async (...args: unknown[]) => {
        const reads = (await client()).context;
        if (reads === undefined) throw new TypeError("this ISC client has no context reads");
        return (reads[name] as (...a: unknown[]) => Promise<unknown>)(...args);
      },
    ]),
  ) as unknown as IscContextReads;
  return {
    context,
    async completeInvocation(target: CompletionTarget, body: CompletionBody, options?: CallOptions) {
      return (await client()).completeInvocation(target, body, options);
    },
    async updateTaskStatus(taskId: string, operations: JsonPatchOperation[], options?: CallOptions) {
      return (await client()).updateTaskStatus(taskId, operations, options);
    },
    async completeCampaign(campaignId, request, options) {
      return (await client()).completeCampaign(campaignId, request, options);
    },
    async createRoleInsightsRequest(options?: CallOptions) {
      return (await client()).createRoleInsightsRequest(options);
    },
  };
}

/** The worker's metrics: CloudWatch embedded metric format lines (lib/observability/emf.ts). */
export { emfMetrics } from "../observability/emf.ts";
