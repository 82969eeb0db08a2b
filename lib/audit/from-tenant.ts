/**
 * `rules replay --from-tenant`: before the first deploy there are no records, so the tenant's own
 * access-request history stands in. Each access request (GET /v3/access-request-status, one entry per
 * requested item and person, newest first) becomes the trigger input ISC would have sent for it
 * (accessRequestId, requestedFor, requestedBy, requestedItems with type, operation, comment, name),
 * and the candidate decides it for each trigger over context read live, through the client's rate
 * limiter, one request at a time. There is no old decision to compare: the report is a distribution.
 *
 * The history names people and holds their comments (personal data); nothing here reads a secret.
 */
import * as z from "zod/mini";
import type { ContextReader } from "../context/types.ts";
import type { AccessRequestStatus } from "../isc/context-schemas.ts";
import type { CallOptions, ListQuery } from "../isc/types.ts";
import {
  decideFromPayload,
  decideWithReadContext,
  describeContextFailure,
} from "../responder/context-decide.ts";
import type { DecideResult } from "../responder/decide.ts";
import type { CompiledRules } from "../rules/types.ts";
import type { RequestResponseInvocation } from "../triggers/invocation.ts";
import { type AccessRequestInput, AccessRequestInputSchema } from "../triggers/schemas.ts";
import type { RequestResponseTriggerId } from "../triggers/trigger-ids.ts";
import { decisionLabel } from "./build.ts";
import type { RecordItem, RecordPerson } from "./record.ts";
import type { ContextBasis, ReplayedDecision } from "./replay.ts";

/** The one list read --from-tenant needs (IscClient.context has it). */
export interface TenantAccessRequests {
  listTenantAccessRequestStatus(query: ListQuery, options?: CallOptions): Promise<AccessRequestStatus[]>;
}

export interface TenantHistoryOptions {
  /** Epoch ms: requests created before are not read (paging stops there). */
  since?: number;
  until?: number;
  /** At most this many access requests (newest first). */
  limit: number;
  /** Entries per page (ISC allows 250). */
  pageSize?: number;
  signal?: AbortSignal;
}

/** One access request of the history, as a trigger input. */
export interface RebuiltRequest {
  accessRequestId: string;
  /** When it was created (ISO): the invocation's receivedAt. */
  created: string;
  input: AccessRequestInput;
}

export interface TenantHistory {
  requests: RebuiltRequest[];
  /** Requests no trigger input can be rebuilt for, with why. */
  skipped: Array<{ accessRequestId: string; reason: string }>;
  entriesRead: number;
  pages: number;
  limitReached: boolean;
}

const PAGE_SIZE = 250;
/** A page bound well above any real history, so a tenant answering the same page forever still stops. */
const MAX_PAGES = 2_000;

/** Reads the tenant's access requests, newest first, and rebuilds each one's trigger input. */
export async function readTenantHistory(
  api: TenantAccessRequests,
  options: TenantHistoryOptions,
): Promise<TenantHistory> {
  const pageSize = options.pageSize ?? PAGE_SIZE;
  const groups = new Map<string, AccessRequestStatus[]>();
  let entriesRead = 0;
  let pages = 0;
  let limitReached = false;
  let offset = 0;
  paging: while (pages < MAX_PAGES) {
    options.signal?.throwIfAborted();
    const page = await api.listTenantAccessRequestStatus(
      { limit: pageSize, offset, sorters: "-created" },
      options.signal === undefined ? {} : { signal: options.signal },
    );
    pages++;
    entriesRead += page.length;
    for (const entry of page) {
      const created = Date.parse(String(entry.created));
      if (options.since !== undefined && Number.isFinite(created) && created < options.since) break paging;
      if (options.until !== undefined && Number.isFinite(created) && created > options.until) continue;
      const id = entry.accessRequestId;
      if (typeof id !== "string" || id === "") continue;
      const group = groups.get(id);
      if (group !== undefined) {
        group.push(entry);
      } else if (groups.size >= options.limit) {
        limitReached = true;
        break paging;
      } else {
        groups.set(id, [entry]);
      }
    }
    if (page.length < pageSize) break;
    offset += page.length;
  }
  const history: TenantHistory = { requests: [], skipped: [], entriesRead, pages, limitReached };
  for (const [accessRequestId, entries] of groups) {
    const rebuilt = rebuildInput(accessRequestId, entries);
    if ("reason" in rebuilt) history.skipped.push({ accessRequestId, reason: rebuilt.reason });
    else history.requests.push(rebuilt);
  }
  return history;
}

const ITEM_TYPES = new Set(["ACCESS_PROFILE", "ROLE", "ENTITLEMENT"]);

/**
 * The input ISC sends for an access request, from its status entries. The item id is the entry's
 * `requestedObject.id` when present, else its `id` (what ISC and the sandbox put there).
 */
export function rebuildInput(
  accessRequestId: string,
  entries: readonly AccessRequestStatus[],
): RebuiltRequest | { reason: string } {
  const people = new Map<string, { type: string; id: string; name: string }>();
  const items = new Map<string, Record<string, unknown>>();
  let requester: { type: string; id: string; name: string } | undefined;
  let created: string | undefined;
  for (const entry of entries) {
    const raw = entry as Record<string, unknown>;
    const requestType = raw.requestType ?? "GRANT_ACCESS";
    if (requestType !== "GRANT_ACCESS" && requestType !== "REVOKE_ACCESS") {
      return { reason: `request type ${String(requestType).slice(0, 40)} has no trigger input` };
    }
    const forRef = refOf(entry.requestedFor);
    if (forRef !== undefined) people.set(forRef.id, forRef);
    requester ??= refOf(entry.requester);
    const object = raw.requestedObject as { id?: unknown; name?: unknown; type?: unknown } | undefined;
    const itemId = typeof object?.id === "string" ? object.id : entry.id;
    const type = entry.type ?? object?.type;
    if (typeof itemId !== "string" || typeof type !== "string" || !ITEM_TYPES.has(type)) {
      return { reason: "an item has no id or an unknown type" };
    }
    const operation = requestType === "REVOKE_ACCESS" ? "Remove" : "Add";
    const comment = (raw.requesterComment as { comment?: unknown } | null | undefined)?.comment;
    const key = `${type}:${itemId}:${operation}`;
    if (!items.has(key)) {
      items.set(key, {
        id: itemId,
        name: String(entry.name ?? object?.name ?? itemId),
        description: typeof raw.description === "string" ? raw.description : null,
        type,
        operation,
        comment: typeof comment === "string" ? comment : null,
      });
    }
    if (typeof entry.created === "string" && (created === undefined || entry.created < created)) {
      created = entry.created;
    }
  }
  const requestedFor = [...people.values()];
  const first = requestedFor[0];
  if (first === undefined) return { reason: "no requestedFor identity" };
  const input = {
    accessRequestId,
    // ISC sends one object for one person (the spec's array form for several).
    requestedFor: requestedFor.length === 1 ? first : requestedFor,
    requestedItems: [...items.values()],
    requestedBy: requester ?? first,
  };
  const parsed = z.safeParse(AccessRequestInputSchema, input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      reason: `not a valid trigger input (${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"})`,
    };
  }
  return { accessRequestId, created: created ?? new Date(0).toISOString(), input: parsed.data };
}

function refOf(ref: unknown): { type: string; id: string; name: string } | undefined {
  const r = ref as { id?: unknown; name?: unknown; type?: unknown } | null | undefined;
  if (typeof r?.id !== "string" || r.id === "") return undefined;
  return { type: typeof r.type === "string" ? r.type : "IDENTITY", id: r.id, name: String(r.name ?? "") };
}

/** The candidate's decision for one request and trigger, or why none was made. */
export interface TenantDecision {
  triggerId: RequestResponseTriggerId;
  accessRequestId: string;
  created: string;
  people: RecordPerson[];
  requestedBy: RecordPerson;
  items: RecordItem[];
  /** Absent when the context could not be read (then `failure` says why). */
  decision?: ReplayedDecision;
  context?: ContextBasis;
  failure?: string;
}

export interface TenantDecideOptions {
  triggers: readonly RequestResponseTriggerId[];
  reader: ContextReader;
  readTimeoutMs?: number;
  signal?: AbortSignal;
}

/** Decides every rebuilt request for each trigger, one at a time (inside the client's rate limit). */
export async function decideTenantHistory(
  requests: readonly RebuiltRequest[],
  candidate: CompiledRules,
  options: TenantDecideOptions,
): Promise<TenantDecision[]> {
  const decisions: TenantDecision[] = [];
  for (const request of requests) {
    for (const triggerId of options.triggers) {
      options.signal?.throwIfAborted();
      decisions.push(await decideOne(request, triggerId, candidate, options));
    }
  }
  return decisions;
}

async function decideOne(
  request: RebuiltRequest,
  triggerId: RequestResponseTriggerId,
  candidate: CompiledRules,
  options: TenantDecideOptions,
): Promise<TenantDecision> {
  const receivedAt = Date.parse(request.created);
  const invocation: RequestResponseInvocation = {
    triggerType: "requestResponse",
    triggerId,
    invocationId: undefined,
    mode: "sync",
    receivedAt: Number.isFinite(receivedAt) ? receivedAt : Date.now(),
    deadline: Number.isFinite(receivedAt) ? receivedAt : Date.now(),
    input: request.input,
    callbackUrl: undefined,
    secret: undefined,
  };
  const input = request.input;
  const people = (Array.isArray(input.requestedFor) ? input.requestedFor : [input.requestedFor]).map(
    ({ id, name }) => ({ id, name }),
  );
  const base = {
    triggerId,
    accessRequestId: request.accessRequestId,
    created: request.created,
    people,
    requestedBy: { id: input.requestedBy.id, name: input.requestedBy.name },
    items: input.requestedItems.map(({ id, name, type, operation, comment }) => ({
      id,
      name,
      type,
      operation,
      comment: comment ?? null,
    })),
  };
  const first = decideFromPayload(invocation, candidate);
  let result: DecideResult;
  let context: ContextBasis = "payload";
  if ("contextRequired" in first) {
    const read = await decideWithReadContext(invocation, candidate, first.contextRequired, {
      reader: options.reader,
      deadline: Date.now() + (options.readTimeoutMs ?? 20_000),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    options.signal?.throwIfAborted();
    if (read.context?.failure !== undefined) {
      return {
        ...base,
        failure: `context could not be read: ${describeContextFailure(read.context.failure)}`,
      };
    }
    result = read;
    context = "live";
  } else {
    result = first;
  }
  const decision = result.decision;
  const output = decision.output as Record<string, unknown> | null;
  return {
    ...base,
    context,
    decision: {
      label: decisionLabel(triggerId, output),
      output,
      ruleId: decision.explanation.ruleId,
      kind: decision.explanation.kind,
      rulesVersion: decision.explanation.rulesVersion,
      fallback: result.fallback,
      ...(result.fallbackReason === undefined ? {} : { fallbackReason: result.fallbackReason }),
    },
  };
}
