/**
 * Every context read the sandbox answers (success and error paths, default directory and a synthetic
 * one), validated against the official OpenAPI subsets v2025-context-reads.json and
 * v3-context-reads.json; every context operation the sandbox emulates is answered successfully at
 * least once, and the scenario's own requests conform. Skipped when the spec files are absent.
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_DIRECTORY_IDS as ID, syntheticDirectory } from "../../../lib/context/directory.ts";
import { listOperations, OPENAPI_DIR, validateRequest, validateResponse } from "../../helpers/openapi.ts";
import { Tenant } from "./fixtures.ts";

const available =
  existsSync(`${OPENAPI_DIR}/v2025-context-reads.json`) && existsSync(`${OPENAPI_DIR}/v3-context-reads.json`);

/** Context operations of the subsets the sandbox does not emulate (docs/sandbox.md says why). */
const NOT_EMULATED = ["POST /v3/search", "GET /v3/search/{index}/{id}"];

/**
 * GETs by id whose 404 the subsets leave undocumented although ISC (and the sandbox) answer one:
 * the body is still checked, as the ErrorResponseDto every other 404 of the file documents.
 */
const UNDOCUMENTED_404 = new Set([
  "/v3/access-profiles/{id}",
  "/v3/roles/{id}",
  "/v2025/workgroups/{id}",
  "/v2025/workgroups/{workgroupId}/members",
]);

/**
 * The subset's ViolationContext.policy is `allOf [SodPolicyDto (type enum SOD_POLICY)]` with its own
 * `type` enum ENTITLEMENT beside it: no value passes both. The service (and the sandbox) send
 * SOD_POLICY; the check asserts that and validates the rest of the body without it.
 */
function withoutContradictoryPolicyType(body: unknown): { body: unknown; problems: string[] } {
  const copy = structuredClone(body) as { violationContexts?: Array<{ policy?: { type?: unknown } }> };
  const problems: string[] = [];
  for (const [index, context] of (copy.violationContexts ?? []).entries()) {
    if (context.policy?.type !== "SOD_POLICY")
      problems.push(`violationContexts[${index}].policy.type is not SOD_POLICY`);
    delete context.policy?.type;
  }
  return { body: copy, problems };
}

const filter = (ids: string[]) => encodeURIComponent(`id in (${ids.map((id) => `"${id}"`).join(", ")})`);

describe.skipIf(!available)("sandbox context reads conform to the official OpenAPI subsets", () => {
  let tenant: Tenant;

  beforeAll(async () => {
    tenant = await Tenant.start({ rateLimit: { requests: 10_000, windowMs: 10_000 } });
    const t = tenant;
    const d = t.sandbox.directory;

    // Identities
    await t.call("GET", `/v2025/identities?filters=${filter([ID.william, ID.terry, ID.victor, ID.helen])}`);
    await t.call("GET", `/v2025/identities?filters=${encodeURIComponent(`id eq "${ID.rob}"`)}&count=true`);
    await t.call("GET", "/v2025/identities?limit=3&offset=2&sorters=name");
    for (const id of [ID.william, ID.terry, ID.victor, ID.helen, ID.carla])
      await t.call("GET", `/v2025/identities/${id}`);
    await t.call("GET", "/v2025/identities/unknown"); // 404
    await t.call("GET", "/v2025/identities?filters=id%20sw%20%22a%22"); // 400

    // Entitlements
    await t.call("GET", "/v2025/entitlements?limit=250&count=true");
    await t.call("GET", `/v2025/entitlements?filters=${filter([ID.postgresSuperuser, ID.wikiReader])}`);
    for (const entitlement of d.entitlements()) await t.call("GET", `/v2025/entitlements/${entitlement.id}`);
    await t.call("GET", "/v2025/entitlements/unknown"); // 404
    await t.call("GET", "/v2025/entitlements?limit=251"); // 400

    // Access profiles, roles, sources
    await t.call("GET", "/v3/access-profiles?count=true");
    await t.call(
      "GET",
      `/v3/access-profiles?filters=${filter([ID.engineeringAccess, ID.productionDbSuperuser])}`,
    );
    for (const profile of d.accessProfiles()) await t.call("GET", `/v3/access-profiles/${profile.id}`);
    await t.call("GET", "/v3/access-profiles/unknown"); // 404
    await t.call("GET", "/v3/roles?limit=50");
    await t.call("GET", `/v3/roles?filters=${filter([ID.productionDatabaseAdmin])}&count=true`);
    for (const role of d.roles()) await t.call("GET", `/v3/roles/${role.id}`);
    await t.call("GET", "/v3/roles/unknown"); // 404
    await t.call("GET", "/v3/sources");
    await t.call("GET", `/v3/sources?filters=${filter([ID.github, ID.legacyShare])}&count=true`);
    for (const source of d.sources()) await t.call("GET", `/v3/sources/${source.id}`);
    await t.call("GET", "/v3/sources/unknown"); // 404
    await t.call("GET", "/v3/sources?filters=bogus"); // 400

    // Governance groups
    await t.call("GET", "/v2025/workgroups?count=true");
    for (const group of d.workgroups()) {
      await t.call("GET", `/v2025/workgroups/${group.id}`);
      await t.call("GET", `/v2025/workgroups/${group.id}/members?limit=50&count=true`);
    }
    await t.call("GET", "/v2025/workgroups/unknown"); // 404

    // SoD
    const predict = (identityId: string, ids: readonly string[]) =>
      t.call("POST", "/v3/sod-violations/predict", {
        identityId,
        accessRefs: ids.map((id) => ({ type: "ENTITLEMENT", id })),
      });
    await predict(ID.paula, d.grantedEntitlements(ID.paymentApproval)!);
    await predict(ID.rob, d.grantedEntitlements(ID.productionDatabaseAdmin)!);
    await predict(ID.william, d.grantedEntitlements(ID.engineeringAccess)!);
    await t.call("POST", "/v3/sod-violations/predict", {
      identityId: ID.paula,
      accessRefs: [{ type: "ACCESS_PROFILE", id: ID.paymentApproval }],
    }); // 400
    await predict("unknown", [ID.wikiReader]); // 404
    for (const policy of [ID.apPaymentsPolicy, ID.prodAccessPolicy, ID.itAdminPolicy]) {
      await t.call("GET", `/v3/sod-policies/${policy}`);
    }
    await t.call("GET", "/v3/sod-policies/unknown"); // 404

    // Access requests
    await t.call("GET", `/v3/access-request-status?requested-for=${ID.carla}&limit=250&count=true`);
    await t.call("GET", `/v3/access-request-status?requested-for=${ID.william}`);
    await t.call("GET", `/v3/access-request-status?regarding-identity=${ID.rob}&sorters=created`);
    await t.call("GET", "/v3/access-request-status?limit=251"); // 400
    await t.call(
      "GET",
      "/v2025/access-request-approvals/2c91808b7a0f1e2d017a0f1e2d3c8100/approvers?count=true",
    );
    await t.call("GET", "/v2025/access-request-approvals/unknown/approvers"); // 404

    // 401, 403, 429 and 5xx on context reads
    await t.call("GET", `/v2025/identities/${ID.william}`, undefined, { token: "bad" });
    t.sandbox.setDeniedScopes(["idn:identity:read", "idn:sod-violation:read"]);
    await t.call("GET", `/v2025/identities/${ID.william}`);
    await predict(ID.paula, [ID.sapApprovePayment]);
    t.sandbox.setDeniedScopes([]);
    t.sandbox.setFaults({ rate: 1, kinds: { status429: 1 }, target: "contextReads" });
    await t.call("GET", "/v3/roles");
    t.sandbox.setFaults({ rate: 1, kinds: { status500: 1 }, target: "contextReads" });
    await t.call("GET", "/v2025/entitlements");
    t.sandbox.setFaults(undefined);

    // A synthetic directory serves conforming objects too.
    t.sandbox.setDirectory(syntheticDirectory({ identities: 60, items: 40, seed: 3 }));
    const synthetic = t.sandbox.directory;
    await t.call("GET", "/v2025/identities?limit=60");
    await t.call("GET", "/v2025/entitlements");
    await t.call("GET", "/v3/access-profiles");
    await t.call("GET", "/v3/roles");
    await t.call("GET", "/v3/sources");
    await t.call("GET", "/v2025/workgroups");
    const person = synthetic.identities()[5]!.id;
    await predict(
      person,
      synthetic
        .entitlements()
        .map((e) => e.id)
        .slice(0, 10),
    );
    for (const policy of synthetic.file.sodPolicies ?? [])
      await t.call("GET", `/v3/sod-policies/${policy.id}`);
    await t.call("GET", `/v3/access-request-status?requested-for=${person}`);
  });

  afterAll(async () => {
    await tenant?.close();
  });

  it("every context response matches its operation's documented status and schema", () => {
    const problems = tenant.exchanges.flatMap((exchange) => {
      const path = new URL(exchange.url).pathname;
      const template = listOperations("context").find((op) =>
        new RegExp(`^${op.template.replace(/\{[^}]+\}/g, "[^/]+")}$`).test(path),
      )?.template;
      if (exchange.status === 404 && template !== undefined && UNDOCUMENTED_404.has(template)) {
        // Checked against the 404 of the same file's getIdentity / getSource (ErrorResponseDto).
        const documented = template.startsWith("/v3") ? "/v3/sources/x" : "/v2025/identities/x";
        return validateResponse("GET", documented, 404, exchange.body).map((p) => `${template}: ${p}`);
      }
      let body = exchange.body;
      const own: string[] = [];
      if (template === "/v3/sod-violations/predict" && exchange.status === 200) {
        const checked = withoutContradictoryPolicyType(body);
        body = checked.body;
        own.push(...checked.problems);
      }
      return [...own, ...validateResponse(exchange.method, exchange.url, exchange.status, body)].map(
        (problem) => `${problem}  <- ${JSON.stringify(exchange.body)?.slice(0, 300)}`,
      );
    });
    expect(problems).toEqual([]);
    // Why policy.type is set aside: neither SOD_POLICY nor ENTITLEMENT passes the subset's schema.
    for (const type of ["SOD_POLICY", "ENTITLEMENT"]) {
      const prediction = { requestId: "r", violationContexts: [{ policy: { type, id: "p", name: "P" } }] };
      expect(validateResponse("POST", "/v3/sod-violations/predict", 200, prediction)).not.toEqual([]);
    }
    // The check has teeth: a Source without its required connector, an Identity without a name fail.
    const source = structuredClone(tenant.sandbox.directory.sources()[0]) as Record<string, unknown>;
    delete source.connector;
    expect(validateResponse("GET", "/v3/sources/x", 200, source)).not.toEqual([]);
    expect(validateResponse("GET", "/v2025/identities/x", 200, { id: "x" })).not.toEqual([]);
  });

  it("the scenario's successful requests are valid requests, and it covered 200, 400, 401, 403, 404, 429, 500", () => {
    const statuses = new Set<number>();
    for (const exchange of tenant.exchanges) {
      statuses.add(exchange.status);
      if (exchange.status >= 200 && exchange.status < 300) {
        const extras = exchange.contentType === undefined ? {} : { contentType: exchange.contentType };
        expect(validateRequest(exchange.method, exchange.url, exchange.requestBody, extras)).toEqual([]);
      }
    }
    for (const status of [200, 400, 401, 403, 404, 429, 500]) expect(statuses).toContain(status);
  });

  it("every context operation the sandbox emulates was answered successfully at least once", () => {
    const succeeded = new Set<string>();
    const operations = listOperations("context");
    for (const exchange of tenant.exchanges) {
      if (exchange.status < 200 || exchange.status >= 300) continue;
      const path = new URL(exchange.url).pathname;
      for (const op of operations) {
        const pattern = new RegExp(`^${op.template.replace(/\{[^}]+\}/g, "[^/]+")}$`);
        if (op.method === exchange.method && pattern.test(path)) succeeded.add(`${op.method} ${op.template}`);
      }
    }
    const missing = operations
      .map((op) => `${op.method} ${op.template}`)
      .filter((op) => !succeeded.has(op) && !NOT_EMULATED.includes(op));
    expect(missing).toEqual([]);
    expect(operations.length).toBeGreaterThan(15);
  });
});
