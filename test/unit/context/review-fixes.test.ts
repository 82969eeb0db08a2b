/**
 * Review findings on the reader, pinned: cached context is immutable (code that changes what it
 * reads cannot rewrite context for later invocations), and a dimensional role, whose dimensions no
 * read covers, is refused rather than read as granting only its direct access.
 */
import { describe, expect, it } from "vitest";
import { ContextReadError } from "../../../lib/context/errors.ts";
import { CachedContextReader } from "../../../lib/context/reader.ts";
import type { ContextSubject } from "../../../lib/context/types.ts";
import { rejection } from "../../helpers/rejection.ts";
import { defaultDirectory, FakeFetcher } from "./fake-fetcher.ts";

const subject = (items: ContextSubject["requestedItems"]): ContextSubject => ({
  requestedFor: [{ id: "alice" }],
  requestedBy: { id: "rob" },
  requestedItems: items,
});

describe("cached context is immutable", () => {
  it("a change to what a read returned throws and changes nothing for the next read", async () => {
    const reader = new CachedContextReader(new FakeFetcher());
    const needs = new Set(["identity", "grants"] as const);
    const items = [{ id: "ent-admin", type: "ENTITLEMENT", operation: "Add" }];
    const first = await reader.read(subject(items), needs, {});
    const person = first.data.identity?.[0] as { identityStatus?: unknown };
    const status = person.identityStatus;
    expect(() => {
      person.identityStatus = "SOMETHING ELSE";
    }).toThrow(TypeError);
    const granted = (first.data.items ?? [])[0]?.entitlements?.[0] as { privileged?: unknown };
    expect(() => {
      granted.privileged = false;
    }).toThrow(TypeError);
    const second = await reader.read(subject(items), needs, {});
    expect(second.cacheHits).toBeGreaterThan(0);
    expect(second.data.identity?.[0]?.identityStatus).toBe(status);
  });
});

describe("dimensional roles", () => {
  it("are refused (the decision falls back) instead of granting only their direct access", async () => {
    const directory = defaultDirectory();
    directory.roles = directory.roles.map((role) =>
      role.id === "role-eng"
        ? { ...role, dimensional: true, dimensionRefs: [{ type: "DIMENSION", id: "d1" }] }
        : role,
    );
    const reader = new CachedContextReader(new FakeFetcher(directory));
    const error = await rejection(
      reader.read(
        subject([{ id: "role-eng", type: "ROLE", operation: "Add" }]),
        new Set(["grants"] as const),
        {},
      ),
    );
    expect(error).toBeInstanceOf(ContextReadError);
    expect(error).toMatchObject({ kind: "roles", reason: "unsupported" });
    expect((error as Error).message).toContain("dimensional role role-eng");
  });
});
