import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { ViolationPredictionSchema } from "../../../lib/isc/context-schemas.ts";

describe("SoD prediction responses", () => {
  it("a 200 without a violationContexts list is invalid, never 'no violation'", () => {
    for (const body of [{}, { violationContexts: null }, { requestId: "r" }, { violationContexts: "none" }]) {
      expect(z.safeParse(ViolationPredictionSchema, body).success, JSON.stringify(body)).toBe(false);
    }
  });

  it("an empty list is no violation; extra fields are tolerated", () => {
    expect(z.safeParse(ViolationPredictionSchema, { violationContexts: [], requestId: "r" }).success).toBe(
      true,
    );
  });
});
