/**
 * The worker's settings and dependencies from the Lambda environment (docs/runtime-contract.md),
 * kept out of functions/worker.ts so they can be tested. A missing or malformed setting fails the
 * first invocation loudly (and the batch is retried) rather than answering wrongly.
 */

import { type ContextSettings, contextSettingsFromEnv } from "../context/settings.ts";
import { ResponderError } from "../errors.ts";
import { tenantOrigin } from "../isc/callback-url.ts";
import { parseShadowSettings, type ShadowSettings } from "../responder/shadow.ts";
import { responseDeadlineMs } from "../triggers/duration.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL, type RequestResponseTriggerId } from "../triggers/trigger-ids.ts";

export class WorkerConfigError extends ResponderError {
  readonly variable: string;
  constructor(variable: string, problem: string) {
    super("WORKER_CONFIG_INVALID", `${variable} ${problem}`, { httpStatus: 500 });
    this.variable = variable;
  }
}

export interface WorkerConfig {
  tenantBaseUrl: string;
  iscCredentialsSecretId: string;
  ledgerTableName: string;
  /** The worker's own queue (`QUEUE_URL`), where retryable invocations go back with a delay; optional. */
  queueUrl: string | undefined;
  /** undefined: `rules.json` beside the handler. */
  rulesPath: string | undefined;
  responseDeadlineMs: (triggerId: RequestResponseTriggerId) => number;
  /** CONTEXT_SETTINGS: this container's share of the tenant's read budget, cache TTLs and bound. */
  context: ContextSettings;
  /** DECISION_RECORDS_TABLE_NAME: where decision records go; undefined: records off. */
  decisionRecordsTableName: string | undefined;
  /** DECISION_RECORDS_RETENTION_DAYS (1..3650); undefined: the default. */
  recordRetentionDays: number | undefined;
  /** SHADOW_MODE: the triggers in shadow mode and their shadow answers. */
  shadow: ShadowSettings;
}

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new WorkerConfigError(name, "is required");
  return value;
}

function deadline(env: Env, name: string): number {
  try {
    return responseDeadlineMs(env[name]?.trim() || "PT1H");
  } catch {
    throw new WorkerConfigError(name, "must be an ISO-8601 duration of at least one minute, like PT1H");
  }
}

export function workerConfigFromEnv(env: Env): WorkerConfig {
  const tenantBaseUrl = required(env, "SAIL_BASE_URL");
  try {
    tenantOrigin(tenantBaseUrl);
  } catch {
    throw new WorkerConfigError("SAIL_BASE_URL", "is not a valid URL");
  }
  const deadlines: Record<RequestResponseTriggerId, number> = {
    [PRE_APPROVAL]: deadline(env, "RESPONSE_DEADLINE_PRE_APPROVAL"),
    [DYNAMIC_APPROVER]: deadline(env, "RESPONSE_DEADLINE_DYNAMIC_APPROVER"),
  };
  return {
    tenantBaseUrl,
    iscCredentialsSecretId: required(env, "ISC_CREDENTIALS_SECRET_ID"),
    ledgerTableName: required(env, "LEDGER_TABLE_NAME"),
    queueUrl: env.QUEUE_URL?.trim() || undefined,
    rulesPath: env.RULES_PATH?.trim() || undefined,
    responseDeadlineMs: (triggerId) => deadlines[triggerId],
    context: contextSettings(env),
    decisionRecordsTableName: env.DECISION_RECORDS_TABLE_NAME?.trim() || undefined,
    recordRetentionDays: retentionDays(env),
    shadow: parseShadowSettings(env.SHADOW_MODE),
  };
}

/** DECISION_RECORDS_RETENTION_DAYS: whole days, 1..3650 (infra/config.ts decisionRecords.retentionDays). */
function retentionDays(env: Env): number | undefined {
  const text = env.DECISION_RECORDS_RETENTION_DAYS?.trim();
  if (!text) return undefined;
  const days = Number(text);
  if (!Number.isInteger(days) || days < 1 || days > 3650) {
    throw new WorkerConfigError(
      "DECISION_RECORDS_RETENTION_DAYS",
      "must be a whole number of days, 1 to 3650",
    );
  }
  return days;
}

function contextSettings(env: Env): ContextSettings {
  try {
    return contextSettingsFromEnv(env.CONTEXT_SETTINGS);
  } catch (error) {
    throw new WorkerConfigError("CONTEXT_SETTINGS", (error as Error).message);
  }
}

export {
  type IscApi,
  type IscApiWithContext,
  IscCredentialsError,
  parseIscCredentials,
  rotatingIscClient,
} from "../isc/credentials.ts";

/** The worker's metrics: CloudWatch embedded metric format lines (lib/observability/emf.ts). */
export { emfMetrics } from "../observability/emf.ts";
