export * from "./duration.ts";
export * from "./invocation.ts";
export * from "./queued-invocation.ts";
export * from "./schemas.ts";
export * from "./secret.ts";
export * from "./trigger-ids.ts";
