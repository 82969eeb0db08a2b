/**
 * IscContextFetcher over a real client and a loopback fake tenant: batching by `id in (...)`, chunks
 * of at most 50 ids, hostile ids refused before any request, SoD and access-request status, and
 * errors passed through untouched for the reader to map.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_ACCESS_REQUEST_LIMIT,
  IscContextFetcher,
  MAX_ACCESS_REQUEST_LIMIT,
  MAX_IDS_PER_CALL,
} from "../../../lib/context/isc-fetcher.ts";
import { IscClient } from "../../../lib/isc/client.ts";
import { IscApiError, IscDeadlineError, IscRequestRefusedError } from "../../../lib/isc/errors.ts";
import { rejection } from "../../helpers/rejection.ts";
import {
  accessRequestStatus,
  contextRoute,
  HOSTILE_IDS,
  IDS,
  prediction,
  sodPolicy,
} from "./context-fixtures.ts";
import {
  errorDto,
  type FakeTenant,
  type RecordedRequest,
  type Reply,
  startFakeTenant,
} from "./fake-tenant.ts";

let tenant: FakeTenant;

/** Answers a list call with one object per id in its `id in (...)` filter, except ids starting "missing". */
function directory(request: RecordedRequest): Reply {
  const filter = request.query.get("filters");
  if (request.method === "GET" && filter !== null) {
    const ids = [...filter.matchAll(/"([^"]+)"/g)].map((match) => match[1] as string);
    const objects = ids
      .filter((id) => !id.startsWith("missing"))
      .map((id) => ({ id, name: `object ${id}`, owner: { type: "IDENTITY", id: IDS.manager } }));
    return { status: 200, body: objects };
  }
  return contextRoute(request) ?? { status: 404, body: errorDto("404 Not found", "no such path") };
}

beforeAll(async () => {
  tenant = await startFakeTenant(directory);
});
afterEach(() => {
  tenant.requests.length = 0;
  tenant.tokenRequests.length = 0;
  tenant.all.length = 0;
  tenant.handle(directory);
});
afterAll(async () => {
  await tenant.close();
});

function fetcher(options: { idsPerCall?: number } = {}): IscContextFetcher {
  const client = new IscClient({
    baseUrl: tenant.baseUrl,
    clientId: "client-id",
    clientSecret: "client-secret",
    rateLimit: false,
    random: () => 0.5,
    retry: { maxAttempts: 2, baseDelayMs: 1 },
  });
  return new IscContextFetcher(client, options);
}

const idsOf = (request: RecordedRequest) =>
  [...(request.query.get("filters") ?? "").matchAll(/"([^"]+)"/g)].map((match) => match[1]);
const hexId = (n: number) => n.toString(16).padStart(32, "0");

describe("list reads by id", () => {
  it.each([
    ["identities", "/v2025/identities"],
    ["entitlements", "/v2025/entitlements"],
    ["accessProfiles", "/v3/access-profiles"],
    ["roles", "/v3/roles"],
    ["sources", "/v3/sources"],
  ] as const)("%s: one call with `id in (...)` and limit = the number of ids", async (kind, path) => {
    const ids = [hexId(1), hexId(2), hexId(3)];
    const found = await fetcher()[kind](ids, {});
    expect(found.map((object) => object.id)).toEqual(ids);
    expect(tenant.requests).toHaveLength(1);
    const [request] = tenant.requests;
    expect(request?.method).toBe("GET");
    expect(request?.path).toBe(path);
    expect(request?.query.get("filters")).toBe(`id in ("${ids.join('","')}")`);
    expect(request?.query.get("limit")).toBe("3");
    expect(request?.query.get("defaultFilter")).toBe(kind === "identities" ? "NONE" : null);
  });

  it(`chunks at ${MAX_IDS_PER_CALL} ids per call, drops duplicates, keeps every result`, async () => {
    const ids = Array.from({ length: 120 }, (_, index) => hexId(index));
    const found = await fetcher().identities([...ids, ...ids.slice(0, 30)], {});
    expect(found.map((object) => object.id).sort()).toEqual([...ids].sort());
    expect(tenant.requests.map((request) => idsOf(request).length)).toEqual([50, 50, 20]);
    expect(tenant.requests.map((request) => request.query.get("limit"))).toEqual(["50", "50", "20"]);
    expect(tenant.requests.flatMap(idsOf).sort()).toEqual([...ids].sort());
    for (const request of tenant.requests)
      expect(request.path.length + request.query.toString().length).toBeLessThan(4_000);
  });

  it("a smaller chunk size can be configured, never a larger one", async () => {
    await fetcher({ idsPerCall: 2 }).roles([hexId(1), hexId(2), hexId(3)], {});
    expect(tenant.requests.map(idsOf)).toEqual([[hexId(1), hexId(2)], [hexId(3)]]);
    expect(() => fetcher({ idsPerCall: MAX_IDS_PER_CALL + 1 })).toThrow(RangeError);
    expect(() => fetcher({ idsPerCall: 0 })).toThrow(RangeError);
  });

  it("missing ids are simply absent", async () => {
    const found = await fetcher().entitlements([hexId(1), "missing-1"], {});
    expect(found.map((object) => object.id)).toEqual([hexId(1)]);
  });

  it("objects the filter did not ask for are dropped (a filter the server ignored)", async () => {
    tenant.handle(() => ({
      status: 200,
      body: [
        { id: hexId(1), name: "asked" },
        { id: hexId(9), name: "not asked" },
      ],
    }));
    const found = await fetcher().identities([hexId(1)], {});
    expect(found.map((object) => object.id)).toEqual([hexId(1)]);
  });

  it("no ids: no request", async () => {
    expect(await fetcher().roles([], {})).toEqual([]);
    expect(tenant.all).toEqual([]);
  });

  it("one hostile id refuses the whole call before any request, in any chunk", async () => {
    const good = Array.from({ length: 60 }, (_, index) => hexId(index));
    for (const hostile of HOSTILE_IDS) {
      const error = await rejection(fetcher().identities([...good, hostile as string], {}));
      expect(error, JSON.stringify(hostile)).toBeInstanceOf(IscRequestRefusedError);
    }
    expect(tenant.all).toEqual([]);
  });

  it("errors are not caught: a 403 on one chunk rejects the call with the IscApiError", async () => {
    tenant.handle((request, index) =>
      index === 1 ? { status: 403, body: errorDto("403 Forbidden", "missing scope") } : directory(request),
    );
    const ids = Array.from({ length: 60 }, (_, index) => hexId(index));
    const error = await rejection(fetcher().accessProfiles(ids, {}));
    expect(error).toBeInstanceOf(IscApiError);
    expect((error as IscApiError).status).toBe(403);
  });

  it("passes the deadline and the signal to the client", async () => {
    const controller = new AbortController();
    controller.abort();
    const aborted = await rejection(fetcher().sources([hexId(1)], { signal: controller.signal }));
    expect(aborted).toMatchObject({ reason: "aborted" });
    const late = await rejection(fetcher().sources([hexId(1)], { deadline: Date.now() - 1 }));
    expect(late).toBeInstanceOf(IscDeadlineError);
    expect(tenant.requests).toEqual([]);
  });
});

describe("SoD", () => {
  it("predicts with ENTITLEMENT refs, duplicates dropped, in one call", async () => {
    const result = await fetcher().predictSod(
      IDS.identity,
      [IDS.entitlement, IDS.entitlement2, IDS.entitlement],
      {},
    );
    expect(result).toEqual(prediction);
    expect(tenant.requests).toHaveLength(1);
    expect(tenant.requests[0]?.method).toBe("POST");
    expect(tenant.requests[0]?.path).toBe("/v3/sod-violations/predict");
    expect(tenant.requests[0]?.json).toEqual({
      identityId: IDS.identity,
      accessRefs: [
        { type: "ENTITLEMENT", id: IDS.entitlement },
        { type: "ENTITLEMENT", id: IDS.entitlement2 },
      ],
    });
  });

  it("no entitlement: no violation, and no request", async () => {
    expect(await fetcher().predictSod(IDS.identity, [], {})).toEqual({ violationContexts: [] });
    expect(tenant.all).toEqual([]);
  });

  it("hostile identity or entitlement ids are refused before any request", async () => {
    for (const hostile of HOSTILE_IDS) {
      const a = await rejection(fetcher().predictSod(hostile as string, [IDS.entitlement], {}));
      const b = await rejection(fetcher().predictSod(IDS.identity, [hostile as string], {}));
      const c = await rejection(fetcher().predictSod(hostile as string, [], {}));
      for (const error of [a, b, c]) expect(error).toBeInstanceOf(IscRequestRefusedError);
    }
    expect(tenant.all).toEqual([]);
  });

  it("reads a policy by id; a 404 rejects with the IscApiError", async () => {
    expect(await fetcher().sodPolicy(IDS.sodPolicy, {})).toEqual(sodPolicy);
    expect(tenant.requests[0]?.path).toBe(`/v3/sod-policies/${IDS.sodPolicy}`);
    const error = await rejection(fetcher().sodPolicy("0f11f2a4-0000-0000-0000-000000000000", {}));
    expect((error as IscApiError).status).toBe(404);
    expect(await rejection(fetcher().sodPolicy("../x", {}))).toBeInstanceOf(IscRequestRefusedError);
  });
});

describe("access-request status", () => {
  it(`asks for the person's requests, newest first, ${DEFAULT_ACCESS_REQUEST_LIMIT} by default`, async () => {
    expect(await fetcher().accessRequestStatus(IDS.identity, {})).toEqual(accessRequestStatus);
    const query = Object.fromEntries(tenant.requests[0]?.query ?? []);
    expect(tenant.requests[0]?.path).toBe("/v3/access-request-status");
    expect(query).toEqual({
      "requested-for": IDS.identity,
      limit: String(DEFAULT_ACCESS_REQUEST_LIMIT),
      sorters: "-created",
    });
  });

  it(`a limit is kept between 1 and ${MAX_ACCESS_REQUEST_LIMIT}`, async () => {
    await fetcher().accessRequestStatus(IDS.identity, { limit: 1_000 });
    await fetcher().accessRequestStatus(IDS.identity, { limit: 0 });
    await fetcher().accessRequestStatus(IDS.identity, { limit: 20 });
    expect(tenant.requests.map((request) => request.query.get("limit"))).toEqual(["250", "1", "20"]);
  });

  it("a hostile identity id is refused before any request", async () => {
    for (const hostile of HOSTILE_IDS) {
      expect(await rejection(fetcher().accessRequestStatus(hostile as string, {}))).toBeInstanceOf(
        IscRequestRefusedError,
      );
    }
    expect(tenant.all).toEqual([]);
  });
});

describe("IscContextFetcher: ids a list leaves out", () => {
  it("asks for each by id once: found is kept, 404 is absent, anything else fails the read", async () => {
    // The list filter misses "hidden" ids (ISC's id filter misses objects whose name has a `+`).
    tenant.handle((request) => {
      const filter = request.query.get("filters");
      if (filter !== null) {
        const ids = [...filter.matchAll(/"([^"]+)"/g)].map((match) => match[1] as string);
        const listed = ids.filter((id) => !id.startsWith("hidden") && !id.startsWith("missing"));
        return {
          status: 200,
          body: listed.map((id) => ({ id, name: `object ${id}`, source: { id: "s1" } })),
        };
      }
      const id = request.path.split("/").at(-1) ?? "";
      if (id.startsWith("hidden-ok")) return { status: 200, body: { id, name: "A+B", source: { id: "s1" } } };
      if (id.startsWith("hidden-broken")) return { status: 500, body: errorDto("500 Internal", "down") };
      return { status: 404, body: errorDto("404 Not found", "no such object") };
    });
    const found = await fetcher().entitlements(["e1", "hidden-ok-1", "missing-1"], {});
    expect(found.map((e) => e.id).sort()).toEqual(["e1", "hidden-ok-1"]);
    const byId = tenant.requests.filter((r) => !r.query.has("filters")).map((r) => r.path);
    expect(byId).toEqual(["/v2025/entitlements/hidden-ok-1", "/v2025/entitlements/missing-1"]);
    // At most 3 ids are asked for one by one per call; the rest count as not found.
    tenant.requests.length = 0;
    const many = ["missing-1", "missing-2", "missing-3", "missing-4", "missing-5"];
    expect(await fetcher().entitlements(many, {})).toEqual([]);
    expect(tenant.requests.filter((r) => !r.query.has("filters"))).toHaveLength(3);
    const failure = await rejection(
      fetcher({}).entitlements(["e1", "hidden-broken-1"], { deadline: Date.now() + 2_000 }),
    );
    expect((failure as { status?: number }).status ?? (failure as { lastStatus?: number }).lastStatus).toBe(
      500,
    );
  });
});
