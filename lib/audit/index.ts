/**
 * The audit trail: decision records (schema, builder, queue message, filters, formatting) and the
 * store interfaces. Lambda code imports the modules it needs directly (the http bundle carries
 * build.ts and queue-sink.ts, never the schema); this barrel is for tools and library users.
 */
export * from "./build.ts";
export * from "./filter.ts";
export * from "./format.ts";
export * from "./queue-sink.ts";
export * from "./queued-record.ts";
export * from "./record.ts";
export * from "./types.ts";
