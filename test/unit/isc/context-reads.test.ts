/**
 * The client's context reads against a loopback fake tenant: what each method sends, how it validates
 * what comes back, how failures map, that hostile ids never reach a URL, and that each API version
 * has its own rate-limit window.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { IscClient, type IscClientOptions } from "../../../lib/isc/client.ts";
import { IscContextClient } from "../../../lib/isc/context-client.ts";
import type { IscContextReads } from "../../../lib/isc/context-reads.ts";
import {
  IscApiError,
  IscDeadlineError,
  IscRequestRefusedError,
  IscResponseError,
} from "../../../lib/isc/errors.ts";
import { rejection } from "../../helpers/rejection.ts";
import {
  accessProfile,
  accessRequestStatus,
  contextRoute,
  entitlement,
  HOSTILE_IDS,
  IDS,
  identity,
  prediction,
  role,
  sodPolicy,
  source,
  workgroup,
  workgroupMembers,
} from "./context-fixtures.ts";
import {
  errorDto,
  type FakeTenant,
  fakeTime,
  type RecordedRequest,
  type Reply,
  startFakeTenant,
} from "./fake-tenant.ts";

let tenant: FakeTenant;

const served = (request: RecordedRequest): Reply => contextRoute(request) ?? { status: 200, body: [] };
const serveDirectory = () => tenant.handle(served);

beforeAll(async () => {
  tenant = await startFakeTenant();
  serveDirectory();
});
afterEach(() => {
  tenant.requests.length = 0;
  tenant.tokenRequests.length = 0;
  tenant.all.length = 0;
  serveDirectory();
});
afterAll(async () => {
  await tenant.close();
});

type Call = (api: IscContextReads) => Promise<unknown>;

interface Expected {
  method: string;
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  result: unknown;
}

const FILTER = `id in ("${IDS.identity}")`;

/** Every method once: what goes out and what comes back. */
const CALLS: Array<[string, Call, Expected]> = [
  [
    "listIdentities",
    (api) => api.listIdentities({ filters: FILTER, limit: 1, defaultFilter: "NONE" }),
    {
      method: "GET",
      path: "/v2025/identities",
      query: { filters: FILTER, limit: "1", defaultFilter: "NONE" },
      result: [identity],
    },
  ],
  [
    "getIdentity",
    (api) => api.getIdentity(IDS.identity),
    { method: "GET", path: `/v2025/identities/${IDS.identity}`, result: identity },
  ],
  [
    "listEntitlements",
    (api) => api.listEntitlements({ filters: `id in ("${IDS.entitlement}")`, limit: 1 }),
    {
      method: "GET",
      path: "/v2025/entitlements",
      query: { filters: `id in ("${IDS.entitlement}")`, limit: "1" },
      result: [entitlement],
    },
  ],
  [
    "getEntitlement",
    (api) => api.getEntitlement(IDS.entitlement),
    { method: "GET", path: `/v2025/entitlements/${IDS.entitlement}`, result: entitlement },
  ],
  [
    "listAccessProfiles",
    (api) => api.listAccessProfiles({ offset: 0, limit: 250, sorters: "name" }),
    {
      method: "GET",
      path: "/v3/access-profiles",
      query: { offset: "0", limit: "250", sorters: "name" },
      result: [accessProfile],
    },
  ],
  [
    "getAccessProfile",
    (api) => api.getAccessProfile(IDS.accessProfile),
    { method: "GET", path: `/v3/access-profiles/${IDS.accessProfile}`, result: accessProfile },
  ],
  [
    "listRoles",
    (api) => api.listRoles({ limit: 50, count: true }),
    { method: "GET", path: "/v3/roles", query: { limit: "50", count: "true" }, result: [role] },
  ],
  ["getRole", (api) => api.getRole(IDS.role), { method: "GET", path: `/v3/roles/${IDS.role}`, result: role }],
  [
    "listSources",
    (api) => api.listSources(),
    { method: "GET", path: "/v3/sources", query: {}, result: [source] },
  ],
  [
    "getSource",
    (api) => api.getSource(IDS.source),
    { method: "GET", path: `/v3/sources/${IDS.source}`, result: source },
  ],
  [
    "getWorkgroup",
    (api) => api.getWorkgroup(IDS.workgroup),
    { method: "GET", path: `/v2025/workgroups/${IDS.workgroup}`, result: workgroup },
  ],
  [
    "listWorkgroupMembers",
    (api) => api.listWorkgroupMembers(IDS.workgroup, { limit: 50 }),
    {
      method: "GET",
      path: `/v2025/workgroups/${IDS.workgroup}/members`,
      query: { limit: "50" },
      result: workgroupMembers,
    },
  ],
  [
    "predictSodViolations",
    (api) =>
      api.predictSodViolations({
        identityId: IDS.identity,
        accessRefs: [
          { type: "ENTITLEMENT", id: IDS.entitlement },
          { type: "ENTITLEMENT", id: IDS.entitlement2 },
        ],
      }),
    {
      method: "POST",
      path: "/v3/sod-violations/predict",
      body: {
        identityId: IDS.identity,
        accessRefs: [
          { type: "ENTITLEMENT", id: IDS.entitlement },
          { type: "ENTITLEMENT", id: IDS.entitlement2 },
        ],
      },
      result: prediction,
    },
  ],
  [
    "getSodPolicy",
    (api) => api.getSodPolicy(IDS.sodPolicy),
    { method: "GET", path: `/v3/sod-policies/${IDS.sodPolicy}`, result: sodPolicy },
  ],
  [
    "listAccessRequestStatus",
    (api) =>
      api.listAccessRequestStatus({
        requestedFor: IDS.identity,
        limit: 100,
        offset: 0,
        filters: 'created gt "2026-01-01T00:00:00Z"',
        sorters: "-created",
      }),
    {
      method: "GET",
      path: "/v3/access-request-status",
      query: {
        "requested-for": IDS.identity,
        limit: "100",
        offset: "0",
        filters: 'created gt "2026-01-01T00:00:00Z"',
        sorters: "-created",
      },
      result: accessRequestStatus,
    },
  ],
];

// The same reads through the full client and through the context-only one (the http function's):
// both are built on one transport (lib/isc/context-client.ts).
describe.each([
  ["IscClient", IscClient],
  ["IscContextClient", IscContextClient],
] as const)("%s", (_name, Client) => {
  function client(options: Partial<IscClientOptions> = {}): IscClient | IscContextClient {
    return new Client({
      baseUrl: tenant.baseUrl,
      clientId: "client-id",
      clientSecret: "client-secret",
      rateLimit: false,
      random: () => 0.5,
      ...options,
    });
  }

  describe("what each context read sends and returns", () => {
    it.each(CALLS)("%s", async (_name, call, expected) => {
      const result = await call(client().context);
      expect(result).toEqual(expected.result);
      expect(tenant.requests).toHaveLength(1);
      const [request] = tenant.requests;
      expect(request?.method).toBe(expected.method);
      expect(request?.path).toBe(expected.path);
      if (expected.query !== undefined)
        expect(Object.fromEntries(request?.query ?? [])).toEqual(expected.query);
      expect(request?.json).toEqual(expected.body);
      expect(request?.headers.authorization).toBe("Bearer token-1");
      expect(request?.headers.accept).toBe("application/json");
      // The context subsets require no experimental header on any of these operations.
      expect(request?.headers["x-sailpoint-experimental"]).toBeUndefined();
    });

    it("an empty list answer is []", async () => {
      tenant.handle(() => ({ status: 200, body: [] }));
      await expect(client().context.listRoles({ filters: `id in ("${IDS.role}")` })).resolves.toEqual([]);
    });

    it("tolerates fields the schemas do not know (ISC adds fields without notice)", async () => {
      tenant.handle(() => ({ status: 200, body: { ...identity, futureField: { nested: true } } }));
      const found = await client().context.getIdentity(IDS.identity);
      expect((found as Record<string, unknown>).futureField).toEqual({ nested: true });
    });
  });

  describe("response validation", () => {
    const INVALID: Array<[string, Call, unknown]> = [
      ["listIdentities", (api) => api.listIdentities(), [{ name: "no id" }]],
      ["getIdentity", (api) => api.getIdentity(IDS.identity), { ...identity, identityStatus: 7 }],
      ["listEntitlements", (api) => api.listEntitlements(), [{ ...entitlement, privileged: "yes" }]],
      ["getEntitlement", (api) => api.getEntitlement(IDS.entitlement), { name: "no id" }],
      ["listAccessProfiles", (api) => api.listAccessProfiles(), { not: "a list" }],
      [
        "getAccessProfile",
        (api) => api.getAccessProfile(IDS.accessProfile),
        { ...accessProfile, owner: "x" },
      ],
      ["listRoles", (api) => api.listRoles(), [{ ...role, entitlements: "none" }]],
      ["getRole", (api) => api.getRole(IDS.role), []],
      ["listSources", (api) => api.listSources(), [{ ...source, id: "" }]],
      ["getSource", (api) => api.getSource(IDS.source), { ...source, managementWorkgroup: 1 }],
      ["getWorkgroup", (api) => api.getWorkgroup(IDS.workgroup), { ...workgroup, memberCount: "2" }],
      ["listWorkgroupMembers", (api) => api.listWorkgroupMembers(IDS.workgroup), [{ name: "no id" }]],
      [
        "predictSodViolations",
        (api) =>
          api.predictSodViolations({
            identityId: IDS.identity,
            accessRefs: [{ type: "ENTITLEMENT", id: IDS.entitlement }],
          }),
        { violationContexts: [{ policy: { name: "no id" } }] },
      ],
      ["getSodPolicy", (api) => api.getSodPolicy(IDS.sodPolicy), { ...sodPolicy, ownerRef: [] }],
      [
        "listAccessRequestStatus",
        (api) => api.listAccessRequestStatus({ requestedFor: IDS.identity }),
        [{ state: 3 }],
      ],
    ];

    it.each(INVALID)("%s: a body of the wrong shape is IscResponseError", async (_name, call, body) => {
      tenant.handle(() => ({ status: 200, body }));
      const error = await rejection(call(client().context));
      expect(error).toBeInstanceOf(IscResponseError);
      expect((error as IscResponseError).issues.length).toBeGreaterThan(0);
      // Final: a wrong shape does not change on retry.
      expect(tenant.requests).toHaveLength(1);
    });

    it("a body that is not JSON is IscResponseError", async () => {
      tenant.handle(() => ({ status: 200, body: "<html>maintenance</html>" }));
      const error = await rejection(client().context.getIdentity(IDS.identity));
      expect(error).toBeInstanceOf(IscResponseError);
    });
  });

  describe("failures", () => {
    it.each([
      [403, "403 Forbidden"],
      [404, "404 Not found"],
      [400, "400.1 Bad Request Content"],
    ])("%i is a final IscApiError with ISC's detailCode and trackingId", async (status, detailCode) => {
      tenant.handle(() => ({ status, body: errorDto(detailCode, "no", "tracking-1") }));
      const error = await rejection(client().context.getIdentity(IDS.identity));
      expect(error).toBeInstanceOf(IscApiError);
      expect(error).toMatchObject({ status, detailCode, trackingId: "tracking-1" });
      expect((error as IscApiError).operation).toBe(`GET /v2025/identities/${IDS.identity}`);
      expect(tenant.requests).toHaveLength(1);
    });

    it("429 waits Retry-After, then succeeds", async () => {
      const time = fakeTime();
      tenant.handle((request, index) =>
        index === 0
          ? { status: 429, body: { message: "Rate Limit Exceeded" }, headers: { "retry-after": "3" } }
          : served(request),
      );
      await expect(client(time).context.listRoles()).resolves.toEqual([role]);
      expect(time.sleeps).toEqual([3_000]);
      expect(tenant.requests).toHaveLength(2);
    });

    it("429 whose Retry-After passes the deadline fails now with IscDeadlineError (last status 429)", async () => {
      const time = fakeTime();
      tenant.handle(() => ({ status: 429, body: {}, headers: { "retry-after": "30" } }));
      const error = await rejection(client(time).context.getRole(IDS.role, { deadline: time.now() + 5_000 }));
      expect(error).toBeInstanceOf(IscDeadlineError);
      expect((error as IscDeadlineError).lastStatus).toBe(429);
      expect(time.sleeps).toEqual([]);
    });

    it("5xx is retried with backoff, then the last IscApiError is thrown", async () => {
      const time = fakeTime();
      tenant.handle(() => ({ status: 502, body: errorDto("502", "bad gateway") }));
      const error = await rejection(
        client({ ...time, retry: { maxAttempts: 3 } }).context.getSource(IDS.source),
      );
      expect((error as IscApiError).status).toBe(502);
      expect(tenant.requests).toHaveLength(3);
      expect(time.sleeps).toHaveLength(2);
    });

    it("the SoD prediction is a read: a 500 is retried like a GET", async () => {
      const time = fakeTime();
      tenant.handle((request, index) =>
        index === 0 ? { status: 500, body: errorDto("500", "boom") } : served(request),
      );
      const result = await client(time).context.predictSodViolations({
        identityId: IDS.identity,
        accessRefs: [{ type: "ENTITLEMENT", id: IDS.entitlement }],
      });
      expect(result).toEqual(prediction);
      expect(tenant.requests).toHaveLength(2);
    });

    it("an aborted signal stops the read before it is sent", async () => {
      const controller = new AbortController();
      controller.abort();
      const error = await rejection(
        client().context.getIdentity(IDS.identity, { signal: controller.signal }),
      );
      expect(error).toBeInstanceOf(IscDeadlineError);
      expect(tenant.requests).toHaveLength(0);
    });
  });

  describe("hostile ids never reach a URL", () => {
    const BY_ID: Array<[string, (api: IscContextReads, id: string) => Promise<unknown>]> = [
      ["getIdentity", (api, id) => api.getIdentity(id)],
      ["getEntitlement", (api, id) => api.getEntitlement(id)],
      ["getAccessProfile", (api, id) => api.getAccessProfile(id)],
      ["getRole", (api, id) => api.getRole(id)],
      ["getSource", (api, id) => api.getSource(id)],
      ["getWorkgroup", (api, id) => api.getWorkgroup(id)],
      ["listWorkgroupMembers", (api, id) => api.listWorkgroupMembers(id)],
      ["getSodPolicy", (api, id) => api.getSodPolicy(id)],
      ["listAccessRequestStatus", (api, id) => api.listAccessRequestStatus({ requestedFor: id })],
      [
        "predictSodViolations (identity)",
        (api, id) =>
          api.predictSodViolations({
            identityId: id,
            accessRefs: [{ type: "ENTITLEMENT", id: IDS.entitlement }],
          }),
      ],
      [
        "predictSodViolations (entitlement)",
        (api, id) =>
          api.predictSodViolations({ identityId: IDS.identity, accessRefs: [{ type: "ENTITLEMENT", id }] }),
      ],
    ];

    it.each(BY_ID)("%s refuses every hostile id before any request (token included)", async (_name, call) => {
      const api = client().context;
      for (const id of HOSTILE_IDS) {
        const error = await rejection(call(api, id as string));
        expect(error, JSON.stringify(id)).toBeInstanceOf(IscRequestRefusedError);
        // The message names what was refused, never the value.
        if (typeof id === "string" && id.length > 2) expect((error as Error).message).not.toContain(id);
      }
      expect(tenant.all).toEqual([]);
    });

    it("accepts ISC's id forms: 32 hex characters and UUIDs", async () => {
      const api = client().context;
      await api.getSodPolicy(IDS.sodPolicy);
      await api.getIdentity(IDS.identity);
      expect(tenant.requests.map((request) => request.path)).toEqual([
        `/v3/sod-policies/${IDS.sodPolicy}`,
        `/v2025/identities/${IDS.identity}`,
      ]);
    });

    it("an SoD prediction takes ENTITLEMENT refs only", async () => {
      const error = await rejection(
        client().context.predictSodViolations({
          identityId: IDS.identity,
          accessRefs: [{ type: "ROLE" as "ENTITLEMENT", id: IDS.role }],
        }),
      );
      expect(error).toBeInstanceOf(IscRequestRefusedError);
      expect(tenant.all).toEqual([]);
    });

    it("a limit the endpoint would refuse is refused here (roles and members: 50; others: 250)", async () => {
      const api = client().context;
      const refused: Call[] = [
        (a) => a.listRoles({ limit: 51 }),
        (a) => a.listWorkgroupMembers(IDS.workgroup, { limit: 51 }),
        (a) => a.listIdentities({ limit: 251 }),
        (a) => a.listAccessRequestStatus({ requestedFor: IDS.identity, limit: 251 }),
        (a) => a.listSources({ limit: -1 }),
        (a) => a.listEntitlements({ limit: 1.5 }),
        (a) => a.listAccessProfiles({ offset: -1 }),
        (a) => a.listIdentities({ defaultFilter: "ALL" as "NONE" }),
      ];
      for (const call of refused) expect(await rejection(call(api))).toBeInstanceOf(IscRequestRefusedError);
      expect(tenant.all).toEqual([]);
    });
  });

  describe("rate limit per API version", () => {
    it("a saturated v3 window does not delay v2025, beta or the token request", async () => {
      const time = fakeTime();
      const c = client({ ...time, rateLimit: { requests: 2, windowMs: 10_000 } });
      await c.context.listRoles();
      await c.context.getRole(IDS.role);
      // v3 is now full for 10 s; the other versions start at once.
      await c.context.listIdentities();
      await c.context.getEntitlement(IDS.entitlement);
      // beta (the full client only: the context-only one has no beta read).
      const full = c instanceof IscClient;
      if (full) await c.listTriggers();
      expect(time.sleeps).toEqual([]);
      // The third v3 request waits for the first to leave the window.
      await c.context.getSource(IDS.source);
      // The window plus the client's 5 % guard (late sends must not overfill the tenant's window).
      expect(time.sleeps).toEqual([10_500]);
      expect(tenant.requests.map((request) => request.path.split("/")[1])).toEqual([
        "v3",
        "v3",
        "v2025",
        "v2025",
        ...(full ? ["beta"] : []),
        "v3",
      ]);
      expect(tenant.tokenRequests).toHaveLength(1);
    });

    it("a v3 wait past the deadline fails now without sending; v2025 under the same deadline goes", async () => {
      const time = fakeTime();
      const c = client({ ...time, rateLimit: { requests: 1, windowMs: 10_000 } });
      await c.context.listRoles();
      const deadline = time.now() + 1_000;
      const error = await rejection(c.context.getRole(IDS.role, { deadline }));
      expect(error).toBeInstanceOf(IscDeadlineError);
      await expect(c.context.getIdentity(IDS.identity, { deadline })).resolves.toEqual(identity);
      expect(tenant.requests.map((request) => request.path)).toEqual([
        "/v3/roles",
        `/v2025/identities/${IDS.identity}`,
      ]);
      expect(time.sleeps).toEqual([]);
    });

    it("concurrent bursts on two versions each queue in their own window", async () => {
      const time = fakeTime();
      const c = client({ ...time, rateLimit: { requests: 3, windowMs: 10_000 } });
      await Promise.all([
        ...Array.from({ length: 3 }, () => c.context.listRoles()),
        ...Array.from({ length: 3 }, () => c.context.listIdentities()),
      ]);
      expect(time.sleeps).toEqual([]);
      expect(tenant.requests).toHaveLength(6);
    });
  });
});
