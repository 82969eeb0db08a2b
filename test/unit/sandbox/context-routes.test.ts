/** The sandbox's context reads: filters, paging, counts, 404, 400, 403 with the scope, SoD, history, latency. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { directoryFrom, DEFAULT_DIRECTORY_IDS as ID } from "../../../lib/context/directory.ts";
import { Tenant } from "./fixtures.ts";

let tenant: Tenant;
beforeAll(async () => {
  tenant = await Tenant.start();
});
afterAll(() => tenant.close());

const inFilter = (ids: string[]) => encodeURIComponent(`id in (${ids.map((id) => `"${id}"`).join(",")})`);
const ids = (body: unknown) => (body as Array<{ id: string }>).map((item) => item.id);
const messageOf = (body: unknown) => (body as { messages: Array<{ text: string }> }).messages[0]!.text;

describe("context list reads", () => {
  it.each([
    ["/v2025/identities", [ID.terry, ID.william, ID.victor]],
    ["/v2025/entitlements", [ID.postgresSuperuser, ID.wikiReader]],
    ["/v3/access-profiles", [ID.engineeringAccess, ID.productionDbSuperuser]],
    ["/v3/roles", [ID.productionDatabaseAdmin, ID.softwareEngineer]],
    ["/v3/sources", [ID.legacyShare, ID.github]],
  ])("%s filters id in (...), ignoring unknown ids, in directory order", async (path, wanted) => {
    const result = await tenant.call("GET", `${path}?filters=${inFilter([...wanted, "not-there"])}`);
    expect(result.status).toBe(200);
    expect(new Set(ids(result.body))).toEqual(new Set(wanted));
    const all = ids((await tenant.call("GET", path)).body);
    expect(ids(result.body)).toEqual(all.filter((id) => (wanted as string[]).includes(id)));
  });

  it("filters id eq, with spaces and without", async () => {
    for (const text of [`id eq "${ID.rob}"`, `id  eq  "${ID.rob}"`]) {
      const result = await tenant.call("GET", `/v2025/identities?filters=${encodeURIComponent(text)}`);
      expect(ids(result.body)).toEqual([ID.rob]);
    }
  });

  it("pages with limit and offset and counts with count=true (X-Total-Count)", async () => {
    const all = ids((await tenant.call("GET", "/v2025/identities")).body);
    expect(all).toHaveLength(tenant.sandbox.directory.identities().length);
    const page = await tenant.call("GET", "/v2025/identities?limit=3&offset=2&count=true");
    expect(ids(page.body)).toEqual(all.slice(2, 5));
    expect(page.headers.get("x-total-count")).toBe(String(all.length));
    const filtered = await tenant.call(
      "GET",
      `/v2025/identities?filters=${inFilter([ID.ed, ID.adam])}&count=true`,
    );
    expect(filtered.headers.get("x-total-count")).toBe("2");
    expect((await tenant.call("GET", "/v2025/identities")).headers.get("x-total-count")).toBeNull();
    expect(
      (await tenant.call("GET", "/v2025/identities?count=false")).headers.get("x-total-count"),
    ).toBeNull();
  });

  it("sorts with sorters", async () => {
    const names = (body: unknown) => (body as Array<{ name: string }>).map((item) => item.name);
    const sorted = names((await tenant.call("GET", "/v2025/identities?sorters=name")).body);
    expect(sorted).toEqual([...sorted].sort());
    const reversed = names((await tenant.call("GET", "/v2025/identities?sorters=-name")).body);
    expect(reversed).toEqual([...sorted].reverse());
  });

  it.each([
    [
      "a filter with an unsupported operator",
      `/v2025/identities?filters=${encodeURIComponent('name sw "W"')}`,
    ],
    ["an unquoted value", `/v2025/identities?filters=${encodeURIComponent("id eq abc")}`],
    ["an empty in list", `/v3/roles?filters=${encodeURIComponent("id in ()")}`],
    ["a field that cannot be filtered", `/v3/sources?filters=${encodeURIComponent('connector eq "x"')}`],
    ["garbage", "/v2025/entitlements?filters=bogus"],
    ["a limit over 250", "/v2025/entitlements?limit=251"],
    ["a roles limit over 50", "/v3/roles?limit=51"],
    ["a negative offset", "/v3/access-profiles?offset=-1"],
    ["count that is not a boolean", "/v3/sources?count=yes"],
    ["an unsupported sorter", "/v2025/identities?sorters=secret"],
  ])("answers 400 ErrorResponseDto to %s", async (_, path) => {
    const result = await tenant.call("GET", path);
    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({ detailCode: "400.1 Bad Request Content" });
  });

  it("roles list at most 50 by default, like ISC", async () => {
    const roles = Array.from({ length: 60 }, (_, n) => ({
      id: `role${n}`,
      name: `Role ${n}`,
      owner: "owner",
    }));
    const big = directoryFrom({ identities: [{ id: "owner", name: "Owner" }], roles });
    const sandbox = (await Tenant.start({ directory: big })) as Tenant;
    try {
      expect((await sandbox.call("GET", "/v3/roles")).body).toHaveLength(50);
      const rest = await sandbox.call("GET", "/v3/roles?offset=50&count=true");
      expect(rest.body).toHaveLength(10);
      expect(rest.headers.get("x-total-count")).toBe("60");
    } finally {
      await sandbox.close();
    }
  });
});

describe("context reads by id", () => {
  it.each([
    ["/v2025/identities", ID.terry, "Terry Terminated"],
    ["/v2025/entitlements", ID.postgresSuperuser, "PostgreSQL prod: superuser"],
    ["/v3/access-profiles", ID.engineeringAccess, "Engineering Access"],
    ["/v3/roles", ID.productionDatabaseAdmin, "Production Database Admin"],
    ["/v3/sources", ID.sap, "SAP S/4HANA Finance"],
    ["/v2025/workgroups", ID.accessGovernance, "Access Governance"],
    ["/v3/sod-policies", ID.apPaymentsPolicy, "AP-Payments: create vendor vs approve payment"],
  ])("%s/{id} answers the object, and 404 ErrorResponseDto for an unknown id", async (path, id, name) => {
    const result = await tenant.call("GET", `${path}/${id}`);
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ id, name });
    const missing = await tenant.call("GET", `${path}/unknown-id`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ detailCode: "404 Not found" });
    expect(messageOf(missing.body)).toContain("unknown-id");
    expect((missing.body as { trackingId: string }).trackingId).toMatch(/^[0-9a-f]{32}$/);
  });

  it("serves the same object by id and in a list", async () => {
    const one = await tenant.call("GET", `/v2025/identities/${ID.victor}`);
    const listed = await tenant.call("GET", `/v2025/identities?filters=${inFilter([ID.victor])}`);
    expect([one.body]).toEqual(listed.body);
    expect(one.body).toMatchObject({
      identityStatus: "ACTIVE",
      lifecycleState: { stateName: "inactive", manuallyUpdated: false },
      managerRef: { type: "IDENTITY", id: ID.fiona, name: "Fiona Finance" },
      attributes: { department: "Finance", employeeType: "vendor", cloudLifecycleState: "inactive" },
    });
  });

  it("lists a governance group's members (limit 50) and 404s an unknown group", async () => {
    const members = await tenant.call("GET", `/v2025/workgroups/${ID.accessGovernance}/members?count=true`);
    expect(members.status).toBe(200);
    expect(ids(members.body)).toEqual([ID.allen, ID.fiona, ID.sam]);
    expect(members.body).toContainEqual({
      type: "IDENTITY",
      id: ID.sam,
      name: "Sam Reviewer",
      email: "sam.reviewer@example.com",
    });
    expect(members.headers.get("x-total-count")).toBe("3");
    expect(
      (await tenant.call("GET", `/v2025/workgroups/${ID.accessGovernance}/members?limit=51`)).status,
    ).toBe(400);
    expect((await tenant.call("GET", "/v2025/workgroups/unknown/members")).status).toBe(404);
  });

  it("rejects a wrong method on a context path with 405", async () => {
    expect((await tenant.call("DELETE", `/v2025/identities/${ID.william}`)).status).toBe(405);
    expect((await tenant.call("GET", "/v3/sod-violations/predict")).status).toBe(405);
  });
});

describe("SoD prediction", () => {
  const predict = (identityId: string, entitlementIds: readonly string[], type = "ENTITLEMENT") =>
    tenant.call("POST", "/v3/sod-violations/predict", {
      identityId,
      accessRefs: entitlementIds.map((id) => ({ type, id })),
    });

  it("names the policy a request would violate, with both sides of the conflict", async () => {
    const result = await predict(ID.paula, [ID.sapApprovePayment]);
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({
      violationContexts: [
        {
          policy: {
            type: "SOD_POLICY",
            id: ID.apPaymentsPolicy,
            name: "AP-Payments: create vendor vs approve payment",
          },
          conflictingAccessCriteria: {
            leftCriteria: { criteriaList: [{ type: "ENTITLEMENT", id: ID.sapCreateVendor, existing: true }] },
            rightCriteria: {
              criteriaList: [{ type: "ENTITLEMENT", id: ID.sapApprovePayment, existing: false }],
            },
          },
        },
      ],
    });
    expect(typeof (result.body as { requestId: unknown }).requestId).toBe("string");
  });

  it("answers no violation contexts when nothing conflicts", async () => {
    const result = await predict(ID.william, [ID.githubDevelopers, ID.wikiReader]);
    expect(result.body).toMatchObject({ violationContexts: [] });
    expect((await predict(ID.william, [])).body).toMatchObject({ violationContexts: [] });
  });

  it("refuses access profile and role refs with 400 (ENTITLEMENT only)", async () => {
    for (const type of ["ACCESS_PROFILE", "ROLE"]) {
      const result = await predict(ID.paula, [ID.paymentApproval], type);
      expect(result.status).toBe(400);
      expect(messageOf(result.body)).toMatch(/ENTITLEMENT/);
    }
  });

  it.each([
    ["no body", undefined],
    ["not JSON", "{"],
    ["no identityId", { accessRefs: [] }],
    ["accessRefs not a list", { identityId: ID.paula, accessRefs: "x" }],
  ])("answers 400 to %s", async (_, body) => {
    const result = await tenant.call("POST", "/v3/sod-violations/predict", body);
    expect(result.status).toBe(400);
  });

  it("answers 404 for an unknown identity or entitlement", async () => {
    expect((await predict("nobody", [ID.wikiReader])).status).toBe(404);
    const unknown = await predict(ID.paula, ["no-such-entitlement"]);
    expect(unknown.status).toBe(404);
    expect(messageOf(unknown.body)).toContain("no-such-entitlement");
  });
});

describe("access-request status and approvers", () => {
  it("lists the person's requests newest first, limit at most 250", async () => {
    const result = await tenant.call("GET", `/v3/access-request-status?requested-for=${ID.carla}&count=true`);
    expect(result.status).toBe(200);
    const records = result.body as Array<{ created: string; requestedFor: { id: string } }>;
    expect(records).toHaveLength(6);
    expect(records.every((record) => record.requestedFor.id === ID.carla)).toBe(true);
    const created = records.map((record) => Date.parse(record.created));
    expect(created).toEqual([...created].sort((a, b) => b - a));
    // All six within the last 24 hours of the sandbox's start.
    expect(Math.min(...created)).toBeGreaterThan(Date.now() - 24 * 3_600_000);
    expect(result.headers.get("x-total-count")).toBe("6");
    const two = await tenant.call("GET", `/v3/access-request-status?requested-for=${ID.carla}&limit=2`);
    expect(two.body).toEqual(records.slice(0, 2));
    expect(
      (await tenant.call("GET", `/v3/access-request-status?requested-for=${ID.carla}&limit=251`)).status,
    ).toBe(400);
  });

  it("filters by requester and by either side, and sorts oldest first on request", async () => {
    const byRob = (await tenant.call("GET", `/v3/access-request-status?requested-by=${ID.rob}`))
      .body as Array<{
      requester: { id: string };
    }>;
    expect(byRob.length).toBe(2);
    expect(byRob.every((record) => record.requester.id === ID.rob)).toBe(true);
    const oldestFirst = (
      await tenant.call("GET", `/v3/access-request-status?requested-for=${ID.william}&sorters=created`)
    ).body as Array<{ created: string }>;
    expect(Date.parse(oldestFirst[0]!.created)).toBeLessThan(Date.parse(oldestFirst[1]!.created));
    expect((await tenant.call("GET", "/v3/access-request-status?requested-for=nobody")).body).toEqual([]);
  });

  it("lists the approvers of a pending request (the person's manager) and 404s an unknown one", async () => {
    const pending = await tenant.call(
      "GET",
      "/v2025/access-request-approvals/2c91808b7a0f1e2d017a0f1e2d3c8100/approvers",
    );
    expect(pending.status).toBe(200);
    expect(pending.body).toMatchObject([{ id: ID.rob, name: "Rob Robertson", type: "Identity" }]);
    expect((await tenant.call("GET", "/v2025/access-request-approvals/unknown/approvers")).status).toBe(404);
  });
});

describe("scopes", () => {
  it.each([
    ["/v2025/identities", "idn:identity:read"],
    [`/v2025/identities/${ID.william}`, "idn:identity:read"],
    ["/v2025/entitlements", "idn:entitlement:read"],
    ["/v3/access-profiles", "idn:access-profile:read"],
    ["/v3/roles", "idn:role-checked:read"],
    ["/v3/sources", "idn:sources:read"],
    [`/v2025/workgroups/${ID.accessGovernance}`, "idn:workgroup:read"],
    [`/v3/sod-policies/${ID.apPaymentsPolicy}`, "idn:sod-policy:read"],
    [`/v3/access-request-status?requested-for=${ID.carla}`, "idn:access-request-status:read"],
  ])("GET %s without %s answers 403 naming the scope", async (path, scope) => {
    tenant.sandbox.setDeniedScopes([scope]);
    try {
      const result = await tenant.call("GET", path);
      expect(result.status).toBe(403);
      expect(result.body).toMatchObject({ detailCode: "403 Forbidden" });
      expect(messageOf(result.body)).toContain(scope);
      expect((result.body as { causes: Array<{ text: string }> }).causes[0]!.text).toBe(
        `missing scope: ${scope}`,
      );
      // Other reads are unaffected.
      const other = scope === "idn:sources:read" ? "/v3/roles" : "/v3/sources";
      expect((await tenant.call("GET", other)).status).toBe(200);
    } finally {
      tenant.sandbox.setDeniedScopes([]);
    }
    expect((await tenant.call("GET", path)).status).toBe(200);
  });

  it("POST /v3/sod-violations/predict without idn:sod-violation:read answers 403", async () => {
    tenant.sandbox.setDeniedScopes(["idn:sod-violation:read"]);
    try {
      const result = await tenant.call("POST", "/v3/sod-violations/predict", {
        identityId: ID.paula,
        accessRefs: [],
      });
      expect(result.status).toBe(403);
      expect(messageOf(result.body)).toContain("idn:sod-violation:read");
    } finally {
      tenant.sandbox.setDeniedScopes([]);
    }
  });

  it("a client configured without a scope gets 403 there and 200 elsewhere; the token reply lists its scopes", async () => {
    const restricted = await Tenant.start({ deniedScopes: ["idn:identity:read"] });
    try {
      expect((await restricted.call("GET", `/v2025/identities/${ID.william}`)).status).toBe(403);
      expect((await restricted.call("GET", "/v3/roles")).status).toBe(200);
      expect((await restricted.call("GET", "/beta/triggers")).status).toBe(200);
      const reply = await fetch(`${restricted.sandbox.baseUrl}/oauth/token`, {
        method: "POST",
        body: new URLSearchParams({
          grant_type: "client_credentials",
          client_id: restricted.sandbox.clientId,
          client_secret: restricted.sandbox.clientSecret,
        }),
      });
      const scope = ((await reply.json()) as { scope: string }).scope.split(" ");
      expect(scope).toContain("idn:sources:read");
      expect(scope).not.toContain("idn:identity:read");
    } finally {
      await restricted.close();
    }
  });

  it("401 comes before 403: a bad token is refused whatever its scopes", async () => {
    const result = await tenant.call("GET", `/v2025/identities/${ID.william}`, undefined, { token: "bad" });
    expect(result.status).toBe(401);
  });
});

describe("context read records and latency", () => {
  it("records each context request with its kind and counts them per kind, whatever the outcome", async () => {
    const t = await Tenant.start();
    try {
      await t.call("GET", `/v2025/identities?filters=${inFilter([ID.william])}`);
      await t.call("GET", `/v2025/identities/${ID.rob}`);
      await t.call("GET", "/v2025/identities/unknown");
      await t.call("GET", "/v3/roles");
      await t.call("POST", "/v3/sod-violations/predict", { identityId: ID.paula, accessRefs: [] });
      await t.call("GET", `/v2025/workgroups/${ID.accessGovernance}/members`);
      await t.call("GET", "/beta/triggers");
      const { contextRequests, requests } = t.sandbox.state;
      expect(contextRequests).toMatchObject({
        identities: 3,
        roles: 1,
        sodPrediction: 1,
        workgroups: 1,
        sources: 0,
      });
      expect(t.sandbox.state.contextRequestsTotal()).toBe(6);
      expect(
        requests.filter((record) => record.kind === "identities").map((record) => record.status),
      ).toEqual([200, 200, 404]);
      expect(requests.find((record) => record.path === "/beta/triggers")?.kind).toBeUndefined();
      t.sandbox.state.resetContextRequests();
      expect(t.sandbox.state.contextRequestsTotal()).toBe(0);
    } finally {
      await t.close();
    }
  });

  it("contextLatencyMs delays context reads only; setContextLatency changes it", async () => {
    const t = await Tenant.start({ contextLatencyMs: 120 });
    try {
      const timed = async (path: string) => {
        const started = performance.now();
        expect((await t.call("GET", path)).status).toBe(200);
        return performance.now() - started;
      };
      expect(await timed(`/v2025/identities/${ID.william}`)).toBeGreaterThanOrEqual(110);
      expect(await timed("/beta/triggers")).toBeLessThan(100);
      t.sandbox.setContextLatency(0);
      expect(await timed(`/v2025/identities/${ID.william}`)).toBeLessThan(100);
      expect(() => t.sandbox.setContextLatency(-1)).toThrow(RangeError);
    } finally {
      await t.close();
    }
  });

  it("a caller that gives up during the latency gets nothing, recorded as dropped", async () => {
    const t = await Tenant.start({ contextLatencyMs: 300 });
    try {
      await expect(
        fetch(`${t.sandbox.baseUrl}/v2025/identities/${ID.william}`, {
          headers: { authorization: `Bearer ${t.token}` },
          signal: AbortSignal.timeout(50),
        }),
      ).rejects.toThrow();
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(t.sandbox.state.requests.at(-1)).toMatchObject({ kind: "identities", status: 0 });
    } finally {
      await t.close();
    }
  });

  it("serves the directory it is given, and setDirectory swaps it", async () => {
    const small = directoryFrom({ identities: [{ id: "only-one", name: "Only One" }] });
    const t = await Tenant.start({ directory: small });
    try {
      expect(ids((await t.call("GET", "/v2025/identities")).body)).toEqual(["only-one"]);
      expect((await t.call("GET", `/v2025/identities/${ID.william}`)).status).toBe(404);
      t.sandbox.setDirectory(tenant.sandbox.directory);
      expect((await t.call("GET", `/v2025/identities/${ID.william}`)).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
