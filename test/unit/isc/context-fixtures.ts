/**
 * ISC objects as the context read APIs return them (shaped after the OpenAPI subsets' examples; the
 * conformance test validates them against the spec), and a fake-tenant route that serves them.
 */
import type { RecordedRequest, Reply } from "./fake-tenant.ts";

export const IDS = {
  identity: "2c9180835d191a86015d28455b4b232a",
  manager: "2c4180a46faadee4016fb4e018c20626",
  entitlement: "2c91808874ff91550175097daaec161c",
  entitlement2: "2c918087682f9a86016839c0509c1ab2",
  accessProfile: "2c91808a7190d06e01719938fcd20792",
  role: "2c918086749d78830174a1a40e121518",
  source: "2c91808568c529c60168cca6f90c1324",
  workgroup: "2c9180837ca6693d017ca8d097500149",
  sodPolicy: "0f11f2a4-7c94-4bf3-a2bd-742580fe3bde",
} as const;

export const identity = {
  id: IDS.identity,
  name: "William Wilson",
  created: "2023-01-03T21:16:22.432Z",
  modified: "2023-01-03T21:16:22.432Z",
  alias: "william.wilson",
  emailAddress: "william.wilson@example.com",
  processingState: null,
  identityStatus: "ACTIVE",
  managerRef: { type: "IDENTITY", id: IDS.manager, name: "Robert Robinson" },
  isManager: false,
  lastRefresh: "2020-11-22T15:42:31.123Z",
  attributes: { department: "Engineering", cloudLifecycleState: "active", costCenter: "CC-42" },
  lifecycleState: { stateName: "active", manuallyUpdated: false },
};

export const entitlement = {
  id: IDS.entitlement,
  name: "LauncherTest2",
  attribute: "memberOf",
  value: "CN=LauncherTest2,OU=LauncherTestOrg,OU=slpt-automation,DC=TestAutomationAD,DC=local",
  sourceSchemaObjectType: "group",
  description: "some description",
  privileged: true,
  cloudGoverned: false,
  requestable: true,
  owner: { id: IDS.manager, name: "Robert Robinson", type: "IDENTITY" },
  source: { id: IDS.source, type: "SOURCE", name: "ODS-AD-Source" },
  attributes: { fieldName: "fieldValue" },
  created: "2020-10-08T18:33:52.029Z",
  modified: "2020-10-08T18:33:52.029Z",
};

export const accessProfile = {
  id: IDS.accessProfile,
  name: "Employee-database-read-write",
  description: "Collection of entitlements to read/write the employee database",
  created: "2021-03-01T22:32:58.104Z",
  modified: "2021-03-02T20:22:28.104Z",
  enabled: true,
  owner: { type: "IDENTITY", id: IDS.manager, name: "Robert Robinson" },
  source: { id: IDS.source, type: "SOURCE", name: "ODS-AD-SOURCE" },
  entitlements: [{ type: "ENTITLEMENT", id: IDS.entitlement, name: "LauncherTest2" }],
  requestable: true,
};

export const role = {
  id: IDS.role,
  name: "Role 2567",
  created: "2021-03-01T22:32:58.104Z",
  modified: "2021-03-02T20:22:28.104Z",
  description: "Urna amet cursus pellentesque nisl orci maximus lorem nisl euismod fusce morbi placerat.",
  owner: { type: "IDENTITY", id: IDS.manager, name: "Robert Robinson" },
  accessProfiles: [{ id: IDS.accessProfile, type: "ACCESS_PROFILE", name: "Employee-database-read-write" }],
  entitlements: [{ type: "ENTITLEMENT", id: IDS.entitlement2, name: "Payroll admin" }],
  enabled: true,
  requestable: true,
  dimensional: false,
  privilegeLevel: "High",
};

export const source = {
  id: IDS.source,
  name: "My Source",
  description: "This is the corporate directory.",
  owner: { type: "IDENTITY", id: IDS.manager, name: "Robert Robinson" },
  managementWorkgroup: { type: "GOVERNANCE_GROUP", id: IDS.workgroup, name: "My Management Workgroup" },
  type: "OpenLDAP - Direct",
  connector: "active-directory",
  authoritative: false,
};

export const workgroup = {
  owner: { type: "IDENTITY", id: IDS.manager, name: "Robert Robinson" },
  id: IDS.workgroup,
  name: "DB Access Governance Group",
  memberCount: 2,
  connectionCount: 0,
};

export const workgroupMembers = [
  { type: "IDENTITY", id: IDS.manager, name: "Robert Robinson", email: "robert.robinson@example.com" },
];

export const prediction = {
  requestId: "5f0a4a6d4d6a4c0f9f5b0c6f6f9f0a4a",
  violationContexts: [
    {
      policy: { id: IDS.sodPolicy, name: "Business SOD Policy" },
      conflictingAccessCriteria: {
        leftCriteria: {
          criteriaList: [{ type: "ENTITLEMENT", id: IDS.entitlement, name: "LauncherTest2", existing: true }],
        },
        rightCriteria: {
          criteriaList: [
            { type: "ENTITLEMENT", id: IDS.entitlement2, name: "Payroll admin", existing: false },
          ],
        },
      },
    },
  ],
};

export const sodPolicy = {
  id: IDS.sodPolicy,
  name: "Business SOD Policy",
  created: "2020-01-01T00:00:00.000000Z",
  modified: "2020-01-01T00:00:00.000000Z",
  description: "This policy ensures compliance of xyz",
  ownerRef: { type: "IDENTITY", id: IDS.manager, name: "Robert Robinson" },
  state: "ENFORCED",
  tags: [],
  violationOwnerAssignmentConfig: {
    assignmentRule: "MANAGER",
    ownerRef: { type: "IDENTITY", id: IDS.manager, name: "Robert Robinson" },
  },
  scheduled: false,
  type: "CONFLICTING_ACCESS_BASED",
};

export const accessRequestStatus = [
  {
    id: IDS.accessProfile,
    name: "Employee-database-read-write",
    type: "ACCESS_PROFILE",
    state: "EXECUTING",
    approvalDetails: [],
    created: "2019-08-23T18:40:35.772Z",
    modified: "2019-08-23T18:52:59.162Z",
    requestedFor: { type: "IDENTITY", id: IDS.identity, name: "William Wilson" },
    cancelable: false,
    accessRequestId: "2b838de9-db9b-abcf-e646-d4f274ad4238",
  },
];

/** Answers the context reads like a tenant whose directory holds the objects above; undefined for other paths. */
export function contextRoute(request: RecordedRequest): Reply | undefined {
  const { method, path } = request;
  const list = (objects: Array<{ id: string }>) => {
    const filter = request.query.get("filters") ?? "";
    const ids = [...filter.matchAll(/"([^"]+)"/g)].map((match) => match[1]);
    return { status: 200, body: filter === "" ? objects : objects.filter((o) => ids.includes(o.id)) };
  };
  const one = (object: { id: string }) =>
    path.endsWith(`/${object.id}`)
      ? { status: 200, body: object }
      : { status: 404, body: { detailCode: "404 Not found", messages: [] } };
  if (method === "POST" && path === "/v3/sod-violations/predict") return { status: 200, body: prediction };
  if (method !== "GET") return undefined;
  if (path === "/v2025/identities") return list([identity]);
  if (path.startsWith("/v2025/identities/")) return one(identity);
  if (path === "/v2025/entitlements") return list([entitlement]);
  if (path.startsWith("/v2025/entitlements/")) return one(entitlement);
  if (path === "/v3/access-profiles") return list([accessProfile]);
  if (path.startsWith("/v3/access-profiles/")) return one(accessProfile);
  if (path === "/v3/roles") return list([role]);
  if (path.startsWith("/v3/roles/")) return one(role);
  if (path === "/v3/sources") return list([source]);
  if (path.startsWith("/v3/sources/")) return one(source);
  if (path === `/v2025/workgroups/${IDS.workgroup}/members`) return { status: 200, body: workgroupMembers };
  if (path.startsWith("/v2025/workgroups/")) return one(workgroup);
  if (path.startsWith("/v3/sod-policies/")) return one(sodPolicy);
  if (path === "/v3/access-request-status") return { status: 200, body: accessRequestStatus };
  return undefined;
}

/** Ids that must never reach a URL path or a filter. */
export const HOSTILE_IDS: unknown[] = [
  "",
  "../identities",
  "a/b",
  "a?b=c",
  "a#b",
  "a%2Fb",
  'a"b',
  "a'b",
  "a\\b",
  "a b",
  "a\tb",
  "a\nb",
  ".",
  "..",
  "a.b",
  "-leading-dash",
  "é1",
  "ａbc",
  "a\u0000",
  "x".repeat(129),
  'x") or (id sw "',
  null,
  undefined,
  42,
  { id: "x" },
];
