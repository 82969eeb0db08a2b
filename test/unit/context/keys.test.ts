import { describe, expect, it } from "vitest";
import { CacheKeys } from "../../../lib/context/keys.ts";

describe("CacheKeys", () => {
  it("is kind:id, the same string each time, and forgets everything past its bound", () => {
    const keys = new CacheKeys(3);
    const first = keys.of("identities", "alice");
    expect(first).toBe("identities:alice");
    expect(keys.of("identities", "alice")).toBe(first);
    expect(keys.of("entitlements", "alice")).toBe("entitlements:alice");
    expect(keys.of("sodPrediction", "alice|e1,e2")).toBe("sodPrediction:alice|e1,e2");
    // Full: the next new key starts afresh; every key is still right.
    expect(keys.of("roles", "r1")).toBe("roles:r1");
    expect(keys.of("identities", "alice")).toBe("identities:alice");
  });
});
