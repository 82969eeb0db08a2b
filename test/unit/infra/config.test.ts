/**
 * Configuration and rules validation at synth (no bundling: `aws:cdk:bundling-stacks` is empty),
 * the EventBridge variant of the stack, and `infra/app.ts` failing with a readable message.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Match, Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { describeSynthError } from "../../../infra/build.ts";
import { ConfigurationError, loadResponderConfig, overridesFromContext } from "../../../infra/config.ts";
import { RulesFileError } from "../../../lib/rules/errors.ts";
import { loadRulesFile } from "../../../lib/rules/load-file.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../../../lib/triggers/trigger-ids.ts";
import { baseConfig, buildApp, REPO_ROOT, writeConfig } from "./helpers.ts";

async function configError(
  config: unknown,
  context: Record<string, unknown> = {},
): Promise<ConfigurationError> {
  const error = await buildApp(config, { bundle: false, context }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigurationError);
  return error as ConfigurationError;
}

describe("configuration", () => {
  it("fills defaults: PT1H deadlines, DYNAMIC mode, 30-day token rotation", () => {
    const config = loadResponderConfig({
      configFile: writeConfig(baseConfig({ triggers: { preApproval: { enabled: true } } })),
    });
    expect(config.triggers.preApproval).toEqual({
      enabled: true,
      delivery: "HTTP",
      httpDispatchMode: "DYNAMIC",
      responseDeadline: "PT1H",
      shadow: false,
    });
    expect(config.triggers.dynamicApprover.enabled).toBe(false);
    expect(config.subscriptions).toMatchObject({ retainOnDelete: false, tokenRotationDays: 30 });
    expect(config.stackName).toBe("IscTriggerResponder");
  });

  it("names each wrong path and what is expected", async () => {
    const error = await configError(
      baseConfig({
        tenant: { baseUrl: "http://acme.example.com/api", credentialsSecret: "bad name!" },
        triggers: {
          preApproval: { enabled: true, httpDispatchMode: "FAST", responseDeadline: "1 hour" },
          dynamicApprover: { enabled: true, filter: "no-dollar" },
        },
        unknownKey: 1,
      }),
    );
    const paths = error.issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "tenant.baseUrl",
        "tenant.credentialsSecret",
        "triggers.preApproval.httpDispatchMode",
        "triggers.preApproval.responseDeadline",
        "triggers.dynamicApprover.filter",
      ]),
    );
    expect(error.describe()).toMatch(/tenant\.baseUrl: expected an https origin without a path/);
    expect(error.describe()).toMatch(/responseDeadline: expected an ISO-8601 duration/);
    expect(error.issues.some((i) => /unknownKey|Unrecognized/.test(`${i.path} ${i.message}`))).toBe(true);
  });

  it("refuses a dynamic decision budget that leaves a deferred invocation no time to be enqueued", async () => {
    const error = await configError(baseConfig({ http: { dynamicDecisionBudgetMs: 7000 } }));
    expect(error.issues.map((i) => i.path)).toEqual(["http.dynamicDecisionBudgetMs"]);
  });

  it("refuses a worker timeout longer than the completion lease", async () => {
    const error = await configError(baseConfig({ worker: { timeoutSeconds: 61 } }));
    expect(error.issues.map((i) => i.path)).toEqual(["worker.timeoutSeconds"]);
    expect(error.describe()).toMatch(/at most 60: the worker may not outlive its completion lease/);
  });

  it("requires the partner event bus when a trigger is delivered through EventBridge", async () => {
    const error = await configError(
      baseConfig({ triggers: { preApproval: { enabled: true, delivery: "EVENTBRIDGE" } } }),
    );
    expect(error.issues).toEqual([
      expect.objectContaining({
        path: "eventBridge.eventBusName",
        message: expect.stringMatching(/EVENTBRIDGE/),
      }),
    ]);
  });

  it("requires at least one enabled trigger", async () => {
    const error = await configError(baseConfig({ triggers: {} }));
    expect(error.issues[0]?.path).toBe("triggers");
  });

  it("applies CDK context overrides: dotted keys with parsed values, and a whole `responder` object", () => {
    expect(
      overridesFromContext({
        "triggers.preApproval.enabled": "false",
        "worker.timeoutSeconds": "120",
        "tenant.baseUrl": "https://other.api.identitynow.com",
        "@aws-cdk/core:stackRelativeExports": true,
        responder: '{"alarms": {"email": "a@example.com"}}',
      }),
    ).toEqual({
      triggers: { preApproval: { enabled: false } },
      worker: { timeoutSeconds: 120 },
      tenant: { baseUrl: "https://other.api.identitynow.com" },
      alarms: { email: "a@example.com" },
    });
    const config = loadResponderConfig({
      configFile: writeConfig(baseConfig()),
      context: { "triggers.dynamicApprover.enabled": "false", "subscriptions.retainOnDelete": "true" },
    });
    expect(config.triggers.dynamicApprover.enabled).toBe(false);
    expect(config.subscriptions.retainOnDelete).toBe(true);
  });

  it("reports an override that breaks the configuration under the overridden path", async () => {
    const error = await configError(baseConfig(), { "http.reservedConcurrency": "lots" });
    expect(error.issues[0]?.path).toBe("http.reservedConcurrency");
  });

  it("ships an example responder.config.json that validates", () => {
    const config = loadResponderConfig({ configFile: join(REPO_ROOT, "responder.config.json") });
    expect(config.rulesFilePath).toBe(join(REPO_ROOT, "rules/example.yaml"));
  });
});

describe("rules file at synth", () => {
  it("fails with the same issues as `isc-responder rules check` (loadRulesFile), with lines", async () => {
    const broken = join(writeConfig("", "placeholder"), "..", "broken.yaml");
    writeFileSync(broken, "format: 1\nname: broken\nrules:\n  - id: r1\n    when: {nonsense: true}\n");
    const expected = await loadRulesFile(broken).catch((e: unknown) => e);
    expect(expected).toBeInstanceOf(RulesFileError);
    const error = await buildApp(baseConfig({ rulesFile: broken }), { bundle: false }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RulesFileError);
    expect((error as RulesFileError).issues).toEqual((expected as RulesFileError).issues);
    const message = describeSynthError(error);
    expect(message).toMatch(/rules check/);
    expect(message).toContain(`${broken}:`);
  });

  it("fails when the rules file does not exist, saying which setting to fix", async () => {
    const error = await buildApp(baseConfig({ rulesFile: "/nonexistent/rules.yaml" }), {
      bundle: false,
    }).catch((e: unknown) => e);
    expect(describeSynthError(error)).toMatch(/rulesFile/);
  });
});

describe("EventBridge delivery", () => {
  it("routes ISC partner events of the trigger to the queue, with a DLQ on the target", async () => {
    const { stack, app } = await buildApp(
      baseConfig({
        triggers: {
          preApproval: { enabled: true, delivery: "EVENTBRIDGE", responseDeadline: "PT30M" },
          dynamicApprover: { enabled: true, delivery: "HTTP", httpDispatchMode: "ASYNC" },
        },
        eventBridge: { eventBusName: "aws.partner/sailpoint.com/abc123/idn/access-request-pre-approval" },
        subscriptions: { retainOnDelete: true, tokenRotationDays: 0 },
      }),
      { bundle: false },
    );
    app.synth(); // cdk-nag with the EventBridge resources and rotation off
    const template = Template.fromStack(stack);
    template.resourceCountIs("AWS::Events::Rule", 1);
    template.hasResourceProperties("AWS::Events::Rule", {
      EventBusName: "aws.partner/sailpoint.com/abc123/idn/access-request-pre-approval",
      EventPattern: { source: [{ prefix: "aws.partner/sailpoint.com" }], "detail-type": [PRE_APPROVAL] },
      Targets: [
        Match.objectLike({
          Arn: { "Fn::GetAtt": [stack.getLogicalId(stack.queue.node.defaultChild as never), "Arn"] },
          DeadLetterConfig: {
            Arn: { "Fn::GetAtt": [Match.stringLikeRegexp("EventDeadLetterQueue"), "Arn"] },
          },
        }),
      ],
    });
    template.hasResourceProperties("Custom::IscTriggerSubscription", {
      TriggerId: PRE_APPROVAL,
      Delivery: "EVENTBRIDGE",
      AwsAccount: { Ref: "AWS::AccountId" },
      AwsRegion: { Ref: "AWS::Region" },
      RetainOnDelete: true,
    });
    template.hasResourceProperties("Custom::IscTriggerSubscription", {
      TriggerId: DYNAMIC_APPROVER,
      Delivery: "HTTP",
    });
    template.resourceCountIs("AWS::SecretsManager::RotationSchedule", 0);
    // EventBridge may use the queue key for rules on the partner bus of this account only, with the
    // two actions SQS needs (not CDK's default Encrypt/ReEncrypt*/GenerateDataKey* on SourceAccount).
    // biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON, read by path
    type Json = any;
    const json = template.toJSON() as { Resources: Record<string, { Type: string; Properties: Json }> };
    const keyPolicy = json.Resources[stack.getLogicalId(stack.queueKey.node.defaultChild as never)]!
      .Properties.KeyPolicy.Statement as Array<{ Principal: unknown; Action: string[]; Condition?: Json }>;
    const forEvents = keyPolicy.filter((st) => JSON.stringify(st.Principal).includes("events.amazonaws.com"));
    expect(forEvents).toHaveLength(1);
    expect([...forEvents[0]!.Action].sort()).toEqual(["kms:Decrypt", "kms:GenerateDataKey"]);
    expect(forEvents[0]!.Condition.StringEquals).toEqual({ "aws:SourceAccount": { Ref: "AWS::AccountId" } });
    expect(JSON.stringify(forEvents[0]!.Condition.ArnLike["aws:SourceArn"])).toContain(
      ":rule/aws.partner/sailpoint.com/abc123/idn/access-request-pre-approval/*",
    );
    // The event DLQ uses the same key; the invocation queue's policy lets this rule (by ARN) send.
    const eventDlq = Object.entries(json.Resources).find(([id]) => id.startsWith("EventDeadLetterQueue"))!;
    expect(eventDlq[1].Properties.KmsMasterKeyId).toEqual({
      "Fn::GetAtt": [stack.getLogicalId(stack.queueKey.node.defaultChild as never), "Arn"],
    });
    const queueId = stack.getLogicalId(stack.queue.node.defaultChild as never);
    const queuePolicy = Object.values(json.Resources).find(
      (r) => r.Type === "AWS::SQS::QueuePolicy" && JSON.stringify(r.Properties.Queues).includes(queueId),
    )!;
    const sends = (queuePolicy.Properties.PolicyDocument.Statement as Array<Record<string, Json>>).filter(
      (st) => JSON.stringify(st.Principal).includes("events.amazonaws.com"),
    );
    expect(sends).toHaveLength(1);
    expect(sends[0]!.Action).toBe("sqs:SendMessage");
    const sourceArn = sends[0]!.Condition.ArnEquals["aws:SourceArn"] as { "Fn::GetAtt": [string, string] };
    expect(sourceArn["Fn::GetAtt"][0]).toMatch(/^PreApprovalEventRule/);
    // Both dead-letter queues are watched.
    const dlqAlarms = Object.values(template.findResources("AWS::CloudWatch::Alarm")).filter(
      (r) => r.Properties.MetricName === "ApproximateNumberOfMessagesVisible",
    );
    expect(dlqAlarms).toHaveLength(2);
    // The rotation lambda environment only lists HTTP triggers.
    const fn =
      template.toJSON().Resources[stack.getLogicalId(stack.subscriptionsFunction.node.defaultChild as never)];
    expect(fn.Properties.Environment.Variables.SUBSCRIBED_HTTP_TRIGGERS).toBe(DYNAMIC_APPROVER);
  }, 60_000);
});

describe("infra/app.ts", () => {
  it("exits 1 with the paths to fix when the configuration is wrong", () => {
    const configFile = writeConfig(
      baseConfig({ triggers: { preApproval: { enabled: true, delivery: "SMTP" } } }),
    );
    const result = spawnSync(process.execPath, ["--import", "tsx", "infra/app.ts"], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      timeout: 60_000,
      env: {
        ...process.env,
        CDK_CONTEXT_JSON: JSON.stringify({ configFile }),
        CDK_OUTDIR: join(configFile, "..", "out"),
      },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/The configuration is invalid/);
    expect(result.stderr).toMatch(/triggers\.preApproval\.delivery: /);
  }, 60_000);
});
