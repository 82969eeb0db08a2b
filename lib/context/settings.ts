/**
 * The context reader's settings as the stack passes them to both functions (`CONTEXT_SETTINGS`, JSON;
 * docs/runtime-contract.md): this container's share of the tenant's read rate, cache TTLs and bound.
 * A malformed value fails the cold start loudly rather than reading past the tenant's limit.
 */
import * as z from "zod/mini";
import { issuesFromZod, ValidationError } from "../errors.ts";
import type { ContextKind } from "./types.ts";

const seconds = z.number().check(z.int(), z.gte(0), z.lte(86_400));

export const ContextSettingsSchema = z.strictObject({
  /** ISC read requests per 10 s per API version for this container: its share of the tenant's 100. */
  requestsPer10s: z.number().check(z.int(), z.gte(1), z.lte(100)),
  /**
   * Its share of `beta` (completions, task status, role insights): only the worker sends those, so
   * the tenant's 100 are split between worker containers alone. Default: requestsPer10s.
   */
  betaRequestsPer10s: z.optional(z.number().check(z.int(), z.gte(1), z.lte(100))),
  /** Seconds an object stays cached, per group (0: not cached). */
  ttlSeconds: z.strictObject({
    identities: seconds,
    items: seconds,
    sources: seconds,
    sod: seconds,
    sodPolicies: seconds,
    accessRequests: seconds,
  }),
  /** Objects cached at most (least recently used dropped first). */
  maxEntries: z.number().check(z.int(), z.gte(0), z.lte(1_000_000)),
});
export type ContextSettings = z.infer<typeof ContextSettingsSchema>;

/** Defaults for one container with the tenant's whole budget (local runs, `serve`, tests). */
export const DEFAULT_CONTEXT_SETTINGS: ContextSettings = {
  requestsPer10s: 100,
  // Access requests uncached (0: reads in flight are still shared): a burst of requests for one person
  // must each see the ones before it, or "at most 5 in 24 hours" would let a burst through.
  ttlSeconds: { identities: 60, items: 600, sources: 600, sod: 30, sodPolicies: 600, accessRequests: 0 },
  maxEntries: 5_000,
};

/** The ISC client's limiter for these settings: per API version, beta with its own share. */
export function iscRateLimits(settings: ContextSettings): {
  rateLimit: { requests: number; windowMs: number };
  rateLimitByVersion: Record<string, { requests: number; windowMs: number }>;
} {
  const beta = settings.betaRequestsPer10s ?? settings.requestsPer10s;
  return {
    rateLimit: { requests: settings.requestsPer10s, windowMs: 10_000 },
    rateLimitByVersion: { beta: { requests: beta, windowMs: 10_000 } },
  };
}

/** TTL in ms of each kind of object, from the grouped settings. */
export function ttlMsByKind(settings: ContextSettings): Record<ContextKind, number> {
  const t = settings.ttlSeconds;
  return {
    identities: t.identities * 1000,
    entitlements: t.items * 1000,
    accessProfiles: t.items * 1000,
    roles: t.items * 1000,
    sources: t.sources * 1000,
    sodPrediction: t.sod * 1000,
    sodPolicy: t.sodPolicies * 1000,
    accessRequestStatus: t.accessRequests * 1000,
  };
}

/** `CONTEXT_SETTINGS` (JSON) or the defaults when unset. */
export function contextSettingsFromEnv(value: string | undefined): ContextSettings {
  if (value === undefined || value.trim() === "") return DEFAULT_CONTEXT_SETTINGS;
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    throw new ValidationError("CONTEXT_SETTINGS", [{ path: "", message: "is not JSON" }]);
  }
  const parsed = z.safeParse(ContextSettingsSchema, json);
  if (!parsed.success) throw new ValidationError("CONTEXT_SETTINGS", issuesFromZod(parsed.error.issues));
  return parsed.data;
}
