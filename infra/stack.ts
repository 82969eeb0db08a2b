/**
 * The responder stack: the http function behind a Function URL, the worker behind an SQS queue (with
 * a dead-letter queue), the invocation ledger table, the webhook token secret (rotated), optional
 * EventBridge rules on ISC's partner event bus, the ISC trigger subscriptions as custom resources,
 * and the alarms and dashboard. Names shared with the functions are in docs/runtime-contract.md.
 */
import {
  type CfnElement,
  CfnOutput,
  CustomResource,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
} from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as sqs from "aws-cdk-lib/aws-sqs";
import * as cr from "aws-cdk-lib/custom-resources";
import type { Construct } from "constructs";
import type { SubscriptionResourceProperties } from "../lib/subscriptions/properties.ts";
import { parseIsoDuration } from "../lib/triggers/duration.ts";
import {
  FUNCTION_NODE_OPTIONS,
  FUNCTIONS,
  type FunctionName,
  nodejsBundling,
  PROJECT_ROOT,
} from "./bundling.ts";
import { contextSettingsFor, enabledTriggers, type ResponderConfig, shadowModeOf } from "./config.ts";
import { DecisionRecords } from "./decision-records.ts";
import { Front } from "./front.ts";
import { Monitoring } from "./monitoring.ts";
import { acknowledge } from "./nag.ts";

export interface ResponderStackProps extends StackProps {
  config: ResponderConfig;
  /** The validated rules document written as rules.json (see infra/rules.ts). */
  rulesJsonPath: string;
  /** A TypeScript rules module: the file esbuild injects into the functions that load rules (infra/typescript-rules.ts). */
  rulesModuleInject?: string;
  /** The rules' version as the functions report it (CompiledRules.version); shown as the RulesVersion output. */
  rulesVersion: string;
  /**
   * Some rule reads live ISC context (infra/rules.ts): the http function then reads the ISC API
   * credentials too. Default false: a payload-only policy keeps http without them.
   */
  rulesUseContext?: boolean;
}

const ISC_PARTNER_SOURCE_PREFIX = "aws.partner/sailpoint.com";

export class ResponderStack extends Stack {
  readonly httpFunction: nodejs.NodejsFunction;
  readonly workerFunction: nodejs.NodejsFunction;
  readonly subscriptionsFunction: nodejs.NodejsFunction;
  readonly functionUrl: lambda.FunctionUrl;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  /** Encrypts the invocation queue and every dead-letter queue; its policy admits only their users. */
  readonly queueKey: kms.Key;
  readonly table: dynamodb.Table;
  readonly webhookSecret: secretsmanager.Secret;
  readonly monitoring: Monitoring;
  /** CloudFront + WAF in front of the Function URL (config `front.enabled`); undefined without. */
  readonly front: Front | undefined;
  /** The decision records table (infra/decision-records.ts); undefined with decisionRecords.enabled false. */
  readonly decisionRecords: DecisionRecords | undefined;

  constructor(scope: Construct, id: string, props: ResponderStackProps) {
    super(scope, id, props);
    const { config } = props;
    const triggers = enabledTriggers(config);
    const httpTriggers = triggers.filter((t) => t.trigger.delivery === "HTTP");
    const eventBridgeTriggers = triggers.filter((t) => t.trigger.delivery === "EVENTBRIDGE");

    // --- secrets ---------------------------------------------------------------------------
    this.webhookSecret = new secretsmanager.Secret(this, "WebhookCredentials", {
      description:
        "Bearer token ISC sends to the http function (runtime contract: {type, current, previous?})",
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ type: "bearer" }),
        generateStringKey: "current",
        excludePunctuation: true,
        passwordLength: 48,
      },
    });
    const iscCredentials = config.tenant.credentialsSecret.startsWith("arn:")
      ? secretsmanager.Secret.fromSecretCompleteArn(this, "IscCredentials", config.tenant.credentialsSecret)
      : secretsmanager.Secret.fromSecretNameV2(this, "IscCredentials", config.tenant.credentialsSecret);

    // --- ledger and queues -----------------------------------------------------------------
    this.table = new dynamodb.Table(this, "Ledger", {
      partitionKey: { name: "invocationId", type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: "expiresAt",
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // Only in-flight invocation state with a TTL: nothing to keep once the stack is gone.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Queued invocations carry the invocation secret. SQS-managed encryption lets any principal with
    // sqs:ReceiveMessage read them; with this key a reader also needs kms:Decrypt, which its policy
    // grants to the functions (and EventBridge) only (docs/deploy.md "Queue encryption").
    this.queueKey = new kms.Key(this, "QueueKey", {
      description: "Encrypts the ISC trigger responder's invocation queue and dead-letter queues",
      enableKeyRotation: true,
      // The account administers the key (IAM policies may manage it) but cannot use it: no
      // Encrypt/Decrypt/GenerateDataKey and no CreateGrant for the account root.
      policy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: "AccountAdministersTheKey",
            principals: [new iam.AccountRootPrincipal()],
            actions: QUEUE_KEY_ADMIN_ACTIONS,
            resources: ["*"],
          }),
        ],
      }),
      // Only in-flight messages, deleted with the queues; deletion waits the default 30 days.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const workerTimeout = Duration.seconds(config.worker.timeoutSeconds);
    this.deadLetterQueue = new sqs.Queue(this, "DeadLetterQueue", {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.queueKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const longestDeadlineMs = Math.max(...triggers.map((t) => parseIsoDuration(t.trigger.responseDeadline)));
    this.queue = new sqs.Queue(this, "InvocationQueue", {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.queueKey,
      enforceSSL: true,
      // AWS: at least 6x the function timeout, so a batch is never redelivered while still running.
      visibilityTimeout: Duration.seconds(config.worker.timeoutSeconds * 6 + 30),
      // A message must outlive the longest response deadline (plus a day to look at it).
      retentionPeriod: Duration.seconds(
        Math.min(14 * 86_400, Math.max(4 * 86_400, longestDeadlineMs / 1000 + 86_400)),
      ),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: config.worker.maxReceiveCount },
    });

    // --- decision records (the audit trail; only the worker writes) --------------------------
    this.decisionRecords = config.decisionRecords.enabled
      ? new DecisionRecords(this, "DecisionRecords", { retentionDays: config.decisionRecords.retentionDays })
      : undefined;

    // --- functions -------------------------------------------------------------------------
    // Each function gets exactly the variables it reads (docs/runtime-contract.md), nothing more.
    const common: Record<string, string> = {
      SAIL_BASE_URL: config.tenant.baseUrl,
      NODE_OPTIONS: FUNCTION_NODE_OPTIONS,
    };
    // What the http function and the worker share: both decide, log and emit the metrics the alarms watch.
    const responder: Record<string, string> = {
      POWERTOOLS_SERVICE_NAME: config.observability.serviceName,
      POWERTOOLS_METRICS_NAMESPACE: config.observability.metricsNamespace,
      POWERTOOLS_LOG_LEVEL: config.observability.logLevel,
      RESPONSE_DEADLINE_PRE_APPROVAL: config.triggers.preApproval.responseDeadline,
      RESPONSE_DEADLINE_DYNAMIC_APPROVER: config.triggers.dynamicApprover.responseDeadline,
      // Each container's share of the tenant's read budget, cache TTLs and bound (docs/pipeline.md).
      CONTEXT_SETTINGS: JSON.stringify(contextSettingsFor(config)),
      // Triggers in shadow mode and the answer ISC gets meanwhile ("" when none is).
      SHADOW_MODE: shadowModeOf(config),
    };
    // As configured (name or complete ARN): a partial ARN built from a name that ends in "-" and six
    // characters (like the documented ".../isc-api-client") is read by Secrets Manager as a complete ARN.
    const iscCredentialsSecretId = config.tenant.credentialsSecret;
    // The layer is there to read secrets without the AWS SDK, not to cache them: the functions cache
    // themselves, and after a token rotation the http function re-reads the secret when a request
    // carries a token it does not know. Behind the layer's own cache (5 min by default) that re-read
    // would return the old value and ISC's requests with the new token would get 401s until it expired.
    const paramsAndSecrets = config.secretsExtension.enabled
      ? lambda.ParamsAndSecretsLayerVersion.fromVersion(lambda.ParamsAndSecretsVersions.V1_0_103, {
          cacheEnabled: false,
          logLevel: lambda.ParamsAndSecretsLogLevel.WARN,
        })
      : undefined;

    const makeFunction = (
      name: FunctionName,
      id: string,
      options: {
        description: string;
        environment: Record<string, string>;
        timeout: Duration;
        memorySize: number;
        reservedConcurrentExecutions?: number;
        withRules?: boolean;
        withExtension?: boolean;
      },
    ) => {
      const logGroup = new logs.LogGroup(this, `${id}Logs`, {
        retention: config.observability.logRetentionDays as logs.RetentionDays,
        // Decision logs are the audit trail: they outlive the stack.
        removalPolicy: RemovalPolicy.RETAIN,
      });
      return new nodejs.NodejsFunction(this, id, {
        description: options.description,
        entry: `${PROJECT_ROOT}/${FUNCTIONS[name].entry}`,
        handler: FUNCTIONS[name].handler,
        projectRoot: PROJECT_ROOT,
        depsLockFilePath: `${PROJECT_ROOT}/package-lock.json`,
        runtime:
          config.lambdaRuntime === "nodejs24.x" ? lambda.Runtime.NODEJS_24_X : lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: options.memorySize,
        timeout: options.timeout,
        environment: { ...common, ...options.environment },
        logGroup,
        loggingFormat: lambda.LoggingFormat.JSON,
        bundling: options.withRules
          ? nodejsBundling(name, props.rulesJsonPath, props.rulesModuleInject)
          : nodejsBundling(name),
        ...(options.reservedConcurrentExecutions === undefined
          ? {}
          : { reservedConcurrentExecutions: options.reservedConcurrentExecutions }),
        ...(options.withExtension && paramsAndSecrets ? { paramsAndSecrets } : {}),
      });
    };

    this.httpFunction = makeFunction("http", "HttpFunction", {
      description: "Answers ISC trigger invocations over the Function URL",
      timeout: Duration.seconds(10),
      memorySize: config.http.memorySize,
      withRules: true,
      withExtension: true,
      ...(config.http.reservedConcurrency === null
        ? {}
        : { reservedConcurrentExecutions: config.http.reservedConcurrency }),
      environment: {
        ...responder,
        WEBHOOK_CREDENTIALS_SECRET_ID: this.webhookSecret.secretArn,
        QUEUE_URL: this.queue.queueUrl,
        DYNAMIC_DECISION_BUDGET_MS: String(config.http.dynamicDecisionBudgetMs),
        MAX_BODY_BYTES: String(config.http.maxBodyBytes),
        // The bundled rules.json's version, hashed here once instead of at every cold start.
        RULES_VERSION: props.rulesVersion,
        // Records on: http queues its records for the worker to write (it has no DynamoDB client).
        ...this.decisionRecords?.httpEnvironment(),
        // Rules that read live context decide in the reply too: they need the ISC API client.
        ...(props.rulesUseContext ? { ISC_CREDENTIALS_SECRET_ID: iscCredentialsSecretId } : {}),
      },
    });
    // ISC cannot sign requests: the URL is public and the handler checks the bearer token itself.
    this.functionUrl = this.httpFunction.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    // Optional: ISC then calls the distribution, and the function refuses what did not come through it.
    this.front = config.front.enabled
      ? new Front(this, "Front", { front: config.front, functionUrl: this.functionUrl })
      : undefined;
    if (this.front) {
      this.httpFunction.addEnvironment("ORIGIN_VERIFY_SECRET_ID", this.front.originVerifySecret.secretArn);
      this.httpFunction.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ["secretsmanager:GetSecretValue"],
          resources: [this.front.originVerifySecret.secretArn],
        }),
      );
    }
    /** The URL ISC's HTTP subscriptions call. */
    const subscriptionUrl = this.front?.url ?? this.functionUrl.url;

    this.workerFunction = makeFunction("worker", "WorkerFunction", {
      description: "Decides and completes queued ISC trigger invocations",
      timeout: workerTimeout,
      memorySize: config.worker.memorySize,
      withRules: true,
      withExtension: true,
      environment: {
        ...responder,
        ISC_CREDENTIALS_SECRET_ID: iscCredentialsSecretId,
        LEDGER_TABLE_NAME: this.table.tableName,
        // Its own queue: a retryable invocation goes back with a delay inside its deadline.
        QUEUE_URL: this.queue.queueUrl,
        ...this.decisionRecords?.workerEnvironment(),
      },
    });
    this.workerFunction.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: config.worker.batchSize,
        reportBatchItemFailures: true,
        maxConcurrency: config.worker.maxConcurrency,
      }),
    );

    this.subscriptionsFunction = makeFunction("subscriptions", "SubscriptionsFunction", {
      description: "Manages the ISC trigger subscriptions and rotates the webhook token",
      timeout: Duration.minutes(5),
      memorySize: 256,
      environment: {
        ISC_CREDENTIALS_SECRET_ID: iscCredentialsSecretId,
        WEBHOOK_CREDENTIALS_SECRET_ID: this.webhookSecret.secretArn,
        // The rotation re-points the subscriptions whose URL is this one.
        FUNCTION_URL: subscriptionUrl,
        SUBSCRIBED_HTTP_TRIGGERS: httpTriggers.map((t) => t.triggerId).join(","),
      },
    });

    // --- least-privilege grants ------------------------------------------------------------
    this.decisionRecords?.grantWrite(this.workerFunction);
    // Only the worker writes the ledger (the http function hands invocations over through the queue).
    this.workerFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
        resources: [this.table.tableArn],
      }),
    );
    // http reads its secrets through the extension, which only calls GetSecretValue (no DescribeSecret).
    this.httpFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["secretsmanager:GetSecretValue"],
        resources: [
          this.webhookSecret.secretArn,
          ...(props.rulesUseContext ? [secretArnForPolicies(iscCredentials, iscCredentialsSecretId)] : []),
        ],
      }),
    );
    // SendMessage only (the code has the queue URL); the key policy below lets them encrypt. Not
    // queue.grantSendMessages: it adds kms:ReEncrypt* and kms:GenerateDataKey* to the roles.
    for (const fn of [this.httpFunction, this.workerFunction]) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: ["sqs:SendMessage"], resources: [this.queue.queueArn] }),
      );
    }
    // The key's users, by role: http sends (encrypts), the worker receives (decrypts) and puts
    // retries back (encrypts). SQS needs kms:Decrypt from a sender as well as GenerateDataKey.
    this.queueKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "FunctionsUseTheKey",
        principals: [this.httpFunction.role!, this.workerFunction.role!],
        actions: ["kms:GenerateDataKey", "kms:Decrypt"],
        resources: ["*"],
      }),
    );
    for (const [index, arn] of config.queueKey.operatorRoleArns.entries()) {
      this.queueKey.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: `OperatorReadsDeadLetters${index + 1}`,
          principals: [new iam.ArnPrincipal(arn)],
          actions: ["kms:GenerateDataKey", "kms:Decrypt"],
          resources: ["*"],
        }),
      );
    }
    iscCredentials.grantRead(this.workerFunction);
    iscCredentials.grantRead(this.subscriptionsFunction);
    this.webhookSecret.grantRead(this.subscriptionsFunction);

    // --- token rotation --------------------------------------------------------------------
    if (config.subscriptions.tokenRotationDays > 0) {
      this.webhookSecret.addRotationSchedule("Rotation", {
        rotationLambda: this.subscriptionsFunction,
        automaticallyAfter: Duration.days(config.subscriptions.tokenRotationDays),
        // Rotating while the subscriptions are being created would race them; rotate on schedule only.
        rotateImmediatelyOnUpdate: false,
      });
      scopeRotationInvokePermission(this.subscriptionsFunction, this.webhookSecret.secretArn, this.account);
      acknowledge(
        this.subscriptionsFunction,
        "AwsSolutions-IAM5[Resource::*]",
        "secretsmanager:GetRandomPassword, added by CDK's RotationSchedule, has no resource-level permissions; the rotation code generates tokens with node:crypto and never calls it.",
      );
    } else {
      acknowledge(
        this.webhookSecret,
        "AwsSolutions-SMG4",
        "Automatic rotation is turned off in responder.config.json (subscriptions.tokenRotationDays = 0); docs/deploy.md explains how to rotate on demand.",
      );
    }

    // --- EventBridge delivery --------------------------------------------------------------
    const deadLetterQueues: sqs.IQueue[] = [this.deadLetterQueue];
    if (eventBridgeTriggers.length > 0) {
      const busName = config.eventBridge.eventBusName as string;
      const bus = events.EventBus.fromEventBusName(this, "PartnerEventBus", busName);
      const eventDeadLetterQueue = new sqs.Queue(this, "EventDeadLetterQueue", {
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: this.queueKey,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      acknowledge(
        eventDeadLetterQueue,
        "AwsSolutions-SQS3",
        "This queue is itself the dead-letter queue of the EventBridge rule targets (events EventBridge could not deliver to the invocation queue).",
      );
      deadLetterQueues.push(eventDeadLetterQueue);
      // EventBridge puts events (and its failures) on queues encrypted with the key: the events
      // service may use it for rules on the partner bus of this account only. By pattern, not by
      // rule ARN: the key policy naming a rule that targets a queue encrypted with the key is a cycle.
      this.queueKey.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: "EventBridgeRulesOnThePartnerBusUseTheKey",
          principals: [new iam.ServicePrincipal("events.amazonaws.com")],
          actions: ["kms:GenerateDataKey", "kms:Decrypt"],
          resources: ["*"],
          conditions: {
            StringEquals: { "aws:SourceAccount": this.account },
            ArnLike: {
              "aws:SourceArn": `arn:${this.partition}:events:${this.region}:${this.account}:rule/${busName}/*`,
            },
          },
        }),
      );
      // The target is the queue without its key: CDK's SqsQueue target would otherwise add a broader
      // key statement (kms:Encrypt, ReEncrypt*, GenerateDataKey* with SourceAccount only) itself.
      const ruleTarget = sqs.Queue.fromQueueAttributes(this, "InvocationQueueAsRuleTarget", {
        queueArn: this.queue.queueArn,
        queueUrl: this.queue.queueUrl,
        queueName: this.queue.queueName,
      });
      for (const { key, triggerId } of eventBridgeTriggers) {
        const rule = new events.Rule(this, `${capitalize(key)}EventRule`, {
          eventBus: bus,
          description: `ISC ${triggerId} invocations to the worker queue`,
          eventPattern: { source: events.Match.prefix(ISC_PARTNER_SOURCE_PREFIX), detailType: [triggerId] },
          targets: [
            new targets.SqsQueue(ruleTarget, {
              deadLetterQueue: eventDeadLetterQueue,
              retryAttempts: 185,
              maxEventAge: Duration.hours(24),
            }),
          ],
        });
        // The queue policy (a resource of its own, so naming the rule is no cycle): this rule only.
        this.queue.addToResourcePolicy(
          new iam.PolicyStatement({
            sid: `${capitalize(key)}EventRuleSends`,
            principals: [new iam.ServicePrincipal("events.amazonaws.com")],
            actions: ["sqs:SendMessage"],
            resources: [this.queue.queueArn],
            conditions: { ArnEquals: { "aws:SourceArn": rule.ruleArn } },
          }),
        );
      }
    }

    // --- trigger subscriptions (custom resources) -----------------------------------------
    const provider = new cr.Provider(this, "SubscriptionsProvider", {
      onEventHandler: this.subscriptionsFunction,
      logGroup: new logs.LogGroup(this, "SubscriptionsProviderLogs", {
        retention: config.observability.logRetentionDays as logs.RetentionDays,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    });
    acknowledgeProviderFindings(
      provider,
      this.getLogicalId(this.subscriptionsFunction.node.defaultChild as CfnElement),
    );
    for (const { key, triggerId, trigger } of triggers) {
      const properties: SubscriptionResourceProperties = {
        TriggerId: triggerId,
        Name: `${config.subscriptions.namePrefix} ${key}`.slice(0, 100),
        Description: `Managed by CloudFormation stack ${this.stackName}; changes made in ISC are overwritten on deploy`,
        Delivery: trigger.delivery,
        ResponseDeadline: trigger.responseDeadline,
        RetainOnDelete: config.subscriptions.retainOnDelete,
        ...(trigger.filter ? { Filter: trigger.filter } : {}),
        ...(trigger.delivery === "HTTP"
          ? { Url: subscriptionUrl, HttpDispatchMode: trigger.httpDispatchMode }
          : { AwsAccount: this.account, AwsRegion: this.region }),
      };
      const subscription = new CustomResource(this, `${capitalize(key)}Subscription`, {
        serviceToken: provider.serviceToken,
        resourceType: "Custom::IscTriggerSubscription",
        properties: properties as unknown as Record<string, unknown>,
      });
      // ISC may deliver as soon as the subscription exists: everything the functions use must be in place.
      subscription.node.addDependency(this.httpFunction, this.workerFunction, this.table, this.queue);
      new CfnOutput(this, `${capitalize(key)}SubscriptionId`, { value: subscription.ref });
    }

    // --- monitoring ------------------------------------------------------------------------
    this.monitoring = new Monitoring(this, "Monitoring", {
      config,
      httpFunction: this.httpFunction,
      workerFunction: this.workerFunction,
      queue: this.queue,
      deadLetterQueues,
      triggerIds: triggers.map((t) => t.triggerId),
      decisionRecords: this.decisionRecords !== undefined,
    });

    if (config.lambdaRuntime === "nodejs22.x") {
      for (const fn of [this.httpFunction, this.workerFunction, this.subscriptionsFunction]) {
        acknowledge(
          fn,
          "AwsSolutions-L1",
          "Pinned to Node.js 22, the version the project is built and tested on (package.json engines, bundles target node22); set lambdaRuntime to nodejs24.x to move.",
        );
      }
    }

    acknowledge(
      this,
      "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
      "AWSLambdaBasicExecutionRole only allows writing the function's own CloudWatch logs; it is the AWS-recommended baseline for Lambda roles.",
    );

    new CfnOutput(this, "FunctionUrl", { value: this.functionUrl.url });
    new CfnOutput(this, "WebhookSecretArn", { value: this.webhookSecret.secretArn });
    new CfnOutput(this, "QueueUrl", { value: this.queue.queueUrl });
    new CfnOutput(this, "DeadLetterQueueUrl", { value: this.deadLetterQueue.queueUrl });
    new CfnOutput(this, "LedgerTableName", { value: this.table.tableName });
    new CfnOutput(this, "AlarmTopicArn", { value: this.monitoring.topic.topicArn });
    new CfnOutput(this, "RulesVersion", { value: props.rulesVersion });
  }
}

/**
 * What the account root may do with the queue key: administer it (CloudFormation updates its policy
 * through the deploying role's IAM permissions), never use it, nor grant its use (no kms:CreateGrant).
 */
const QUEUE_KEY_ADMIN_ACTIONS = [
  "kms:CreateAlias",
  "kms:DescribeKey",
  "kms:GetKeyPolicy",
  "kms:GetKeyRotationStatus",
  "kms:ListAliases",
  "kms:ListGrants",
  "kms:ListKeyPolicies",
  "kms:ListResourceTags",
  "kms:PutKeyPolicy",
  "kms:UpdateAlias",
  "kms:UpdateKeyDescription",
  "kms:EnableKey",
  "kms:EnableKeyRotation",
  "kms:DisableKey",
  "kms:DisableKeyRotation",
  "kms:RevokeGrant",
  "kms:RetireGrant",
  "kms:DeleteAlias",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
  "kms:RotateKeyOnDemand",
];

/** A secret's ARN as IAM must match it: a name-only reference has Secrets Manager's 6-character suffix after it. */
function secretArnForPolicies(secret: secretsmanager.ISecret, configured: string): string {
  return configured.startsWith("arn:") ? configured : `${secret.secretArn}-??????`;
}

/**
 * CDK's rotation schedule lets secretsmanager.amazonaws.com invoke the rotation function with no
 * condition: any secret's rotation, in any account, could name it. Only this secret's, in this account.
 */
function scopeRotationInvokePermission(fn: lambda.Function, secretArn: string, account: string): void {
  const permissions = fn.node
    .findAll()
    .filter((c): c is lambda.CfnPermission => c instanceof lambda.CfnPermission)
    .filter((p) => p.principal === "secretsmanager.amazonaws.com");
  if (permissions.length !== 1) {
    throw new Error(
      `expected one Secrets Manager invoke permission on the rotation function, found ${permissions.length}`,
    );
  }
  permissions[0]!.sourceArn = secretArn;
  permissions[0]!.sourceAccount = account;
}

/** The Provider framework's own function and role are CDK's; their findings are acknowledged with reasons. */
function acknowledgeProviderFindings(provider: cr.Provider, onEventLogicalId: string): void {
  acknowledge(
    provider,
    "AwsSolutions-L1",
    "The custom resource Provider framework function's runtime is chosen by aws-cdk-lib and moves with CDK upgrades.",
  );
  acknowledge(
    provider,
    `AwsSolutions-IAM5[Resource::<${onEventLogicalId}.Arn>:*]`,
    "The Provider framework may invoke any version or alias of the subscriptions function only; the wildcard is the version qualifier.",
  );
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
