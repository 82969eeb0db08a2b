/**
 * Alarms (to one SNS topic) and a dashboard of decisions and latency. Alarms: dead-letter queue
 * depth, worker and http errors, the http function's failing replies as a rate, queue age, fallback
 * decisions, completions failing (deliveries that ended "failed" or past their deadline), completions
 * answered "gone" and the deadline margin.
 */
import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import type { ResponderConfig } from "./config.ts";
import { DIMENSION, HTTP_FAILING_OUTCOMES, METRIC } from "./metrics.ts";
import { acknowledge } from "./nag.ts";

export interface MonitoringProps {
  config: ResponderConfig;
  httpFunction: lambda.IFunction;
  workerFunction: lambda.IFunction;
  queue: sqs.IQueue;
  deadLetterQueues: sqs.IQueue[];
  triggerIds: string[];
  /** The stack has a decision records table: alarm when records cannot be written. */
  decisionRecords?: boolean;
}

/**
 * The http failure-rate alarm: the share of requests answered with a failing outcome, in percent,
 * per 5 minutes; it fires when HTTP_FAILURE_PERIODS of the last HTTP_FAILURE_WINDOW periods reach the
 * threshold. M of N rather than consecutive: a low-volume tenant has periods without any request.
 */
export const HTTP_FAILURE_RATE_PERCENT = 10;
export const HTTP_FAILURE_PERIODS = 3;
export const HTTP_FAILURE_WINDOW = 6;

/** ContextFailures reasons a delivery retries (lib/responder/context-decide.ts): the ContextUnavailable alarm sums them. */
const TRANSIENT_CONTEXT_REASONS = ["timeout", "rate-limited", "unavailable"] as const;

export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { config } = props;
    const namespace = config.observability.metricsNamespace;
    const service = config.observability.serviceName;
    const period = Duration.minutes(5);

    this.topic = new sns.Topic(this, "AlarmTopic", {
      displayName: "ISC trigger responder alarms",
      enforceSSL: true,
    });
    acknowledge(
      this.topic,
      "AwsSolutions-SNS2",
      "Alarm notifications carry only alarm names and states, no invocation data; CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key, and a customer managed key would add cost for no confidentiality gain.",
    );
    if (config.alarms.email)
      this.topic.addSubscription(new subscriptions.EmailSubscription(config.alarms.email));
    const notify = [new actions.SnsAction(this.topic)];
    const external = config.alarms.snsTopicArn
      ? new actions.SnsAction(sns.Topic.fromTopicArn(this, "ExternalTopic", config.alarms.snsTopicArn))
      : undefined;

    const alarm = (
      name: string,
      metric: cloudwatch.Metric | cloudwatch.MathExpression,
      options: Partial<cloudwatch.CreateAlarmOptions>,
    ) => {
      const created = metric.createAlarm(this, name, {
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...options,
      });
      for (const action of notify) created.addAlarmAction(action);
      if (external) created.addAlarmAction(external);
      this.alarms.push(created);
      return created;
    };

    props.deadLetterQueues.forEach((dlq, index) => {
      alarm(
        index === 0 ? "DeadLetterQueueDepth" : `DeadLetterQueueDepth${index + 1}`,
        dlq.metricApproximateNumberOfMessagesVisible({ period, statistic: "Maximum" }),
        { alarmDescription: "Invocations that could not be processed are waiting in a dead-letter queue." },
      );
    });
    alarm("WorkerErrors", props.workerFunction.metricErrors({ period, statistic: "Sum" }), {
      alarmDescription: "The worker function failed (invocations are retried, then dead-lettered).",
    });
    alarm("HttpErrors", props.httpFunction.metricErrors({ period, statistic: "Sum" }), {
      alarmDescription: "The http function failed while ISC was waiting for a reply.",
    });
    alarm("HttpThrottles", props.httpFunction.metricThrottles({ period, statistic: "Sum" }), {
      alarmDescription: "The http function was throttled (reserved concurrency reached): ISC got 429s.",
    });
    alarm("QueueAge", props.queue.metricApproximateAgeOfOldestMessage({ period, statistic: "Maximum" }), {
      threshold: 300,
      alarmDescription: "An invocation has waited over 5 minutes in the queue: the worker is not keeping up.",
    });

    const custom = (
      metricName: string,
      triggerId: string,
      statistic: string,
      extra: Record<string, string> = {},
    ) =>
      new cloudwatch.Metric({
        namespace,
        metricName,
        dimensionsMap: { [DIMENSION.service]: service, [DIMENSION.trigger]: triggerId, ...extra },
        statistic,
        period,
      });

    /** A metric with the service dimension only (plus `extra`): not per trigger. */
    const serviceMetric = (metricName: string, statistic: string, extra: Record<string, string> = {}) =>
      new cloudwatch.Metric({
        namespace,
        metricName,
        dimensionsMap: { [DIMENSION.service]: service, ...extra },
        statistic,
        period,
      });

    /** Every series of a metric over `dimensions` (plus service), whatever their values: a SEARCH expression. */
    const search = (metricName: string, dimensions: string[], id: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${namespace},${[DIMENSION.service, ...dimensions].join(",")}} MetricName="${metricName}" ${DIMENSION.service}="${service}"', 'Sum', ${period.toSeconds()})`,
        label: id,
        usingMetrics: {},
        period,
      });

    // 401s after a botched rotation, 503s from a Secrets Manager or SQS outage and caught 500s are
    // replies, not Lambda errors: HttpErrors never sees them. Their share of all invocations does.
    const httpFailureRate = new cloudwatch.MathExpression({
      // FILL: an outcome (or a period) without data counts 0; a period without requests is 0 %.
      expression: `IF(FILL(requests, 0) > 0, 100 * (${HTTP_FAILING_OUTCOMES.map((_, i) => `FILL(f${i}, 0)`).join(" + ")}) / FILL(requests, 0), 0)`,
      usingMetrics: {
        // Every Function URL request is one invocation, whatever the handler answers.
        requests: props.httpFunction.metricInvocations({ period, statistic: "Sum" }),
        ...Object.fromEntries(
          HTTP_FAILING_OUTCOMES.map((outcome, i) => [
            `f${i}`,
            serviceMetric(METRIC.httpRequests, "Sum", { [DIMENSION.outcome]: outcome }),
          ]),
        ),
      },
      period,
      label: "http failing replies (%)",
    });
    alarm("HttpFailureRate", httpFailureRate, {
      threshold: HTTP_FAILURE_RATE_PERCENT,
      evaluationPeriods: HTTP_FAILURE_WINDOW,
      datapointsToAlarm: HTTP_FAILURE_PERIODS,
      alarmDescription: `At least ${HTTP_FAILURE_RATE_PERCENT} % of the http function's requests failed (401 unauthorized, 403 origin refused behind the front, 503 credentials unavailable or enqueue failed, 500) in ${HTTP_FAILURE_PERIODS} of the last ${HTTP_FAILURE_WINDOW} 5-minute periods: a rotation ISC did not follow, a Secrets Manager or SQS outage, or a bug.`,
    });
    props.triggerIds.forEach((triggerId) => {
      const key = triggerId
        .replace(/^idn:access-request-/, "")
        .replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase());
      if (props.decisionRecords) {
        alarm(`${key}DecisionRecordFailures`, custom(METRIC.decisionRecordFailures, triggerId, "Sum"), {
          alarmDescription: `${triggerId}: decision records could not be written (the answers went out; the audit trail misses them). See the worker's "decision record not written" log lines.`,
        });
      }
      alarm(`${key}Fallbacks`, custom(METRIC.fallbacks, triggerId, "Sum"), {
        alarmDescription: `${triggerId}: decisions fell back to the configured fallback (a rules error, an invalid output, or context that could not be read).`,
      });
      alarm(
        `${key}CompletionsFailed`,
        custom(METRIC.outcomes, triggerId, "Sum", { [DIMENSION.outcome]: "failed" }),
        {
          alarmDescription: `${triggerId}: invocations could not be answered (completion failed for good).`,
        },
      );
      // Transient context failures are redelivered (worker) or deferred (http), not fallen back on, so
      // Fallbacks does not see an ISC read outage until the deadlines run out: this does, within minutes.
      alarm(
        `${key}ContextUnavailable`,
        new cloudwatch.MathExpression({
          // FILL: a reason with no data point in the period must count 0, not blank the sum.
          expression: TRANSIENT_CONTEXT_REASONS.map((_, i) => `FILL(r${i}, 0)`).join(" + "),
          usingMetrics: Object.fromEntries(
            TRANSIENT_CONTEXT_REASONS.map((reason, i) => [
              `r${i}`,
              custom(METRIC.contextFailures, triggerId, "Sum", { [DIMENSION.reason]: reason }),
            ]),
          ),
          period,
          label: `${triggerId} context unavailable`,
        }),
        {
          threshold: 5,
          alarmDescription: `${triggerId}: ISC's read APIs keep failing (timeouts, 429s, 5xx): decisions that need context are delayed, then fall back.`,
        },
      );
      alarm(`${key}DeadlinePassed`, custom(METRIC.deadlinePassed, triggerId, "Sum"), {
        alarmDescription: `${triggerId}: invocations were not completed before their deadline (the access request fails).`,
      });
      // 400.1.404 on completion: ISC no longer waits for this answer (expired, or completed elsewhere).
      alarm(`${key}InvocationGone`, custom(METRIC.invocationGone, triggerId, "Sum"), {
        alarmDescription: `${triggerId}: ISC answered completions with 400.1.404 (already completed or expired): our answer did not land (unless the log line says completionReplyLost: ISC's reply to our own completion was lost).`,
      });
      alarm(`${key}DeadlineMargin`, custom(METRIC.deadlineMargin, triggerId, "Minimum"), {
        threshold: config.alarms.deadlineMarginMs,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        alarmDescription: `${triggerId}: a completion was acknowledged less than ${config.alarms.deadlineMarginMs} ms before its deadline.`,
      });
    });

    this.dashboard = new cloudwatch.Dashboard(this, "Dashboard", {
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: "Decisions by kind",
        width: 12,
        left: props.triggerIds.flatMap((triggerId) =>
          ["rule", "default", "fallback"].map((kind) =>
            custom(METRIC.decisions, triggerId, "Sum", { [DIMENSION.kind]: kind }).with({
              label: `${triggerId} ${kind}`,
            }),
          ),
        ),
      }),
      new cloudwatch.GraphWidget({
        title: "Completions, deadline passed, gone",
        width: 12,
        left: props.triggerIds.flatMap((triggerId) => [
          custom(METRIC.completions, triggerId, "Sum").with({ label: `${triggerId} completed` }),
          custom(METRIC.deadlinePassed, triggerId, "Sum").with({ label: `${triggerId} deadline passed` }),
          custom(METRIC.invocationGone, triggerId, "Sum").with({ label: `${triggerId} gone` }),
        ]),
      }),
      new cloudwatch.GraphWidget({
        title: "Completion latency (ms)",
        width: 12,
        left: props.triggerIds.flatMap((triggerId) =>
          ["p50", "p99", "Maximum"].map((statistic) =>
            custom(METRIC.completionLatency, triggerId, statistic).with({
              label: `${triggerId} ${statistic}`,
            }),
          ),
        ),
      }),
      new cloudwatch.GraphWidget({
        title: "Deadline margin (ms, minimum)",
        width: 12,
        left: props.triggerIds.map((triggerId) =>
          custom(METRIC.deadlineMargin, triggerId, "Minimum").with({ label: triggerId }),
        ),
      }),
      new cloudwatch.GraphWidget({
        title: "http function duration (ms)",
        width: 12,
        left: ["p50", "p99", "Maximum"].map((statistic) =>
          props.httpFunction.metricDuration({ statistic, period }).with({ label: statistic }),
        ),
      }),
      new cloudwatch.GraphWidget({
        title: "http requests by outcome, and the failing share (%)",
        width: 12,
        left: [search(METRIC.httpRequests, [DIMENSION.outcome], "requests")],
        right: [httpFailureRate],
        rightYAxis: { min: 0, max: 100, showUnits: false },
      }),
      new cloudwatch.GraphWidget({
        // Shadow mode (docs/going-live.md): how often the rules' answer is not what ISC got.
        title: "Shadow decisions: the rules' answer differs from what ISC got",
        width: 12,
        left: [search(METRIC.shadowDecisions, [DIMENSION.trigger, DIMENSION.differs], "shadow")],
      }),
      new cloudwatch.GraphWidget({
        title: "Context reads (ISC requests by kind) and cache hits",
        width: 12,
        left: [
          // One line per kind that occurs (SEARCH): the kinds depend on what the rules read.
          search(METRIC.contextReads, [DIMENSION.kind], "reads"),
          serviceMetric(METRIC.contextCacheHits, "Sum").with({ label: "cache hits" }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: "Context failures (the decision fell back) and ISC 429s",
        width: 12,
        left: [
          search(METRIC.contextFailures, [DIMENSION.trigger, DIMENSION.reason], "failures"),
          search(METRIC.throttled, [DIMENSION.api], "throttled"),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: "Context wait per decision (ms)",
        width: 12,
        left: props.triggerIds.flatMap((triggerId) =>
          ["p50", "p99", "Maximum"].map((statistic) =>
            custom(METRIC.contextLatency, triggerId, statistic).with({ label: `${triggerId} ${statistic}` }),
          ),
        ),
      }),
      new cloudwatch.GraphWidget({
        title: "Queue and dead letters",
        width: 12,
        left: [
          props.queue.metricApproximateNumberOfMessagesVisible({ period }).with({ label: "queued" }),
          ...props.deadLetterQueues.map((dlq, index) =>
            dlq
              .metricApproximateNumberOfMessagesVisible({ period })
              .with({ label: `dead letters ${index + 1}` }),
          ),
        ],
      }),
    );
  }
}
