/**
 * `isc-responder serve`: only the local responder (HTTP handler + in-process worker) against a real
 * tenant (SAIL_BASE_URL), completing invocations with SAIL_CLIENT_ID/SECRET, and taking ISC's
 * inbound credentials from RESPONDER_BEARER_TOKEN or RESPONDER_BASIC_USER + RESPONDER_BASIC_PASSWORD.
 */

import { FileDecisionRecords } from "../adapters/local/file-decision-records.ts";
import { contextReaderForClient } from "../context/for-client.ts";
import type { WebhookCredentials } from "../http/auth.ts";
import { IscClient } from "../isc/client.ts";
import type { PipelineLogger } from "../responder/observability.ts";
import type { ShadowSettings } from "../responder/shadow.ts";
import { loadRulesFile } from "../rules/load-file.ts";
import { responseDeadlineMs } from "../triggers/duration.ts";
import {
  type LocalRecords,
  type LocalResponder,
  startLocalResponder,
  type WorkerFactory,
} from "./responder.ts";

export class ServeConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ServeConfigError";
  }
}

/** ISC's inbound credentials from the environment; names the variables that are missing, never their values. */
export function inboundCredentialsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): WebhookCredentials {
  const token = env.RESPONDER_BEARER_TOKEN;
  const user = env.RESPONDER_BASIC_USER;
  const password = env.RESPONDER_BASIC_PASSWORD;
  if (token && (user || password)) {
    throw new ServeConfigError(
      "set either RESPONDER_BEARER_TOKEN or RESPONDER_BASIC_USER + RESPONDER_BASIC_PASSWORD, not both",
    );
  }
  if (token) return { type: "bearer", current: token };
  if (user && password) return { type: "basic", username: user, current: password };
  throw new ServeConfigError(
    "ISC's credentials are not set: RESPONDER_BEARER_TOKEN (Bearer) or RESPONDER_BASIC_USER and RESPONDER_BASIC_PASSWORD (Basic)",
  );
}

export interface ServeOptions {
  rulesPath: string;
  port: number;
  host?: string;
  /** The subscriptions' responseDeadline (ISO-8601, default PT1H). */
  responseDeadline?: string;
  dynamicBudgetMs?: number;
  env: Readonly<Record<string, string | undefined>>;
  logger: PipelineLogger;
  createWorker?: WorkerFactory;
  /** Decision records go to this JSON-lines file (`--records`)... */
  recordsPath?: string;
  /** ...or to this store (tests); neither: none are kept. */
  records?: LocalRecords;
  /** Triggers in shadow mode (`--shadow`). */
  shadow?: ShadowSettings;
}

export async function startServe(options: ServeOptions): Promise<LocalResponder & { tenantBaseUrl: string }> {
  const { env } = options;
  const missing = ["SAIL_BASE_URL", "SAIL_CLIENT_ID", "SAIL_CLIENT_SECRET"].filter((name) => !env[name]);
  if (missing.length > 0) throw new ServeConfigError(`missing environment variables: ${missing.join(", ")}`);
  const credentials = inboundCredentialsFromEnv(env);
  let deadlineMs: number;
  try {
    deadlineMs = responseDeadlineMs(options.responseDeadline ?? "PT1H");
  } catch {
    throw new ServeConfigError(
      "--response-deadline must be an ISO-8601 duration of at least one minute, like PT1H",
    );
  }
  const rules = (await loadRulesFile(options.rulesPath)).compiled;
  const tenantBaseUrl = env.SAIL_BASE_URL!;
  const client = new IscClient({
    baseUrl: tenantBaseUrl,
    clientId: env.SAIL_CLIENT_ID!,
    clientSecret: env.SAIL_CLIENT_SECRET!,
  });
  const records =
    options.records ??
    (options.recordsPath === undefined ? undefined : new FileDecisionRecords(options.recordsPath));
  const responder = await startLocalResponder({
    rules,
    tenantBaseUrl,
    credentials,
    client,
    // One container's reader (the whole tenant budget): rules read people, items and SoD live.
    context: contextReaderForClient(client),
    logger: options.logger,
    port: options.port,
    host: options.host ?? "127.0.0.1",
    responseDeadlineMs: () => deadlineMs,
    ...(options.dynamicBudgetMs === undefined ? {} : { dynamicBudgetMs: options.dynamicBudgetMs }),
    ...(options.createWorker === undefined ? {} : { createWorker: options.createWorker }),
    ...(records === undefined ? {} : { records }),
    ...(options.shadow === undefined ? {} : { shadow: options.shadow }),
  });
  return Object.assign(responder, { tenantBaseUrl });
}
