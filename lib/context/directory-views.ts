/**
 * How a directory entry becomes the ISC object the context read APIs return, with the fields the
 * OpenAPI subsets require (Source.connector, AccessProfile.source, Role.owner, ...) and the defaults a
 * tenant would show. References are resolved to `{type, id, name}` by the caller's Refs.
 */
import type {
  AccessProfile,
  AccessRequestStatus,
  Entitlement,
  Identity,
  Ref,
  Role,
  SodPolicy,
  Source,
  Workgroup,
  WorkgroupMember,
} from "../isc/context-schemas.ts";
import type {
  DirectoryAccessProfile,
  DirectoryAccessRequest,
  DirectoryEntitlement,
  DirectoryGovernanceGroup,
  DirectoryIdentity,
  DirectoryRole,
  DirectorySodPolicy,
  DirectorySource,
} from "./directory-file.ts";

/** Resolves ids of the directory to ISC references (`name` falls back to the id when unknown). */
export interface Refs {
  identity(id: string): Ref;
  /** An identity or a governance group, whichever has the id. */
  owner(id: string): Ref;
  group(id: string): Ref;
  entitlement(id: string): Ref;
  accessProfile(id: string): Ref;
  source(id: string): Ref;
  /** The identity's email address ("" when unknown or null). */
  email(identityId: string): string;
}

/** Timestamps of every object (fixed: the same directory always serves the same bytes). */
export const CREATED = "2024-01-15T09:00:00.000Z";
export const MODIFIED = "2025-06-02T14:30:00.000Z";

function aliasOf(name: string): string {
  return name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, ".")
    .replace(/^\.|\.$/g, "");
}

function metadataOf(entries: DirectoryEntitlement["accessModelMetadata"]): { attributes: unknown[] } {
  return {
    attributes: (entries ?? []).map((entry) => ({
      key: entry.key,
      name: entry.name ?? entry.key,
      multiselect: entry.values.length > 1,
      status: "active",
      type: "governance",
      objectTypes: ["general"],
      description: "",
      values: entry.values.map((value) => ({
        value: value.value,
        name: value.name ?? value.value,
        status: "active",
      })),
    })),
  };
}

export function identityView(person: DirectoryIdentity, isManager: boolean, refs: Refs): Identity {
  const alias = person.alias ?? aliasOf(person.name);
  const email = person.emailAddress === undefined ? `${alias}@example.com` : person.emailAddress;
  const lifecycle =
    typeof person.lifecycleState === "object"
      ? {
          stateName: person.lifecycleState.stateName,
          manuallyUpdated: person.lifecycleState.manuallyUpdated ?? false,
        }
      : { stateName: person.lifecycleState ?? "active", manuallyUpdated: false };
  const [firstname, ...rest] = person.name.split(" ");
  return {
    id: person.id,
    name: person.name,
    created: CREATED,
    modified: MODIFIED,
    alias,
    emailAddress: email,
    processingState: null,
    identityStatus: person.identityStatus ?? "ACTIVE",
    managerRef: person.manager == null ? null : refs.identity(person.manager),
    isManager: person.isManager ?? isManager,
    lastRefresh: MODIFIED,
    attributes: {
      uid: alias,
      firstname: firstname ?? person.name,
      lastname: rest.join(" "),
      displayName: person.name,
      ...(email === null ? {} : { email }),
      ...person.attributes,
      // Mirrors lifecycleState, as ISC's identity profile does.
      cloudLifecycleState: lifecycle.stateName,
    },
    lifecycleState: lifecycle,
  };
}

export function entitlementView(entry: DirectoryEntitlement, refs: Refs): Entitlement {
  return {
    id: entry.id,
    name: entry.name,
    attribute: entry.attribute ?? "memberOf",
    value: entry.value ?? entry.name,
    sourceSchemaObjectType: "group",
    description: entry.description ?? null,
    privileged: entry.privileged ?? false,
    cloudGoverned: false,
    requestable: entry.requestable ?? true,
    owner: entry.owner == null ? null : refs.identity(entry.owner),
    additionalOwners: null,
    manuallyUpdatedFields: null,
    accessModelMetadata: metadataOf(entry.accessModelMetadata),
    created: CREATED,
    modified: MODIFIED,
    source: refs.source(entry.source),
    attributes: entry.attributes ?? {},
    segments: [],
    directPermissions: [],
  };
}

export function accessProfileView(entry: DirectoryAccessProfile, refs: Refs): AccessProfile {
  return {
    id: entry.id,
    name: entry.name,
    description: entry.description ?? null,
    created: CREATED,
    modified: MODIFIED,
    enabled: entry.enabled ?? true,
    owner: refs.identity(entry.owner),
    source: refs.source(entry.source),
    entitlements: entry.entitlements.map((id) => refs.entitlement(id)),
    requestable: entry.requestable ?? true,
    accessRequestConfig: { commentsRequired: false, denialCommentsRequired: false, approvalSchemes: [] },
    segments: [],
    accessModelMetadata: metadataOf(entry.accessModelMetadata),
    additionalOwners: null,
  };
}

export function roleView(entry: DirectoryRole, refs: Refs): Role {
  return {
    id: entry.id,
    name: entry.name,
    created: CREATED,
    modified: MODIFIED,
    description: entry.description ?? null,
    owner: refs.identity(entry.owner),
    additionalOwners: null,
    accessProfiles: (entry.accessProfiles ?? []).map((id) => refs.accessProfile(id)),
    entitlements: (entry.entitlements ?? []).map((id) => refs.entitlement(id)),
    enabled: entry.enabled ?? true,
    requestable: entry.requestable ?? true,
    accessRequestConfig: {
      commentsRequired: false,
      denialCommentsRequired: false,
      reauthorizationRequired: false,
      requireEndDate: false,
      approvalSchemes: [],
    },
    segments: [],
    dimensional: entry.dimensional ?? false,
    accessModelMetadata: metadataOf(entry.accessModelMetadata),
    privilegeLevel: entry.privilegeLevel ?? null,
  };
}

export function sourceView(entry: DirectorySource, refs: Refs): Source {
  const type = entry.type ?? "Active Directory - Direct";
  const connector = entry.connector ?? "active-directory";
  return {
    id: entry.id,
    name: entry.name,
    description: entry.description ?? `${entry.name} (sandbox directory)`,
    owner: entry.owner == null ? null : refs.identity(entry.owner),
    cluster: null,
    type,
    connector,
    connectorClass: `sailpoint.connector.${connector.replace(/[^A-Za-z0-9]/g, "")}`,
    connectorAttributes: {},
    deleteThreshold: 10,
    authoritative: entry.authoritative ?? false,
    managementWorkgroup: entry.managementWorkgroup == null ? null : refs.group(entry.managementWorkgroup),
    healthy: true,
    status: "SOURCE_STATE_HEALTHY",
    since: CREATED,
    connectorId: connector,
    connectorName: type,
    connectionType: "direct",
    connectorImplementationId: connector,
    created: CREATED,
    modified: MODIFIED,
    credentialProviderEnabled: false,
    category: null,
  };
}

export function workgroupView(group: DirectoryGovernanceGroup, refs: Refs): Workgroup {
  const owner = refs.identity(group.owner);
  return {
    id: group.id,
    name: group.name,
    description: group.description ?? group.name,
    owner: { ...owner, displayName: owner.name, emailAddress: refs.email(group.owner) },
    memberCount: new Set(group.members).size,
    connectionCount: 0,
    created: CREATED,
    modified: MODIFIED,
  };
}

export function workgroupMembersView(group: DirectoryGovernanceGroup, refs: Refs): WorkgroupMember[] {
  return [...new Set(group.members)].map((member) => ({
    type: "IDENTITY",
    id: member,
    name: refs.identity(member).name,
    email: refs.email(member),
  }));
}

/** GET /v3/sod-policies/{id} (SodPolicyRead). */
export function sodPolicyView(policy: DirectorySodPolicy, refs: Refs): SodPolicy {
  const side = (entry: DirectorySodPolicy["left"], fallback: string) => ({
    name: entry.name ?? fallback,
    criteriaList: entry.entitlements.map((id) => refs.entitlement(id)),
  });
  const query = (ids: readonly string[]) => `@access(id:(${ids.join(" OR ")}))`;
  return {
    id: policy.id,
    name: policy.name,
    created: CREATED,
    modified: MODIFIED,
    description: policy.description ?? null,
    ownerRef: refs.owner(policy.owner),
    externalPolicyReference: null,
    policyQuery: `${query(policy.left.entitlements)} AND ${query(policy.right.entitlements)}`,
    compensatingControls: null,
    correctionAdvice: null,
    state: policy.state ?? "ENFORCED",
    tags: [],
    creatorId: policy.owner,
    modifierId: null,
    violationOwnerAssignmentConfig:
      policy.violationOwner == null
        ? { assignmentRule: null, ownerRef: null }
        : policy.violationOwner.assignmentRule === "MANAGER"
          ? { assignmentRule: "MANAGER", ownerRef: null }
          : { assignmentRule: "STATIC", ownerRef: refs.owner(policy.violationOwner.owner) },
    scheduled: false,
    type: "CONFLICTING_ACCESS_BASED",
    conflictingAccessCriteria: {
      leftCriteria: side(policy.left, `${policy.name} (left)`),
      rightCriteria: side(policy.right, `${policy.name} (right)`),
    },
  };
}

/** One requested item of an access request (RequestedItemStatus of GET /v3/access-request-status). */
export function accessRequestView(
  request: DirectoryAccessRequest,
  index: number,
  item: { type: string; name: string; privilegeLevel: string | null; created: string },
  refs: Refs,
): AccessRequestStatus {
  const requester = refs.identity(request.requester ?? request.requestedFor);
  const state = request.state ?? "EXECUTING";
  return {
    id: request.item,
    name: item.name,
    type: item.type,
    errorMessages: null,
    state,
    approvalDetails: [],
    approvalIds: [],
    manualWorkItemDetails: null,
    accountActivityItemId: `${request.accessRequestId}-${index}`,
    requestType: request.requestType ?? "GRANT_ACCESS",
    modified: item.created,
    created: item.created,
    requester,
    requestedFor: refs.identity(request.requestedFor),
    ...(request.comment == null
      ? {}
      : { requesterComment: { comment: request.comment, created: item.created, author: requester } }),
    description: null,
    removeDate: null,
    cancelable: state === "EXECUTING",
    accessRequestId: request.accessRequestId,
    clientMetadata: null,
    requestedAccounts: null,
    privilegeLevel: item.privilegeLevel,
  };
}
