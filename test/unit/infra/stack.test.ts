/**
 * One real synth (with esbuild bundling and cdk-nag) of the HTTP-delivery stack, then assertions on
 * the template, the IAM statements, the alarms, the bundles and cfn-lint.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CfnElement, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import type { IConstruct } from "constructs";
import { beforeAll, describe, expect, it } from "vitest";
import type { ResponderStack } from "../../../infra/stack.ts";
import { httpConfigFromEnv } from "../../../lib/http/config.ts";
import { DEFAULT_RESPOND_OPTIONS } from "../../../lib/responder/respond.ts";
import { compileRules } from "../../../lib/rules/compile.ts";
import { loadRulesFile } from "../../../lib/rules/load-file.ts";
import { parseRulesDocument } from "../../../lib/rules/parse.ts";
import { PRECOMPILED_FILE, usablePlans } from "../../../lib/rules/precompiled.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../../../lib/triggers/trigger-ids.ts";
import { workerConfigFromEnv } from "../../../lib/worker/from-env.ts";
import { type EmittedMetric, emittedMetricLines, parseEmf } from "./emitted-metrics.ts";
import { baseConfig, buildApp, EXAMPLE_RULES, REPO_ROOT } from "./helpers.ts";

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; Metadata?: unknown }>;

let stack: ResponderStack;
let template: Template;
let resources: Resources;
let outdir: string;

beforeAll(async () => {
  const built = await buildApp(baseConfig({ alarms: { email: "ops@example.com" } }));
  stack = built.stack;
  outdir = built.outdir;
  // cdk-nag runs here: any unacknowledged finding makes synth throw.
  built.app.synth();
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources as Resources;
}, 120_000);

function logicalIdOf(construct: IConstruct): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}

/** Every IAM statement attached to the role of `fn`. */
function statementsOf(fn: {
  role?: IConstruct | undefined;
}): Array<{ Action: unknown; Resource: unknown; Effect: string }> {
  const roleId = stack.getLogicalId(fn.role!.node.defaultChild as never);
  return Object.values(resources)
    .filter((r) => r.Type === "AWS::IAM::Policy")
    .filter((r) => JSON.stringify(r.Properties?.Roles).includes(`"${roleId}"`))
    .flatMap((r) => (r.Properties!.PolicyDocument as { Statement: never[] }).Statement);
}

function actionsOf(statements: Array<{ Action: unknown }>): string[] {
  return statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]) as string[]);
}

function resourcesFor(statements: Array<{ Action: unknown; Resource: unknown }>, action: string): string {
  return JSON.stringify(
    statements
      .filter((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]).includes(action))
      .map((s) => s.Resource),
  );
}

describe("responder stack: functions", () => {
  it("bundles three ESM functions on Node.js 22, arm64, with JSON logs", () => {
    const functions = Object.values(resources).filter(
      (r) => r.Type === "AWS::Lambda::Function" && r.Properties?.Handler === "index.handler",
    );
    expect(functions).toHaveLength(3);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: "nodejs22.x",
        Architectures: ["arm64"],
        LoggingConfig: { LogFormat: "JSON" },
      });
    }
  });

  it("gives the http function the runtime contract's environment, reserved concurrency and the secrets extension", () => {
    const http = resources[logicalIdOf(stack.httpFunction)]!.Properties!;
    expect(http.ReservedConcurrentExecutions).toBe(20);
    expect(http.Timeout).toBe(10);
    const env = (http.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(env)).toEqual(
      expect.arrayContaining([
        "SAIL_BASE_URL",
        "WEBHOOK_CREDENTIALS_SECRET_ID",
        "QUEUE_URL",
        "RESPONSE_DEADLINE_PRE_APPROVAL",
        "RESPONSE_DEADLINE_DYNAMIC_APPROVER",
        "DYNAMIC_DECISION_BUDGET_MS",
        "MAX_BODY_BYTES",
        "POWERTOOLS_SERVICE_NAME",
        "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT",
      ]),
    );
    // The example policy reads live context: http reads it too, with the ISC credentials and its share of the budget.
    expect(env.ISC_CREDENTIALS_SECRET_ID).toBe("isc-trigger-responder/isc-api-client");
    expect(JSON.parse(env.CONTEXT_SETTINGS as string)).toMatchObject({
      // 100 per version shared by the 10 containers expected to read at once; beta by the 5 workers only.
      requestsPer10s: 10,
      betaRequestsPer10s: 20,
      ttlSeconds: { identities: 60, items: 600, sod: 30, accessRequests: 0 },
    });
    // The worker writes the ledger; the http function hands over through the queue (lib/http/handler.ts).
    expect(env).not.toHaveProperty("LEDGER_TABLE_NAME");
    expect(env.SAIL_BASE_URL).toBe("https://acme.api.identitynow.com");
    expect(env.RESPONSE_DEADLINE_DYNAMIC_APPROVER).toBe("PT2H");
    // The extension layer's ARN is region-specific: CDK resolves it from a mapping at deploy time.
    expect(JSON.stringify(http.Layers)).toContain("1x0x103xarm64");
    expect(JSON.stringify(template.toJSON().Mappings)).toContain(
      "AWS-Parameters-and-Secrets-Lambda-Extension-Arm64",
    );
  });

  it("exposes the http function through a Function URL without IAM auth (the handler checks the token)", () => {
    template.hasResourceProperties("AWS::Lambda::Url", {
      AuthType: "NONE",
      TargetFunctionArn: { "Fn::GetAtt": [logicalIdOf(stack.httpFunction), "Arn"] },
    });
  });

  it("generates the webhook bearer secret in the runtime contract's shape", () => {
    template.hasResourceProperties("AWS::SecretsManager::Secret", {
      GenerateSecretString: {
        SecretStringTemplate: '{"type":"bearer"}',
        GenerateStringKey: "current",
        ExcludePunctuation: true,
        PasswordLength: 48,
      },
    });
    template.hasResourceProperties("AWS::SecretsManager::RotationSchedule", {
      RotationLambdaARN: { "Fn::GetAtt": [logicalIdOf(stack.subscriptionsFunction), "Arn"] },
      RotationRules: { ScheduleExpression: "rate(30 days)" },
      RotateImmediatelyOnUpdate: false,
    });
  });

  it("puts the validated rules document beside index.mjs in the http and worker bundles only", async () => {
    // The validated document without its tests and their context (the functions never read them).
    const {
      tests: _tests,
      testContext: _testContext,
      ...deployed
    } = (await loadRulesFile(EXAMPLE_RULES)).document;
    const expected = JSON.stringify(deployed);
    // Code.S3Key is "<asset hash>.zip"; the bundle is in <outdir>/asset.<asset hash>.
    const assetDir = (fn: IConstruct) => {
      const code = resources[logicalIdOf(fn)]!.Properties!.Code as { S3Key: string };
      return join(outdir, `asset.${code.S3Key.replace(/\.zip$/, "")}`);
    };
    for (const fn of [stack.httpFunction, stack.workerFunction]) {
      expect(existsSync(join(assetDir(fn), "index.mjs"))).toBe(true);
      expect(readFileSync(join(assetDir(fn), "rules.json"), "utf8")).toBe(expected);
      // RE2 for `matches`, built by afterBundling (infra/bundling.ts), loaded only by rules that use it.
      const re2 = readFileSync(join(assetDir(fn), "re2.mjs"), "utf8");
      expect(re2.includes("invalid nested repetition")).toBe(true);
    }
    // The http bundle is split by afterBundling (infra/bundling.ts): its shared chunk and the
    // context reader's beside index.mjs, each with its map; the worker stays one file.
    const mjs = (fn: IConstruct) => readdirSync(assetDir(fn)).filter((f) => f.endsWith(".mjs"));
    const httpFiles = mjs(stack.httpFunction);
    expect(httpFiles.filter((f) => /^chunk-\w+\.mjs$/.test(f))).toHaveLength(1);
    expect(httpFiles.filter((f) => /^context-reader-\w+\.mjs$/.test(f))).toHaveLength(1);
    for (const file of httpFiles.filter((f) => f !== "re2.mjs")) {
      expect(existsSync(join(assetDir(stack.httpFunction), `${file}.map`)), file).toBe(true);
    }
    expect(readFileSync(join(assetDir(stack.httpFunction), "index.mjs"), "utf8")).toMatch(
      /from"\.\/chunk-\w+\.mjs"/,
    );
    expect(mjs(stack.workerFunction).sort()).toEqual(["index.mjs", "re2.mjs"]);
    expect(existsSync(join(assetDir(stack.subscriptionsFunction), "rules.json"))).toBe(false);
    expect(existsSync(join(assetDir(stack.subscriptionsFunction), "re2.mjs"))).toBe(false);
    // The RulesVersion output is the version the functions compute from that file (and put in every
    // decision's explanation and log line), so a deployment can be matched to its decisions.
    const bundled = JSON.parse(readFileSync(join(assetDir(stack.workerFunction), "rules.json"), "utf8"));
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.RulesVersion!.Value).toBe(compileRules(parseRulesDocument(bundled, "rules.json")).version);
    // The http function reports that same version without hashing the document itself (RULES_VERSION).
    expect(environmentOf(stack.httpFunction).RULES_VERSION).toBe(outputs.RulesVersion!.Value);
    // Beside rules.json, what compiling it derives, computed at synth for that document and version
    // (lib/rules/precompiled.ts): usable as the functions check it.
    for (const fn of [stack.httpFunction, stack.workerFunction]) {
      const precompiled = JSON.parse(readFileSync(join(assetDir(fn), PRECOMPILED_FILE), "utf8"));
      const document = parseRulesDocument(bundled, "rules.json");
      expect(typeof usablePlans(precompiled, document, String(outputs.RulesVersion!.Value))).toBe("object");
    }
    // The AWS SDK stays external (provided by the runtime).
    const bundle = readFileSync(join(assetDir(stack.subscriptionsFunction), "index.mjs"), "utf8");
    expect(bundle).toContain("@aws-sdk/client-secrets-manager");
    expect(bundle).not.toMatch(/class SecretsManagerClient/);
  });
});

/** The environment the stack gives `fn`. */
function environmentOf(fn: IConstruct): Record<string, unknown> {
  const props = resources[logicalIdOf(fn)]!.Properties!;
  return (props.Environment as { Variables: Record<string, unknown> }).Variables;
}

/** The variables set by the stack for Lambda itself or for the extension layer, not for our code. */
const PLATFORM_VARIABLE =
  /^(NODE_OPTIONS|PARAMETERS_SECRETS_EXTENSION_\w+|SECRETS_MANAGER_\w+|SSM_PARAMETER_STORE_\w+)$/;
/** Provided by Lambda at run time (the layer's port is read from what CDK sets for it). */
const LAMBDA_PROVIDED = new Set(["AWS_SESSION_TOKEN", "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"]);
/** Read, but left unset so the default applies: RULES_PATH defaults to rules.json beside index.mjs. */
const UNSET_ON_PURPOSE = ["RULES_PATH"];
/** Read by the http function, set only with config `front.enabled` (checked on a front stack below). */
const SET_WITH_THE_FRONT = ["ORIGIN_VERIFY_SECRET_ID"];

/**
 * The variables a function's code reads: `env.NAME`, `env["NAME"]` and `helper(env, "NAME")` /
 * `requireEnv("NAME")` in its entry file and the modules that turn the environment into its settings.
 */
function variablesReadBy(files: string[]): Set<string> {
  const read = new Set<string>();
  const patterns = [
    /\benv(?:\.|\[")([A-Z][A-Z0-9_]+)/g,
    /\b(?:required|positiveInteger|deadline|requireEnv)\(\s*(?:env,\s*)?"([A-Z][A-Z0-9_]+)"/g,
  ];
  for (const file of files) {
    const text = readFileSync(join(REPO_ROOT, file), "utf8");
    for (const pattern of patterns) for (const match of text.matchAll(pattern)) read.add(match[1]!);
  }
  for (const name of [...LAMBDA_PROVIDED, ...UNSET_ON_PURPOSE]) read.delete(name);
  return read;
}

describe("responder stack: environment = what each function reads", () => {
  const sources = {
    http: ["functions/http.ts", "lib/http/config.ts"],
    worker: [
      "functions/worker.ts",
      "lib/worker/from-env.ts",
      "lib/adapters/aws/secrets-from-env.ts",
      "lib/observability/logger.ts",
    ],
    subscriptions: [
      "functions/subscriptions.ts",
      ...["reconcile", "rotation", "aws-rotation-secrets", "errors", "properties", "types"].map(
        (m) => `lib/subscriptions/${m}.ts`,
      ),
    ],
  };
  // Read by Powertools itself, not by our code (the worker's logger).
  const readByPowertools = { http: [], worker: ["POWERTOOLS_LOG_LEVEL"], subscriptions: [] };

  it.each(["http", "worker", "subscriptions"] as const)(
    "%s: sets every variable the code reads and no other",
    (name) => {
      const fn = {
        http: stack.httpFunction,
        worker: stack.workerFunction,
        subscriptions: stack.subscriptionsFunction,
      }[name];
      const set = Object.keys(environmentOf(fn))
        .filter((key) => !PLATFORM_VARIABLE.test(key))
        .sort();
      const read = [...variablesReadBy(sources[name]), ...readByPowertools[name]]
        .filter((variable) => !SET_WITH_THE_FRONT.includes(variable))
        .sort();
      expect(set).toEqual([...new Set(read)].sort());
    },
  );

  it("http with the front: also sets ORIGIN_VERIFY_SECRET_ID, which the code reads, and nothing else", async () => {
    const front = await buildApp(
      baseConfig({ alarms: { email: "ops@example.com" }, front: { enabled: true } }),
      {
        bundle: false,
      },
    );
    const frontResources = Template.fromStack(front.stack).toJSON().Resources as Resources;
    const httpId = front.stack.getLogicalId(front.stack.httpFunction.node.defaultChild as never);
    const withFront = Object.keys(
      (frontResources[httpId]!.Properties!.Environment as { Variables: Record<string, unknown> }).Variables,
    );
    const without = Object.keys(environmentOf(stack.httpFunction));
    expect(withFront.filter((key) => !without.includes(key))).toEqual(SET_WITH_THE_FRONT);
    expect(without.filter((key) => !withFront.includes(key))).toEqual([]);
    for (const variable of SET_WITH_THE_FRONT) {
      expect(variablesReadBy(sources.http).has(variable)).toBe(true);
    }
  });

  it("gives the http function and the worker the extension layer's port, its cache off", () => {
    for (const fn of [stack.httpFunction, stack.workerFunction]) {
      expect(environmentOf(fn).PARAMETERS_SECRETS_EXTENSION_HTTP_PORT).toBe("2773");
      // A forced re-read after a token rotation must reach Secrets Manager, not the layer's 5-minute cache.
      expect(environmentOf(fn).PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED).toBe("false");
    }
    expect(environmentOf(stack.subscriptionsFunction)).not.toHaveProperty(
      "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT",
    );
  });

  /** The stack's environment with CloudFormation references replaced by placeholders, as the code sees it. */
  const resolved = (fn: IConstruct): Record<string, string> =>
    Object.fromEntries(
      Object.entries(environmentOf(fn)).map(([key, value]) => [
        key,
        typeof value === "string" ? value : `resolved:${key}`,
      ]),
    );

  it("is accepted by the http function's and the worker's settings parsers, with the configured meaning", () => {
    const http = httpConfigFromEnv(resolved(stack.httpFunction));
    expect(http.tenantBaseUrl).toBe("https://acme.api.identitynow.com");
    expect(http.rulesPath).toBeUndefined(); // rules.json beside index.mjs, where the bundling puts it
    expect(http.responseDeadlineMs(DYNAMIC_APPROVER)).toBe(2 * 3_600_000);
    expect(http.responseDeadlineMs(PRE_APPROVAL)).toBe(3_600_000);
    expect(http.dynamicBudgetMs).toBe(2000);
    expect(http.maxBodyBytes).toBe(262_144);
    const worker = workerConfigFromEnv(resolved(stack.workerFunction));
    expect(worker.rulesPath).toBeUndefined();
    expect(worker.responseDeadlineMs(DYNAMIC_APPROVER)).toBe(2 * 3_600_000);
    expect(environmentOf(stack.workerFunction).LEDGER_TABLE_NAME).toEqual({ Ref: logicalIdOf(stack.table) });
    expect(environmentOf(stack.httpFunction).QUEUE_URL).toEqual({ Ref: logicalIdOf(stack.queue) });
    expect(environmentOf(stack.workerFunction).QUEUE_URL).toEqual({ Ref: logicalIdOf(stack.queue) });
    expect(environmentOf(stack.httpFunction).WEBHOOK_CREDENTIALS_SECRET_ID).toEqual({
      Ref: logicalIdOf(stack.webhookSecret),
    });
  });

  it("passes the ISC credentials secret as configured, never as a partial ARN built from its name", () => {
    // ".../isc-api-client" ends in "-" and six characters: as a partial ARN, Secrets Manager would take
    // "client" for the ARN's random suffix and look for a secret named ".../isc-api".
    for (const fn of [stack.workerFunction, stack.subscriptionsFunction]) {
      expect(environmentOf(fn).ISC_CREDENTIALS_SECRET_ID).toBe("isc-trigger-responder/isc-api-client");
    }
  });
});

describe("responder stack: queue, ledger, events", () => {
  it("encrypts the queue, enforces TLS, redrives to a DLQ and outlasts 6x the worker timeout", () => {
    const queue = resources[logicalIdOf(stack.queue)]!.Properties!;
    expect(queue).toMatchObject({
      KmsMasterKeyId: { "Fn::GetAtt": [logicalIdOf(stack.queueKey), "Arn"] },
      VisibilityTimeout: 390,
      RedrivePolicy: {
        maxReceiveCount: 5,
        deadLetterTargetArn: { "Fn::GetAtt": [logicalIdOf(stack.deadLetterQueue), "Arn"] },
      },
    });
    expect(queue.VisibilityTimeout as number).toBeGreaterThan(6 * 60);
    template.hasResourceProperties("AWS::SQS::QueuePolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      },
      Queues: [{ Ref: logicalIdOf(stack.queue) }],
    });
  });

  it("keeps the worker inside its completion lease and the queue's visibility timeout at 6x the worker's", () => {
    const worker = resources[logicalIdOf(stack.workerFunction)]!.Properties!;
    const queue = resources[logicalIdOf(stack.queue)]!.Properties!;
    expect((worker.Timeout as number) * 1000).toBeLessThanOrEqual(DEFAULT_RESPOND_OPTIONS.leaseMs);
    expect(queue.VisibilityTimeout as number).toBeGreaterThanOrEqual(6 * (worker.Timeout as number));
    const redrive = queue.RedrivePolicy as { maxReceiveCount: number };
    expect(redrive.maxReceiveCount).toBeGreaterThanOrEqual(1);
    expect(redrive.maxReceiveCount).toBeLessThanOrEqual(100);
  });

  it("gives the http function a timeout beyond its reply budget and within ISC's 10 s window", () => {
    const http = resources[logicalIdOf(stack.httpFunction)]!.Properties!;
    // createHttpHandler bounds every wait so the reply leaves within 8 s of receipt (replyBudgetMs);
    // the function's timeout must not cut that short, and waiting beyond 10 s helps nobody.
    expect(http.Timeout as number).toBeGreaterThan(8);
    expect(http.Timeout as number).toBeLessThanOrEqual(10);
  });

  it("consumes the queue with partial batch responses", () => {
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      FunctionName: { Ref: logicalIdOf(stack.workerFunction) },
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      BatchSize: 10,
      ScalingConfig: { MaximumConcurrency: 5 },
    });
  });

  it("creates the ledger table on demand with TTL expiresAt, PITR and encryption", () => {
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      KeySchema: [{ AttributeName: "invocationId", KeyType: "HASH" }],
      BillingMode: "PAY_PER_REQUEST",
      TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  it("has no EventBridge rule when every trigger is delivered over HTTP", () => {
    template.resourceCountIs("AWS::Events::Rule", 0);
  });
});

describe("responder stack: least privilege", () => {
  it("lets the http function only read its secrets and send to its queue (no ledger access)", () => {
    const statements = statementsOf(stack.httpFunction);
    const actions = actionsOf(statements);
    expect(actions).toEqual(expect.arrayContaining(["sqs:SendMessage", "secretsmanager:GetSecretValue"]));
    expect(actions.filter((a) => a.startsWith("dynamodb:"))).toEqual([]);
    expect(
      actions.some((a) => a.endsWith("*") || a === "dynamodb:DeleteItem" || a.startsWith("sqs:Receive")),
    ).toBe(false);
    expect(resourcesFor(statements, "secretsmanager:GetSecretValue")).toContain(
      logicalIdOf(stack.webhookSecret),
    );
    // The ISC credentials only because the example policy reads live context (see the payload-only stack below).
    expect(resourcesFor(statements, "secretsmanager:GetSecretValue")).toContain("isc-api-client");
    for (const s of statements) expect(s.Resource).not.toBe("*");
  });

  it("lets the worker read only the ISC credentials, use the table, consume its queue and put retries back on it", () => {
    const statements = statementsOf(stack.workerFunction);
    const actions = actionsOf(statements);
    expect(actions).toEqual(
      expect.arrayContaining([
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:SendMessage",
        "dynamodb:UpdateItem",
      ]),
    );
    // Its own queue only: a redelivery never goes anywhere else (the DLQ is filled by SQS itself).
    const sendTargets = JSON.parse(resourcesFor(statements, "sqs:SendMessage")) as unknown[];
    expect(sendTargets).toHaveLength(1);
    expect(JSON.stringify(sendTargets)).toContain(logicalIdOf(stack.queue));
    expect(JSON.stringify(sendTargets)).not.toContain(logicalIdOf(stack.deadLetterQueue));
    expect(resourcesFor(statements, "secretsmanager:GetSecretValue")).toContain(
      "isc-trigger-responder/isc-api-client",
    );
    expect(resourcesFor(statements, "secretsmanager:GetSecretValue")).not.toContain(
      logicalIdOf(stack.webhookSecret),
    );
    for (const s of statements) expect(s.Resource).not.toBe("*");
  });

  it("lets the subscriptions function read both secrets and rotate only the webhook secret", () => {
    const statements = statementsOf(stack.subscriptionsFunction);
    const actions = actionsOf(statements);
    expect(actions.some((a) => a.startsWith("dynamodb:") || a.startsWith("sqs:"))).toBe(false);
    expect(resourcesFor(statements, "secretsmanager:PutSecretValue")).toContain(
      logicalIdOf(stack.webhookSecret),
    );
    expect(resourcesFor(statements, "secretsmanager:PutSecretValue")).not.toContain("isc-api-client");
  });
});

describe("responder stack: exact grants per function", () => {
  /** Each statement as "action,action → resource" with logical ids / secret names for resources. */
  const grants = (fn: { role?: IConstruct | undefined }) =>
    statementsOf(fn)
      .map((st) => {
        const actions = (Array.isArray(st.Action) ? st.Action : [st.Action]) as string[];
        const named = (Array.isArray(st.Resource) ? st.Resource : [st.Resource])
          .map((r) => {
            const resource = JSON.stringify(r);
            return (
              [
                stack.webhookSecret,
                stack.queue,
                stack.table,
                stack.subscriptionsFunction,
                stack.queueKey,
                stack.decisionRecords!.table,
                stack.decisionRecords!.key,
              ]
                .map((c) => logicalIdOf(c))
                .find((id) => resource.includes(`"${id}"`)) ??
              (resource.includes("isc-api-client-??????") ? "IscCredentials" : resource)
            );
          })
          .sort()
          .join(" + ");
        return `${[...actions].sort().join(",")} -> ${named}`;
      })
      .sort();
  const READ_SECRET = "secretsmanager:DescribeSecret,secretsmanager:GetSecretValue";

  it("http: reads (GetSecretValue only) its webhook secret and, for rules with context, the ISC credentials; sends to the queue; nothing else", () => {
    expect(grants(stack.httpFunction)).toEqual(
      [
        `secretsmanager:GetSecretValue -> ${["IscCredentials", logicalIdOf(stack.webhookSecret)].sort().join(" + ")}`,
        `sqs:SendMessage -> ${logicalIdOf(stack.queue)}`,
      ].sort(),
    );
    // The extension only calls GetSecretValue: nothing else of Secrets Manager.
    expect(actionsOf(statementsOf(stack.httpFunction))).not.toContain("secretsmanager:DescribeSecret");
  });

  it("http: with payload-only rules, no ISC credentials and no CONTEXT reads", async () => {
    const dir = mkdtempSync(join(tmpdir(), "payload-rules-"));
    const rulesFile = join(dir, "rules.yaml");
    writeFileSync(
      rulesFile,
      "approver: svc\npreApproval:\n  default: { decision: approve, comment: ok }\ndynamicApprover:\n  default: { approver: none }\n",
    );
    const built = await buildApp(baseConfig({ rulesFile }), { bundle: false });
    const json = Template.fromStack(built.stack).toJSON() as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const httpId = built.stack.getLogicalId(built.stack.httpFunction.node.defaultChild as CfnElement);
    const env = (json.Resources[httpId]!.Properties.Environment as { Variables: Record<string, unknown> })
      .Variables;
    expect(env).not.toHaveProperty("ISC_CREDENTIALS_SECRET_ID");
    expect(env).toHaveProperty("CONTEXT_SETTINGS");
    const roleId = built.stack.getLogicalId(built.stack.httpFunction.role!.node.defaultChild as CfnElement);
    const policies = JSON.stringify(
      Object.values(json.Resources).filter(
        (r) => r.Type === "AWS::IAM::Policy" && JSON.stringify(r.Properties.Roles).includes(roleId),
      ),
    );
    expect(policies).toContain("secretsmanager:GetSecretValue");
    expect(policies).not.toContain("isc-api-client");
  });

  it("worker: reads the ISC credentials, reads and writes the ledger, consumes the queue and sends to it; nothing else", () => {
    expect(grants(stack.workerFunction)).toEqual(
      [
        `${READ_SECRET} -> IscCredentials`,
        `dynamodb:GetItem,dynamodb:PutItem,dynamodb:UpdateItem -> ${logicalIdOf(stack.table)}`,
        `sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:ReceiveMessage -> ${logicalIdOf(stack.queue)}`,
        // Added by the SQS event source; the key policy admits the worker's role anyway.
        `kms:Decrypt -> ${logicalIdOf(stack.queueKey)}`,
        `sqs:SendMessage -> ${logicalIdOf(stack.queue)}`,
        // Decision records: put and replace (Query finds stale person pointers), under their own key.
        `dynamodb:DeleteItem,dynamodb:PutItem,dynamodb:Query -> ${logicalIdOf(stack.decisionRecords!.table)}`,
        `kms:Decrypt,kms:Encrypt,kms:GenerateDataKey -> ${logicalIdOf(stack.decisionRecords!.key)}`,
      ].sort(),
    );
  });

  it("subscriptions: reads both secrets and rotates the webhook secret only; nothing else", () => {
    expect(grants(stack.subscriptionsFunction)).toEqual(
      [
        `${READ_SECRET} -> IscCredentials`,
        `${READ_SECRET} -> ${logicalIdOf(stack.webhookSecret)}`,
        `${READ_SECRET},secretsmanager:PutSecretValue,secretsmanager:UpdateSecretVersionStage -> ${logicalIdOf(stack.webhookSecret)}`,
        // Added by CDK's RotationSchedule (no resource-level permission exists); acknowledged in nag.
        'secretsmanager:GetRandomPassword -> "*"',
      ].sort(),
    );
  });

  it("lets Secrets Manager invoke the rotation function for this secret in this account only", () => {
    const permissions = Object.values(resources).filter(
      (r) =>
        r.Type === "AWS::Lambda::Permission" && r.Properties?.Principal === "secretsmanager.amazonaws.com",
    );
    expect(permissions).toHaveLength(1);
    expect(permissions[0]!.Properties).toMatchObject({
      FunctionName: { "Fn::GetAtt": [logicalIdOf(stack.subscriptionsFunction), "Arn"] },
      SourceArn: { Ref: logicalIdOf(stack.webhookSecret) },
      SourceAccount: { Ref: "AWS::AccountId" },
    });
  });
});

describe("responder stack: the queue key", () => {
  type KeyStatement = {
    Sid?: string;
    Action: string | string[];
    Principal: Record<string, unknown>;
    Condition?: unknown;
  };
  const keyStatements = () =>
    (
      resources[logicalIdOf(stack.queueKey)]!.Properties!.KeyPolicy as {
        Statement: KeyStatement[];
      }
    ).Statement;
  const actions = (st: KeyStatement) => (Array.isArray(st.Action) ? st.Action : [st.Action]);
  /** Any action that reads or writes data with the key, or hands that right to someone else. */
  const USES_THE_KEY = /^kms:(\*|Decrypt|Encrypt|ReEncrypt|GenerateDataKey|CreateGrant)/;
  const roleArn = (fn: { role?: IConstruct | undefined }) => ({
    "Fn::GetAtt": [stack.getLogicalId(fn.role!.node.defaultChild as CfnElement), "Arn"],
  });

  it("encrypts the invocation queue and its DLQ with one customer-managed key that rotates", () => {
    for (const q of [stack.queue, stack.deadLetterQueue]) {
      const props = resources[logicalIdOf(q)]!.Properties!;
      expect(props.KmsMasterKeyId).toEqual({ "Fn::GetAtt": [logicalIdOf(stack.queueKey), "Arn"] });
      expect(props).not.toHaveProperty("SqsManagedSseEnabled");
    }
    expect(resources[logicalIdOf(stack.queueKey)]!.Properties!.EnableKeyRotation).toBe(true);
    // The secrets keep the AWS managed key: only their readers' IAM grants apply.
    expect(resources[logicalIdOf(stack.webhookSecret)]!.Properties).not.toHaveProperty("KmsKeyId");
  });

  it("lets the account administer the key but not use it, and only the http and worker roles use it", () => {
    const statements = keyStatements();
    const root = statements.filter((st) => JSON.stringify(st.Principal).includes(":root"));
    expect(root).toHaveLength(1);
    expect(actions(root[0]!)).toEqual(
      expect.arrayContaining(["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"]),
    );
    expect(actions(root[0]!).filter((a) => USES_THE_KEY.test(a) || a.endsWith("*"))).toEqual([]);
    const users = statements.filter((st) => actions(st).some((a) => USES_THE_KEY.test(a)));
    expect(users).toHaveLength(1);
    expect(actions(users[0]!).sort()).toEqual(["kms:Decrypt", "kms:GenerateDataKey"]);
    expect(users[0]!.Principal).toEqual({
      AWS: [roleArn(stack.httpFunction), roleArn(stack.workerFunction)],
    });
    // No service principal (EventBridge) without EventBridge delivery; the subscriptions function never.
    expect(JSON.stringify(statements)).not.toContain("events.amazonaws.com");
    expect(JSON.stringify(statements)).not.toContain(
      stack.getLogicalId(stack.subscriptionsFunction.role!.node.defaultChild as CfnElement),
    );
  });

  it("admits operator roles named in queueKey.operatorRoleArns to decrypt (DLQ redrive), nobody else", async () => {
    const operator = "arn:aws:iam::123456789012:role/responder-operator";
    const built = await buildApp(baseConfig({ queueKey: { operatorRoleArns: [operator] } }), {
      bundle: false,
    });
    const json = Template.fromStack(built.stack).toJSON() as Resources;
    const key = (json as unknown as { Resources: Resources }).Resources[
      built.stack.getLogicalId(built.stack.queueKey.node.defaultChild as CfnElement)
    ]!;
    const statements = (key.Properties!.KeyPolicy as { Statement: KeyStatement[] }).Statement;
    const forOperator = statements.filter((st) => JSON.stringify(st.Principal).includes(operator));
    expect(forOperator).toHaveLength(1);
    expect(actions(forOperator[0]!).sort()).toEqual(["kms:Decrypt", "kms:GenerateDataKey"]);
  });
});

describe("responder stack: subscriptions and monitoring", () => {
  it("declares one subscription custom resource per enabled trigger, pointing at the Function URL", () => {
    const subscriptions = template.findResources("Custom::IscTriggerSubscription");
    expect(Object.keys(subscriptions)).toHaveLength(2);
    template.hasResourceProperties("Custom::IscTriggerSubscription", {
      TriggerId: PRE_APPROVAL,
      Delivery: "HTTP",
      HttpDispatchMode: "DYNAMIC",
      ResponseDeadline: "PT1H",
      RetainOnDelete: false,
      Url: { "Fn::GetAtt": [Match.anyValue(), "FunctionUrl"] },
    });
    template.hasResourceProperties("Custom::IscTriggerSubscription", {
      TriggerId: DYNAMIC_APPROVER,
      HttpDispatchMode: "ASYNC",
      ResponseDeadline: "PT2H",
    });
  });

  it("alarms on dead letters, worker errors, fallbacks, failed completions and the deadline margin, to SNS", () => {
    const alarms = Object.values(template.findResources("AWS::CloudWatch::Alarm")).map(
      (r) => r.Properties as Record<string, unknown>,
    );
    const byMetric = (name: string) => alarms.filter((a) => a.MetricName === name);
    expect(byMetric("ApproximateNumberOfMessagesVisible")).toHaveLength(1);
    expect(byMetric("Errors").length).toBeGreaterThanOrEqual(2);
    for (const name of [
      "Fallbacks",
      "DeadlinePassed",
      "DeadlineMargin",
      "InvocationOutcomes",
      "InvocationGone",
    ]) {
      expect(byMetric(name)).toHaveLength(2);
      for (const alarm of byMetric(name)) {
        expect(alarm.Namespace).toBe("IscTriggerResponder");
        expect(alarm.Dimensions).toEqual(
          expect.arrayContaining([{ Name: "service", Value: "isc-trigger-responder" }]),
        );
      }
    }
    expect(byMetric("InvocationOutcomes")[0]!.Dimensions).toEqual(
      expect.arrayContaining([{ Name: "outcome", Value: "failed" }]),
    );
    expect(byMetric("DeadlineMargin")[0]).toMatchObject({
      ComparisonOperator: "LessThanThreshold",
      Threshold: 60000,
      Statistic: "Minimum",
    });
    for (const alarm of alarms) expect(JSON.stringify(alarm.AlarmActions)).toContain("AlarmTopic");
    template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "email",
      Endpoint: "ops@example.com",
    });
    template.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
  });
});

describe("responder stack: the http failure-rate alarm", () => {
  type MathAlarm = {
    Metrics: Array<{
      Id: string;
      Expression?: string;
      ReturnData?: boolean;
      MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions?: unknown[] } };
    }>;
    Threshold: number;
    EvaluationPeriods: number;
    DatapointsToAlarm: number;
    ComparisonOperator: string;
    TreatMissingData: string;
  };
  const rateAlarm = () => {
    const found = Object.entries(template.findResources("AWS::CloudWatch::Alarm"))
      .filter(([id]) => id.includes("HttpFailureRate"))
      .map(([, r]) => r.Properties as MathAlarm);
    expect(found).toHaveLength(1);
    return found[0]!;
  };

  /** The alarm's expression evaluated in JS for one period's sums (absent = no data point). */
  const evaluate = (alarm: MathAlarm, sums: Record<string, number | undefined>): number => {
    const expression = alarm.Metrics.find((m) => m.Expression !== undefined)!.Expression!;
    const js = expression
      .replace(/FILL\((\w+), 0\)/g, (_m, id: string) => `(v[${JSON.stringify(id)}] ?? 0)`)
      .replace(/\bIF\(/g, "iff(");
    const byId = Object.fromEntries(
      alarm.Metrics.filter((m) => m.MetricStat).map((m) => {
        const metric = m.MetricStat!.Metric;
        const outcome = (metric.Dimensions as Array<{ Name: string; Value: string }> | undefined)?.find(
          (d) => d.Name === "outcome",
        )?.Value;
        return [m.Id, sums[outcome ?? metric.MetricName]];
      }),
    );
    const iff = (condition: boolean, a: number, b: number) => (condition ? a : b);
    return new Function("v", "iff", `return ${js};`)(byId, iff) as number;
  };

  it("divides the failing outcomes by the http function's invocations, as a percentage, over 3 of 6 periods", () => {
    const alarm = rateAlarm();
    const stats = alarm.Metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : []));
    expect(stats).toContainEqual(
      expect.objectContaining({
        Namespace: "AWS/Lambda",
        MetricName: "Invocations",
        Dimensions: [{ Name: "FunctionName", Value: { Ref: logicalIdOf(stack.httpFunction) } }],
      }),
    );
    const outcomes = stats
      .filter((m) => m.MetricName === "HttpRequests")
      .map(
        (m) =>
          (m.Dimensions as Array<{ Name: string; Value: string }>).find((d) => d.Name === "outcome")!.Value,
      );
    expect(outcomes.sort()).toEqual([
      "credentials_unavailable",
      "enqueue_failed",
      "internal_error",
      "origin_refused",
      "unauthorized",
    ]);
    expect(alarm.Metrics.filter((m) => m.ReturnData !== false)).toHaveLength(1);
    expect(alarm).toMatchObject({
      Threshold: 10,
      EvaluationPeriods: 6,
      DatapointsToAlarm: 3,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
    });
  });

  it("reads 100 % when every request is refused, 0 % with no requests, and counts a missing outcome as 0", () => {
    const alarm = rateAlarm();
    // A botched rotation: every one of ISC's requests gets 401.
    expect(evaluate(alarm, { Invocations: 4, unauthorized: 4 })).toBe(100);
    expect(evaluate(alarm, { Invocations: 10, origin_refused: 5 })).toBe(50);
    // One 503 in twenty requests: below the threshold, no other outcome reported at all.
    expect(evaluate(alarm, { Invocations: 20, enqueue_failed: 1 })).toBe(5);
    expect(evaluate(alarm, { Invocations: 10, credentials_unavailable: 1, internal_error: 1 })).toBe(20);
    // A quiet period is not a failing one (and does not divide by zero).
    expect(evaluate(alarm, {})).toBe(0);
    expect(evaluate(alarm, { Invocations: 0 })).toBe(0);
  });
});

describe("responder stack: alarms watch metrics the code emits", () => {
  let emitted: EmittedMetric[];
  const key = (m: EmittedMetric) =>
    `${m.namespace} ${m.name} ${JSON.stringify(Object.entries(m.dimensions).sort())}`;

  beforeAll(async () => {
    // Namespace and service as the stack sets them for both emitting functions.
    const worker = environmentOf(stack.workerFunction);
    const http = environmentOf(stack.httpFunction);
    expect(http.POWERTOOLS_SERVICE_NAME).toBe(worker.POWERTOOLS_SERVICE_NAME);
    expect(http.POWERTOOLS_METRICS_NAMESPACE).toBe(worker.POWERTOOLS_METRICS_NAMESPACE);
    emitted = parseEmf(
      await emittedMetricLines(
        worker.POWERTOOLS_METRICS_NAMESPACE as string,
        worker.POWERTOOLS_SERVICE_NAME as string,
      ),
    );
  });

  it("every custom-metric alarm's namespace, name and exact dimension set is among the emitted EMF lines", () => {
    type MetricSpec = {
      Namespace: string;
      MetricName: string;
      Dimensions?: Array<{ Name: string; Value: unknown }>;
    };
    // A metric-math alarm (ContextUnavailable) watches each of its metrics.
    const alarms = Object.values(template.findResources("AWS::CloudWatch::Alarm"))
      .flatMap((r) => {
        const props = r.Properties as MetricSpec & {
          Metrics?: Array<{ MetricStat?: { Metric: MetricSpec } }>;
        };
        return props.Metrics === undefined
          ? [props]
          : props.Metrics.flatMap((m) => (m.MetricStat === undefined ? [] : [m.MetricStat.Metric]));
      })
      .filter((a) => !a.Namespace.startsWith("AWS/"));
    // Fallbacks, completions failing, deadline passed, gone, deadline margin and decision records
    // failing for each of the two triggers, the three transient context failure reasons of each
    // ContextUnavailable alarm, and the five failing http outcomes of HttpFailureRate.
    expect(alarms).toHaveLength(2 * 6 + 2 * 3 + 5);
    const keys = new Set(emitted.map(key));
    for (const alarm of alarms) {
      const wanted: EmittedMetric = {
        namespace: alarm.Namespace,
        name: alarm.MetricName,
        dimensions: Object.fromEntries((alarm.Dimensions ?? []).map((d) => [d.Name, String(d.Value)])),
      };
      expect(keys, `alarm on ${key(wanted)}`).toContain(key(wanted));
    }
  });

  it("every custom metric on the dashboard is emitted too", () => {
    const body = Object.values(template.findResources("AWS::CloudWatch::Dashboard"))[0]!.Properties!
      .DashboardBody as { "Fn::Join": [string, unknown[]] } | string;
    const text =
      typeof body === "string"
        ? body
        : body["Fn::Join"][1].map((part) => (typeof part === "string" ? part : "TOKEN")).join("");
    const widgets = (JSON.parse(text) as { widgets: Array<{ properties: { metrics?: unknown[][] } }> })
      .widgets;
    const namespace = environmentOf(stack.workerFunction).POWERTOOLS_METRICS_NAMESPACE as string;
    const custom = widgets
      .flatMap((w) => w.properties.metrics ?? [])
      .filter((m) => m[0] === namespace)
      .map((m) => {
        const parts = m.filter((p) => typeof p === "string") as string[];
        const dimensions: Record<string, string> = {};
        for (let i = 2; i + 1 < parts.length; i += 2) dimensions[parts[i]!] = parts[i + 1]!;
        return { namespace, name: parts[1]!, dimensions };
      });
    expect(custom.length).toBeGreaterThan(10);
    const keys = new Set(emitted.map(key));
    for (const metric of custom) expect(keys, `dashboard ${key(metric)}`).toContain(key(metric));
  });
});

describe("responder stack: cdk-nag and cfn-lint", () => {
  it("passes AwsSolutions with every acknowledgement carrying a written reason", () => {
    const acknowledgements = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const [id, reason] of acknowledgements) {
      expect(id).toMatch(/AwsSolutions-/);
      expect(reason.trim().length).toBeGreaterThan(40);
    }
    // Synth (in beforeAll) would have thrown on any unacknowledged finding; the report, if written, has none.
    const report = join(outdir, "validation-report.json");
    if (existsSync(report)) {
      const parsed = JSON.parse(readFileSync(report, "utf8")) as {
        pluginReports: Array<{ violations: Array<{ severity: string }> }>;
      };
      const errors = parsed.pluginReports.flatMap((p) => p.violations).filter((v) => v.severity === "error");
      expect(errors).toEqual([]);
    }
  });

  it("is a valid CloudFormation template for cfn-lint (no errors)", (ctx) => {
    const probe = spawnSync("cfn-lint", ["--version"], { encoding: "utf8" });
    if (probe.error) {
      ctx.skip(`cfn-lint is not on PATH (${probe.error.message}); install it with pip install cfn-lint`);
      return;
    }
    const file = join(outdir, `${stack.artifactId}.template.json`);
    const result = spawnSync("cfn-lint", ["--format", "parseable", file], {
      encoding: "utf8",
      timeout: 60_000,
    });
    // cfn-lint exit code is a bitmask: 2 = errors, 4 = warnings, 8 = informational.
    expect(result.stdout).not.toMatch(/:E\d{4}:/);
    expect((result.status ?? 0) & 2).toBe(0);
  }, 60_000);
});
