export * from "./memory-ledger.ts";
export * from "./memory-queue.ts";
export * from "./secrets.ts";
