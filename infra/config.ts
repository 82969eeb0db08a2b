/**
 * The deployment configuration: responder.config.json at the repo root, overridable by CDK context.
 * Validated with zod at synth; a wrong value fails `cdk synth` with the path and what is expected.
 * This file runs only at synth (never in a Lambda bundle), so it uses classic zod and node:fs.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { DEFAULT_RECORD_RETENTION_DAYS } from "../lib/audit/constants.ts";
import { formatPath, ValidationError, type ValidationIssue } from "../lib/errors.ts";
import { DEFAULT_RESPOND_OPTIONS } from "../lib/responder/respond.ts";
import { defaultShadowAnswer } from "../lib/responder/shadow.ts";
import { responseDeadlineMs } from "../lib/triggers/duration.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../lib/triggers/trigger-ids.ts";

/** The configuration keys of the two REQUEST_RESPONSE triggers, and the ISC trigger id of each. */
export const TRIGGER_KEYS = {
  preApproval: PRE_APPROVAL,
  dynamicApprover: DYNAMIC_APPROVER,
} as const;
export type TriggerKey = keyof typeof TRIGGER_KEYS;

const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 3653];

/**
 * The worker must not outlive its completion lease (docs/pipeline.md): a function still running after
 * the lease expired could send a completion while another delivery holds the lease.
 */
export const MAX_WORKER_TIMEOUT_SECONDS = Math.floor(DEFAULT_RESPOND_OPTIONS.leaseMs / 1000);

/** SQS keeps a message at most 14 days; a deadline beyond that could outlive the queued invocation. */
const MAX_DEADLINE_MS = 13 * 86_400_000;

const isoDeadline = z.string().superRefine((value, ctx) => {
  let ms: number;
  try {
    ms = responseDeadlineMs(value);
  } catch {
    ctx.addIssue({
      code: "custom",
      message: `expected an ISO-8601 duration of at least one minute, like PT1H or PT30M`,
    });
    return;
  }
  if (ms > MAX_DEADLINE_MS) ctx.addIssue({ code: "custom", message: "expected a duration of at most P13D" });
});

const TriggerConfigSchema = z.strictObject({
  /** Subscribe this trigger (false: no subscription; an existing one is removed or disabled on update). */
  enabled: z.boolean().default(false),
  delivery: z.enum(["HTTP", "EVENTBRIDGE"]).default("HTTP"),
  /** HTTP only (EventBridge has no synchronous reply). */
  httpDispatchMode: z.enum(["SYNC", "ASYNC", "DYNAMIC"]).default("DYNAMIC"),
  responseDeadline: isoDeadline.default("PT1H"),
  /** JSONPath filter on the trigger input; validated by the tenant at deploy time (synth is offline). */
  filter: z
    .string()
    .min(1, "expected a non-empty JSONPath filter (omit the key for no filter)")
    .startsWith("$", "expected a JSONPath expression starting with $")
    .optional(),
});
export type TriggerConfig = z.infer<typeof TriggerConfigSchema>;

const secretNameOrArn = z
  .string()
  .regex(
    /^(arn:aws[\w-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+|[\w/+=.@-]{1,512})$/,
    "expected a Secrets Manager secret name (letters, digits, /_+=.@-) or a secret ARN",
  );

export const ResponderConfigSchema = z
  .strictObject({
    /** CloudFormation stack name. */
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, "expected a stack name: a letter, then letters, digits or -")
      .default("IscTriggerResponder"),
    tenant: z.strictObject({
      /** The tenant's API base URL; callbackURLs must have this origin. */
      baseUrl: z
        .string()
        .refine(
          isHttpsOrigin,
          "expected an https origin without a path, like https://acme.api.identitynow.com",
        ),
      /** Existing Secrets Manager secret (name or ARN) holding {"clientId","clientSecret"} of an ISC API client. */
      credentialsSecret: secretNameOrArn,
    }),
    /** The rules file (YAML or JSON), relative to the configuration file. */
    rulesFile: z.string().min(1, "expected the path of the rules file").default("rules/rules.yaml"),
    triggers: z
      .strictObject({
        preApproval: TriggerConfigSchema.extend({
          /**
           * Shadow mode (docs/going-live.md): the rules decide and are recorded, ISC gets `answer`
           * (true: approve, so the request goes on to its usual approvals).
           */
          shadow: z
            .union([
              z.boolean(),
              z.strictObject({
                answer: z.strictObject({
                  approved: z.boolean(),
                  comment: z.string().max(2000),
                  approver: z.string().max(200).optional(),
                }),
              }),
            ])
            .default(false),
        }).prefault({}),
        dynamicApprover: TriggerConfigSchema.extend({
          /** Shadow mode: ISC gets `answer` (true: no extra approver). */
          shadow: z
            .union([
              z.boolean(),
              z.strictObject({
                answer: z.strictObject({
                  id: z.string().min(1),
                  name: z.string(),
                  type: z.enum(["IDENTITY", "GOVERNANCE_GROUP"]),
                }),
              }),
            ])
            .default(false),
        }).prefault({}),
      })
      .prefault({}),
    eventBridge: z
      .strictObject({
        /** The partner event bus ISC's event source is associated with (aws.partner/sailpoint.com/...). */
        eventBusName: z
          .string()
          .regex(/^[\w/.-]{1,256}$/, "expected an event bus name like aws.partner/sailpoint.com/<id>/<name>")
          .optional(),
      })
      .prefault({}),
    subscriptions: z
      .strictObject({
        /** Stack deletion disables the ISC subscriptions instead of deleting them. */
        retainOnDelete: z.boolean().default(false),
        /** Prefix of the subscription names shown in the ISC admin UI. */
        namePrefix: z.string().min(1).max(80).default("isc-trigger-responder"),
        /** Days between automatic rotations of the webhook bearer token (0 = rotate only on demand). */
        tokenRotationDays: z.number().int().min(0).max(365).default(30),
      })
      .prefault({}),
    http: z
      .strictObject({
        /** Reserved concurrency of the http function; null = none (for accounts with a low concurrency quota). */
        reservedConcurrency: z.number().int().min(1).max(1000).nullable().default(20),
        memorySize: z.number().int().min(128).max(10240).default(512),
        /** DYNAMIC mode: decide within this budget, else enqueue and reply 202. */
        // At most 4000: the handler replies within 8 s of receipt and gives a deferred invocation up to
        // 4 s to be enqueued; a larger budget would leave a late decision no time to enqueue (503).
        dynamicDecisionBudgetMs: z
          .number()
          .int()
          .min(100)
          .max(4000, {
            message:
              "must be at most 4000: a deferred invocation needs the rest of the 8 s reply budget to be enqueued",
          })
          .default(2000),
        maxBodyBytes: z.number().int().min(1024).max(6_000_000).default(262_144),
      })
      .prefault({}),
    worker: z
      .strictObject({
        timeoutSeconds: z
          .number()
          .int()
          .min(10)
          .max(MAX_WORKER_TIMEOUT_SECONDS, {
            message: `must be at most ${MAX_WORKER_TIMEOUT_SECONDS}: the worker may not outlive its completion lease`,
          })
          .default(60),
        memorySize: z.number().int().min(128).max(10240).default(512),
        batchSize: z.number().int().min(1).max(10).default(10),
        /** Concurrent worker invocations the queue may start (bounds the ISC API rate). */
        maxConcurrency: z.number().int().min(2).max(1000).default(5),
        /** Receives before a message goes to the dead-letter queue. */
        maxReceiveCount: z.number().int().min(1).max(100).default(5),
      })
      .prefault({}),
    /** Live ISC context for rules (identities, items, SoD): read budget and cache (docs/pipeline.md). */
    context: z
      .strictObject({
        /**
         * ISC read requests per 10 s per API version the whole responder may use (the tenant allows
         * 100 per client id; lower it when other integrations share the API client). Split evenly
         * between every container that may run at once (http reserved concurrency + worker maxConcurrency).
         */
        tenantRequestsPer10s: z.number().int().min(1).max(100).default(100),
        /**
         * Containers expected to read context at once; each gets tenantRequestsPer10s / this per API
         * version. The guarantee holds while no more read at once; set it to the http reserved
         * concurrency + worker maxConcurrency (25 by default) for a hard bound (4 requests per 10 s per
         * container: bursts then fall back). Beyond it ISC answers 429, honoured with Retry-After.
         */
        concurrentReaders: z.number().int().min(1).max(1000).default(10),
        /** Seconds an object stays cached in a container: short for people and SoD, longer for items. */
        cacheTtlSeconds: z
          .strictObject({
            identities: z.number().int().min(0).max(3600).default(60),
            items: z.number().int().min(0).max(86_400).default(600),
            sources: z.number().int().min(0).max(86_400).default(600),
            sod: z.number().int().min(0).max(3600).default(30),
            sodPolicies: z.number().int().min(0).max(86_400).default(600),
            // 0: a burst of requests for one person each sees the ones before it ("at most 5 in 24 h").
            accessRequests: z.number().int().min(0).max(3600).default(0),
          })
          .prefault({}),
        /** Objects cached per container at most. */
        maxCacheEntries: z.number().int().min(0).max(1_000_000).default(5000),
      })
      .prefault({}),
    /** Decision records (the audit trail): a DynamoDB table the worker writes (docs/deploy.md "Decision records"). */
    decisionRecords: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Days a record is kept (DynamoDB TTL on expiresAt); records hold personal data (docs/audit.md). */
        retentionDays: z.number().int().min(1).max(3650).default(DEFAULT_RECORD_RETENTION_DAYS),
      })
      .prefault({}),
    /** Lambda runtime of the functions: Node.js 22 (what the project is tested on) or 24. */
    lambdaRuntime: z.enum(["nodejs22.x", "nodejs24.x"]).default("nodejs22.x"),
    /** AWS Parameters and Secrets Lambda Extension: secrets read over localhost, no AWS SDK on the sync path. */
    secretsExtension: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
    observability: z
      .strictObject({
        serviceName: z.string().min(1).default("isc-trigger-responder"),
        metricsNamespace: z.string().min(1).default("IscTriggerResponder"),
        logLevel: z.enum(["DEBUG", "INFO", "WARN", "ERROR"]).default("INFO"),
        logRetentionDays: z
          .number()
          .int()
          .refine((d) => LOG_RETENTION_DAYS.includes(d), `expected one of ${LOG_RETENTION_DAYS.join(", ")}`)
          .default(90),
      })
      .prefault({}),
    /** The customer-managed key of the invocation queue and its DLQs (docs/deploy.md "Queue encryption"). */
    queueKey: z
      .strictObject({
        /** IAM roles (besides the functions) that may decrypt queued messages: operators who redrive the DLQs. */
        operatorRoleArns: z
          .array(
            z.string().regex(/^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, "expected an IAM role ARN"),
          )
          .max(10)
          .default([]),
      })
      .prefault({}),
    /** Optional CloudFront + WAF front of the Function URL (docs/deploy.md "Front: CloudFront and WAF"). */
    front: z
      .strictObject({
        enabled: z.boolean().default(false),
        /** WAF rate-based rule: requests per source IP per 5 minutes before that IP is blocked. */
        rateLimitPer5Min: z.number().int().min(10).max(2_000_000_000).default(1000),
        /**
         * An existing CLOUDFRONT-scope web ACL (WAF keeps those in us-east-1). Without it the stack
         * creates one, which only a stack deployed in us-east-1 can.
         */
        webAclArn: z
          .string()
          .regex(
            /^arn:aws[\w-]*:wafv2:us-east-1:\d{12}:global\/webacl\/[\w-]+\/[\w-]+$/,
            "expected the ARN of a CLOUDFRONT-scope web ACL (arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>)",
          )
          .optional(),
      })
      .prefault({}),
    alarms: z
      .strictObject({
        /** Subscribed to the alarm topic (needs confirming from the mail AWS sends). */
        email: z.email("expected an email address").optional(),
        /** An existing SNS topic to notify as well. */
        snsTopicArn: z
          .string()
          .regex(/^arn:aws[\w-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$/, "expected an SNS topic ARN")
          .optional(),
        /** Alarm when an invocation is completed with less than this margin before its deadline. */
        deadlineMarginMs: z.number().int().min(0).default(60_000),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    const triggers = config.triggers as Record<TriggerKey, TriggerConfig>;
    const usesEventBridge = Object.values(triggers).some((t) => t.enabled && t.delivery === "EVENTBRIDGE");
    if (usesEventBridge && config.eventBridge.eventBusName === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["eventBridge", "eventBusName"],
        message:
          "required when a trigger has delivery EVENTBRIDGE: the partner event bus associated with ISC's event source",
      });
    }
    if (!Object.values(triggers).some((t) => t.enabled)) {
      ctx.addIssue({
        code: "custom",
        path: ["triggers"],
        message: "expected at least one trigger with enabled: true (preApproval or dynamicApprover)",
      });
    }
  });

export type ResponderConfig = z.infer<typeof ResponderConfigSchema> & {
  /** Absolute path of the rules file (resolved against the configuration file's folder). */
  rulesFilePath: string;
};

function isHttpsOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (
      url.protocol === "https:" && (url.pathname === "/" || url.pathname === "") && !url.search && !url.hash
    );
  } catch {
    return false;
  }
}

/** Wrong configuration: names the file, and lists each path at fault with what is expected. */
export class ConfigurationError extends ValidationError {
  /** The file (and overrides) the configuration came from. */
  readonly source: string;

  constructor(source: string, issues: ValidationIssue[]) {
    super(source, issues, "INVALID_CONFIGURATION");
    this.source = source;
  }

  /** Every issue on its own line (the synth error a person reads). */
  describe(): string {
    return this.issues.map((i) => `  - ${i.path || "(root)"}: ${i.message}`).join("\n");
  }
}

/** Top-level keys that CDK context may override with `-c key.sub=value`. */
const OVERRIDABLE_ROOTS = new Set([
  "stackName",
  "tenant",
  "rulesFile",
  "lambdaRuntime",
  "triggers",
  "eventBridge",
  "subscriptions",
  "http",
  "worker",
  "secretsExtension",
  "observability",
  "alarms",
  "decisionRecords",
  "queueKey",
  "front",
]);

/**
 * Context overrides as an object to merge over the file: `responder` (object or JSON string) first,
 * then dotted keys (`-c triggers.preApproval.enabled=false`). `-c` values are strings: "true",
 * "false", numbers and JSON objects/arrays are parsed, anything else stays a string.
 */
export function overridesFromContext(context: Record<string, unknown>): Record<string, unknown> {
  let result: Record<string, unknown> = {};
  const whole = context["responder"];
  if (whole !== undefined) {
    const parsed = typeof whole === "string" ? parseContextValue(whole) : whole;
    if (!isPlainObject(parsed)) {
      throw new ConfigurationError("CDK context", [
        { path: "responder", message: "expected a JSON object of configuration overrides" },
      ]);
    }
    result = deepMerge(result, parsed);
  }
  for (const [key, raw] of Object.entries(context)) {
    const segments = key.split(".");
    if (!OVERRIDABLE_ROOTS.has(segments[0] ?? "")) continue;
    const value = typeof raw === "string" ? parseContextValue(raw) : raw;
    result = deepMerge(result, nest(segments, value));
  }
  return result;
}

function parseContextValue(text: string): unknown {
  const trimmed = text.trim();
  if (/^(true|false|null|-?\d+(\.\d+)?)$/.test(trimmed) || /^[[{]/.test(trimmed)) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return text;
    }
  }
  return text;
}

function nest(segments: string[], value: unknown): Record<string, unknown> {
  let node: unknown = value;
  for (const segment of [...segments].reverse()) node = { [segment]: node };
  return node as Record<string, unknown>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

/** Validates an already-read configuration object (file content merged with overrides). */
export function parseResponderConfig(
  raw: unknown,
  options: { source: string; baseDir: string },
): ResponderConfig {
  const result = ResponderConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigurationError(
      options.source,
      result.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
    );
  }
  const config = result.data;
  const rulesFilePath = isAbsolute(config.rulesFile)
    ? config.rulesFile
    : resolve(options.baseDir, config.rulesFile);
  return { ...config, rulesFilePath };
}

export interface LoadConfigOptions {
  /** Path of the configuration file; default `responder.config.json` in the current folder (context `configFile` wins). */
  configFile?: string;
  /** CDK context (app.node.getContext values): `configFile`, `responder`, dotted overrides. */
  context?: Record<string, unknown>;
}

/** Reads the configuration file, applies the context overrides, validates. Throws ConfigurationError. */
export function loadResponderConfig(options: LoadConfigOptions = {}): ResponderConfig {
  const context = options.context ?? {};
  const contextFile = typeof context["configFile"] === "string" ? context["configFile"] : undefined;
  const file = resolve(contextFile ?? options.configFile ?? "responder.config.json");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new ConfigurationError(file, [
      {
        path: "(file)",
        message: "cannot be read: create it (see docs/deploy.md) or pass -c configFile=<path>",
      },
    ]);
  }
  let fromFile: unknown;
  try {
    fromFile = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(file, [
      {
        path: "(file)",
        message: `is not valid JSON (${error instanceof SyntaxError ? error.message : "parse error"})`,
      },
    ]);
  }
  if (!isPlainObject(fromFile)) {
    throw new ConfigurationError(file, [{ path: "(root)", message: "expected a JSON object" }]);
  }
  const { $schema: _ignored, ...rest } = fromFile;
  const merged = deepMerge(rest, overridesFromContext(context));
  return parseResponderConfig(merged, {
    source: `${file} (with CDK context overrides)`,
    baseDir: dirname(file),
  });
}

/** The enabled triggers, with their ISC trigger ids, in a stable order. */
export function enabledTriggers(
  config: ResponderConfig,
): Array<{ key: TriggerKey; triggerId: string; trigger: TriggerConfig }> {
  return (Object.keys(TRIGGER_KEYS) as TriggerKey[])
    .map((key) => ({ key, triggerId: TRIGGER_KEYS[key], trigger: config.triggers[key] as TriggerConfig }))
    .filter((entry) => entry.trigger.enabled);
}

/** What the stack passes each function as CONTEXT_SETTINGS: its share of the tenant's read budget. */
export function contextSettingsFor(config: ResponderConfig): {
  requestsPer10s: number;
  betaRequestsPer10s: number;
  ttlSeconds: ResponderConfig["context"]["cacheTtlSeconds"];
  maxEntries: number;
} {
  const share = (containersSharing: number) =>
    Math.max(1, Math.floor(config.context.tenantRequestsPer10s / containersSharing));
  return {
    // v3 and v2025 (context reads): the containers expected to read at once (docs/pipeline.md).
    requestsPer10s: share(config.context.concurrentReaders),
    // beta (completions, task status, role insights): only worker containers send those.
    betaRequestsPer10s: share(config.worker.maxConcurrency),
    ttlSeconds: config.context.cacheTtlSeconds,
    maxEntries: config.context.maxCacheEntries,
  };
}

/**
 * SHADOW_MODE for the http function and the worker (lib/responder/shadow.ts): the shadow answer of each
 * trigger in shadow mode, as JSON; "" when none is.
 */
export function shadowModeOf(config: ResponderConfig): string {
  const settings: Record<string, unknown> = {};
  const { preApproval, dynamicApprover } = config.triggers;
  if (preApproval.shadow !== false) {
    settings[PRE_APPROVAL] =
      preApproval.shadow === true ? defaultShadowAnswer(PRE_APPROVAL) : preApproval.shadow.answer;
  }
  if (dynamicApprover.shadow !== false) {
    settings[DYNAMIC_APPROVER] =
      dynamicApprover.shadow === true ? defaultShadowAnswer(DYNAMIC_APPROVER) : dynamicApprover.shadow.answer;
  }
  return Object.keys(settings).length === 0 ? "" : JSON.stringify(settings);
}
