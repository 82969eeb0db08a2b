/** The invocation pipeline: decide, complete, run actions, record. */
export * from "./actions.ts";
export * from "./completion-errors.ts";
export * from "./decide.ts";
export * from "./describe-error.ts";
export * from "./observability.ts";
export * from "./respond.ts";
