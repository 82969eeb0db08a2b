/** DirectoryFetcher: the same objects the sandbox serves for the same ids, ISC's errors and limits, counts, latency. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  directoryFrom,
  DEFAULT_DIRECTORY_IDS as ID,
  syntheticDirectory,
} from "../../../lib/context/directory.ts";
import { DirectoryFetcher, LIST_LIMITS } from "../../../lib/context/directory-fetcher.ts";
import { IscApiError, IscDeadlineError } from "../../../lib/isc/errors.ts";
import { Tenant } from "./fixtures.ts";

let tenant: Tenant;
beforeAll(async () => {
  tenant = await Tenant.start();
});
afterAll(() => tenant.close());

const inFilter = (ids: readonly string[]) =>
  encodeURIComponent(`id in (${ids.map((id) => `"${id}"`).join(",")})`);

async function served(path: string): Promise<unknown> {
  const result = await tenant.call("GET", path);
  expect(result.status, path).toBe(200);
  return result.body;
}

describe("DirectoryFetcher parity with the sandbox", () => {
  const fetcher = () => new DirectoryFetcher(tenant.sandbox.directory);

  it("answers the same identities, entitlements, access profiles, roles and sources for the same ids", async () => {
    const f = fetcher();
    const people = [ID.william, ID.terry, ID.victor, "missing", ID.helen];
    expect(await f.identities(people, {})).toEqual(
      await served(`/v2025/identities?filters=${inFilter(people)}`),
    );
    const entitlements = [ID.postgresSuperuser, ID.wikiReader, ID.sapApprovePayment];
    expect(await f.entitlements(entitlements, {})).toEqual(
      await served(`/v2025/entitlements?filters=${inFilter(entitlements)}`),
    );
    const profiles = [ID.engineeringAccess, ID.productionDbSuperuser];
    expect(await f.accessProfiles(profiles, {})).toEqual(
      await served(`/v3/access-profiles?filters=${inFilter(profiles)}`),
    );
    const roles = [ID.productionDatabaseAdmin, ID.softwareEngineer];
    expect(await f.roles(roles, {})).toEqual(await served(`/v3/roles?filters=${inFilter(roles)}`));
    const sources = [ID.github, ID.legacyShare, ID.sap];
    expect(await f.sources(sources, {})).toEqual(await served(`/v3/sources?filters=${inFilter(sources)}`));
    expect(await f.identities([ID.rob], {})).toEqual([await served(`/v2025/identities/${ID.rob}`)]);
  });

  it("answers the same SoD prediction, SoD policy and access-request status", async () => {
    const f = fetcher();
    const granted = tenant.sandbox.directory.grantedEntitlements(ID.paymentApproval)!;
    const sandboxPrediction = await tenant.call("POST", "/v3/sod-violations/predict", {
      identityId: ID.paula,
      accessRefs: granted.map((id) => ({ type: "ENTITLEMENT", id })),
    });
    expect(await f.predictSod(ID.paula, granted, {})).toEqual(sandboxPrediction.body);
    expect(await f.sodPolicy(ID.apPaymentsPolicy, {})).toEqual(
      await served(`/v3/sod-policies/${ID.apPaymentsPolicy}`),
    );
    expect(await f.accessRequestStatus(ID.carla, { limit: 4 })).toEqual(
      await served(`/v3/access-request-status?requested-for=${ID.carla}&limit=4`),
    );
    expect(await f.accessRequestStatus(ID.carla, {})).toEqual(
      await served(`/v3/access-request-status?requested-for=${ID.carla}`),
    );
  });

  it("holds on a synthetic directory too", async () => {
    const synthetic = syntheticDirectory({ identities: 80, items: 60, seed: 5 });
    const t = await Tenant.start({ directory: synthetic });
    try {
      const f = new DirectoryFetcher(synthetic);
      const people = synthetic
        .identities()
        .slice(10, 30)
        .map((person) => person.id);
      const body = (await t.call("GET", `/v2025/identities?filters=${inFilter(people)}`)).body;
      expect(await f.identities(people, {})).toEqual(body);
      const items = synthetic.roles().map((role) => role.id);
      expect(await f.roles(items, {})).toEqual(
        (await t.call("GET", `/v3/roles?filters=${inFilter(items)}`)).body,
      );
    } finally {
      await t.close();
    }
  });

  it("returns copies: changing one changes nothing served afterwards", async () => {
    const f = fetcher();
    const [william] = await f.identities([ID.william], {});
    (william as { name: string }).name = "changed";
    expect((await f.identities([ID.william], {}))[0]?.name).toBe("William Wilson");
  });
});

describe("DirectoryFetcher errors and limits", () => {
  it("rejects an unknown SoD policy, identity or entitlement with IscApiError 404", async () => {
    const f = new DirectoryFetcher();
    const policy = await f.sodPolicy("nope", {}).catch((error: unknown) => error);
    expect(policy).toBeInstanceOf(IscApiError);
    expect(policy).toMatchObject({
      status: 404,
      operation: "GET /v3/sod-policies/{id}",
      detailCode: "404 Not found",
    });
    await expect(f.predictSod("nobody", [], {})).rejects.toMatchObject({ status: 404 });
    await expect(f.predictSod(ID.paula, ["nope"], {})).rejects.toMatchObject({ status: 404 });
  });

  it("rejects an access-request limit ISC refuses (400)", async () => {
    await expect(new DirectoryFetcher().accessRequestStatus(ID.carla, { limit: 251 })).rejects.toMatchObject({
      status: 400,
    });
  });

  it("returns at most ISC's list limit per call (roles 50), like the sandbox", async () => {
    const roles = Array.from({ length: 60 }, (_, n) => ({ id: `r${n}`, name: `R${n}`, owner: "o" }));
    const big = directoryFrom({ identities: [{ id: "o", name: "O" }], roles });
    const f = new DirectoryFetcher(big);
    expect(
      await f.roles(
        roles.map((role) => role.id),
        {},
      ),
    ).toHaveLength(LIST_LIMITS.roles);
    expect(LIST_LIMITS.roles).toBe(50);
  });

  it("counts and logs its calls per kind, and resets", async () => {
    const f = new DirectoryFetcher();
    await f.identities([ID.william, ID.rob], {});
    await f.identities([ID.ed], {});
    await f.predictSod(ID.paula, [ID.sapApprovePayment], {});
    await f.sodPolicy(ID.apPaymentsPolicy, {});
    await f.accessRequestStatus(ID.carla, {});
    expect(f.calls).toMatchObject({
      identities: 2,
      sodPrediction: 1,
      sodPolicy: 1,
      accessRequestStatus: 1,
      roles: 0,
    });
    expect(f.totalCalls).toBe(5);
    expect(f.log[0]).toEqual({ kind: "identities", ids: [ID.william, ID.rob] });
    f.reset();
    expect(f.totalCalls).toBe(0);
    expect(f.log).toEqual([]);
  });

  it("fails a call on request (failWith), still counting it", async () => {
    const forbidden = new IscApiError({
      status: 403,
      operation: "GET /v3/roles",
      detailCode: "403 Forbidden",
    });
    const f = new DirectoryFetcher(undefined, {
      failWith: (kind) => (kind === "roles" ? forbidden : undefined),
    });
    await expect(f.roles([ID.softwareEngineer], {})).rejects.toBe(forbidden);
    await expect(f.sources([ID.sap], {})).resolves.toHaveLength(1);
    expect(f.calls.roles).toBe(1);
  });

  it("waits latencyMs, and honours an abort signal and a deadline", async () => {
    const f = new DirectoryFetcher(undefined, { latencyMs: 80 });
    const started = performance.now();
    await f.identities([ID.william], {});
    expect(performance.now() - started).toBeGreaterThanOrEqual(75);

    const controller = new AbortController();
    const pending = f.identities([ID.william], { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(IscDeadlineError);
    await expect(f.identities([ID.william], { signal: AbortSignal.abort() })).rejects.toMatchObject({
      reason: "aborted",
    });
    await expect(f.identities([ID.william], { deadline: Date.now() + 10 })).rejects.toMatchObject({
      reason: "deadline",
    });
  });
});
