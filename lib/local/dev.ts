/**
 * `isc-responder dev` (npm start): the sandbox tenant, the local responder (the Lambda's HTTP
 * handler and worker, local adapters), one subscription per REQUEST_RESPONSE trigger switched with
 * PUT between sync, async, dynamic and EventBridge delivery, and sample invocations through each,
 * checked against the sandbox's state.
 */

import { randomBytes } from "node:crypto";
import { FileDecisionRecords } from "../adapters/local/file-decision-records.ts";
import { contextReaderForClient } from "../context/for-client.ts";
import { IscClient } from "../isc/client.ts";
import type { SubscriptionPutRequest } from "../isc/schemas.ts";
import type { ShadowSettings } from "../responder/shadow.ts";
import { loadRulesFile } from "../rules/load-file.ts";
import type { CompiledRules } from "../rules/types.ts";
import { type Sandbox, startSandbox } from "../sandbox/index.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL, type RequestResponseTriggerId } from "../triggers/trigger-ids.ts";
import { createLineLogger, type LogLevel } from "./log.ts";
import {
  type LocalRecords,
  type LocalResponder,
  startLocalResponder,
  type WorkerFactory,
} from "./responder.ts";
import {
  checkInvocation,
  defaultSamples,
  expectedDecision,
  SAMPLE_MODES,
  type Sample,
  type SampleMode,
  type SampleResult,
} from "./samples.ts";

export interface DevOptions {
  rulesPath: string;
  /** Rules compiled elsewhere (the TypeScript route); used instead of reading rulesPath. */
  rules?: CompiledRules;
  /** The responder's port (default: a free one). */
  port?: number;
  sandboxPort?: number;
  /** Every log line of the responder and the sandbox (JSON for the responder). */
  log: (line: string) => void;
  logLevel?: LogLevel;
  createWorker?: WorkerFactory;
  dynamicBudgetMs?: number;
  visibilityTimeoutMs?: number;
  /** How long to wait for each sample invocation to end (default 15 s). */
  invocationTimeoutMs?: number;
  /** Decision records go to this JSON-lines file (`--records`)... */
  recordsPath?: string;
  /** ...or to this store (tests); neither: none are kept. */
  records?: LocalRecords;
  /** Triggers in shadow mode (`--shadow`): the samples then expect the shadow answer. */
  shadow?: ShadowSettings;
}

export interface DevSession {
  sandbox: Sandbox;
  responder: LocalResponder;
  client: IscClient;
  rules: CompiledRules;
  /** The token the sandbox sends as `Authorization: Bearer` (generated per run). */
  bearerToken: string;
  subscriptionIds: Record<RequestResponseTriggerId, string>;
  /** Where the responder writes decision records (subscribe to see each one as it is written). */
  records: LocalRecords | undefined;
  /** PUTs the trigger's subscription to this delivery mode. */
  setMode(triggerId: RequestResponseTriggerId, mode: SampleMode): Promise<void>;
  /** Sets the mode, sends a test invocation, waits for it to end and checks it. */
  fire(sample: Sample, mode: SampleMode): Promise<SampleResult>;
  /** Every default sample through every mode. */
  runSamples(): Promise<SampleResult[]>;
  close(): Promise<void>;
}

export const EVENTBRIDGE_CONFIG = { awsAccount: "123456789012", awsRegion: "us-east-1" } as const;
const RESPONSE_DEADLINE = "PT1H";

export function generateBearerToken(): string {
  // 48 characters without punctuation, as the stack generates (docs/runtime-contract.md).
  return randomBytes(36)
    .toString("base64")
    .replace(/[^A-Za-z0-9]/g, "x")
    .slice(0, 48);
}

export async function startDev(options: DevOptions): Promise<DevSession> {
  const rules = options.rules ?? (await loadRulesFile(options.rulesPath)).compiled;
  const logger = createLineLogger(options.log, { level: options.logLevel ?? "info" });
  const bearerToken = generateBearerToken();
  const records =
    options.records ??
    (options.recordsPath === undefined ? undefined : new FileDecisionRecords(options.recordsPath));

  // The sandbox needs the sink before the responder exists; the responder needs the sandbox's URL.
  let responder: LocalResponder | undefined;
  const sandbox = await startSandbox({
    port: options.sandboxPort ?? 0,
    eventBridgeSink: (event) => {
      if (responder === undefined) throw new Error("the local responder is not running");
      responder.eventBridgeSink(event);
    },
    log: (line) => options.log(line),
  });

  let client: IscClient;
  try {
    client = new IscClient({
      baseUrl: sandbox.baseUrl,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
    });
    responder = await startLocalResponder({
      rules,
      tenantBaseUrl: sandbox.baseUrl,
      credentials: { type: "bearer", current: bearerToken },
      client,
      // Context read live from the sandbox's directory, as a deployment reads it from the tenant.
      context: contextReaderForClient(client),
      logger,
      ...(records === undefined ? {} : { records }),
      ...(options.shadow === undefined ? {} : { shadow: options.shadow }),
      ...(options.createWorker === undefined ? {} : { createWorker: options.createWorker }),
      ...(options.port === undefined ? {} : { port: options.port }),
      ...(options.dynamicBudgetMs === undefined ? {} : { dynamicBudgetMs: options.dynamicBudgetMs }),
      ...(options.visibilityTimeoutMs === undefined
        ? {}
        : { visibilityTimeoutMs: options.visibilityTimeoutMs }),
    });
  } catch (error) {
    await sandbox.close();
    throw error;
  }
  const running = responder;

  const subscriptionBody = (
    triggerId: RequestResponseTriggerId,
    mode: SampleMode,
  ): SubscriptionPutRequest => {
    const name = `isc-responder dev ${triggerId === PRE_APPROVAL ? "pre-approval" : "dynamic-approver"}`;
    if (mode === "eventbridge") {
      return {
        name,
        type: "EVENTBRIDGE",
        responseDeadline: RESPONSE_DEADLINE,
        eventBridgeConfig: { ...EVENTBRIDGE_CONFIG },
        enabled: true,
      };
    }
    return {
      name,
      type: "HTTP",
      responseDeadline: RESPONSE_DEADLINE,
      httpConfig: {
        url: running.url,
        httpDispatchMode: mode === "sync" ? "SYNC" : mode === "async" ? "ASYNC" : "DYNAMIC",
        httpAuthenticationType: "BEARER_TOKEN",
        bearerTokenAuthConfig: { bearerToken },
      },
      enabled: true,
    };
  };

  const subscriptionIds = {} as Record<RequestResponseTriggerId, string>;
  const currentMode = {} as Record<RequestResponseTriggerId, SampleMode>;
  try {
    for (const triggerId of [PRE_APPROVAL, DYNAMIC_APPROVER] as const) {
      const created = await client.createSubscription({ ...subscriptionBody(triggerId, "sync"), triggerId });
      subscriptionIds[triggerId] = created.id;
      currentMode[triggerId] = "sync";
    }
  } catch (error) {
    await running.close();
    await sandbox.close();
    throw error;
  }

  const session: DevSession = {
    sandbox,
    responder: running,
    client,
    rules,
    bearerToken,
    subscriptionIds,
    records,
    async setMode(triggerId, mode) {
      if (currentMode[triggerId] === mode) return;
      await client.updateSubscription(subscriptionIds[triggerId], subscriptionBody(triggerId, mode));
      currentMode[triggerId] = mode;
    },
    async fire(sample, mode) {
      await session.setMode(sample.triggerId, mode);
      const expected = await expectedDecision(
        rules,
        sample,
        sandbox.baseUrl,
        sandbox.directory,
        options.shadow,
      );
      const [created] = await client.testInvocation({
        triggerId: sample.triggerId,
        input: sample.input,
        contentJson: {},
        subscriptionIds: [subscriptionIds[sample.triggerId]],
      });
      if (created === undefined) throw new Error(`the sandbox created no invocation for ${sample.triggerId}`);
      const ended = await sandbox.waitForInvocation(created.id, options.invocationTimeoutMs ?? 15_000);
      return checkInvocation(ended, mode, sample, expected);
    },
    async runSamples() {
      const samples = defaultSamples();
      const results: SampleResult[] = [];
      for (const triggerId of [PRE_APPROVAL, DYNAMIC_APPROVER] as const) {
        for (const [index, mode] of SAMPLE_MODES.entries()) {
          const list = samples[triggerId];
          results.push(await session.fire(list[index % list.length]!, mode));
        }
      }
      // The worker writes a completion's decision record after ISC acknowledged it: let the queue
      // drain so `decisions list` (and --once's exit) see every sample's record.
      await running.waitForDrain(10_000).catch(() => undefined);
      return results;
    },
    async close() {
      await running.close();
      await sandbox.close();
    },
  };
  return session;
}
