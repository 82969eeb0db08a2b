/**
 * Runs the worker (createWorkerHandler) and the HTTP handler (createHttpHandler) in process through
 * every path that feeds an alarm or a dashboard widget, with the EMF metrics the functions use
 * (lib/observability/emf.ts), and returns the EMF lines they wrote. The stack test checks every
 * alarm's metric against these lines: an alarm on a metric or dimension set that is never emitted
 * never fires.
 */

import type { SQSEvent } from "aws-lambda";
import { MemoryInvocationLedger } from "../../../lib/adapters/local/memory-ledger.ts";
import { createHttpHandler } from "../../../lib/http/handler.ts";
import { createOriginVerifyProvider } from "../../../lib/http/origin-check.ts";
import { InvocationGoneError, IscApiError } from "../../../lib/isc/errors.ts";
import type { CompletionTarget, IscActionsApi, IscCompletionApi } from "../../../lib/isc/types.ts";
import { emfMetrics } from "../../../lib/observability/emf.ts";
import { silentLogger } from "../../../lib/responder/observability.ts";
import type { CompiledRules, Decision, DecisionKind } from "../../../lib/rules/types.ts";
import type { Invocation } from "../../../lib/triggers/invocation.ts";
import { invocationFromHttpBody } from "../../../lib/triggers/invocation.ts";
import { toQueuedInvocation } from "../../../lib/triggers/queued-invocation.ts";
import type { KnownTriggerId } from "../../../lib/triggers/trigger-ids.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../../../lib/triggers/trigger-ids.ts";
import { createWorkerHandler } from "../../../lib/worker/handler.ts";
import { identityRules } from "../../helpers/context-doubles.ts";
import { payloadOnly } from "../../helpers/payload-rules.ts";
import { body, event, example, FakeQueue, TENANT, TOKEN } from "../http/fixtures.ts";

const HOUR = 3_600_000;

/** A decision records store that is down (the DecisionRecordFailures alarm's metric): the worker's sink and the http one. */
const failingRecords = {
  put: async () => {
    throw new Error("decision records table unavailable");
  },
  putAnswer: async () => {
    throw new Error("decision records queue unavailable");
  },
};

/** What happens to an invocation, chosen by the last digit of its id. */
const SCENARIOS = {
  "1": "rule",
  "2": "default",
  "3": "rules-throw",
  "4": "refused", // ISC 400: final "failed"
  "5": "gone", // ISC 400.1.404
  "6": "late", // deadline passed before the worker saw it
} as const;
type Scenario = (typeof SCENARIOS)[keyof typeof SCENARIOS];

function scenarioOf(invocationId: string | undefined): Scenario {
  return SCENARIOS[(invocationId ?? "1").slice(-1) as keyof typeof SCENARIOS] ?? "rule";
}

function output(triggerId: string): Record<string, unknown> {
  return triggerId === PRE_APPROVAL
    ? { approved: true, comment: "ok", approver: "rules" }
    : { id: "2c91808b6ef1d43e016efba0ce470906", name: "Adam Admin", type: "IDENTITY" };
}

function decision(triggerId: string, kind: DecisionKind, fallbackReason?: string): Decision {
  const fallbackOutput =
    triggerId === PRE_APPROVAL
      ? { approved: false, comment: "fallback", approver: "rules" }
      : { id: "", name: "", type: "" };
  const result = {
    triggerId,
    output: kind === "fallback" ? fallbackOutput : output(triggerId),
    explanation: {
      ruleId: kind,
      kind,
      matched: [],
      rulesVersion: "sha256:metrics",
      rulesEvaluated: 1,
      evaluationMicros: 1,
      ...(fallbackReason === undefined ? {} : { fallbackReason }),
    },
    actions: [],
  };
  return result as unknown as Decision;
}

/** Rules whose decision depends on the scenario: a matching rule, the default, or a throw (fallback). */
const rules: CompiledRules = payloadOnly({
  version: "sha256:metrics",
  decide(invocation: Invocation) {
    const scenario = scenarioOf(invocation.invocationId);
    if (scenario === "rules-throw") throw new TypeError("predicate blew up");
    return decision(invocation.triggerId, scenario === "default" ? "default" : "rule");
  },
  fallback: (triggerId: KnownTriggerId, reason: string) => decision(triggerId, "fallback", reason),
});

/** ISC as the scenario wants it: acknowledges, refuses (400) or says already completed (400.1.404). */
const client: IscCompletionApi & IscActionsApi = {
  async completeInvocation(target: CompletionTarget) {
    const invocationId =
      "invocationId" in target
        ? target.invocationId
        : (/trigger-invocations\/([^/]+)\/complete/.exec(target.callbackUrl)?.[1] ?? "");
    const scenario = scenarioOf(invocationId);
    const operation = `POST /beta/trigger-invocations/${invocationId}/complete`;
    if (scenario === "refused") {
      throw new IscApiError({ status: 400, operation, detailCode: "400.1.0 Bad request", trackingId: "t" });
    }
    if (scenario === "gone") {
      throw new InvocationGoneError(
        { status: 400, operation, detailCode: "400.1.404 Referenced object not found", trackingId: "t" },
        invocationId,
      );
    }
  },
  async updateTaskStatus() {
    return {};
  },
  async completeCampaign() {},
  async createRoleInsightsRequest() {
    return { id: "ri", status: "CREATED" };
  },
};

/** The documented HTTP body of `triggerId` with the given invocation id and response mode. */
function httpBody(triggerId: string, invocationId: string, mode: "sync" | "async") {
  const b =
    triggerId === PRE_APPROVAL
      ? body(mode, PRE_APPROVAL)
      : (() => {
          const detail = example("eventbridge-dynamic-approver.event.json").detail;
          delete detail._metadata.invocationId;
          detail._metadata.responseMode = mode;
          return detail;
        })();
  b._metadata.callbackURL = `${TENANT}/beta/trigger-invocations/${invocationId}/complete`;
  return b;
}

export async function emittedMetricLines(namespace: string, service: string): Promise<string[]> {
  const lines: string[] = [];
  const metrics = emfMetrics(namespace, service, (line) => lines.push(line));
  const now = Date.now();

  const worker = createWorkerHandler({
    rules,
    client,
    ledger: new MemoryInvocationLedger(),
    logger: silentLogger,
    metrics,
    tenantBaseUrl: TENANT,
    responseDeadlineMs: () => HOUR,
    workerId: "metrics-test",
    // Every record write fails: DecisionRecordFailures (the outcomes stand, so nothing else changes).
    records: failingRecords,
  });
  const records: SQSEvent["Records"] = [];
  for (const triggerId of [PRE_APPROVAL, DYNAMIC_APPROVER]) {
    for (const [digit, scenario] of Object.entries(SCENARIOS)) {
      const invocationId = `aaaaaaaa-0000-4000-8000-00000000000${digit}`.replace(
        /^a/,
        triggerId === PRE_APPROVAL ? "a" : "b",
      );
      const invocation = invocationFromHttpBody(httpBody(triggerId, invocationId, "async"), {
        tenantBaseUrl: TENANT,
        responseDeadlineMs: () => HOUR,
        receivedAt: scenario === "late" ? now - 2 * HOUR : now - 1000,
      });
      records.push({
        messageId: `${triggerId}-${scenario}`,
        receiptHandle: "rh",
        body: JSON.stringify(toQueuedInvocation(invocation)),
        attributes: {
          ApproximateReceiveCount: "1",
          SentTimestamp: String(now),
          SenderId: "s",
          ApproximateFirstReceiveTimestamp: String(now),
        },
        messageAttributes: {},
        md5OfBody: "",
        eventSource: "aws:sqs",
        eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:q",
        awsRegion: "us-east-1",
      });
    }
  }
  await worker({ Records: records });

  // The HTTP handler answers sync invocations itself: a matching rule, and a fallback.
  const http = createHttpHandler({
    rules,
    credentials: { get: async () => ({ type: "bearer", current: TOKEN }) },
    queue: new FakeQueue(),
    logger: silentLogger,
    metrics,
    tenantBaseUrl: TENANT,
    responseDeadlineMs: () => HOUR,
    records: failingRecords,
  });
  for (const triggerId of [PRE_APPROVAL, DYNAMIC_APPROVER]) {
    for (const digit of ["1", "3"]) {
      const reply = await http(
        event(httpBody(triggerId, `cccccccc-0000-4000-8000-00000000000${digit}`, "sync")),
      );
      if (reply.statusCode !== 200) throw new Error(`the http handler answered ${reply.statusCode}`);
    }
  }
  // Sync decisions that read live context (one from a read with cache hits), as the dashboard's context widgets expect.
  const contextual = createHttpHandler({
    rules: identityRules(),
    credentials: { get: async () => ({ type: "bearer", current: TOKEN }) },
    queue: new FakeQueue(),
    logger: silentLogger,
    metrics,
    context: {
      async read(subject) {
        return {
          data: {
            identity: subject.requestedFor.map((ref) => ({
              id: ref.id,
              name: ref.id,
              identityStatus: "ACTIVE",
            })),
          },
          reads: [{ kind: "identities", ids: 1, from: "api", ms: 2 }],
          cacheHits: 2,
        };
      },
    },
    tenantBaseUrl: TENANT,
    responseDeadlineMs: () => HOUR,
  });
  for (const triggerId of [PRE_APPROVAL, DYNAMIC_APPROVER]) {
    const reply = await contextual(
      event(httpBody(triggerId, "dddddddd-0000-4000-8000-000000000001", "sync")),
    );
    if (reply.statusCode !== 200) throw new Error(`the http handler answered ${reply.statusCode}`);
  }
  // Context that cannot be read, for each reason the ContextUnavailable alarm sums (sync: the fallback answers).
  for (const reason of ["timeout", "rate-limited", "unavailable"]) {
    const failing = createHttpHandler({
      rules: identityRules(),
      credentials: { get: async () => ({ type: "bearer", current: TOKEN }) },
      queue: new FakeQueue(),
      logger: silentLogger,
      metrics,
      context: {
        async read() {
          throw Object.assign(new Error("context read failed"), { kind: "identities", reason });
        },
      },
      tenantBaseUrl: TENANT,
      responseDeadlineMs: () => HOUR,
    });
    for (const triggerId of [PRE_APPROVAL, DYNAMIC_APPROVER]) {
      const reply = await failing(event(httpBody(triggerId, "eeeeeeee-0000-4000-8000-000000000001", "sync")));
      if (reply.statusCode !== 200) throw new Error(`the http handler answered ${reply.statusCode}`);
    }
  }
  // The http function's failing replies the HttpFailureRate alarm sums: a wrong token (401), no origin header (403), credentials
  // that cannot be read (503), a queue that refuses the hand-over (503), an unexpected throw (500).
  const failingHttp = (overrides: Partial<Parameters<typeof createHttpHandler>[0]>) =>
    createHttpHandler({
      rules,
      credentials: { get: async () => ({ type: "bearer", current: TOKEN }) },
      queue: new FakeQueue(),
      logger: silentLogger,
      metrics,
      tenantBaseUrl: TENANT,
      responseDeadlineMs: () => HOUR,
      ...overrides,
    });
  const asyncEvent = (options: Parameters<typeof event>[1] = {}) =>
    event(httpBody(PRE_APPROVAL, "ffffffff-0000-4000-8000-000000000001", "async"), options);
  const expectStatus = async (reply: Promise<{ statusCode: number }>, status: number) => {
    const { statusCode } = await reply;
    if (statusCode !== status) throw new Error(`the http handler answered ${statusCode}, not ${status}`);
  };
  await expectStatus(failingHttp({})(asyncEvent({ authorization: "Bearer wrong-token" })), 401);
  // Behind the CloudFront front: a request without the origin header (403).
  await expectStatus(
    failingHttp({
      originVerify: createOriginVerifyProvider(async () =>
        JSON.stringify({ value: "origin-verify-value-0123456789" }),
      ),
    })(asyncEvent()),
    403,
  );
  await expectStatus(
    failingHttp({
      credentials: {
        get: async () => {
          throw new Error("Secrets Manager unavailable");
        },
      },
    })(asyncEvent()),
    503,
  );
  await expectStatus(
    failingHttp({
      queue: {
        enqueue: async () => {
          throw new Error("SQS unavailable");
        },
      },
    })(asyncEvent()),
    503,
  );
  await expectStatus(
    failingHttp({
      logger: {
        ...silentLogger,
        info() {
          throw new Error("a bug after the hand-over");
        },
      },
    })(asyncEvent()),
    500,
  );
  return lines;
}

/** Every (namespace, metric name, dimensions) an EMF line declares. */
export interface EmittedMetric {
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
}

export function parseEmf(lines: string[]): EmittedMetric[] {
  return lines.flatMap((line) => {
    const document = JSON.parse(line) as Record<string, unknown> & {
      _aws: {
        CloudWatchMetrics: Array<{
          Namespace: string;
          Dimensions: string[][];
          Metrics: Array<{ Name: string }>;
        }>;
      };
    };
    return document._aws.CloudWatchMetrics.flatMap((directive) =>
      directive.Dimensions.flatMap((set) =>
        directive.Metrics.map((metric) => ({
          namespace: directive.Namespace,
          name: metric.Name,
          dimensions: Object.fromEntries(set.map((key) => [key, String(document[key])])),
        })),
      ),
    );
  });
}
