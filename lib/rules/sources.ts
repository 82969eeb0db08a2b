/**
 * The context sources' names as the rules format writes them (`needs: [identity, ...]`): the same as
 * lib/context/types.ts CONTEXT_SOURCES. Its own module so the evaluation code (compile.ts, bundled in
 * the Lambda handlers) gets them without the rules format's zod schemas.
 */
import type { ContextSource } from "../context/types.ts";

export const CONTEXT_SOURCE_NAMES = [
  "identity",
  "requester",
  "manager",
  "items",
  "grants",
  "sources",
  "sod",
  "sodPolicies",
  "accessRequests",
] as const satisfies readonly ContextSource[];
