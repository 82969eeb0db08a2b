/**
 * The decision record of an answer the http function gave in its reply (sync, dynamic answered in
 * time): its draft (lib/audit/answer-draft.ts) is handed to `records` within the reply budget, and
 * the record is built behind the sink (by the worker in AWS), so the builder is not in this bundle.
 * It never throws: a failure costs the record (DecisionRecordFailures, a log line without the
 * record's content), never the answer.
 */
import { type AnswerRecordSink, answerDraft, iso } from "../audit/answer-draft.ts";
import type { RecordTimelineEntry } from "../audit/record.ts";
import type { ContextDecideResult } from "../responder/context-decide.ts";
import { PipelineMetric, type PipelineMetrics } from "../responder/observability.ts";
import type { Invocation } from "../triggers/invocation.ts";
import { describeError, invocationFields, withTimeout } from "./replies.ts";

export interface AnswerRecorderDeps {
  records?: AnswerRecordSink;
  recordRetentionDays?: number;
  metrics?: PipelineMetrics;
  logger: { warn(message: string, fields?: Record<string, unknown>): void };
  clock: () => number;
  /** How long the hand-over may take for an invocation received at `receivedAt`. */
  timeoutMs: (receivedAt: number) => number;
}

export type AnswerRecorder = (
  invocation: Invocation,
  result: ContextDecideResult,
  decidedAt: number,
) => Promise<void>;

export function answerRecorder(deps: AnswerRecorderDeps): AnswerRecorder {
  return async (invocation, result, decidedAt) => {
    const sink = deps.records;
    if (sink === undefined) return;
    try {
      const answeredAt = deps.clock();
      const draft = answerDraft({
        invocation,
        result,
        decidedAt,
        answeredAt,
        timeline: timeline(invocation, result, decidedAt, answeredAt),
        ...(deps.recordRetentionDays === undefined ? {} : { retentionDays: deps.recordRetentionDays }),
      });
      const ms = deps.timeoutMs(invocation.receivedAt);
      await withTimeout(
        sink.putAnswer(draft, { signal: AbortSignal.timeout(ms) }),
        ms,
        "recording the decision",
      );
    } catch (error) {
      deps.metrics?.record(PipelineMetric.decisionRecordFailures, "Count", 1, {
        trigger: invocation.triggerId,
      });
      deps.logger.warn("decision record not written; the answer is sent", {
        ...invocationFields(invocation),
        ...describeError(error),
      });
    }
  };
}

function timeline(
  invocation: Invocation,
  result: ContextDecideResult,
  decidedAt: number,
  answeredAt: number,
): RecordTimelineEntry[] {
  const entries: RecordTimelineEntry[] = [
    { at: iso(invocation.receivedAt), event: "received", detail: `${invocation.mode} delivery` },
  ];
  const report = result.context;
  if (report !== undefined) {
    entries.push({
      at: iso(decidedAt),
      event: "context-read",
      detail: `${report.needs.join(", ")}: ${report.reads.length} reads, ${report.cacheHits} from cache, ${report.ms} ms`,
    });
  }
  const explanation = result.decision.explanation;
  entries.push({
    at: iso(decidedAt),
    event: "decided",
    detail: result.fallback
      ? `fallback: ${result.fallbackReason ?? "unknown"}`
      : `${explanation.kind} ${explanation.ruleId}`,
  });
  entries.push({ at: iso(answeredAt), event: "answered", detail: "in the HTTP reply" });
  return entries;
}
