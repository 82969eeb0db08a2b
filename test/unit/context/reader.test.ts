import { describe, expect, it } from "vitest";
import { CachedContextReader, expandNeeds } from "../../../lib/context/reader.ts";
import type { ContextSource, ContextSubject } from "../../../lib/context/types.ts";
import { type Directory, defaultDirectory, FakeFetcher } from "./fake-fetcher.ts";

const needs = (...sources: ContextSource[]) => new Set(sources);

function subject(overrides: Partial<ContextSubject> = {}): ContextSubject {
  return {
    requestedFor: [{ id: "alice" }],
    requestedBy: { id: "rob" },
    requestedItems: [{ id: "ent-admin", type: "ENTITLEMENT", operation: "Add" }],
    ...overrides,
  };
}

function setup(directory?: Directory) {
  const fetcher = new FakeFetcher(directory);
  const reader = new CachedContextReader(fetcher);
  return { fetcher, reader };
}

const item = (id: string, type: string, operation?: string) => ({ id, type, operation });

describe("needs", () => {
  it("adds what each source is built from", () => {
    expect(expandNeeds(needs("manager"))).toEqual(needs("manager", "identity"));
    expect(expandNeeds(needs("sources"))).toEqual(needs("sources", "items"));
    expect(expandNeeds(needs("sodPolicies"))).toEqual(needs("sodPolicies", "sod", "grants", "items"));
    expect(expandNeeds(needs("requester", "accessRequests"))).toEqual(needs("requester", "accessRequests"));
  });

  it("reads nothing for an empty set of needs", async () => {
    const { fetcher, reader } = setup();
    const result = await reader.read(subject(), needs(), {});
    expect(result).toEqual({ data: { provenance: {} }, reads: [], cacheHits: 0 });
    expect(fetcher.count()).toBe(0);
  });

  it("reads nothing for a needed source the payload has no ids for", async () => {
    const { fetcher, reader } = setup();
    const result = await reader.read(
      subject({ requestedFor: [], requestedItems: [] }),
      needs("identity", "items"),
      {},
    );
    expect(result.data.identity).toEqual([]);
    expect(result.data.items).toEqual([]);
    expect(fetcher.count()).toBe(0);
  });
});

describe("people", () => {
  it("identity alone: one call for requestedFor, aligned and in order, nothing else read", async () => {
    const { fetcher, reader } = setup();
    const result = await reader.read(
      subject({ requestedFor: [{ id: "dave" }, { id: "alice" }, { id: "dave" }] }),
      needs("identity"),
      {},
    );
    expect(result.data.identity?.map((i) => i.id)).toEqual(["dave", "alice", "dave"]);
    expect(result.data.identity?.[0]?.identityStatus).toBe("TERMINATED");
    expect(Object.keys(result.data).sort()).toEqual(["identity", "provenance"]);
    expect(fetcher.calls.map((c) => [c.method, c.ids])).toEqual([["identities", ["dave", "alice"]]]);
    expect(result.reads).toEqual([{ kind: "identities", ids: 2, from: "api", ms: expect.any(Number) }]);
    expect(result.data.provenance?.["identities:alice"]).toEqual({ from: "api", ms: expect.any(Number) });
  });

  it("requester alone reads only requestedBy", async () => {
    const { fetcher, reader } = setup();
    const result = await reader.read(subject(), needs("requester"), {});
    expect(result.data.requester?.id).toBe("rob");
    expect(result.data.identity).toBeUndefined();
    expect(fetcher.calls.map((c) => c.ids)).toEqual([["rob"]]);
  });

  it("identity and requester share one call", async () => {
    const { fetcher, reader } = setup();
    const result = await reader.read(subject(), needs("identity", "requester"), {});
    expect(result.data.identity?.[0]?.id).toBe("alice");
    expect(result.data.requester?.id).toBe("rob");
    expect(fetcher.calls.map((c) => [c.method, c.ids])).toEqual([["identities", ["alice", "rob"]]]);
  });

  it("manager implies identity; null for a person without managerRef; managers read once", async () => {
    const { fetcher, reader } = setup();
    const result = await reader.read(
      subject({ requestedFor: [{ id: "alice" }, { id: "dave" }, { id: "rob" }, { id: "bob" }] }),
      needs("manager"),
      {},
    );
    expect(result.data.identity?.map((i) => i.id)).toEqual(["alice", "dave", "rob", "bob"]);
    expect(result.data.manager?.map((m) => m?.id ?? null)).toEqual(["bob", null, "carol", "carol"]);
    // bob was read in round 1 as a person: round 2 asks only for carol.
    expect(fetcher.calls.map((c) => c.ids)).toEqual([["alice", "dave", "rob", "bob"], ["carol"]]);
  });

  it("a manager who is also the requester is not read twice", async () => {
    const { fetcher, reader } = setup();
    const result = await reader.read(
      subject({ requestedBy: { id: "bob" } }),
      needs("manager", "requester"),
      {},
    );
    expect(result.data.manager?.[0]?.id).toBe("bob");
    expect(result.data.requester?.id).toBe("bob");
    expect(fetcher.count("identities")).toBe(1);
  });
});

describe("items", () => {
  const mixed = [
    item("role-eng", "ROLE", "Add"),
    item("ent-admin", "ENTITLEMENT", "Add"),
    item("ap-finance", "ACCESS_PROFILE", "Add"),
    item("ent-read", "entitlement"),
  ];

  it("details by type: one call per kind, aligned with requestedItems", async () => {
    const { fetcher, reader } = setup();
    const result = await reader.read(subject({ requestedItems: mixed }), needs("items"), {});
    expect(result.data.items?.map((i) => i.details?.id)).toEqual([
      "role-eng",
      "ent-admin",
      "ap-finance",
      "ent-read",
    ]);
    expect(result.data.items?.every((i) => Object.keys(i).join() === "details")).toBe(true);
    expect(fetcher.calls.map((c) => [c.method, c.ids]).sort()).toEqual([
      ["accessProfiles", ["ap-finance"]],
      ["entitlements", ["ent-admin", "ent-read"]],
      ["roles", ["role-eng"]],
    ]);
  });

  it("grants: itself, an access profile's, a role's direct and through its access profiles, deduplicated", async () => {
    const { fetcher, reader } = setup();
    const result = await reader.read(subject({ requestedItems: mixed }), needs("grants"), {});
    const granted = result.data.items?.map((i) => i.entitlements?.map((e) => e.id));
    expect(granted).toEqual([
      ["ent-x", "ent-read", "ent-admin"],
      ["ent-admin"],
      ["ent-sap", "ent-read"],
      ["ent-read"],
    ]);
    expect(result.data.items?.map((i) => i.privileged)).toEqual([true, true, false, false]);
    expect(result.data.items?.[0]?.source).toBeUndefined();
    // round 1: ent-admin, ent-read; round 2: the refs not read yet; round 3: ap-dev's (all read by then).
    expect(fetcher.callsOf("entitlements").map((c) => [...c.ids].sort())).toEqual([
      ["ent-admin", "ent-read"],
      ["ent-sap", "ent-x"],
    ]);
    expect(fetcher.callsOf("accessProfiles").map((c) => c.ids)).toEqual([["ap-finance"], ["ap-dev"]]);
  });

  it("expands a role to the entitlements of its access profiles in a third round", async () => {
    const { fetcher, reader } = setup();
    const result = await reader.read(
      subject({ requestedItems: [item("role-eng", "ROLE")] }),
      needs("grants"),
      {},
    );
    expect(result.data.items?.[0]?.entitlements?.map((e) => e.id)).toEqual([
      "ent-x",
      "ent-read",
      "ent-admin",
    ]);
    expect(result.data.items?.[0]?.privileged).toBe(true);
    expect(fetcher.calls.map((c) => [c.method, c.ids])).toEqual([
      ["roles", ["role-eng"]],
      ["entitlements", ["ent-x", "ent-read"]],
      ["accessProfiles", ["ap-dev"]],
      ["entitlements", ["ent-admin"]],
    ]);
  });

  it("a role that grants nothing is not privileged and costs no more call", async () => {
    const { fetcher, reader } = setup();
    const result = await reader.read(
      subject({ requestedItems: [item("role-empty", "ROLE")] }),
      needs("grants"),
      {},
    );
    expect(result.data.items?.[0]).toMatchObject({ entitlements: [], privileged: false });
    expect(fetcher.count()).toBe(1);
  });

  it("sources: the item's source, null for roles and items without one, each source read once", async () => {
    const { fetcher, reader } = setup();
    const result = await reader.read(
      subject({
        requestedItems: [...mixed, item("ent-nosource", "ENTITLEMENT"), item("ent-x", "ENTITLEMENT")],
      }),
      needs("sources"),
      {},
    );
    expect(result.data.items?.map((i) => i.source?.id ?? null)).toEqual([
      null,
      "src-ad",
      "src-sap",
      "src-ad",
      null,
      "src-ad",
    ]);
    expect(result.data.items?.[1]?.source?.owner?.id).toBe("carol");
    expect(result.data.items?.[0]?.entitlements).toBeUndefined();
    expect(fetcher.callsOf("sources").map((c) => c.ids)).toEqual([["src-ad", "src-sap"]]);
  });

  it("no sources call when no item has a source", async () => {
    const { fetcher, reader } = setup();
    const result = await reader.read(
      subject({ requestedItems: [item("role-eng", "ROLE")] }),
      needs("sources"),
      {},
    );
    expect(result.data.items?.[0]?.source).toBeNull();
    expect(fetcher.count("sources")).toBe(0);
  });
});

describe("sod", () => {
  it("predicts with what the added items grant, per person; names the policy", async () => {
    const { fetcher, reader } = setup();
    const result = await reader.read(
      subject({
        requestedFor: [{ id: "alice" }, { id: "bob" }, { id: "alice" }],
        requestedItems: [item("ent-admin", "ENTITLEMENT", "Add"), item("ap-finance", "ACCESS_PROFILE")],
      }),
      needs("sod"),
      {},
    );
    expect(result.data.sod?.violated).toBe(true);
    expect(result.data.sod?.violations.map((v) => [v.identityId, v.policy.id, v.policy.name])).toEqual([
      ["alice", "pol-1", "Admin vs SAP"],
      ["bob", "pol-1", "Admin vs SAP"],
    ]);
    expect(result.data.sod?.violations[0]?.owner).toBeUndefined();
    expect(fetcher.callsOf("predictSod").map((c) => c.ids)).toEqual([
      ["alice", "ent-admin", "ent-read", "ent-sap"],
      ["bob", "ent-admin", "ent-read", "ent-sap"],
    ]);
    expect(result.data.items?.[1]?.privileged).toBe(false);
  });

  it("removed items are left out of the prediction", async () => {
    const { fetcher, reader } = setup();
    const result = await reader.read(
      subject({
        requestedItems: [
          item("ent-admin", "ENTITLEMENT", "ADD"),
          item("ap-finance", "ACCESS_PROFILE", "Remove"),
        ],
      }),
      needs("sod"),
      {},
    );
    expect(result.data.sod).toEqual({ violations: [], violated: false });
    expect(fetcher.callsOf("predictSod").map((c) => c.ids)).toEqual([["alice", "ent-admin"]]);
  });

  it("no prediction at all when every item is removed", async () => {
    const { fetcher, reader } = setup();
    const result = await reader.read(
      subject({ requestedItems: [item("ent-admin", "ENTITLEMENT", "Remove")] }),
      needs("sod"),
      {},
    );
    expect(result.data.sod).toEqual({ violations: [], violated: false });
    expect(fetcher.count("predictSod")).toBe(0);
  });

  it("through a role: waits for the role's access profiles, predicts alongside round 3", async () => {
    const { fetcher, reader } = setup();
    const result = await reader.read(
      subject({ requestedItems: [item("role-eng", "ROLE"), item("ent-sap", "ENTITLEMENT")] }),
      needs("sod"),
      {},
    );
    expect(result.data.sod?.violations.map((v) => v.policy.id).sort()).toEqual(["pol-1", "pol-2"]);
    expect(fetcher.callsOf("predictSod")[0]?.ids).toEqual([
      "alice",
      "ent-admin",
      "ent-read",
      "ent-sap",
      "ent-x",
    ]);
  });

  it("sodPolicies: each violated policy read once, with owner and violation owner", async () => {
    const { fetcher, reader } = setup();
    const result = await reader.read(
      subject({
        requestedFor: [{ id: "alice" }, { id: "bob" }],
        requestedItems: [item("role-eng", "ROLE"), item("ent-sap", "ENTITLEMENT")],
      }),
      needs("sodPolicies"),
      {},
    );
    const byPolicy = Object.fromEntries(
      (result.data.sod?.violations ?? []).map((v) => [
        v.policy.id,
        [v.owner?.id, v.violationOwner?.id ?? null],
      ]),
    );
    expect(byPolicy).toEqual({ "pol-1": ["carol", "gg-1"], "pol-2": ["bob", null] });
    expect(result.data.sod?.violations.find((v) => v.policy.id === "pol-2")?.violationOwner).toBeNull();
    expect(
      fetcher
        .callsOf("sodPolicy")
        .map((c) => c.ids[0])
        .sort(),
    ).toEqual(["pol-1", "pol-2"]);
  });

  it("no policy read when nothing is violated", async () => {
    const { fetcher, reader } = setup();
    const result = await reader.read(subject(), needs("sodPolicies"), {});
    expect(result.data.sod).toEqual({ violations: [], violated: false });
    expect(fetcher.count("sodPolicy")).toBe(0);
  });
});

describe("access requests", () => {
  it("every person's list, concatenated, newest first", async () => {
    const { fetcher, reader } = setup();
    const result = await reader.read(
      subject({ requestedFor: [{ id: "alice" }, { id: "bob" }, { id: "carol" }] }),
      needs("accessRequests"),
      {},
    );
    expect(result.data.accessRequests?.map((r) => r.id)).toEqual(["ar-a2", "ar-b1", "ar-a1"]);
    expect(fetcher.callsOf("accessRequestStatus").map((c) => c.ids[0])).toEqual(["alice", "bob", "carol"]);
    expect(fetcher.callsOf("accessRequestStatus")[0]?.options).toMatchObject({ limit: 250 });
  });
});

describe("every source together", () => {
  it("reads all in as few rounds as the dependencies allow", async () => {
    const { fetcher, reader } = setup();
    const result = await reader.read(
      subject({
        requestedFor: [{ id: "alice" }, { id: "bob" }],
        requestedItems: [
          item("role-eng", "ROLE"),
          item("ap-finance", "ACCESS_PROFILE"),
          item("ent-admin", "ENTITLEMENT", "Remove"),
        ],
      }),
      new Set([
        "identity",
        "requester",
        "manager",
        "items",
        "grants",
        "sources",
        "sod",
        "sodPolicies",
        "accessRequests",
      ]),
      {},
    );
    const data = result.data;
    expect(Object.keys(data).sort()).toEqual([
      "accessRequests",
      "identity",
      "items",
      "manager",
      "provenance",
      "requester",
      "sod",
    ]);
    expect(data.manager?.map((m) => m?.id)).toEqual(["bob", "carol"]);
    expect(data.items?.map((i) => i.source?.id ?? null)).toEqual([null, "src-sap", "src-ad"]);
    expect(data.sod?.violations.map((v) => `${v.identityId}:${v.policy.id}:${v.owner?.id}`).sort()).toEqual([
      "alice:pol-1:carol",
      "alice:pol-2:bob",
      "bob:pol-1:carol",
      "bob:pol-2:bob",
    ]);
    const perKind: Record<string, number> = {};
    for (const call of fetcher.calls) perKind[call.method] = (perKind[call.method] ?? 0) + 1;
    expect(perKind).toEqual({
      identities: 2,
      roles: 1,
      accessProfiles: 2,
      entitlements: 2,
      sources: 1,
      predictSod: 2,
      sodPolicy: 2,
      accessRequestStatus: 2,
    });
    expect(result.reads).toHaveLength(fetcher.count());
    expect(result.cacheHits).toBe(0);
    expect(Object.keys(data.provenance ?? {})).toContain("sodPrediction:alice");
    expect(Object.keys(data.provenance ?? {})).toContain("roles:role-eng");
  });
});

describe("batching", () => {
  /** 10 people with managers, 25 items (10 entitlements, 8 access profiles, 7 roles with profiles). */
  function bigDirectory(): Directory {
    const directory = defaultDirectory();
    const ref = (type: string, id: string) => ({ type, id, name: id });
    for (let i = 0; i < 10; i++) {
      directory.identities.push({ id: `p${i}`, name: `p${i}`, managerRef: ref("IDENTITY", `m${i}`) });
      directory.identities.push({ id: `m${i}`, name: `m${i}` });
    }
    for (let i = 0; i < 30; i++) {
      directory.entitlements.push({ id: `e${i}`, privileged: i === 22, source: ref("SOURCE", `s${i % 4}`) });
    }
    for (let i = 0; i < 4; i++) directory.sources.push({ id: `s${i}`, name: `s${i}` });
    for (let i = 0; i < 12; i++) {
      directory.accessProfiles.push({
        id: `a${i}`,
        source: ref("SOURCE", `s${i % 4}`),
        entitlements: [ref("ENTITLEMENT", `e${10 + i}`), ref("ENTITLEMENT", `e${(i * 7) % 30}`)],
      });
    }
    for (let i = 0; i < 7; i++) {
      directory.roles.push({
        id: `r${i}`,
        entitlements: [ref("ENTITLEMENT", `e${22 + i}`)],
        accessProfiles: [ref("ACCESS_PROFILE", `a${8 + (i % 4)}`), ref("ACCESS_PROFILE", `a${i}`)],
      });
    }
    directory.conflicts.push({ policyId: "pol-1", policyName: "big", left: "e0", right: "e22" });
    return directory;
  }

  it("25 items for 10 people: one call per kind per round", async () => {
    const { fetcher, reader } = setup(bigDirectory());
    const requestedItems = [
      ...Array.from({ length: 10 }, (_, i) => item(`e${i}`, "ENTITLEMENT")),
      ...Array.from({ length: 8 }, (_, i) => item(`a${i}`, "ACCESS_PROFILE")),
      ...Array.from({ length: 7 }, (_, i) => item(`r${i}`, "ROLE")),
    ];
    const result = await reader.read(
      {
        requestedFor: Array.from({ length: 10 }, (_, i) => ({ id: `p${i}` })),
        requestedBy: { id: "rob" },
        requestedItems,
      },
      new Set(["identity", "requester", "manager", "grants", "sources", "sodPolicies"]),
      {},
    );
    const counts = (method: Parameters<FakeFetcher["count"]>[0]) => fetcher.count(method);
    expect(counts("identities")).toBe(2); // people + requester, then managers
    expect(fetcher.callsOf("identities")[0]?.ids).toHaveLength(11);
    expect(fetcher.callsOf("identities")[1]?.ids).toHaveLength(10);
    expect(counts("roles")).toBe(1);
    expect(counts("accessProfiles")).toBe(2); // requested, then the roles' others
    expect(counts("entitlements")).toBeLessThanOrEqual(3);
    expect(counts("sources")).toBe(1);
    expect(counts("predictSod")).toBe(10); // one identity per prediction (ISC's API)
    expect(counts("sodPolicy")).toBe(1);
    expect(result.data.items?.filter((i) => i.privileged).length).toBeGreaterThan(0);
    expect(result.data.sod?.violations).toHaveLength(10);
    const allIds = fetcher.callsOf("entitlements").flatMap((c) => c.ids);
    expect(new Set(allIds).size).toBe(allIds.length); // no id asked twice in one read
  });
});

describe("unknown item type", () => {
  it("is refused as unsupported before any call", async () => {
    const { fetcher, reader } = setup();
    const error = await reader
      .read(subject({ requestedItems: [item("x1", "APP")] }), needs("items"), {})
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toMatchObject({ code: "CONTEXT_UNAVAILABLE", reason: "unsupported", kind: null });
    expect(String((error as Error).message)).not.toContain("APP");
    expect(fetcher.count()).toBe(0);
  });

  it("does not matter when items are not needed", async () => {
    const { reader } = setup();
    await expect(
      reader.read(subject({ requestedItems: [item("x1", "APP")] }), needs("identity"), {}),
    ).resolves.toBeDefined();
  });
});
