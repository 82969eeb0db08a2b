import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideTenantHistory, readTenantHistory, rebuildInput } from "../../../lib/audit/from-tenant.ts";
import {
  buildTenantReport,
  FROM_TENANT_NOTE,
  formatTenantReport,
} from "../../../lib/audit/from-tenant-report.ts";
import { defaultDirectoryFile } from "../../../lib/context/default-directory.ts";
import { DEFAULT_DIRECTORY_IDS as ID } from "../../../lib/context/directory.ts";
import { contextReaderForClient } from "../../../lib/context/for-client.ts";
import { IscClient } from "../../../lib/isc/client.ts";
import type { AccessRequestStatus } from "../../../lib/isc/context-schemas.ts";
import type { ListQuery } from "../../../lib/isc/types.ts";
import { type Sandbox, startSandbox } from "../../../lib/sandbox/index.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../../../lib/triggers/trigger-ids.ts";
import { compile, exampleText } from "./replay-fixtures.ts";

const person = (id: string, name: string) => ({ type: "IDENTITY", id, name });

function entry(
  n: number,
  extra: Partial<AccessRequestStatus> & Record<string, unknown> = {},
): AccessRequestStatus {
  return {
    id: `item${n}`,
    name: `Item ${n}`,
    type: "ENTITLEMENT",
    created: new Date(Date.UTC(2025, 2, 1) - n * 3_600_000).toISOString(),
    accessRequestId: `ar${n}`,
    requestedFor: person("p1", "Pat"),
    requester: person("p2", "Rob"),
    requestType: "GRANT_ACCESS",
    requesterComment: { comment: `comment ${n}` },
    ...extra,
  };
}

/** The list read over an array, newest first, recording each query. */
function fakeTenant(entries: AccessRequestStatus[]) {
  const queries: ListQuery[] = [];
  return {
    queries,
    async listTenantAccessRequestStatus(query: ListQuery): Promise<AccessRequestStatus[]> {
      queries.push(query);
      const offset = query.offset ?? 0;
      return entries.slice(offset, offset + (query.limit ?? 250));
    },
  };
}

describe("readTenantHistory", () => {
  it("pages newest first and stops at --since", async () => {
    const tenant = fakeTenant(Array.from({ length: 10 }, (_, n) => entry(n)));
    const since = Date.UTC(2025, 2, 1) - 6.5 * 3_600_000;
    const history = await readTenantHistory(tenant, { since, limit: 100, pageSize: 3 });
    expect(history.requests.map((r) => r.accessRequestId)).toEqual([
      "ar0",
      "ar1",
      "ar2",
      "ar3",
      "ar4",
      "ar5",
      "ar6",
    ]);
    // Pages of 3 until the page holding the first request before --since: no more is read.
    expect(tenant.queries).toEqual([
      { limit: 3, offset: 0, sorters: "-created" },
      { limit: 3, offset: 3, sorters: "-created" },
      { limit: 3, offset: 6, sorters: "-created" },
    ]);
    expect(history.limitReached).toBe(false);
  });

  it("stops at --limit access requests and says so", async () => {
    const tenant = fakeTenant(Array.from({ length: 10 }, (_, n) => entry(n)));
    const history = await readTenantHistory(tenant, { limit: 4, pageSize: 250 });
    expect(history.requests).toHaveLength(4);
    expect(history.limitReached).toBe(true);
  });

  it("groups the entries of one request (people and items) into one input, and skips what has no input", async () => {
    const entries = [
      entry(1, { accessRequestId: "arX", id: "e1", name: "One" }),
      entry(1, { accessRequestId: "arX", id: "e2", name: "Two", type: "ROLE", requesterComment: null }),
      entry(1, { accessRequestId: "arX", id: "e1", name: "One", requestedFor: person("p3", "Quinn") }),
      entry(2, { accessRequestId: "arR", requestType: "REVOKE_ACCESS" }),
      entry(3, { accessRequestId: "arM", requestType: "MODIFY_ACCESS" }),
    ];
    const history = await readTenantHistory(fakeTenant(entries), { limit: 10 });
    const [grouped, revoke] = history.requests;
    expect(grouped?.input).toEqual({
      accessRequestId: "arX",
      requestedFor: [person("p1", "Pat"), person("p3", "Quinn")],
      requestedBy: person("p2", "Rob"),
      requestedItems: [
        {
          id: "e1",
          name: "One",
          description: null,
          type: "ENTITLEMENT",
          operation: "Add",
          comment: "comment 1",
        },
        { id: "e2", name: "Two", description: null, type: "ROLE", operation: "Add", comment: null },
      ],
    });
    expect(revoke?.input.requestedItems[0]?.operation).toBe("Remove");
    expect(revoke?.input.requestedFor).toEqual(person("p1", "Pat"));
    expect(history.skipped).toEqual([
      { accessRequestId: "arM", reason: "request type MODIFY_ACCESS has no trigger input" },
    ]);
  });

  it("refuses an entry whose item has no known type", () => {
    expect(rebuildInput("ar", [entry(1, { type: null })])).toEqual({
      reason: "an item has no id or an unknown type",
    });
  });
});

describe("IscContextApi.listTenantAccessRequestStatus", () => {
  it("refuses a limit above the API's 250 before sending", async () => {
    const client = new IscClient({
      baseUrl: "https://acme.api.identitynow.com",
      clientId: "a",
      clientSecret: "b",
    });
    await expect(client.context.listTenantAccessRequestStatus({ limit: 251 })).rejects.toThrow(
      /limit must be/,
    );
  });
});

describe("rules replay --from-tenant against the sandbox", () => {
  let sandbox: Sandbox;
  let client: IscClient;
  const log: string[] = [];

  beforeAll(async () => {
    sandbox = await startSandbox({ rateLimit: false, log: (line) => log.push(line) });
    client = new IscClient({
      baseUrl: sandbox.baseUrl,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
    });
  });
  afterAll(async () => {
    await sandbox.close();
  });

  it("rebuilds every access request of the default directory and decides it for both triggers over live context", async () => {
    const expected = new Set((defaultDirectoryFile().accessRequests ?? []).map((r) => r.accessRequestId));
    const history = await readTenantHistory(client.context, { limit: 1_000 });
    // One page (the history is short), holding every person's requests: no requested-for filter.
    expect(log.filter((line) => line.includes("/v3/access-request-status"))).toHaveLength(1);
    expect(new Set(history.requests.map((r) => r.accessRequestId))).toEqual(expected);
    expect(history.skipped).toEqual([]);
    const carla = history.requests.find((r) => r.input.requestedItems[0]?.id === ID.wikiReader);
    expect(carla?.input).toMatchObject({
      requestedFor: { id: ID.carla },
      requestedItems: [
        { type: "ENTITLEMENT", operation: "Add", comment: "Needed for the migration project" },
      ],
    });

    const candidate = compile(exampleText(), "rules/example.yaml");
    const decisions = await decideTenantHistory(history.requests, candidate, {
      triggers: [PRE_APPROVAL, DYNAMIC_APPROVER],
      reader: contextReaderForClient(client),
    });
    expect(decisions).toHaveLength(expected.size * 2);
    expect(decisions.filter((d) => d.failure !== undefined)).toEqual([]);
    expect(decisions.every((d) => d.context === "live")).toBe(true);
    // Victor and Terry are not in the history; Paula's AP request for Ledger Access is an ordinary one.
    const report = buildTenantReport(history, decisions, {
      candidate: { file: "rules/example.yaml", version: candidate.version },
      tenant: sandbox.baseUrl,
      filter: { limit: 1_000 },
    });
    expect(report.note).toBe(FROM_TENANT_NOTE);
    expect(report.accessRequests).toBe(expected.size);
    const pre = report.triggers.find((t) => t.triggerId === PRE_APPROVAL);
    expect(pre?.decided).toBe(expected.size);
    expect(Object.values(pre?.byDecision ?? {}).reduce((a, b) => a + b, 0)).toBe(expected.size);
    // Carla's privileged GitHub org owners request has a 32-character justification: it is not denied for it.
    expect(pre?.byRule.map((g) => g.ruleId)).toContain("default");
    const dyn = report.triggers.find((t) => t.triggerId === DYNAMIC_APPROVER);
    expect(dyn?.byRule.map((g) => g.ruleId)).toContain("privileged-item-owner-approves");
    const text = formatTenantReport(report);
    expect(text).toContain("no recorded decisions to compare");
    expect(text).toMatch(/pre-approval: \d+ decided \(/);
    expect(text).not.toContain(sandbox.clientSecret);
  });
});
