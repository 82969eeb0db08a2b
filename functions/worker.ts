/**
 * SQS worker Lambda: completes queued invocations (async HTTP, dynamic overflow, EventBridge via a
 * rule → SQS target; a rule → Lambda target works too). Thin: the behaviour is in
 * lib/worker/handler.ts (createWorkerHandler, also used by the local runner) and
 * lib/responder/respond.ts. Dependencies are built once per container, on the first event, from
 * the environment (docs/runtime-contract.md); importing this module has no side effects.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { LogAttributes } from "@aws-lambda-powertools/logger/types";
import middy from "@middy/core";
import type { SQSBatchResponse } from "aws-lambda";
import { DynamoDbDecisionRecords } from "../lib/adapters/aws/dynamodb-decision-records.ts";
import { DynamoDbInvocationLedger } from "../lib/adapters/aws/dynamodb-ledger.ts";
import { secretsStoreFromEnv } from "../lib/adapters/aws/secrets-from-env.ts";
import { SqsInvocationQueue } from "../lib/adapters/aws/sqs-queue.ts";
import { contextReaderForClient } from "../lib/context/for-client.ts";
import { iscRateLimits } from "../lib/context/settings.ts";
import { IscClient } from "../lib/isc/client.ts";
import { createLogger } from "../lib/observability/logger.ts";
import { countThrottles, type PipelineLogger } from "../lib/responder/observability.ts";
import { bundledRules } from "../lib/rules/bundled-module.ts";
import { compileRules } from "../lib/rules/compile.ts";
import { prepareRegexEngine } from "../lib/rules/load-bundled.ts";
import { parseRulesDocument } from "../lib/rules/parse.ts";
import { readPrecompiledBeside } from "../lib/rules/precompiled.ts";
import { emfMetrics, rotatingIscClient, workerConfigFromEnv } from "../lib/worker/from-env.ts";
import { createWorkerHandler, type WorkerContext, type WorkerHandler } from "../lib/worker/handler.ts";

export { createWorkerHandler } from "../lib/worker/handler.ts";

async function build(env: NodeJS.ProcessEnv): Promise<WorkerHandler> {
  const config = workerConfigFromEnv(env);
  const service = env.POWERTOOLS_SERVICE_NAME ?? "isc-trigger-responder-worker";
  // The redacting Powertools logger: a second line of defence behind fields built from ids only.
  const powertools = createLogger({ serviceName: service });
  const logger: PipelineLogger = {
    debug: (message, fields) => powertools.debug(message, (fields ?? {}) as LogAttributes),
    info: (message, fields) => powertools.info(message, (fields ?? {}) as LogAttributes),
    warn: (message, fields) => powertools.warn(message, (fields ?? {}) as LogAttributes),
    error: (message, fields) => powertools.error(message, (fields ?? {}) as LogAttributes),
  };
  const metrics = emfMetrics(env.POWERTOOLS_METRICS_NAMESPACE ?? "IscTriggerResponder", service);
  const rulesPath = config.rulesPath ?? fileURLToPath(new URL("./rules.json", import.meta.url));
  const rulesDocument: unknown = JSON.parse(readFileSync(rulesPath, "utf8"));
  // RE2 (re2.mjs beside the bundle) before validating: the check asks it whether it can run each pattern.
  await prepareRegexEngine(rulesDocument);
  // A TypeScript rules module bundled by the stack (lib/rules/bundled-module.ts) has the predicates; else rules.json.
  const rules =
    (await bundledRules()) ??
    compileRules(parseRulesDocument(rulesDocument, rulesPath), {
      precomputed: readPrecompiledBeside(rulesPath),
      onPrecomputedIgnored: (reason) =>
        logger.warn("precompiled rules ignored, compiled in full", { reason }),
    });
  const secrets = secretsStoreFromEnv(env);
  // One client per container for completions, actions and context reads, limited to this
  // container's share of the tenant's budget per API version (CONTEXT_SETTINGS, docs/pipeline.md).
  const limits = iscRateLimits(config.context);
  const client = rotatingIscClient(secrets, config.iscCredentialsSecretId, (credentials) => {
    return new IscClient({
      baseUrl: config.tenantBaseUrl,
      ...credentials,
      ...limits,
      onRetry: countThrottles(metrics),
    });
  });
  logger.info("worker ready", { rulesVersion: rules.version });
  return createWorkerHandler({
    rules,
    client,
    ledger: new DynamoDbInvocationLedger({ tableName: config.ledgerTableName }),
    context: contextReaderForClient(client, config.context),
    logger,
    metrics,
    tenantBaseUrl: config.tenantBaseUrl,
    responseDeadlineMs: config.responseDeadlineMs,
    ...(config.queueUrl === undefined
      ? {}
      : { redelivery: new SqsInvocationQueue({ queueUrl: config.queueUrl }) }),
    // Its own records and those the http function queues; the table is the stack's (DECISION_RECORDS_TABLE_NAME).
    ...(config.decisionRecordsTableName === undefined
      ? {}
      : { records: new DynamoDbDecisionRecords({ tableName: config.decisionRecordsTableName }) }),
    ...(config.recordRetentionDays === undefined ? {} : { recordRetentionDays: config.recordRetentionDays }),
    shadow: config.shadow,
  });
}

let ready: Promise<WorkerHandler> | undefined;

/** middy keeps the entry point the same shape as the http function's; the work is all in createWorkerHandler. */
export const handler = middy(
  async (
    event: Parameters<WorkerHandler>[0],
    context?: WorkerContext,
  ): Promise<SQSBatchResponse | undefined> => {
    // A failed build is not cached: the next event tries again (this batch is retried by SQS).
    ready ??= build(process.env).catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    return (await ready)(event, context);
  },
  { timeoutEarlyInMillis: 0 },
);
