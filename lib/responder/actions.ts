/**
 * Runs a decision's actions (ActionSpec) against the ISC API. Actions are side effects of a
 * decision, never part of it: each gets its own short deadline, they run in parallel, and a failure
 * is recorded (log, metric, returned outcome) without changing what was decided or completed.
 */
import type { CallOptions, IscActionsApi, JsonPatchOperation } from "../isc/types.ts";
import type { ActionSpec } from "../rules/types.ts";
import { describeError } from "./describe-error.ts";
import {
  type LogFields,
  type PipelineLogger,
  PipelineMetric,
  type PipelineMetrics,
} from "./observability.ts";

export interface ActionOutcome {
  type: ActionSpec["type"];
  /** The object acted on (task or campaign id; the created request's id for role insights). */
  target?: string;
  ok: boolean;
  /** Why it failed: error name, status, detailCode, trackingId (never payload values). */
  error?: string;
  latencyMs: number;
}

export interface RunActionsDeps {
  client: IscActionsApi;
  logger: PipelineLogger;
  metrics: PipelineMetrics;
  clock?: () => number;
}

export interface RunActionsOptions {
  /** Per-action bound on the call, retries included (default 5 s). */
  timeoutMs?: number;
  /** Aborts every action (e.g. the Lambda is about to time out). */
  signal?: AbortSignal;
  /** Fields added to every log line (invocation id, trigger id, ...). */
  logFields?: LogFields;
}

export const DEFAULT_ACTION_TIMEOUT_MS = 5_000;

/** The JSON Patch for update-task-status: `/completionStatus`, and `/completed` when given. */
export function taskStatusPatch(action: Extract<ActionSpec, { type: "update-task-status" }>) {
  const operations: JsonPatchOperation[] = [
    { op: "replace", path: "/completionStatus", value: action.completionStatus },
  ];
  if (action.completed !== undefined) {
    operations.push({ op: "replace", path: "/completed", value: action.completed });
  }
  return operations;
}

async function runOne(action: ActionSpec, client: IscActionsApi, options: CallOptions): Promise<string> {
  switch (action.type) {
    case "update-task-status":
      await client.updateTaskStatus(action.taskId, taskStatusPatch(action), options);
      return action.taskId;
    case "complete-campaign":
      await client.completeCampaign(
        action.campaignId,
        action.autoCompleteAction === undefined ? {} : { autoCompleteAction: action.autoCompleteAction },
        options,
      );
      return action.campaignId;
    case "request-role-insights": {
      const created = await client.createRoleInsightsRequest(options);
      return created.id;
    }
    default: {
      const unknownType: never = action;
      throw new Error(`unknown action type ${String((unknownType as { type?: unknown }).type)}`);
    }
  }
}

/** Runs every action; never throws. Outcomes are in the order of `actions`. */
export async function runActions(
  actions: readonly ActionSpec[],
  deps: RunActionsDeps,
  options: RunActionsOptions = {},
): Promise<ActionOutcome[]> {
  if (actions.length === 0) return [];
  const now = deps.clock ?? Date.now;
  const timeoutMs = options.timeoutMs ?? DEFAULT_ACTION_TIMEOUT_MS;
  return Promise.all(
    actions.map(async (action): Promise<ActionOutcome> => {
      const started = now();
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
      let outcome: ActionOutcome;
      try {
        const target = await runOne(action, deps.client, { deadline: started + timeoutMs, signal });
        outcome = { type: action.type, target, ok: true, latencyMs: now() - started };
        deps.logger.info("action succeeded", { ...options.logFields, action: action.type, target });
      } catch (error) {
        const target =
          "taskId" in action ? action.taskId : "campaignId" in action ? action.campaignId : undefined;
        outcome = {
          type: action.type,
          ...(target === undefined ? {} : { target }),
          ok: false,
          error: describeError(error),
          latencyMs: now() - started,
        };
        deps.logger.warn("action failed; the decision stands", {
          ...options.logFields,
          action: action.type,
          target,
          error: outcome.error,
        });
      }
      deps.metrics.record(PipelineMetric.actions, "Count", 1, {
        action: action.type,
        result: outcome.ok ? "ok" : "failed",
      });
      return outcome;
    }),
  );
}
