/**
 * The sandbox's default directory: a small company (Acme) whose people, items and policies make every
 * branch of the example policy (rules/example.yaml) visible in `npm start`: a terminated person, an
 * inactive vendor, a manager who is also the requester, a person without a manager, privileged items
 * (directly, through an access profile, through a role's access profile), items without an owner (their
 * source's owner approves), an SoD conflict, and a person who asks for a lot.
 * Ids already used by the samples and the example policy are kept; DEFAULT_DIRECTORY_IDS names them.
 */
import type { DirectoryFile } from "./directory-file.ts";

/** The ids worth knowing, by what they are for (samples, rule test cases, tests). */
export const DEFAULT_DIRECTORY_IDS = {
  // ---- people ----
  /** William Wilson, Engineering, active; his manager Rob Robertson submits his requests in the samples. */
  william: "2c91808568c529c60168cca6f90c1313",
  /** Rob Robertson, Engineering manager (William, Ed, Carla, Dana, Terry); requester of the samples. */
  rob: "2c91808568c529c60168cca6f90c1314",
  /** Ed Engineer, Engineering, active; manager Rob; Adam Admin submits his requests. */
  ed: "2c91808b6ef1d43e016efba0ce470909",
  /** Adam Admin, IT administrator; owner of Corporate Active Directory and AWS. */
  adam: "2c91808b6ef1d43e016efba0ce470906",
  /** Carla Contractor, Engineering, employeeType contractor; six requests in the last 24 hours. */
  carla: "2c9180857a0f1e2d017a0f1e2d3c0101",
  /** Victor Vendor: identityStatus ACTIVE but lifecycle state `inactive` (contract ended). */
  victor: "2c9180857a0f1e2d017a0f1e2d3c0102",
  /** Terry Terminated: identityStatus TERMINATED, lifecycle state `terminated`. */
  terry: "2c9180857a0f1e2d017a0f1e2d3c0103",
  /** Helen Head, CEO: no manager. */
  helen: "2c9180857a0f1e2d017a0f1e2d3c0001",
  /** Dana DevOps, Engineering; owner of GitHub Enterprise and Production PostgreSQL. */
  dana: "2c9180857a0f1e2d017a0f1e2d3c0202",
  /** Fiona Finance, Finance controller; owner of SAP and of the AP-Payments SoD policy. */
  fiona: "2c9180857a0f1e2d017a0f1e2d3c0301",
  /** Paula Payables, Finance; holds SAP AP: Create Vendor (asking for payment approval is an SoD conflict). */
  paula: "2c9180857a0f1e2d017a0f1e2d3c0302",
  /** Sam Reviewer, security reviewer. */
  sam: "2c9180857a0f1e2d017a0f1e2d3c0777",
  /** Robert Robinson, Finance analyst. */
  robert: "2c4180a46faadee4016fb4e018c20626",
  /** Allen Albertson, head of Access Governance. */
  allen: "2c3780a46faadee4016fb4e018c20652",

  /** Roles of people in the scenarios the example policy covers. */
  terminatedPerson: "2c9180857a0f1e2d017a0f1e2d3c0103",
  inactivePerson: "2c9180857a0f1e2d017a0f1e2d3c0102",
  personWithoutManager: "2c9180857a0f1e2d017a0f1e2d3c0001",
  /** William, whose manager (Rob) is the requester of the samples. */
  managedByRequester: "2c91808568c529c60168cca6f90c1313",
  requesterWhoIsManager: "2c91808568c529c60168cca6f90c1314",
  /** Paula: asking for AP Payment Approval (or its entitlement) violates the AP-Payments policy. */
  sodRequester: "2c9180857a0f1e2d017a0f1e2d3c0302",
  frequentRequester: "2c9180857a0f1e2d017a0f1e2d3c0101",
  contractor: "2c9180857a0f1e2d017a0f1e2d3c0101",

  // ---- entitlements ----
  /** Wiki Reader (Confluence): not privileged, no owner. */
  wikiReader: "2c9180887a1b2c3d017a1b2c3d4e0099",
  githubDevelopers: "2c9180887a1b2c3d017a1b2c3d4e0101",
  /** GitHub: org owners: privileged, owned by Dana. */
  githubOrgOwners: "2c9180887a1b2c3d017a1b2c3d4e0102",
  adEngineering: "2c9180887a1b2c3d017a1b2c3d4e0103",
  /** AD: Domain Admins: privileged, owned by Adam. */
  adDomainAdmins: "2c9180887a1b2c3d017a1b2c3d4e0104",
  postgresReadOnly: "2c9180887a1b2c3d017a1b2c3d4e0105",
  /** PostgreSQL prod: superuser: privileged, no owner (Production PostgreSQL's owner, Dana, approves). */
  postgresSuperuser: "2c9180887a1b2c3d017a1b2c3d4e0106",
  awsAdministrator: "2c9180887a1b2c3d017a1b2c3d4e0107",
  sapCreateVendor: "2c9180887a1b2c3d017a1b2c3d4e0108",
  sapApprovePayment: "2c9180887a1b2c3d017a1b2c3d4e0109",
  sapPostJournal: "2c9180887a1b2c3d017a1b2c3d4e0110",
  sapDisplayLedger: "2c9180887a1b2c3d017a1b2c3d4e0111",
  /** Legacy share: read: its source has no owner either. */
  legacyShareRead: "2c9180887a1b2c3d017a1b2c3d4e0112",
  /** Confluence: space admin: privileged, no owner (Confluence Wiki's owner, Adam, approves). */
  confluenceSpaceAdmin: "2c9180887a1b2c3d017a1b2c3d4e0113",

  // ---- access profiles ----
  /** Engineering Access (GitHub developers): the samples' item; owner Dana. */
  engineeringAccess: "2c91808b6ef1d43e016efba0ce470904",
  /** Ledger Access (SAP GL): owner Fiona. */
  ledgerAccess: "2c9180887a1b2c3d017a1b2c3d4e0010",
  /** AP Payment Approval: grants SAP AP: Approve Payment (SoD with Create Vendor). */
  paymentApproval: "2c9180887a1b2c3d017a1b2c3d4e0201",
  vendorMaintenance: "2c9180887a1b2c3d017a1b2c3d4e0202",
  /** Production DB Superuser: an access profile granting a privileged entitlement. */
  productionDbSuperuser: "2c9180887a1b2c3d017a1b2c3d4e0203",
  productionDbReadOnly: "2c9180887a1b2c3d017a1b2c3d4e0204",
  domainAdminsProfile: "2c9180887a1b2c3d017a1b2c3d4e0205",
  awsAdministratorProfile: "2c9180887a1b2c3d017a1b2c3d4e0206",
  engineeringDirectoryGroups: "2c9180887a1b2c3d017a1b2c3d4e0207",

  // ---- roles ----
  domainAdministrator: "2c9180887a1b2c3d017a1b2c3d4e0001",
  /** Production Database Admin: privileged through its access profile Production DB Superuser. */
  productionDatabaseAdmin: "2c9180887a1b2c3d017a1b2c3d4e0002",
  cloudAccountOwner: "2c9180887a1b2c3d017a1b2c3d4e0003",
  /** Software Engineer: not privileged. */
  softwareEngineer: "2c9180887a1b2c3d017a1b2c3d4e0004",
  accountsPayableClerk: "2c9180887a1b2c3d017a1b2c3d4e0005",

  // ---- sources ----
  activeDirectory: "2c9180847a0f1e2d017a0f1e2d3c0011",
  github: "2c9180847a0f1e2d017a0f1e2d3c0012",
  postgres: "2c9180847a0f1e2d017a0f1e2d3c0013",
  sap: "2c9180847a0f1e2d017a0f1e2d3c0014",
  aws: "2c9180847a0f1e2d017a0f1e2d3c0015",
  confluence: "2c9180847a0f1e2d017a0f1e2d3c0016",
  /** Legacy File Share: a source without an owner. */
  legacyShare: "2c9180847a0f1e2d017a0f1e2d3c0017",

  // ---- governance groups ----
  engineeringAccessOwners: "2c9180867a0f1e2d017a0f1e2d3c0201",
  securityReviewers: "2c9180867a0f1e2d017a0f1e2d3c0401",
  accessGovernance: "2c9180867a0f1e2d017a0f1e2d3c0501",
  financeControllers: "2c9180867a0f1e2d017a0f1e2d3c0601",

  // ---- SoD policies ----
  /** AP-Payments: create vendor vs approve payment (owner Fiona; violations owned by Access Governance). */
  apPaymentsPolicy: "2c9180897a0f1e2d017a0f1e2d3c5001",
  /** Prod-Access: GitHub org owner vs production DB superuser (owner Security Reviewers; violations: the manager). */
  prodAccessPolicy: "2c9180897a0f1e2d017a0f1e2d3c5002",
  /** IT-Admin: domain admin vs AWS administrator, NOT_ENFORCED (never predicted; Adam holds both). */
  itAdminPolicy: "2c9180897a0f1e2d017a0f1e2d3c5003",
} as const;

const ID = DEFAULT_DIRECTORY_IDS;

/** The default directory as a file document (valid against DirectoryFileSchema; a starting point for your own). */
export function defaultDirectoryFile(): DirectoryFile {
  const engineering = (extra: Record<string, unknown> = {}) => ({
    department: "Engineering",
    costCenter: "CC-4100",
    location: "Austin",
    employeeType: "employee",
    ...extra,
  });
  const finance = (extra: Record<string, unknown> = {}) => ({
    department: "Finance",
    costCenter: "CC-2200",
    location: "New York",
    employeeType: "employee",
    ...extra,
  });
  const it = { department: "IT", costCenter: "CC-3300", location: "Austin", employeeType: "employee" };
  return {
    name: "Acme (sandbox default directory)",
    identities: [
      {
        id: ID.helen,
        name: "Helen Head",
        attributes: {
          department: "Executive",
          title: "Chief Executive Officer",
          costCenter: "CC-1000",
          location: "New York",
          employeeType: "employee",
        },
        access: [ID.wikiReader],
      },
      {
        id: ID.rob,
        name: "Rob Robertson",
        manager: ID.helen,
        attributes: engineering({ title: "Engineering Manager" }),
        access: [ID.githubDevelopers, ID.githubOrgOwners, ID.adEngineering, ID.wikiReader],
      },
      {
        id: ID.william,
        name: "William Wilson",
        manager: ID.rob,
        attributes: engineering({ title: "Software Engineer" }),
        access: [ID.githubDevelopers, ID.adEngineering, ID.wikiReader],
      },
      {
        id: ID.ed,
        name: "Ed Engineer",
        manager: ID.rob,
        attributes: engineering({ title: "Software Engineer" }),
        access: [ID.githubDevelopers, ID.adEngineering, ID.wikiReader],
      },
      {
        id: ID.dana,
        name: "Dana DevOps",
        manager: ID.rob,
        attributes: engineering({ title: "Site Reliability Engineer" }),
        access: [ID.githubDevelopers, ID.postgresReadOnly, ID.adEngineering, ID.wikiReader],
      },
      {
        id: ID.carla,
        name: "Carla Contractor",
        manager: ID.rob,
        attributes: engineering({
          title: "Contract Developer",
          employeeType: "contractor",
          contractEnd: "2026-12-31",
        }),
        access: [ID.githubDevelopers, ID.wikiReader],
      },
      {
        id: ID.terry,
        name: "Terry Terminated",
        identityStatus: "TERMINATED",
        lifecycleState: "terminated",
        manager: ID.rob,
        attributes: engineering({ title: "Software Engineer", terminationDate: "2025-05-30" }),
        access: [],
      },
      {
        id: ID.adam,
        name: "Adam Admin",
        manager: ID.helen,
        attributes: { ...it, title: "IT Administrator" },
        access: [ID.adDomainAdmins, ID.awsAdministrator, ID.confluenceSpaceAdmin, ID.wikiReader],
      },
      {
        id: ID.sam,
        name: "Sam Reviewer",
        manager: ID.adam,
        attributes: { ...it, title: "Security Analyst" },
        access: [ID.wikiReader],
      },
      {
        id: ID.allen,
        name: "Allen Albertson",
        manager: ID.helen,
        attributes: {
          department: "Access Governance",
          title: "Head of Access Governance",
          costCenter: "CC-1100",
          location: "New York",
          employeeType: "employee",
        },
        access: [ID.wikiReader],
      },
      {
        id: ID.fiona,
        name: "Fiona Finance",
        manager: ID.helen,
        attributes: finance({ title: "Financial Controller" }),
        access: [ID.sapPostJournal, ID.sapDisplayLedger, ID.sapApprovePayment, ID.wikiReader],
      },
      {
        id: ID.paula,
        name: "Paula Payables",
        manager: ID.fiona,
        attributes: finance({ title: "Accounts Payable Specialist" }),
        access: [ID.sapCreateVendor, ID.sapDisplayLedger, ID.wikiReader],
      },
      {
        id: ID.robert,
        name: "Robert Robinson",
        manager: ID.fiona,
        attributes: finance({ title: "Financial Analyst" }),
        access: [ID.sapDisplayLedger, ID.wikiReader],
      },
      {
        id: ID.victor,
        name: "Victor Vendor",
        lifecycleState: "inactive",
        manager: ID.fiona,
        attributes: finance({
          title: "External Auditor",
          employeeType: "vendor",
          company: "Audit Partners LLP",
          contractEnd: "2025-03-31",
        }),
        access: [ID.legacyShareRead],
      },
    ],
    sources: [
      {
        id: ID.activeDirectory,
        name: "Corporate Active Directory",
        owner: ID.adam,
        managementWorkgroup: ID.accessGovernance,
        type: "Active Directory - Direct",
        connector: "active-directory",
      },
      {
        id: ID.github,
        name: "GitHub Enterprise",
        owner: ID.dana,
        managementWorkgroup: ID.engineeringAccessOwners,
        type: "GitHub",
        connector: "github",
      },
      {
        id: ID.postgres,
        name: "Production PostgreSQL",
        owner: ID.dana,
        managementWorkgroup: ID.securityReviewers,
        type: "JDBC",
        connector: "jdbc",
      },
      {
        id: ID.sap,
        name: "SAP S/4HANA Finance",
        owner: ID.fiona,
        managementWorkgroup: ID.financeControllers,
        type: "SAP",
        connector: "sap",
      },
      {
        id: ID.aws,
        name: "AWS Organization",
        owner: ID.adam,
        managementWorkgroup: ID.securityReviewers,
        type: "Amazon Web Services",
        connector: "aws",
      },
      {
        id: ID.confluence,
        name: "Confluence Wiki",
        owner: ID.adam,
        type: "Web Services",
        connector: "web-services",
      },
      {
        id: ID.legacyShare,
        name: "Legacy File Share",
        owner: null,
        type: "Delimited File",
        connector: "delimited-file",
        description: "Being decommissioned: nobody owns it any more",
      },
    ],
    entitlements: [
      {
        id: ID.wikiReader,
        name: "Wiki Reader",
        source: ID.confluence,
        attribute: "groups",
        value: "confluence-users",
        description: "Read every public space of the wiki",
      },
      {
        id: ID.confluenceSpaceAdmin,
        name: "Confluence: space admin",
        source: ID.confluence,
        privileged: true,
        attribute: "groups",
        value: "confluence-administrators",
        description: "Administer every wiki space",
      },
      {
        id: ID.githubDevelopers,
        name: "GitHub: developers",
        source: ID.github,
        attribute: "teams",
        value: "acme/developers",
      },
      {
        id: ID.githubOrgOwners,
        name: "GitHub: org owners",
        source: ID.github,
        owner: ID.dana,
        privileged: true,
        attribute: "teams",
        value: "acme/owners",
        accessModelMetadata: [
          { key: "iscPrivacy", name: "Privacy", values: [{ value: "confidential", name: "Confidential" }] },
        ],
      },
      {
        id: ID.adEngineering,
        name: "AD: Engineering",
        source: ID.activeDirectory,
        value: "CN=Engineering,OU=Groups,DC=acme,DC=example",
      },
      {
        id: ID.adDomainAdmins,
        name: "AD: Domain Admins",
        source: ID.activeDirectory,
        owner: ID.adam,
        privileged: true,
        value: "CN=Domain Admins,CN=Users,DC=acme,DC=example",
      },
      {
        id: ID.postgresReadOnly,
        name: "PostgreSQL prod: read only",
        source: ID.postgres,
        attribute: "roles",
        value: "pg_read_all_data",
      },
      {
        id: ID.postgresSuperuser,
        name: "PostgreSQL prod: superuser",
        source: ID.postgres,
        privileged: true,
        attribute: "roles",
        value: "rds_superuser",
      },
      {
        id: ID.awsAdministrator,
        name: "AWS: AdministratorAccess",
        source: ID.aws,
        privileged: true,
        attribute: "permissionSets",
        value: "AdministratorAccess",
      },
      {
        id: ID.sapCreateVendor,
        name: "SAP AP: Create Vendor",
        source: ID.sap,
        owner: ID.fiona,
        attribute: "roles",
        value: "Z_AP_VENDOR_MAINT",
      },
      {
        id: ID.sapApprovePayment,
        name: "SAP AP: Approve Payment",
        source: ID.sap,
        owner: ID.fiona,
        attribute: "roles",
        value: "Z_AP_PAYMENT_APPROVE",
      },
      {
        id: ID.sapPostJournal,
        name: "SAP GL: Post Journal",
        source: ID.sap,
        owner: ID.fiona,
        attribute: "roles",
        value: "Z_GL_POST",
      },
      {
        id: ID.sapDisplayLedger,
        name: "SAP GL: Display",
        source: ID.sap,
        attribute: "roles",
        value: "Z_GL_DISPLAY",
      },
      {
        id: ID.legacyShareRead,
        name: "Legacy share: read",
        source: ID.legacyShare,
        attribute: "groups",
        value: "legacy-readers",
      },
    ],
    accessProfiles: [
      {
        id: ID.engineeringAccess,
        name: "Engineering Access",
        description: "Access to engineering repositories",
        owner: ID.dana,
        source: ID.github,
        entitlements: [ID.githubDevelopers],
      },
      {
        id: ID.engineeringDirectoryGroups,
        name: "Engineering Directory Groups",
        owner: ID.rob,
        source: ID.activeDirectory,
        entitlements: [ID.adEngineering],
      },
      {
        id: ID.ledgerAccess,
        name: "Ledger Access",
        description: "Post and display general ledger journals",
        owner: ID.fiona,
        source: ID.sap,
        entitlements: [ID.sapPostJournal, ID.sapDisplayLedger],
      },
      {
        id: ID.paymentApproval,
        name: "AP Payment Approval",
        description: "Approve outgoing vendor payments",
        owner: ID.fiona,
        source: ID.sap,
        entitlements: [ID.sapApprovePayment],
      },
      {
        id: ID.vendorMaintenance,
        name: "AP Vendor Maintenance",
        description: "Create and change vendor master data",
        owner: ID.fiona,
        source: ID.sap,
        entitlements: [ID.sapCreateVendor],
      },
      {
        id: ID.productionDbSuperuser,
        name: "Production DB Superuser",
        description: "Superuser on the production databases",
        owner: ID.dana,
        source: ID.postgres,
        entitlements: [ID.postgresSuperuser],
      },
      {
        id: ID.productionDbReadOnly,
        name: "Production DB Read Only",
        owner: ID.dana,
        source: ID.postgres,
        entitlements: [ID.postgresReadOnly],
      },
      {
        id: ID.domainAdminsProfile,
        name: "Domain Admins",
        owner: ID.adam,
        source: ID.activeDirectory,
        entitlements: [ID.adDomainAdmins],
      },
      {
        id: ID.awsAdministratorProfile,
        name: "AWS Administrator",
        owner: ID.adam,
        source: ID.aws,
        entitlements: [ID.awsAdministrator],
      },
    ],
    roles: [
      {
        id: ID.domainAdministrator,
        name: "Domain Administrator",
        owner: ID.adam,
        accessProfiles: [ID.domainAdminsProfile],
        privilegeLevel: "High",
      },
      {
        id: ID.productionDatabaseAdmin,
        name: "Production Database Admin",
        description: "Operate the production databases",
        owner: ID.dana,
        accessProfiles: [ID.productionDbSuperuser, ID.productionDbReadOnly],
        privilegeLevel: "High",
      },
      {
        id: ID.cloudAccountOwner,
        name: "Cloud Account Owner",
        owner: ID.adam,
        accessProfiles: [ID.awsAdministratorProfile],
        privilegeLevel: "High",
      },
      {
        id: ID.softwareEngineer,
        name: "Software Engineer",
        description: "What every engineer gets",
        owner: ID.rob,
        accessProfiles: [ID.engineeringAccess, ID.engineeringDirectoryGroups],
        entitlements: [ID.wikiReader],
      },
      {
        id: ID.accountsPayableClerk,
        name: "Accounts Payable Clerk",
        owner: ID.fiona,
        accessProfiles: [ID.vendorMaintenance],
        entitlements: [ID.sapDisplayLedger],
      },
    ],
    governanceGroups: [
      {
        id: ID.engineeringAccessOwners,
        name: "Engineering Access Owners",
        owner: ID.rob,
        members: [ID.rob, ID.dana],
      },
      { id: ID.securityReviewers, name: "Security Reviewers", owner: ID.sam, members: [ID.sam, ID.adam] },
      {
        id: ID.accessGovernance,
        name: "Access Governance",
        description: "Approves what no one else can",
        owner: ID.allen,
        members: [ID.allen, ID.fiona, ID.sam],
      },
      {
        id: ID.financeControllers,
        name: "Finance Controllers",
        owner: ID.fiona,
        members: [ID.fiona, ID.robert],
      },
    ],
    sodPolicies: [
      {
        id: ID.apPaymentsPolicy,
        name: "AP-Payments: create vendor vs approve payment",
        description: "Whoever creates vendors must not approve their payments",
        owner: ID.fiona,
        violationOwner: { assignmentRule: "STATIC", owner: ID.accessGovernance },
        left: { name: "Vendor maintenance", entitlements: [ID.sapCreateVendor] },
        right: { name: "Payment approval", entitlements: [ID.sapApprovePayment] },
      },
      {
        id: ID.prodAccessPolicy,
        name: "Prod-Access: GitHub org owner vs production DB superuser",
        owner: ID.securityReviewers,
        violationOwner: { assignmentRule: "MANAGER" },
        left: { name: "Source code administration", entitlements: [ID.githubOrgOwners] },
        right: { name: "Production data administration", entitlements: [ID.postgresSuperuser] },
      },
      {
        id: ID.itAdminPolicy,
        name: "IT-Admin: domain admin vs AWS administrator",
        owner: ID.securityReviewers,
        state: "NOT_ENFORCED",
        left: { entitlements: [ID.adDomainAdmins] },
        right: { entitlements: [ID.awsAdministrator] },
      },
    ],
    accessRequests: [
      ...[1, 3, 5, 8, 13, 21].map((hours, n) => ({
        accessRequestId: `2c91808b7a0f1e2d017a0f1e2d3c81${String(n).padStart(2, "0")}`,
        requestedFor: ID.carla,
        item: [
          ID.wikiReader,
          ID.productionDbReadOnly,
          ID.engineeringAccess,
          ID.ledgerAccess,
          ID.confluenceSpaceAdmin,
          ID.githubOrgOwners,
        ][n]!,
        state: n < 2 ? ("EXECUTING" as const) : ("REQUEST_COMPLETED" as const),
        comment: "Needed for the migration project",
        ago: `PT${hours}H`,
      })),
      {
        accessRequestId: "2c91808b7a0f1e2d017a0f1e2d3c8201",
        requestedFor: ID.william,
        requester: ID.rob,
        item: ID.engineeringAccess,
        state: "REQUEST_COMPLETED",
        ago: "P3D",
      },
      {
        accessRequestId: "2c91808b7a0f1e2d017a0f1e2d3c8202",
        requestedFor: ID.william,
        requester: ID.rob,
        item: ID.productionDbReadOnly,
        state: "REJECTED",
        comment: "Debugging a report",
        ago: "P14D",
      },
      {
        accessRequestId: "2c91808b7a0f1e2d017a0f1e2d3c8301",
        requestedFor: ID.ed,
        requester: ID.adam,
        item: ID.softwareEngineer,
        state: "REQUEST_COMPLETED",
        ago: "P30D",
      },
      {
        accessRequestId: "2c91808b7a0f1e2d017a0f1e2d3c8401",
        requestedFor: ID.paula,
        item: ID.vendorMaintenance,
        state: "REQUEST_COMPLETED",
        ago: "P60D",
      },
      {
        accessRequestId: "2c91808b7a0f1e2d017a0f1e2d3c8402",
        requestedFor: ID.paula,
        requester: ID.fiona,
        item: ID.ledgerAccess,
        state: "EXECUTING",
        ago: "PT2H",
      },
    ],
  };
}
