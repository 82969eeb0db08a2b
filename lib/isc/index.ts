/** The ISC API client and its contracts. */
export * from "./auth.ts";
export * from "./callback-url.ts";
export * from "./client.ts";
export * from "./context-reads.ts";
export * from "./context-schemas.ts";
export * from "./errors.ts";
export {
  DEFAULT_RETRY,
  type HttpMethod,
  type RetryEvent,
  type RetryOptions,
  type RetryReason,
} from "./http.ts";
export { parseErrorResponse, parseRetryAfter } from "./http-errors.ts";
export * from "./rate-limiter.ts";
export * from "./schemas.ts";
export { type Clock, realSleep, type Sleep } from "./timing.ts";
export type * from "./types.ts";
