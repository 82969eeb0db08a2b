/**
 * The baseline of the live-context bench: the resolver one writes first. Per invocation, one request
 * per object it needs (GET /v2025/identities/{id} per person and per manager, GET of each item by
 * type, of each entitlement it grants, of each access profile of a role, of each item's source, one
 * POST /v3/sod-violations/predict per person, GET of each violated SoD policy): no cache, no
 * batching. It is charitable in two ways: an id asked twice within one invocation is fetched once,
 * and independent requests go in parallel. Same ISC client (token, limiter, retries) as ours, same
 * ContextData out, so the rules decide the same.
 */
import { ContextReadError, contextReadErrorFrom } from "../../lib/context/errors.ts";
import { expandNeeds, itemKindOf } from "../../lib/context/reader.ts";
import type {
  ContextData,
  ContextKind,
  ContextNeeds,
  ContextRead,
  ContextReader,
  ContextReadOptions,
  ContextResult,
  ContextSubject,
  ItemContext,
  SodViolation,
} from "../../lib/context/types.ts";
import type { IscContextReads } from "../../lib/isc/context-reads.ts";
import type {
  AccessProfile,
  Entitlement,
  Identity,
  Ref,
  Role,
  SodPolicy,
} from "../../lib/isc/context-schemas.ts";
import type { CallOptions } from "../../lib/isc/types.ts";

type Details = Entitlement | AccessProfile | Role;

export class NaiveContextReader implements ContextReader {
  readonly #api: IscContextReads;

  constructor(client: { readonly context: IscContextReads }) {
    this.#api = client.context;
  }

  async read(
    subject: ContextSubject,
    needs: ContextNeeds,
    options: ContextReadOptions,
  ): Promise<ContextResult> {
    const run = new NaiveRun(this.#api, options);
    try {
      const data = await run.read(subject, expandNeeds(needs));
      return { data, reads: run.reads, cacheHits: 0 };
    } catch (error) {
      throw contextReadErrorFrom(run.lastKind, [], error).withReads(run.reads);
    }
  }
}

/** One invocation's requests: each object at most once, nothing kept afterwards. */
class NaiveRun {
  readonly reads: ContextRead[] = [];
  lastKind: ContextKind | null = null;
  readonly #api: IscContextReads;
  readonly #call: CallOptions;
  readonly #asked = new Map<string, Promise<unknown>>();

  constructor(api: IscContextReads, options: ContextReadOptions) {
    this.#api = api;
    this.#call = {
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
    };
  }

  async read(subject: ContextSubject, needs: ReadonlySet<string>): Promise<ContextData> {
    const data: ContextData = { provenance: {} };
    await Promise.all([
      needs.has("identity") || needs.has("requester") ? this.#people(subject, needs, data) : undefined,
      needs.has("items") ? this.#items(subject, needs, data) : undefined,
    ]);
    if (needs.has("accessRequests")) {
      throw new ContextReadError({
        kind: "accessRequestStatus",
        reason: "unsupported",
        description: "naive",
      });
    }
    return data;
  }

  /** One request per (kind, id) in this invocation, timed and recorded. */
  #once<T>(kind: ContextKind, id: string, fetch: () => Promise<T>): Promise<T> {
    const key = `${kind}:${id}`;
    let pending = this.#asked.get(key) as Promise<T> | undefined;
    if (pending === undefined) {
      const started = performance.now();
      this.lastKind = kind;
      pending = fetch().then((value) => {
        this.reads.push({ kind, ids: 1, from: "api", ms: Math.round(performance.now() - started) });
        return value;
      });
      this.#asked.set(key, pending);
    }
    return pending;
  }

  #identity(id: string): Promise<Identity> {
    return this.#once("identities", id, () => this.#api.getIdentity(id, this.#call));
  }

  #entitlement(id: string): Promise<Entitlement> {
    return this.#once("entitlements", id, () => this.#api.getEntitlement(id, this.#call));
  }

  #accessProfile(id: string): Promise<AccessProfile> {
    return this.#once("accessProfiles", id, () => this.#api.getAccessProfile(id, this.#call));
  }

  async #people(subject: ContextSubject, needs: ReadonlySet<string>, data: ContextData): Promise<void> {
    const requester = needs.has("requester") ? subject.requestedBy : undefined;
    const [identities, requesterIdentity] = await Promise.all([
      needs.has("identity") ? Promise.all(subject.requestedFor.map((p) => this.#identity(p.id))) : undefined,
      requester === undefined ? undefined : this.#identity(requester.id),
    ]);
    if (requesterIdentity !== undefined) data.requester = requesterIdentity;
    if (identities === undefined) return;
    data.identity = identities;
    if (!needs.has("manager")) return;
    data.manager = await Promise.all(
      identities.map((identity) => {
        const managerId = refId(identity.managerRef);
        return managerId === null ? null : this.#identity(managerId);
      }),
    );
  }

  async #items(subject: ContextSubject, needs: ReadonlySet<string>, data: ContextData): Promise<void> {
    const contexts = await Promise.all(
      subject.requestedItems.map(async (item): Promise<ItemContext & { grants: string[] }> => {
        const kind = itemKindOf(item.type);
        if (kind === undefined) throw new ContextReadError({ kind: null, reason: "unsupported" });
        const details: Details =
          kind === "entitlements"
            ? await this.#entitlement(item.id)
            : kind === "accessProfiles"
              ? await this.#accessProfile(item.id)
              : await this.#once("roles", item.id, () => this.#api.getRole(item.id, this.#call));
        const context: ItemContext & { grants: string[] } = { details, grants: [] };
        await Promise.all([
          needs.has("sources") ? this.#source(kind, details, context) : undefined,
          needs.has("grants") ? this.#grants(kind, details, context) : undefined,
        ]);
        return context;
      }),
    );
    if (needs.has("sod")) {
      const added = subject.requestedItems.flatMap((item, i) =>
        item.operation === undefined || item.operation.toLowerCase() === "add" ? contexts[i]!.grants : [],
      );
      data.sod = await this.#sod(subject, [...new Set(added)].sort(), needs.has("sodPolicies"));
    }
    data.items = contexts.map(({ grants: _grants, ...context }) => context);
  }

  async #source(kind: string, details: Details, context: ItemContext): Promise<void> {
    const sourceId = kind === "roles" ? null : refId((details as Entitlement | AccessProfile).source);
    context.source =
      sourceId === null
        ? null
        : await this.#once("sources", sourceId, () => this.#api.getSource(sourceId, this.#call));
  }

  async #grants(kind: string, details: Details, context: ItemContext & { grants: string[] }): Promise<void> {
    let ids: string[];
    if (kind === "entitlements") ids = [details.id];
    else if (kind === "accessProfiles") ids = refIds((details as AccessProfile).entitlements);
    else {
      const role = details as Role;
      const profiles = await Promise.all(refIds(role.accessProfiles).map((id) => this.#accessProfile(id)));
      ids = [...refIds(role.entitlements), ...profiles.flatMap((profile) => refIds(profile.entitlements))];
    }
    ids = [...new Set(ids)];
    const entitlements =
      kind === "entitlements"
        ? [details as Entitlement]
        : await Promise.all(ids.map((id) => this.#entitlement(id)));
    context.grants = ids;
    context.entitlements = entitlements;
    context.privileged = entitlements.some((entitlement) => entitlement.privileged === true);
  }

  async #sod(
    subject: ContextSubject,
    entitlementIds: string[],
    withPolicies: boolean,
  ): Promise<NonNullable<ContextData["sod"]>> {
    if (entitlementIds.length === 0) return { violations: [], violated: false };
    const people = [...new Set(subject.requestedFor.map((person) => person.id))];
    const predictions = await Promise.all(
      people.map((identityId) =>
        this.#once("sodPrediction", identityId, () =>
          this.#api.predictSodViolations(
            { identityId, accessRefs: entitlementIds.map((id) => ({ type: "ENTITLEMENT" as const, id })) },
            this.#call,
          ),
        ),
      ),
    );
    const violations: SodViolation[] = predictions.flatMap((prediction, i) =>
      (prediction.violationContexts ?? []).map((context) => ({
        identityId: people[i]!,
        policy: { id: context.policy.id, name: context.policy.name ?? "", type: context.policy.type },
        ...(context.conflictingAccessCriteria == null
          ? {}
          : { conflictingAccessCriteria: context.conflictingAccessCriteria }),
      })),
    );
    if (withPolicies) {
      await Promise.all(
        violations.map(async (violation) => {
          const id = violation.policy.id;
          const policy: SodPolicy = await this.#once("sodPolicy", id, () =>
            this.#api.getSodPolicy(id, this.#call),
          );
          violation.owner = policy.ownerRef ?? null;
          violation.violationOwner = policy.violationOwnerAssignmentConfig?.ownerRef ?? null;
        }),
      );
    }
    for (const violation of violations)
      if (violation.policy.name === "") violation.policy.name = violation.policy.id;
    return { violations, violated: violations.length > 0 };
  }
}

function refId(ref: Ref | null | undefined): string | null {
  return typeof ref?.id === "string" && ref.id !== "" ? ref.id : null;
}

function refIds(refs: readonly Ref[] | null | undefined): string[] {
  return (refs ?? []).map(refId).filter((id): id is string => id !== null);
}
