/**
 * lib/context: live ISC context for the rules. The contract (types.ts), the cached reader over any
 * ContextFetcher, its cache, its errors and its counters. (batch.ts and read-run.ts are internals.)
 */
export * from "./cache.ts";
export * from "./errors.ts";
export * from "./reader.ts";
export * from "./stats.ts";
export * from "./types.ts";
