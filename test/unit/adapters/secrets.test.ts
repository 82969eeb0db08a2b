import { describe, expect, it } from "vitest";
import { CachedSecretsStore } from "../../../lib/adapters/cached-secrets.ts";
import { SecretNotFoundError, SecretsUnavailableError } from "../../../lib/adapters/errors.ts";
import { EnvSecretsStore, MemorySecretsStore, secretEnvName } from "../../../lib/adapters/local/secrets.ts";
import type { SecretsStore } from "../../../lib/adapters/types.ts";

describe("EnvSecretsStore", () => {
  it("reads the derived or mapped variable and reports a missing one as not found", async () => {
    expect(secretEnvName("acme/isc-credentials")).toBe("SECRET_ACME_ISC_CREDENTIALS");
    const store = new EnvSecretsStore(
      { SECRET_ACME_ISC_CREDENTIALS: '{"clientId":"a"}', WEBHOOK: "x", EMPTY: "" },
      { names: { webhook: "WEBHOOK", empty: "EMPTY" } },
    );
    expect(await store.getSecretString("acme/isc-credentials")).toBe('{"clientId":"a"}');
    expect(await store.getSecretString("webhook")).toBe("x");
    await expect(store.getSecretString("empty")).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(store.getSecretString("other")).rejects.toMatchObject({
      code: "SECRET_NOT_FOUND",
      secretId: "other",
    });
  });
});

describe("CachedSecretsStore", () => {
  it("serves from cache within the TTL and refreshes after it (rotation)", async () => {
    let now = 0;
    const inner = new MemorySecretsStore({ s: "v1" });
    const cached = new CachedSecretsStore(inner, { ttlMs: 60_000, now: () => now });
    expect(await cached.getSecretString("s")).toBe("v1");
    inner.set("s", "v2");
    now = 59_999;
    expect(await cached.getSecretString("s")).toBe("v1");
    expect(inner.reads).toBe(1);
    now = 60_000;
    expect(await cached.getSecretString("s")).toBe("v2");
    expect(inner.reads).toBe(2);
  });

  it("concurrent callers share one fetch", async () => {
    let release: (v: string) => void = () => {};
    let calls = 0;
    const inner: SecretsStore = {
      getSecretString: () => {
        calls += 1;
        return new Promise((resolve) => {
          release = resolve;
        });
      },
    };
    const cached = new CachedSecretsStore(inner);
    const all = Promise.all(Array.from({ length: 20 }, () => cached.getSecretString("s")));
    release("value");
    expect(await all).toEqual(Array(20).fill("value"));
    expect(calls).toBe(1);
  });

  it("a failed fetch is not cached: the next call tries again", async () => {
    let fail = true;
    let calls = 0;
    const inner: SecretsStore = {
      async getSecretString(id) {
        calls += 1;
        if (fail) throw new SecretsUnavailableError(id, "throttled");
        return "ok";
      },
    };
    const cached = new CachedSecretsStore(inner);
    await expect(cached.getSecretString("s")).rejects.toBeInstanceOf(SecretsUnavailableError);
    fail = false;
    expect(await cached.getSecretString("s")).toBe("ok");
    expect(calls).toBe(2);
  });

  it("a synchronous throw by the inner store is not cached either", async () => {
    let calls = 0;
    const inner: SecretsStore = {
      getSecretString() {
        calls += 1;
        if (calls === 1) throw new Error("boom");
        return Promise.resolve("ok");
      },
    };
    const cached = new CachedSecretsStore(inner);
    await expect(cached.getSecretString("s")).rejects.toThrow("boom");
    expect(await cached.getSecretString("s")).toBe("ok");
  });

  it("serves a stale value during staleIfErrorMs when a refresh fails, but not a deleted secret", async () => {
    let now = 0;
    const inner = new MemorySecretsStore({ s: "v1" });
    let unavailable = false;
    const flaky: SecretsStore = {
      getSecretString: (id) =>
        unavailable ? Promise.reject(new SecretsUnavailableError(id, "timeout")) : inner.getSecretString(id),
    };
    const cached = new CachedSecretsStore(flaky, { ttlMs: 1_000, staleIfErrorMs: 5_000, now: () => now });
    expect(await cached.getSecretString("s")).toBe("v1");
    unavailable = true;
    now = 3_000;
    expect(await cached.getSecretString("s")).toBe("v1");
    now = 6_001;
    await expect(cached.getSecretString("s")).rejects.toBeInstanceOf(SecretsUnavailableError);

    unavailable = false;
    expect(await cached.getSecretString("s")).toBe("v1");
    inner.delete("s");
    now = 7_500;
    await expect(cached.getSecretString("s")).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it("invalidate forces a re-read", async () => {
    const inner = new MemorySecretsStore({ s: "v1" });
    const cached = new CachedSecretsStore(inner);
    await cached.getSecretString("s");
    inner.set("s", "v2");
    cached.invalidate("s");
    expect(await cached.getSecretString("s")).toBe("v2");
  });

  /** A cache over a store whose reads wait until the test resolves them, in `releases` order. */
  function heldReads() {
    const releases: Array<(v: string) => void> = [];
    const inner: SecretsStore = {
      getSecretString: () => new Promise((resolve) => releases.push(resolve)),
    };
    return { releases, cached: new CachedSecretsStore(inner) };
  }

  it("a read in flight when invalidate is called neither fills the cache nor serves later callers", async () => {
    const { releases, cached } = heldReads();
    const before = cached.getSecretString("s");
    cached.invalidate("s");
    const after = cached.getSecretString("s");
    expect(releases).toHaveLength(2); // the later caller started its own read
    releases[0]!("old");
    releases[1]!("new");
    expect(await before).toBe("old");
    expect(await after).toBe("new");
    expect(await cached.getSecretString("s")).toBe("new");
    expect(releases).toHaveLength(2); // served from the cache, filled by the read after invalidate
  });

  it("an old read finishing after a newer one does not overwrite the cache", async () => {
    const { releases, cached } = heldReads();
    const before = cached.getSecretString("s");
    cached.invalidate();
    const after = cached.getSecretString("s");
    releases[1]!("new");
    expect(await after).toBe("new");
    releases[0]!("old");
    expect(await before).toBe("old");
    expect(await cached.getSecretString("s")).toBe("new");
    expect(releases).toHaveLength(2);
  });
});
