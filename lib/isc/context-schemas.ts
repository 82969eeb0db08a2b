/**
 * zod/mini schemas of the ISC read APIs that give rules their context (identities, entitlements,
 * access profiles, roles, sources, SoD, access-request status), from the official OpenAPI subsets
 * (test/fixtures/isc-reference/openapi/v2025-context-reads.json, v3-context-reads.json).
 * Strict on the fields rules use (type-checked when present, `id` required), tolerant of every other
 * field (looseObject: ISC adds fields without notice, and rules may read custom attributes).
 */
import * as z from "zod/mini";

const optionalString = z.optional(z.nullable(z.string()));
const optionalBoolean = z.optional(z.nullable(z.boolean()));
const id = z.string().check(z.minLength(1));

/** `{type, id, name}`: owners, managers, source and entitlement refs. */
export const RefSchema = z.looseObject({
  type: optionalString,
  id: optionalString,
  name: optionalString,
});
export type Ref = z.infer<typeof RefSchema>;

const optionalRef = z.optional(z.nullable(RefSchema));
const refList = z.optional(z.nullable(z.array(RefSchema)));

/** Access model metadata: `{attributes: [{key, name, values: [{value, name}]}]}`. */
const AccessModelMetadataSchema = z.optional(z.nullable(z.looseObject({})));

export const IdentitySchema = z.looseObject({
  id,
  name: z.string(),
  alias: optionalString,
  emailAddress: optionalString,
  identityStatus: optionalString,
  processingState: optionalString,
  lifecycleState: z.optional(
    z.nullable(z.looseObject({ stateName: optionalString, manuallyUpdated: optionalBoolean })),
  ),
  managerRef: optionalRef,
  isManager: optionalBoolean,
  attributes: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
});
export type Identity = z.infer<typeof IdentitySchema>;
export const IdentityListSchema = z.array(IdentitySchema);

export const EntitlementSchema = z.looseObject({
  id,
  name: optionalString,
  attribute: optionalString,
  value: optionalString,
  description: optionalString,
  privileged: optionalBoolean,
  requestable: optionalBoolean,
  owner: optionalRef,
  source: optionalRef,
  attributes: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
  accessModelMetadata: AccessModelMetadataSchema,
});
export type Entitlement = z.infer<typeof EntitlementSchema>;
export const EntitlementListSchema = z.array(EntitlementSchema);

export const AccessProfileSchema = z.looseObject({
  id,
  name: optionalString,
  description: optionalString,
  enabled: optionalBoolean,
  requestable: optionalBoolean,
  owner: optionalRef,
  source: optionalRef,
  entitlements: refList,
  accessRequestConfig: z.optional(z.nullable(z.looseObject({}))),
  accessModelMetadata: AccessModelMetadataSchema,
});
export type AccessProfile = z.infer<typeof AccessProfileSchema>;
export const AccessProfileListSchema = z.array(AccessProfileSchema);

export const RoleSchema = z.looseObject({
  id,
  name: optionalString,
  description: optionalString,
  enabled: optionalBoolean,
  requestable: optionalBoolean,
  owner: optionalRef,
  accessProfiles: refList,
  entitlements: refList,
  privilegeLevel: optionalString,
  dimensional: optionalBoolean,
  dimensionRefs: refList,
  accessRequestConfig: z.optional(z.nullable(z.looseObject({}))),
  accessModelMetadata: AccessModelMetadataSchema,
});
export type Role = z.infer<typeof RoleSchema>;
export const RoleListSchema = z.array(RoleSchema);

export const SourceSchema = z.looseObject({
  id,
  name: optionalString,
  description: optionalString,
  owner: optionalRef,
  managementWorkgroup: optionalRef,
  type: optionalString,
  connector: optionalString,
  authoritative: optionalBoolean,
});
export type Source = z.infer<typeof SourceSchema>;
export const SourceListSchema = z.array(SourceSchema);

export const WorkgroupSchema = z.looseObject({
  id,
  name: optionalString,
  description: optionalString,
  owner: optionalRef,
  memberCount: z.optional(z.nullable(z.number())),
});
export type Workgroup = z.infer<typeof WorkgroupSchema>;

export const WorkgroupMemberSchema = z.looseObject({
  type: optionalString,
  id,
  name: optionalString,
  email: optionalString,
});
export const WorkgroupMemberListSchema = z.array(WorkgroupMemberSchema);
export type WorkgroupMember = z.infer<typeof WorkgroupMemberSchema>;

/**
 * `ViolationContext`: the official file gives `policy.type` an enum of ENTITLEMENT while its
 * example and the service say SOD_POLICY; neither is required here.
 */
export const ViolationContextSchema = z.looseObject({
  policy: z.looseObject({ type: optionalString, id, name: optionalString }),
  conflictingAccessCriteria: z.optional(z.nullable(z.looseObject({}))),
});
export type ViolationContext = z.infer<typeof ViolationContextSchema>;

/**
 * `ViolationPrediction`: the official file requires an undefined `requestId`; not required here.
 * `violationContexts` IS required (empty = no violation): a 200 of another shape (a proxy's page,
 * an API change) must not read as "no violation" and let a conflicting grant through.
 */
export const ViolationPredictionSchema = z.looseObject({
  violationContexts: z.array(ViolationContextSchema),
});
export type ViolationPrediction = z.infer<typeof ViolationPredictionSchema>;

export const SodPolicySchema = z.looseObject({
  id,
  name: optionalString,
  description: optionalString,
  state: optionalString,
  type: optionalString,
  ownerRef: optionalRef,
  violationOwnerAssignmentConfig: z.optional(
    z.nullable(z.looseObject({ assignmentRule: optionalString, ownerRef: optionalRef })),
  ),
});
export type SodPolicy = z.infer<typeof SodPolicySchema>;

/** `RequestedItemStatus` of GET /v3/access-request-status. */
export const AccessRequestStatusSchema = z.looseObject({
  id: optionalString,
  name: optionalString,
  type: optionalString,
  state: optionalString,
  created: optionalString,
  modified: optionalString,
  accessRequestId: optionalString,
  requestedFor: optionalRef,
  requester: optionalRef,
  privilegeLevel: optionalString,
});
export type AccessRequestStatus = z.infer<typeof AccessRequestStatusSchema>;
export const AccessRequestStatusListSchema = z.array(AccessRequestStatusSchema);
