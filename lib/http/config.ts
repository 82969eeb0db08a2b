/**
 * The HTTP handler's settings from the Lambda environment (docs/runtime-contract.md). Read once per
 * container; a missing or malformed setting fails the cold start loudly rather than answering wrongly.
 */
import { type ContextSettings, contextSettingsFromEnv } from "../context/settings.ts";
import { ResponderError } from "../errors.ts";
import { tenantOrigin } from "../isc/callback-url.ts";
import { responseDeadlineMs } from "../triggers/duration.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL, type RequestResponseTriggerId } from "../triggers/trigger-ids.ts";
import { DEFAULT_MAX_BODY_BYTES } from "./body.ts";

export class HttpConfigError extends ResponderError {
  constructor(variable: string, problem: string) {
    super("HTTP_CONFIG_INVALID", `environment variable ${variable} ${problem}`, { httpStatus: 500 });
  }
}

export interface HttpConfig {
  tenantBaseUrl: string;
  webhookCredentialsSecretId: string;
  queueUrl: string;
  rulesPath: string | undefined;
  /** RULES_VERSION: the bundled rules.json's version, computed at synth; unset when RULES_PATH is set. */
  bundledRulesVersion: string | undefined;
  responseDeadlineMs: (triggerId: RequestResponseTriggerId) => number;
  dynamicBudgetMs: number;
  maxBodyBytes: number;
  /** The ISC API client's secret, set by the stack when some rule reads live context. */
  iscCredentialsSecretId: string | undefined;
  context: ContextSettings;
}

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === "") throw new HttpConfigError(name, "is required");
  return value.trim();
}

function positiveInteger(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new HttpConfigError(name, "must be a positive integer");
  return value;
}

function deadline(env: Env, name: string): number {
  try {
    return responseDeadlineMs(env[name]?.trim() || "PT1H");
  } catch {
    throw new HttpConfigError(name, "must be an ISO-8601 duration of at least one minute, like PT1H");
  }
}

/** Response deadlines per trigger from RESPONSE_DEADLINE_PRE_APPROVAL / _DYNAMIC_APPROVER (default PT1H). */
export function responseDeadlinesFromEnv(env: Env): (triggerId: RequestResponseTriggerId) => number {
  const byTrigger: Record<RequestResponseTriggerId, number> = {
    [PRE_APPROVAL]: deadline(env, "RESPONSE_DEADLINE_PRE_APPROVAL"),
    [DYNAMIC_APPROVER]: deadline(env, "RESPONSE_DEADLINE_DYNAMIC_APPROVER"),
  };
  return (triggerId) => byTrigger[triggerId];
}

export function httpConfigFromEnv(env: Env): HttpConfig {
  const tenantBaseUrl = required(env, "SAIL_BASE_URL");
  try {
    tenantOrigin(tenantBaseUrl);
  } catch {
    throw new HttpConfigError("SAIL_BASE_URL", "is not a valid URL");
  }
  const rulesPath = env.RULES_PATH?.trim() || undefined;
  const rulesVersion = env.RULES_VERSION?.trim() || undefined;
  if (rulesVersion !== undefined && !/^sha256:[0-9a-f]{64}$/.test(rulesVersion)) {
    throw new HttpConfigError("RULES_VERSION", "must be sha256:<64 hex digits> (the stack sets it)");
  }
  return {
    tenantBaseUrl,
    webhookCredentialsSecretId: required(env, "WEBHOOK_CREDENTIALS_SECRET_ID"),
    queueUrl: required(env, "QUEUE_URL"),
    rulesPath,
    // It describes the bundled rules.json only: another file gets its version computed from its content.
    bundledRulesVersion: rulesPath === undefined ? rulesVersion : undefined,
    responseDeadlineMs: responseDeadlinesFromEnv(env),
    dynamicBudgetMs: positiveInteger(env, "DYNAMIC_DECISION_BUDGET_MS", 2000),
    maxBodyBytes: positiveInteger(env, "MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES),
    iscCredentialsSecretId: env.ISC_CREDENTIALS_SECRET_ID?.trim() || undefined,
    context: contextSettings(env),
  };
}

function contextSettings(env: Env): ContextSettings {
  try {
    return contextSettingsFromEnv(env.CONTEXT_SETTINGS);
  } catch (error) {
    throw new HttpConfigError("CONTEXT_SETTINGS", (error as Error).message);
  }
}
