/**
 * The ISC API credentials secret (`{"clientId", "clientSecret"}`, a personal access token's id and
 * secret work too) and a client that follows its rotation. Shared by the worker, the http function
 * (context reads) and the subscriptions custom resource. Errors never quote the secret's text.
 */
import * as z from "zod/mini";
import type { SecretsStore } from "../adapters/types.ts";
import { ResponderError } from "../errors.ts";
import type { IscClientOptions } from "./context-client.ts";
import type { IscContextReads } from "./context-reads.ts";
import type {
  CallOptions,
  CompletionBody,
  CompletionTarget,
  IscActionsApi,
  IscCompletionApi,
  JsonPatchOperation,
} from "./types.ts";

export class IscCredentialsError extends ResponderError {
  readonly secretId: string;
  constructor(secretId: string, problem: string) {
    super("ISC_CREDENTIALS_INVALID", `secret ${secretId} ${problem}`, { httpStatus: 500 });
    this.secretId = secretId;
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
    throw new IscCredentialsError(secretId, 'is not JSON {"clientId": "...", "clientSecret": "..."}');
  }
  const parsed = z.safeParse(IscCredentialsSchema, json);
  if (!parsed.success) {
    throw new IscCredentialsError(secretId, 'must hold {"clientId": "...", "clientSecret": "..."}');
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

type MakeClient<T> = (options: Pick<IscClientOptions, "clientId" | "clientSecret">) => T | Promise<T>;

/** The client for the credentials secret's current value: a new one only when that value changed. */
function followRotation<T>(
  secrets: SecretsStore,
  secretId: string,
  makeClient: MakeClient<T>,
): () => Promise<T> {
  let current: { secretText: string; client: Promise<T> } | undefined;
  return async () => {
    const secretText = await secrets.getSecretString(secretId);
    if (current?.secretText !== secretText) {
      const credentials = parseIscCredentials(secretText, secretId);
      current = { secretText, client: Promise.resolve(makeClient(credentials)) };
    }
    return current.client;
  };
}

/** Context reads that each go through the client `client()` gives at the time of the call. */
function contextThrough(client: () => Promise<{ context?: IscContextReads }>): IscContextReads {
  return Object.fromEntries(
    CONTEXT_READS.map((name) => [
      name,
      async (...args: unknown[]) => {
        const reads = (await client()).context;
        if (reads === undefined) throw new TypeError("this ISC client has no context reads");
        return (reads[name] as (...a: unknown[]) => Promise<unknown>)(...args);
      },
    ]),
  ) as unknown as IscContextReads;
}

/**
 * An ISC client that follows credential rotation: every call reads the credentials secret (the
 * store caches it) and builds a new client when its value changed, so a rotated client secret is
 * picked up without a cold start. Its `context` reads go through the same client.
 */
export function rotatingIscClient(
  secrets: SecretsStore,
  secretId: string,
  makeClient: MakeClient<IscApiWithContext>,
): IscApi & { context: IscContextReads } {
  const client = followRotation(secrets, secretId, makeClient);
  // One client per credentials value serves completions, actions and context reads: one limiter per container.
  const context = contextThrough(client);
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

/**
 * The context reads of a client that follows credential rotation, as rotatingIscClient's: for the
 * http function, which reads context with an IscContextClient and completes nothing.
 */
export function rotatingIscContextClient(
  secrets: SecretsStore,
  secretId: string,
  makeClient: MakeClient<{ context: IscContextReads }>,
): { context: IscContextReads } {
  return { context: contextThrough(followRotation(secrets, secretId, makeClient)) };
}
