export * from "./clients.ts";
export * from "./dynamodb-ledger.ts";
export * from "./extension-secrets.ts";
export * from "./secrets-from-env.ts";
export * from "./secrets-manager.ts";
export * from "./sqs-queue.ts";
