export * from "./logger.ts";
export * from "./metrics.ts";
export * from "./redact.ts";
export * from "./sink.ts";
