/** The directory model: the default directory's scenarios, grants, SoD prediction, file loading and its errors, the synthetic generator. */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import * as z from "zod/mini";
import { defaultDirectoryFile } from "../../../lib/context/default-directory.ts";
import {
  Directory,
  DirectoryNotFoundError,
  defaultDirectory,
  directoryFrom,
  DEFAULT_DIRECTORY_IDS as ID,
  loadDirectoryFile,
  parseDirectoryFile,
  parseDirectoryText,
  syntheticDirectory,
} from "../../../lib/context/directory.ts";
import { ValidationError } from "../../../lib/errors.ts";
import {
  AccessProfileSchema,
  AccessRequestStatusSchema,
  EntitlementSchema,
  IdentitySchema,
  RoleSchema,
  SodPolicySchema,
  SourceSchema,
  ViolationPredictionSchema,
  WorkgroupSchema,
} from "../../../lib/isc/context-schemas.ts";

const directory = defaultDirectory();

function issuesOf(run: () => unknown): Array<{ path: string; message: string; line?: number }> {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe("INVALID_DIRECTORY");
    return (error as ValidationError).issues;
  }
  throw new Error("expected a ValidationError");
}

async function asyncIssuesOf(run: () => Promise<unknown>) {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error("expected a ValidationError");
}

describe("the default directory", () => {
  it("has the people the example policy's branches need", () => {
    expect(directory.identity(ID.terminatedPerson)).toMatchObject({
      identityStatus: "TERMINATED",
      lifecycleState: { stateName: "terminated" },
    });
    expect(directory.identity(ID.inactivePerson)).toMatchObject({
      identityStatus: "ACTIVE",
      lifecycleState: { stateName: "inactive" },
    });
    expect(directory.identity(ID.personWithoutManager)?.managerRef).toBeNull();
    expect(directory.identity(ID.managedByRequester)?.managerRef?.id).toBe(ID.requesterWhoIsManager);
    expect(directory.identity(ID.rob)).toMatchObject({
      isManager: true,
      attributes: { department: "Engineering" },
    });
    expect(directory.identity(ID.fiona)?.attributes).toMatchObject({ department: "Finance" });
    expect(directory.identity(ID.ed)?.managerRef?.id).toBe(ID.rob);
    expect(directory.identity(ID.carla)?.attributes).toMatchObject({ employeeType: "contractor" });
    expect(directory.identity(ID.william)?.isManager).toBe(false);
  });

  it("uses the ids of the samples and the example policy", () => {
    // lib/triggers/examples.ts, lib/local/samples.ts, rules/example.yaml, the sandbox's catalog.
    for (const id of [
      "2c91808568c529c60168cca6f90c1313",
      "2c91808568c529c60168cca6f90c1314",
      "2c91808b6ef1d43e016efba0ce470909",
      "2c91808b6ef1d43e016efba0ce470906",
      "2c9180857a0f1e2d017a0f1e2d3c0101",
      "2c9180857a0f1e2d017a0f1e2d3c0102",
      "2c9180857a0f1e2d017a0f1e2d3c0301",
      "2c4180a46faadee4016fb4e018c20626",
    ]) {
      expect(directory.identity(id), id).toBeDefined();
    }
    expect(directory.accessProfile("2c91808b6ef1d43e016efba0ce470904")?.name).toBe("Engineering Access");
    expect(directory.accessProfile("2c9180887a1b2c3d017a1b2c3d4e0010")?.owner?.id).toBe(ID.fiona);
    expect(directory.role("2c9180887a1b2c3d017a1b2c3d4e0002")?.name).toBe("Production Database Admin");
    expect(directory.entitlement("2c9180887a1b2c3d017a1b2c3d4e0099")?.name).toBe("Wiki Reader");
    expect(directory.workgroup("2c9180867a0f1e2d017a0f1e2d3c0501")?.name).toBe("Access Governance");
    expect(directory.workgroup("2c9180867a0f1e2d017a0f1e2d3c0401")?.name).toBe("Security Reviewers");
  });

  it("has privileged items directly, through an access profile and through a role's access profile", () => {
    const privileged = (itemId: string) =>
      directory.grantedEntitlements(itemId)!.some((id) => directory.entitlement(id)?.privileged === true);
    expect(directory.entitlement(ID.postgresSuperuser)?.privileged).toBe(true);
    expect(privileged(ID.productionDbSuperuser)).toBe(true);
    expect(privileged(ID.productionDatabaseAdmin)).toBe(true);
    expect(directory.role(ID.productionDatabaseAdmin)?.entitlements).toEqual([]);
    expect(privileged(ID.engineeringAccess)).toBe(false);
    expect(privileged(ID.softwareEngineer)).toBe(false);
    expect(privileged(ID.wikiReader)).toBe(false);
  });

  it("has items without an owner whose source has one, and a source without an owner", () => {
    const superuser = directory.entitlement(ID.postgresSuperuser)!;
    expect(superuser.owner).toBeNull();
    expect(directory.source(String(superuser.source?.id))?.owner).toMatchObject({
      id: ID.dana,
      type: "IDENTITY",
    });
    expect(directory.entitlement(ID.confluenceSpaceAdmin)).toMatchObject({ owner: null, privileged: true });
    expect(directory.entitlement(ID.githubOrgOwners)?.owner?.id).toBe(ID.dana);
    expect(directory.source(ID.legacyShare)?.owner).toBeNull();
    expect(directory.source(ID.github)?.managementWorkgroup).toMatchObject({
      type: "GOVERNANCE_GROUP",
      id: ID.engineeringAccessOwners,
    });
    // The samples' item: its source's owner is not the requester (Rob) of the samples.
    const engineering = directory.accessProfile(ID.engineeringAccess)!;
    expect(directory.source(String(engineering.source?.id))?.owner?.id).toBe(ID.dana);
  });

  it("predicts the AP-Payments conflict for the SoD requester, through the access profile's entitlement", () => {
    const prediction = directory.predictSod(
      ID.sodRequester,
      directory.grantedEntitlements(ID.paymentApproval)!,
    );
    expect(prediction.violationContexts?.map((context) => context.policy.name)).toEqual([
      "AP-Payments: create vendor vs approve payment",
    ]);
    const policy = directory.sodPolicy(ID.apPaymentsPolicy)!;
    expect(policy.ownerRef).toMatchObject({ type: "IDENTITY", id: ID.fiona });
    expect(policy.violationOwnerAssignmentConfig).toMatchObject({
      assignmentRule: "STATIC",
      ownerRef: { type: "GOVERNANCE_GROUP", id: ID.accessGovernance, name: "Access Governance" },
    });
    expect(directory.sodPolicy(ID.prodAccessPolicy)?.violationOwnerAssignmentConfig).toEqual({
      assignmentRule: "MANAGER",
      ownerRef: null,
    });
  });

  it("has a frequent requester: six requests in the last 24 hours, newest first", () => {
    const records = directory.accessRequestStatus({ requestedFor: ID.frequentRequester });
    expect(records).toHaveLength(6);
    const times = records.map((record) => Date.parse(String(record.created)));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(Date.now() - Math.min(...times)).toBeLessThan(24 * 3_600_000);
  });

  it("serves objects that parse with the client's context schemas, and are frozen", () => {
    const check = (schema: z.ZodMiniType, values: readonly unknown[]) => {
      for (const value of values) expect(z.safeParse(schema, value).success).toBe(true);
    };
    check(IdentitySchema, directory.identities());
    check(EntitlementSchema, directory.entitlements());
    check(AccessProfileSchema, directory.accessProfiles());
    check(RoleSchema, directory.roles());
    check(SourceSchema, directory.sources());
    check(WorkgroupSchema, directory.workgroups());
    check(
      SodPolicySchema,
      [ID.apPaymentsPolicy, ID.prodAccessPolicy].map((id) => directory.sodPolicy(id)),
    );
    check(AccessRequestStatusSchema, directory.accessRequestStatus({}));
    check(ViolationPredictionSchema, [directory.predictSod(ID.paula, [ID.sapApprovePayment])]);
    const identity = directory.identity(ID.william)!;
    expect(Object.isFrozen(identity)).toBe(true);
    expect(Object.isFrozen(identity.attributes)).toBe(true);
    expect(() => {
      (identity as { name: string }).name = "x";
    }).toThrow(TypeError);
  });

  it("its file form is a valid directory file and survives a YAML round trip", async () => {
    const file = defaultDirectoryFile();
    expect(parseDirectoryFile(file)).toEqual(file);
    const reloaded = new Directory(await parseDirectoryText(stringify(file), "default.yaml"));
    expect(reloaded.identities()).toEqual(directory.identities());
    expect(reloaded.sodPolicy(ID.apPaymentsPolicy)).toEqual(directory.sodPolicy(ID.apPaymentsPolicy));
  });
});

describe("grants", () => {
  it("an entitlement grants itself, an access profile its entitlements, a role its own and its access profiles'", () => {
    expect(directory.grantedEntitlements(ID.wikiReader)).toEqual([ID.wikiReader]);
    expect(directory.grantedEntitlements(ID.ledgerAccess)).toEqual([ID.sapPostJournal, ID.sapDisplayLedger]);
    expect(new Set(directory.grantedEntitlements(ID.softwareEngineer))).toEqual(
      new Set([ID.wikiReader, ID.githubDevelopers, ID.adEngineering]),
    );
    expect(directory.grantedEntitlements("unknown")).toBeUndefined();
    expect(directory.itemType(ID.softwareEngineer)).toBe("ROLE");
    expect(directory.itemType(ID.ledgerAccess)).toBe("ACCESS_PROFILE");
    expect(directory.itemType(ID.wikiReader)).toBe("ENTITLEMENT");
    expect(directory.requestableItems()).toContainEqual({
      id: ID.ledgerAccess,
      name: "Ledger Access",
      type: "ACCESS_PROFILE",
    });
  });
});

describe("SoD prediction", () => {
  const sod = directoryFrom({
    identities: [
      { id: "maker", name: "Maker", access: ["create"] },
      { id: "both", name: "Both", access: ["create", "approve"] },
      { id: "none", name: "None" },
    ],
    sources: [{ id: "erp", name: "ERP" }],
    entitlements: ["create", "create2", "approve", "other", "x", "y"].map((id) => ({
      id,
      name: id,
      source: "erp",
    })),
    governanceGroups: [{ id: "g", name: "G", owner: "maker", members: [] }],
    sodPolicies: [
      {
        id: "p1",
        name: "P1",
        owner: "g",
        left: { entitlements: ["create", "create2"] },
        right: { entitlements: ["approve"] },
      },
      {
        id: "p2",
        name: "P2",
        owner: "maker",
        state: "NOT_ENFORCED",
        left: { entitlements: ["x"] },
        right: { entitlements: ["y"] },
      },
    ],
  });
  const policies = (identityId: string, ids: string[]) =>
    (sod.predictSod(identityId, ids).violationContexts ?? []).map((context) => context.policy.id);

  it("is violated when current plus requested access holds one entitlement of each side", () => {
    expect(policies("maker", ["approve"])).toEqual(["p1"]);
    expect(policies("none", ["create", "approve"])).toEqual(["p1"]);
    expect(policies("none", ["create2", "approve"])).toEqual(["p1"]);
  });

  it("is not violated by one side alone, nor by unrelated access", () => {
    expect(policies("maker", ["create2"])).toEqual([]);
    expect(policies("none", ["approve"])).toEqual([]);
    expect(policies("maker", ["other"])).toEqual([]);
  });

  it("reports a conflict the person already has only when the request takes part in it", () => {
    expect(policies("both", ["other"])).toEqual([]);
    expect(policies("both", ["approve"])).toEqual([]);
    expect(policies("both", ["create2"])).toEqual(["p1"]);
  });

  it("skips policies that are not enforced", () => {
    expect(policies("none", ["x", "y"])).toEqual([]);
  });

  it("marks which conflicting entitlements the person already holds", () => {
    const [context] = sod.predictSod("maker", ["create2", "approve"]).violationContexts!;
    expect(context?.conflictingAccessCriteria).toEqual({
      leftCriteria: {
        criteriaList: [
          { type: "ENTITLEMENT", id: "create", name: "create", existing: true },
          { type: "ENTITLEMENT", id: "create2", name: "create2", existing: false },
        ],
      },
      rightCriteria: {
        criteriaList: [{ type: "ENTITLEMENT", id: "approve", name: "approve", existing: false }],
      },
    });
    expect(sod.sodPolicy("p1")?.ownerRef).toEqual({ type: "GOVERNANCE_GROUP", id: "g", name: "G" });
    expect(sod.sodPolicy("p1")?.violationOwnerAssignmentConfig).toEqual({
      assignmentRule: null,
      ownerRef: null,
    });
  });

  it("throws DirectoryNotFoundError for an unknown identity or entitlement", () => {
    expect(() => sod.predictSod("nobody", [])).toThrow(DirectoryNotFoundError);
    expect(() => sod.predictSod("maker", ["nope"])).toThrow(/Entitlement nope/);
  });
});

describe("directory files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "directory-test-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("loads YAML and JSON files", async () => {
    const yamlPath = join(dir, "d.yaml");
    await writeFile(
      yamlPath,
      [
        "name: Tiny",
        "identities:",
        "  - {id: alice, name: Alice Able, manager: bob, attributes: {department: Sales}, access: [crm-user]}",
        "  - {id: bob, name: Bob Boss, lifecycleState: {stateName: leave, manuallyUpdated: true}}",
        "sources: [{id: crm, name: CRM, owner: bob}]",
        "entitlements: [{id: crm-user, name: CRM user, source: crm}]",
        "accessRequests:",
        "  - {accessRequestId: r1, requestedFor: alice, item: crm-user, created: '2025-01-02T03:04:05Z'}",
      ].join("\n"),
    );
    const loaded = await loadDirectoryFile(yamlPath);
    expect(loaded.identity("alice")).toMatchObject({
      managerRef: { id: "bob", name: "Bob Boss" },
      attributes: { department: "Sales", cloudLifecycleState: "active" },
    });
    expect(loaded.identity("bob")).toMatchObject({
      isManager: true,
      lifecycleState: { stateName: "leave", manuallyUpdated: true },
    });
    expect(loaded.accessRequestStatus({ requestedFor: "alice" })[0]).toMatchObject({
      created: "2025-01-02T03:04:05.000Z",
      name: "CRM user",
      type: "ENTITLEMENT",
      requester: { id: "alice" },
    });
    const jsonPath = join(dir, "d.json");
    await writeFile(jsonPath, JSON.stringify(defaultDirectoryFile()));
    expect((await loadDirectoryFile(jsonPath)).identities()).toEqual(directory.identities());
  });

  it("names the path and the line of each schema problem", async () => {
    const path = join(dir, "bad.yaml");
    await writeFile(
      path,
      [
        "identities:",
        "  - id: ok",
        "    name: OK",
        "  - id: 'has space'",
        "    name: Spaced",
        "    identityStatus: GONE",
        "    departmnt: Sales",
        "entitlements:",
        "  - {id: e1, source: s1}",
      ].join("\n"),
    );
    const error = await asyncIssuesOf(() => loadDirectoryFile(path));
    expect(error.message).toContain(path);
    const byPath = Object.fromEntries(error.issues.map((issue) => [issue.path, issue]));
    expect(byPath["identities[1].id"]).toMatchObject({
      line: 4,
      message: expect.stringContaining("plain id"),
    });
    expect(byPath["identities[1].identityStatus"]).toMatchObject({
      line: 6,
      message: expect.stringContaining('expected one of "UNREGISTERED"'),
    });
    expect(byPath["identities[1].departmnt"]).toMatchObject({
      line: 7,
      message: expect.stringContaining("unknown field"),
    });
    expect(byPath["entitlements[0].name"]).toMatchObject({ line: 9, message: "expected string" });
    expect(error.message).not.toContain("Invalid input");
  });

  it("reports syntax errors with their line, and unreadable files", async () => {
    const path = join(dir, "syntax.yaml");
    await writeFile(path, "identities:\n  - id: a\n   name: [unclosed\n");
    const syntax = await asyncIssuesOf(() => loadDirectoryFile(path));
    expect(syntax.issues[0]?.message).toMatch(/^syntax error/);
    expect(syntax.issues[0]?.line).toBeGreaterThan(1);
    const missing = await asyncIssuesOf(() => loadDirectoryFile(join(dir, "missing.yaml")));
    expect(missing.issues[0]?.message).toContain("ENOENT");
  });

  it("lists every dangling reference and duplicate id by path", () => {
    const issues = issuesOf(() =>
      directoryFrom({
        identities: [
          { id: "a", name: "A", manager: "ghost", access: ["nope"] },
          { id: "a", name: "A again" },
          { id: "self", name: "Self", manager: "self" },
        ],
        sources: [{ id: "s", name: "S", owner: "ghost", managementWorkgroup: "no-group" }],
        entitlements: [{ id: "e", name: "E", source: "no-source", owner: "ghost" }],
        accessProfiles: [{ id: "ap", name: "AP", owner: "a", source: "s", entitlements: ["e", "missing"] }],
        roles: [
          { id: "r", name: "R", owner: "ghost", accessProfiles: ["no-ap"] },
          { id: "e", name: "clash", owner: "a" },
        ],
        governanceGroups: [{ id: "a", name: "G", owner: "a", members: ["ghost"] }],
        sodPolicies: [
          {
            id: "p",
            name: "P",
            owner: "ghost",
            violationOwner: { assignmentRule: "STATIC", owner: "ghost" },
            left: { entitlements: [] },
            right: { entitlements: ["missing"] },
          },
        ],
        accessRequests: [
          {
            accessRequestId: "x",
            requestedFor: "ghost",
            item: "nothing",
            created: "2025-01-01T00:00:00Z",
            ago: "PT1H",
          },
          { accessRequestId: "y", requestedFor: "a", item: "e", ago: "PT1Y" },
        ],
      }),
    );
    const paths = issues.map((issue) => issue.path);
    for (const expected of [
      "identities[0].manager",
      "identities[0].access[0]",
      "identities[1].id",
      "identities[2].manager",
      "sources[0].owner",
      "sources[0].managementWorkgroup",
      "entitlements[0].source",
      "entitlements[0].owner",
      "accessProfiles[0].entitlements[1]",
      "roles[0].owner",
      "roles[0].accessProfiles[0]",
      "governanceGroups",
      "governanceGroups[0].members[0]",
      "sodPolicies[0].owner",
      "sodPolicies[0].violationOwner.owner",
      "sodPolicies[0].left.entitlements",
      "sodPolicies[0].right.entitlements[0]",
      "accessRequests[0].requestedFor",
      "accessRequests[0].item",
      "accessRequests[0]",
      "accessRequests[1].ago",
    ]) {
      expect(paths, expected).toContain(expected);
    }
    expect(issues.find((issue) => issue.message.includes("used in both"))?.message).toContain(
      "entitlements and roles",
    );
  });

  it("explains a violationOwner that matches neither form by its closest one", () => {
    const issues = issuesOf(() =>
      parseDirectoryFile({
        sodPolicies: [
          {
            id: "p",
            name: "P",
            owner: "o",
            violationOwner: { assignmentRule: "STATIC" },
            left: { entitlements: ["a"] },
            right: { entitlements: ["b"] },
          },
        ],
      }),
    );
    expect(issues.map((issue) => issue.path)).toContain("sodPolicies[0].violationOwner.owner");
  });

  it("the example in docs/sandbox.md is a valid directory file", async () => {
    const markdown = await readFile(new URL("../../../docs/sandbox.md", import.meta.url), "utf8");
    const example = markdown.split("```yaml\n")[1]?.split("```")[0];
    expect(example).toContain("identities:");
    const documented = new Directory(await parseDirectoryText(example!, "docs/sandbox.md"));
    expect(documented.predictSod("alice", ["crm-admin"]).violationContexts?.[0]?.policy.id).toBe("crm-sod");
  });

  it("accepts an empty document (an empty tenant)", () => {
    expect(directoryFrom(undefined).identities()).toEqual([]);
    expect(directoryFrom({}).requestableItems()).toEqual([]);
  });
});

describe("the synthetic directory", () => {
  it("has the size asked for, is reproducible per seed and differs between seeds", () => {
    const a = syntheticDirectory({ identities: 500, items: 200, seed: 9 });
    expect(a.identities()).toHaveLength(500);
    expect(a.requestableItems()).toHaveLength(200);
    expect(syntheticDirectory({ identities: 500, items: 200, seed: 9 }).file).toEqual(a.file);
    expect(syntheticDirectory({ identities: 500, items: 200, seed: 10 }).file).not.toEqual(a.file);
  });

  it("looks like a tenant: one head, managers, some terminated and inactive people, privileged and ownerless items, SoD policies", () => {
    const d = syntheticDirectory({ identities: 500, items: 200, seed: 1 });
    const people = d.identities();
    expect(people.filter((person) => person.managerRef === null)).toHaveLength(1);
    expect(people.filter((person) => person.isManager).length).toBeGreaterThan(5);
    expect(people.some((person) => person.identityStatus === "TERMINATED")).toBe(true);
    expect(people.some((person) => person.lifecycleState?.stateName === "inactive")).toBe(true);
    const entitlements = d.entitlements();
    expect(entitlements.some((entitlement) => entitlement.privileged)).toBe(true);
    expect(entitlements.some((entitlement) => entitlement.owner === null)).toBe(true);
    expect(d.file.sodPolicies?.length).toBeGreaterThan(0);
    expect(d.accessRequestStatus({}).length).toBeGreaterThan(100);
    // Access is skewed: the most popular entitlement is held far more often than the median one.
    const holders = new Map<string, number>();
    for (const person of people)
      for (const id of d.currentAccess(person.id) ?? []) holders.set(id, (holders.get(id) ?? 0) + 1);
    const counts = [...holders.values()].sort((x, y) => y - x);
    expect(counts[0]!).toBeGreaterThan(5 * counts[Math.floor(counts.length / 2)]!);
  });

  it("works at small sizes too", () => {
    const tiny = syntheticDirectory({ identities: 1, items: 3, seed: 2 });
    expect(tiny.identities()).toHaveLength(1);
    expect(tiny.requestableItems()).toHaveLength(3);
  });
});
