export * from "./emf.ts";
export * from "./logger.ts";
export * from "./redact.ts";
export * from "./sink.ts";
