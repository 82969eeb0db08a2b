import { describe, expect, it } from "vitest";
import { ContextReadError, contextReadErrorFrom } from "../../../lib/context/errors.ts";
import { CachedContextReader } from "../../../lib/context/reader.ts";
import type { ContextReadOptions, ContextSource, ContextSubject } from "../../../lib/context/types.ts";
import { ResponderError } from "../../../lib/errors.ts";
import type { Identity } from "../../../lib/isc/context-schemas.ts";
import { IscCredentialsError } from "../../../lib/isc/credentials.ts";
import {
  ConfigError,
  IscApiError,
  IscDeadlineError,
  IscNetworkError,
  IscNotFoundError,
  IscResponseError,
} from "../../../lib/isc/errors.ts";
import { rejection } from "../../helpers/rejection.ts";
import { defaultDirectory, FakeFetcher } from "./fake-fetcher.ts";

const needs = (...sources: ContextSource[]) => new Set(sources);

function subject(overrides: Partial<ContextSubject> = {}): ContextSubject {
  return {
    requestedFor: [{ id: "alice" }],
    requestedBy: { id: "rob" },
    requestedItems: [{ id: "ent-admin", type: "ENTITLEMENT" }],
    ...overrides,
  };
}

async function readError(
  fetcher: FakeFetcher,
  sources: ContextSource[],
  overrides: Partial<ContextSubject> = {},
  options: ContextReadOptions = {},
): Promise<ContextReadError> {
  const error = await rejection(
    new CachedContextReader(fetcher).read(subject(overrides), needs(...sources), options),
  );
  expect(error).toBeInstanceOf(ContextReadError);
  return error as ContextReadError;
}

const apiError = (status: number, extra: object = {}) =>
  new IscApiError({
    status,
    operation: "GET /v2025/identities",
    detailCode: `${status} detail`,
    trackingId: "trk-42",
    messages: ["upstream text with payload value hunter2"],
    ...extra,
  });

describe("ContextReadError", () => {
  it("is a ResponderError with code CONTEXT_UNAVAILABLE", () => {
    const error = new ContextReadError({ kind: "roles", reason: "not-found", ids: ["r1"] });
    expect(error).toBeInstanceOf(ResponderError);
    expect(error).toMatchObject({ code: "CONTEXT_UNAVAILABLE", name: "ContextReadError", kind: "roles" });
    expect(error.message).toBe("context: roles [r1] not found");
  });

  it.each([
    [apiError(403), "forbidden"],
    // A token revoked meanwhile: transient (redelivered or deferred), like a 401 on a completion.
    [apiError(401), "unavailable"],
    [apiError(404), "not-found"],
    [new IscNotFoundError("identity", "a"), "not-found"],
    [apiError(429, { retryAfterSeconds: 7 }), "rate-limited"],
    [apiError(500), "unavailable"],
    [apiError(502), "unavailable"],
    [apiError(400), "unavailable"],
    [new IscNetworkError("GET /v2025/identities", 3, false, new Error("ECONNREFUSED")), "unavailable"],
    [
      new IscResponseError("GET /v2025/identities", 200, [{ path: "[0].id", message: "required" }]),
      "invalid-response",
    ],
    [
      new IscDeadlineError({
        operation: "GET /v2025/identities",
        reason: "deadline",
        attempts: 2,
        lastStatus: 503,
      }),
      "timeout",
    ],
    [new IscDeadlineError({ operation: "GET /v2025/identities", reason: "aborted", attempts: 1 }), "timeout"],
    [new DOMException("aborted", "AbortError"), "timeout"],
    // Wrong credentials or settings: not transient (a redelivery would only delay the fallback).
    [new ConfigError("no client id", ["SAIL_CLIENT_ID"]), "misconfigured"],
    [new IscCredentialsError("isc-creds", "is not JSON"), "misconfigured"],
    [new Error("boom"), "unavailable"],
    ["a string", "unavailable"],
  ])("maps %s to %s", (cause, reason) => {
    const error = contextReadErrorFrom("identities", ["alice"], cause);
    expect(error.reason).toBe(reason);
    expect(error.message).not.toContain("hunter2");
  });

  it("keeps status, detailCode, trackingId and Retry-After", () => {
    const error = contextReadErrorFrom("identities", ["alice"], apiError(429, { retryAfterSeconds: 7 }));
    expect(error).toMatchObject({
      status: 429,
      detailCode: "429 detail",
      trackingId: "trk-42",
      retryAfterSeconds: 7,
    });
    expect(error.message).toContain("trk-42");
    expect(error.message).toContain("retry after 7 s");
    const deadline = contextReadErrorFrom(
      "roles",
      [],
      new IscDeadlineError({ operation: "GET /v3/roles", reason: "deadline", attempts: 2, lastStatus: 503 }),
    );
    expect(deadline.status).toBe(503);
  });
});

describe("failures of a read", () => {
  it("403 names the missing scope of the kind", async () => {
    const error = await readError(new FakeFetcher().on("identities", { fail: apiError(403) }), ["identity"]);
    expect(error).toMatchObject({
      reason: "forbidden",
      kind: "identities",
      status: 403,
      missingScope: "idn:identity:read",
      trackingId: "trk-42",
    });
    expect(error.message).toContain("idn:identity:read");
    expect(error.message).not.toContain("hunter2");
    const roles = await readError(new FakeFetcher().on("roles", { fail: apiError(403) }), ["items"], {
      requestedItems: [{ id: "role-eng", type: "ROLE" }],
    });
    expect(roles.missingScope).toBe("idn:role-checked:read");
    const sod = await readError(new FakeFetcher().on("predictSod", { fail: apiError(403) }), ["sod"]);
    expect(sod.message).toContain("idn:sod-violation:read");
  });

  it.each([
    [429, "rate-limited"],
    [500, "unavailable"],
    [503, "unavailable"],
    [404, "not-found"],
  ] as const)("status %i → %s", async (status, reason) => {
    const error = await readError(new FakeFetcher().on("accessRequestStatus", { fail: apiError(status) }), [
      "accessRequests",
    ]);
    expect(error).toMatchObject({ reason, status, kind: "accessRequestStatus" });
  });

  it("an invalid body is invalid-response", async () => {
    const fetcher = new FakeFetcher().on("entitlements", {
      answer: [{ id: "ent-admin", privileged: "yes" }],
    });
    const error = await readError(fetcher, ["items"]);
    expect(error).toMatchObject({ reason: "invalid-response", kind: "entitlements" });
    const notAList = await readError(new FakeFetcher().on("identities", { answer: { items: [] } }), [
      "identity",
    ]);
    expect(notAList.reason).toBe("invalid-response");
  });

  it("not found: a person, an item, a manager, an access profile of a role, a source, an SoD policy", async () => {
    const person = await readError(new FakeFetcher(), ["identity"], {
      requestedFor: [{ id: "alice" }, { id: "zed" }],
    });
    expect(person).toMatchObject({ reason: "not-found", kind: "identities", ids: ["zed"] });

    const itemError = await readError(new FakeFetcher(), ["items"], {
      requestedItems: [{ id: "ap-none", type: "ACCESS_PROFILE" }],
    });
    expect(itemError).toMatchObject({ reason: "not-found", kind: "accessProfiles", ids: ["ap-none"] });

    const manager = await readError(new FakeFetcher(), ["manager"], { requestedFor: [{ id: "erin" }] });
    expect(manager).toMatchObject({ reason: "not-found", kind: "identities", ids: ["ghost"] });
    expect(manager.message).toContain("managerRef");

    const directory = defaultDirectory();
    directory.roles.push({ id: "role-broken", accessProfiles: [{ type: "ACCESS_PROFILE", id: "ap-gone" }] });
    const profile = await readError(new FakeFetcher(directory), ["grants"], {
      requestedItems: [{ id: "role-broken", type: "ROLE" }],
    });
    expect(profile).toMatchObject({ reason: "not-found", kind: "accessProfiles", ids: ["ap-gone"] });

    const withoutSource = defaultDirectory();
    withoutSource.sources = withoutSource.sources.filter((s) => s.id !== "src-ad");
    const source = await readError(new FakeFetcher(withoutSource), ["sources"]);
    expect(source).toMatchObject({ reason: "not-found", kind: "sources", ids: ["src-ad"] });

    const withoutPolicy = defaultDirectory();
    withoutPolicy.sodPolicies = [];
    const policy = await readError(new FakeFetcher(withoutPolicy), ["sodPolicies"], {
      requestedItems: [
        { id: "ent-admin", type: "ENTITLEMENT" },
        { id: "ent-sap", type: "ENTITLEMENT" },
      ],
    });
    expect(policy).toMatchObject({ reason: "not-found", kind: "sodPolicy" });
  });

  it("never partial: one failing kind rejects the whole read, listing the reads made", async () => {
    const fetcher = new FakeFetcher().on("roles", { fail: apiError(500), delayMs: 5 });
    const error = await readError(fetcher, ["identity", "items", "accessRequests"], {
      requestedItems: [
        { id: "ent-admin", type: "ENTITLEMENT" },
        { id: "role-eng", type: "ROLE" },
      ],
    });
    expect(error).toMatchObject({ reason: "unavailable", kind: "roles", status: 500 });
    expect(error.reads.map((r) => r.kind).sort()).toEqual(
      ["accessRequestStatus", "entitlements", "identities", "roles"].sort(),
    );
    expect(error.reads.find((r) => r.kind === "roles")?.status).toBe(500);
  });

  it("a failed read starts no later round", async () => {
    const fetcher = new FakeFetcher()
      .on("identities", { fail: apiError(500), delayMs: 5 })
      .on("roles", { delayMs: 30 });
    await readError(fetcher, ["manager", "grants"], { requestedItems: [{ id: "role-eng", type: "ROLE" }] });
    await new Promise((resolve) => setTimeout(resolve, 60));
    // the roles answered after the read had failed: their round 2 never starts
    expect(fetcher.calls.map((c) => c.method).sort()).toEqual(["identities", "roles"]);
  });
});

describe("deadline and abort", () => {
  it("rejects by the deadline when the fetcher never answers, and passes it signal and deadline", async () => {
    const fetcher = new FakeFetcher().on("identities", { hang: true });
    const deadline = Date.now() + 60;
    const started = Date.now();
    const error = await readError(fetcher, ["identity"], {}, { deadline });
    expect(Date.now() - started).toBeLessThan(400);
    expect(error).toMatchObject({ reason: "timeout", kind: "identities" });
    expect(fetcher.calls[0]?.options.deadline).toBe(deadline);
    // nobody waits on the call any more: it is aborted
    expect(fetcher.calls[0]?.options.signal?.aborted).toBe(true);
  });

  it("rejects promptly when the signal aborts", async () => {
    const fetcher = new FakeFetcher().on("roles", { hang: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const started = Date.now();
    const error = await readError(
      fetcher,
      ["items"],
      { requestedItems: [{ id: "r", type: "ROLE" }] },
      {
        signal: controller.signal,
      },
    );
    expect(Date.now() - started).toBeLessThan(400);
    expect(error).toMatchObject({ reason: "timeout", kind: "roles" });
  });

  it("makes no call when the deadline has passed or the signal is aborted already", async () => {
    const fetcher = new FakeFetcher();
    expect(await readError(fetcher, ["identity"], {}, { deadline: Date.now() - 1 })).toMatchObject({
      reason: "timeout",
    });
    expect(await readError(fetcher, ["items"], {}, { signal: AbortSignal.abort() })).toMatchObject({
      reason: "timeout",
      kind: "entitlements",
    });
    expect(fetcher.count()).toBe(0);
  });

  it("a caller giving up on a shared call leaves it running for the others", async () => {
    const fetcher = new FakeFetcher().on("identities", { delayMs: 80 });
    const reader = new CachedContextReader(fetcher);
    const quick = reader.read(subject(), needs("identity"), { deadline: Date.now() + 20 });
    const patient = reader.read(subject(), needs("identity"), { deadline: Date.now() + 2_000 });
    expect(await rejection(quick)).toMatchObject({ reason: "timeout" });
    const result = await patient;
    expect(result.data.identity?.[0]?.id).toBe("alice");
    expect(fetcher.count()).toBe(1);
    expect(fetcher.calls[0]?.options.signal?.aborted).toBe(false);
    // the call serves both: it gets the later deadline
    expect(fetcher.calls[0]?.options.deadline).toBeGreaterThan(Date.now());
  });

  it("a caller that joined a call whose own deadline ran out asks again within its own time", async () => {
    /** A fetcher that honours the deadline it is given, as the ISC client does. */
    class DeadlineFetcher extends FakeFetcher {
      override identities(ids: readonly string[], options: ContextReadOptions): Promise<Identity[]> {
        this.calls.push({ method: "identities", ids: [...ids], options });
        return new Promise((resolve, reject) => {
          const answer = setTimeout(
            () => resolve(this.directory.identities.filter((i) => ids.includes(i.id))),
            60,
          );
          const left = (options.deadline ?? Number.POSITIVE_INFINITY) - Date.now();
          if (Number.isFinite(left)) {
            setTimeout(() => {
              clearTimeout(answer);
              reject(
                new IscDeadlineError({ operation: "GET /v2025/identities", reason: "deadline", attempts: 1 }),
              );
            }, left);
          }
        });
      }
    }
    const fetcher = new DeadlineFetcher();
    const reader = new CachedContextReader(fetcher);
    const quick = reader.read(subject(), needs("identity"), { deadline: Date.now() + 20 });
    await new Promise((resolve) => setImmediate(resolve)); // the first call is sent with the quick deadline
    const patient = reader.read(subject(), needs("identity"), { deadline: Date.now() + 2_000 });
    expect(await rejection(quick)).toMatchObject({ reason: "timeout" });
    const result = await patient;
    expect(result.data.identity?.[0]?.id).toBe("alice");
    expect(fetcher.count()).toBe(2);
  });

  it("a deadline further than a timer can wait does not fire early", async () => {
    const fetcher = new FakeFetcher().on("identities", { delayMs: 20 });
    const result = await new CachedContextReader(fetcher).read(subject(), needs("identity"), {
      deadline: Date.now() + 2 ** 32,
    });
    expect(result.data.identity?.[0]?.id).toBe("alice");
  });

  it("a call everyone abandoned is not joined by a later read", async () => {
    const fetcher = new FakeFetcher().on("identities", { hang: true });
    const reader = new CachedContextReader(fetcher);
    await rejection(reader.read(subject(), needs("identity"), { deadline: Date.now() + 10 }));
    fetcher.reset();
    const result = await reader.read(subject(), needs("identity"), { deadline: Date.now() + 1_000 });
    expect(result.data.identity?.[0]?.id).toBe("alice");
    expect(fetcher.count()).toBe(2);
  });
});

describe("hostile ids", () => {
  const hostile = ["../admin", 'a"b', "a b", "x/y", "a?b=c", "a#b", "50%", "", "é", "a".repeat(129)];

  it.each(hostile)("%j in requestedFor, requestedBy or an item is refused before any call", async (id) => {
    const fetcher = new FakeFetcher();
    const all: ContextSource[] = [
      "identity",
      "requester",
      "manager",
      "sodPolicies",
      "sources",
      "accessRequests",
    ];
    for (const overrides of [
      { requestedFor: [{ id: "alice" }, { id }] },
      { requestedBy: { id } },
      { requestedItems: [{ id, type: "ROLE" }] },
    ]) {
      const error = await readError(fetcher, all, overrides);
      expect(error.reason).toBe("refused-id");
      if (id !== "") expect(error.message).not.toContain(id);
    }
    expect(fetcher.count()).toBe(0);
  });

  it("an id from a response that is not plain is refused before its call", async () => {
    const directory = defaultDirectory();
    directory.identities.push({
      id: "mallory",
      name: "M",
      managerRef: { type: "IDENTITY", id: "../../admin" },
    });
    const fetcher = new FakeFetcher(directory);
    const error = await readError(fetcher, ["manager"], { requestedFor: [{ id: "mallory" }] });
    expect(error).toMatchObject({ reason: "refused-id", kind: "identities" });
    expect(error.message).not.toContain("../");
    expect(fetcher.calls.map((c) => c.ids)).toEqual([["mallory"]]);
  });

  it("a hostile id is irrelevant when its source is not needed", async () => {
    const fetcher = new FakeFetcher();
    const result = await new CachedContextReader(fetcher).read(
      subject({ requestedBy: { id: "../x" } }),
      needs("identity"),
      {},
    );
    expect(result.data.identity?.[0]?.id).toBe("alice");
  });
});
