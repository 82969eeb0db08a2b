/** Small fakes for the pipeline: rules, ISC client, logger, metrics, clock. */
import { readFileSync } from "node:fs";
import { InvocationGoneError, IscApiError } from "../../../lib/isc/errors.ts";
import type {
  CallOptions,
  CompletionBody,
  CompletionTarget,
  IscActionsApi,
  IscCompletionApi,
  JsonPatchOperation,
} from "../../../lib/isc/types.ts";
import type { LogFields, PipelineLogger, PipelineMetrics } from "../../../lib/responder/observability.ts";
import type { ActionSpec, CompiledRules, Decision, Explanation } from "../../../lib/rules/types.ts";
import { type Invocation, invocationFromHttpBody } from "../../../lib/triggers/invocation.ts";
import type { KnownTriggerId } from "../../../lib/triggers/trigger-ids.ts";
import { payloadOnly } from "../../helpers/payload-rules.ts";

export const TENANT = "https://acme.api.identitynow.com";
export const T0 = 1_750_000_000_000;
export const HOUR = 3_600_000;
export const SECRET = "c1c60493-3347-4550-9c00-123cdde";

const examples = new URL("../../fixtures/isc-reference/examples/", import.meta.url);
export const loadExample = (name: string) => JSON.parse(readFileSync(new URL(name, examples), "utf8"));

/** The documented async pre-approval body, received at `receivedAt`, deadline one hour later. */
export function asyncInvocation(options: { receivedAt?: number; invocationId?: string } = {}): Invocation {
  const body = loadExample("http-async-pre-approval.request.json");
  if (options.invocationId !== undefined) {
    body._metadata.callbackURL = `${TENANT}/beta/trigger-invocations/${options.invocationId}/complete`;
  }
  return invocationFromHttpBody(body, {
    tenantBaseUrl: TENANT,
    responseDeadlineMs: () => HOUR,
    receivedAt: options.receivedAt ?? T0,
  });
}

export function explanation(ruleId: string, kind: Explanation["kind"] = "rule"): Explanation {
  return {
    ruleId,
    kind,
    matched: [],
    rulesVersion: "sha256:0123456789abcdef",
    rulesEvaluated: 1,
    evaluationMicros: 7,
  };
}

export interface FakeRules extends CompiledRules {
  calls: number;
}

/** Approves with rule "r-approve" (and the given actions); or throws when `throws`. */
export function fakeRules(
  options: { actions?: ActionSpec[]; throws?: boolean; approved?: boolean } = {},
): FakeRules {
  const rules = payloadOnly({
    calls: 0,
    version: "sha256:0123456789abcdef",
    decide(invocation: Invocation): Decision {
      rules.calls += 1;
      if (options.throws) throw new TypeError("predicate blew up");
      if (invocation.triggerType === "fireAndForget") {
        return {
          triggerId: invocation.triggerId,
          output: null,
          explanation: explanation("r-post"),
          actions: options.actions ?? [],
        };
      }
      return {
        triggerId: "idn:access-request-pre-approval",
        output: { approved: options.approved ?? true, comment: "approved by rule", approver: "rules" },
        explanation: explanation(options.approved === false ? "r-deny" : "r-approve"),
        actions: options.actions ?? [],
      } as Decision;
    },
    fallback(_triggerId: KnownTriggerId, reason: string): Decision {
      return {
        triggerId: "idn:access-request-pre-approval",
        output: { approved: false, comment: "fallback", approver: "responder" },
        explanation: { ...explanation("fallback", "fallback"), fallbackReason: reason },
        actions: [],
      } as Decision;
    },
  });
  return rules;
}

export type Behaviour = "ok" | Error | ((call: CompletionCall) => Promise<void>);

export interface CompletionCall {
  target: CompletionTarget;
  body: CompletionBody;
  options: CallOptions | undefined;
}

/** Records every call; completions follow `completionBehaviours` in order, then succeed. */
export class FakeClient implements IscCompletionApi, IscActionsApi {
  readonly completions: CompletionCall[] = [];
  readonly completionBehaviours: Behaviour[] = [];
  readonly events: string[] = [];
  readonly taskUpdates: Array<{ taskId: string; operations: JsonPatchOperation[]; options?: CallOptions }> =
    [];
  readonly campaigns: Array<{ campaignId: string; request?: { autoCompleteAction?: "APPROVE" | "REVOKE" } }> =
    [];
  roleInsightsRequests = 0;
  failTaskUpdates = false;

  async completeInvocation(
    target: CompletionTarget,
    body: CompletionBody,
    options?: CallOptions,
  ): Promise<void> {
    const call = { target, body, options };
    this.completions.push(call);
    this.events.push("complete");
    const behaviour = this.completionBehaviours.shift() ?? "ok";
    if (behaviour === "ok") return;
    if (behaviour instanceof Error) throw behaviour;
    await behaviour(call);
  }

  async updateTaskStatus(
    taskId: string,
    operations: JsonPatchOperation[],
    options?: CallOptions,
  ): Promise<unknown> {
    this.events.push(`task:${taskId}`);
    this.taskUpdates.push({ taskId, operations, ...(options === undefined ? {} : { options }) });
    if (this.failTaskUpdates) throw serverError(502, "PATCH /beta/task-status/x");
    return { id: taskId };
  }

  async completeCampaign(
    campaignId: string,
    request?: { autoCompleteAction?: "APPROVE" | "REVOKE" },
  ): Promise<void> {
    this.events.push(`campaign:${campaignId}`);
    this.campaigns.push({ campaignId, ...(request === undefined ? {} : { request }) });
  }

  async createRoleInsightsRequest(): Promise<{ id: string; status: string }> {
    this.events.push("role-insights");
    this.roleInsightsRequests += 1;
    return { id: "ri-1", status: "CREATED" };
  }
}

export function serverError(
  status = 503,
  operation = "POST /beta/trigger-invocations/x/complete",
): IscApiError {
  return new IscApiError({ status, operation, detailCode: "503.0 Service unavailable", trackingId: "trk-1" });
}

/** ISC's 400.1.404; `uncertainEarlierAttempt`: an earlier attempt of the same call may have been applied. */
export function goneError(invocationId: string, uncertainEarlierAttempt = false): InvocationGoneError {
  return new InvocationGoneError(
    {
      status: 400,
      operation: "POST /beta/trigger-invocations/x/complete",
      detailCode: "400.1.404 Referenced object not found",
    },
    invocationId,
    uncertainEarlierAttempt,
  );
}

export interface LogLine {
  level: string;
  message: string;
  fields: LogFields | undefined;
}

export class RecordingLogger implements PipelineLogger {
  readonly lines: LogLine[] = [];
  debug(message: string, fields?: LogFields) {
    this.lines.push({ level: "debug", message, fields });
  }
  info(message: string, fields?: LogFields) {
    this.lines.push({ level: "info", message, fields });
  }
  warn(message: string, fields?: LogFields) {
    this.lines.push({ level: "warn", message, fields });
  }
  error(message: string, fields?: LogFields) {
    this.lines.push({ level: "error", message, fields });
  }
  /** Everything logged, serialised as a JSON logger would. */
  text(): string {
    return JSON.stringify(this.lines);
  }
}

export class RecordingMetrics implements PipelineMetrics {
  readonly points: Array<{ name: string; unit: string; value: number; dimensions?: Record<string, string> }> =
    [];
  record(name: string, unit: "Count" | "Milliseconds", value: number, dimensions?: Record<string, string>) {
    this.points.push({ name, unit, value, ...(dimensions === undefined ? {} : { dimensions }) });
  }
  sum(name: string, where: Record<string, string> = {}): number {
    return this.points
      .filter((p) => p.name === name && Object.entries(where).every(([k, v]) => p.dimensions?.[k] === v))
      .reduce((total, p) => total + p.value, 0);
  }
}

/** A settable clock and a sleep that advances it instead of waiting. */
export function fakeTime(start = T0) {
  const time = {
    now: start,
    clock: () => time.now,
    sleep: async (ms: number) => {
      time.now += ms;
    },
  };
  return time;
}
