/**
 * Lambda Function URL handler (payload format 2.0): ISC's HTTP subscription delivers here.
 * Thin: builds the dependencies once per container from the environment (docs/runtime-contract.md)
 * and hands each request to createHttpHandler (lib/http/handler.ts), which holds all the behaviour.
 *
 * Cold start is the budget: no AWS SDK on the sync path (the webhook credentials come through the
 * Parameters and Secrets extension when its layer is attached; the SDK is imported lazily only
 * without it, and the SQS client only on the first enqueue), zod/mini only, rules from RULES_PATH
 * JSON (validated at synth, compiled here once, no YAML parser in the bundle).
 */
import middy from "@middy/core";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { SecretsManagerSecretsStore } from "../lib/adapters/aws/secrets-manager.ts";
import { SqsInvocationQueue } from "../lib/adapters/aws/sqs-queue.ts";
import { queueRecordSink } from "../lib/audit/queue-sink.ts";
import type { CachedContextReader, CachedReads } from "../lib/context/reader.ts";
import type {
  ContextNeeds,
  ContextReader,
  ContextReadOptions,
  ContextSubject,
} from "../lib/context/types.ts";
import { createCachedCredentialsProvider } from "../lib/http/auth.ts";
import { httpConfigFromEnv } from "../lib/http/config.ts";
import { createExtensionSecretReader } from "../lib/http/extension-secret.ts";
import { createHttpHandler } from "../lib/http/handler.ts";
import { createJsonLineLogger } from "../lib/http/logger.ts";
import { createOriginVerifyProvider } from "../lib/http/origin-check.ts";
import { emfMetrics, writeStdoutLine } from "../lib/observability/emf.ts";
import { parseShadowSettings } from "../lib/responder/shadow.ts";
import { bundledRules } from "../lib/rules/bundled-module.ts";
import { compileRules } from "../lib/rules/compile.ts";
import { prepareRegexEngine } from "../lib/rules/load-bundled.ts";
import { readPrecompiledBeside } from "../lib/rules/precompiled.ts";
import type { RulesDocument } from "../lib/rules/schema.ts";

const env = process.env;
const config = httpConfigFromEnv(env);
const service = env.POWERTOOLS_SERVICE_NAME ?? "isc-trigger-responder-http";
// Straight to stdout: under Lambda's JSON log format, console.* would wrap each line in another JSON object.
const logger = createJsonLineLogger(service, env.POWERTOOLS_LOG_LEVEL ?? "INFO", (_level, line) =>
  writeStdoutLine(line),
);
// The same EMF lines as the worker's: the alarms watch both functions' Decisions and Fallbacks.
const metrics = emfMetrics(env.POWERTOOLS_METRICS_NAMESPACE ?? "IscTriggerResponder", service);

// node:fs and node:url through getBuiltinModule: an ESM import of a builtin builds its ESM facade (cold-start time).
const { readFileSync } = process.getBuiltinModule("node:fs");
const { fileURLToPath } = process.getBuiltinModule("node:url");

// The provider caches (TTL, and a rate-limited re-read after a refused token, for rotation).
// With the extension layer: node:http to the loopback, no SDK. Without it: the Secrets Manager SDK, imported
// on first read (the adapter itself is a few hundred bytes, imported statically: a second lazy entry would
// split the bundle's shared code into more chunks that index.mjs loads at init).
const extensionPort = Number(env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT);
const readFromExtension =
  Number.isInteger(extensionPort) && extensionPort > 0 && env.AWS_SESSION_TOKEN
    ? createExtensionSecretReader({ port: extensionPort, sessionToken: env.AWS_SESSION_TOKEN })
    : undefined;
async function readSecret(secretId: string): Promise<string> {
  if (readFromExtension !== undefined) return readFromExtension(secretId);
  return new SecretsManagerSecretsStore().getSecretString(secretId);
}
const credentials = createCachedCredentialsProvider(() => readSecret(config.webhookCredentialsSecretId), {
  ttlMs: 60_000,
});
// With the CloudFront front the stack sets ORIGIN_VERIFY_SECRET_ID: a request without the front's
// x-origin-verify value is refused (403) before its credentials are looked at. Read like them.
const originVerifySecretId = env.ORIGIN_VERIFY_SECRET_ID?.trim() || undefined;
const originVerify =
  originVerifySecretId === undefined
    ? undefined
    : createOriginVerifyProvider(() => readSecret(originVerifySecretId));

// Rules that read live context (the stack then sets ISC_CREDENTIALS_SECRET_ID): the ISC client and
// the reader are loaded on the first read, not at init, so cold start and payload-only decisions
// never pay for them: one dynamic import, a chunk of its own beside index.mjs (infra/bundling.ts splits
// this bundle), neither parsed nor evaluated before the first read.
function lazyContextReader(secretId: string): ContextReader {
  let reader: Promise<CachedContextReader> | undefined;
  const build = async (): Promise<CachedContextReader> => {
    // The context reads only: the full IscClient (every seed endpoint, its schemas) is the worker's.
    const { buildHttpContextReader } = await import("../lib/http/context-reader.ts");
    return buildHttpContextReader({
      readSecret,
      iscCredentialsSecretId: secretId,
      tenantBaseUrl: config.tenantBaseUrl,
      context: config.context,
      metrics,
    });
  };
  let built: CachedContextReader | undefined;
  return {
    async read(subject, needs, options) {
      // A failed build (the secret unreadable for a moment) is tried again by the next read.
      reader ??= build().then(
        (ready) => {
          built = ready;
          return ready;
        },
        (error: unknown) => {
          reader = undefined;
          throw error;
        },
      );
      return (await reader).read(subject, needs, options);
    },
    // Once built, a decision whose context is all cached is read at once (no timer, no signal).
    readCached(subject: ContextSubject, needs: ContextNeeds, options: ContextReadOptions) {
      return built?.readCached(subject, needs, options);
    },
  } as ContextReader & CachedReads;
}
// The credentials are read on the first request, not at init: the Parameters and Secrets extension
// may not serve requests during the INIT phase, and a failed early read shared by the first request
// would turn it into a 503.

// rules.json was validated at synth by the same code as `isc-responder rules check` (docs/runtime-contract.md);
// validating it again here cost about 25 ms of every cold start. The worker validates it at its own start.
const rulesPath = config.rulesPath ?? fileURLToPath(new URL("./rules.json", import.meta.url));
const rulesDocument = JSON.parse(readFileSync(rulesPath, "utf8")) as RulesDocument;
// RE2 from re2.mjs beside this bundle, only if a rule uses `matches`; init fails if it does not load.
await prepareRegexEngine(rulesDocument);
// Its version (sha256 of the canonical document) was computed at synth too: RULES_VERSION saves hashing it here.
// A TypeScript rules module bundled by the stack (lib/rules/bundled-module.ts) has the predicates; else rules.json.
// rules.precompiled.json beside it (written at synth, lib/rules/precompiled.ts) spares the compile its analysis.
const rules =
  (await bundledRules()) ??
  compileRules(rulesDocument, {
    source: rulesPath,
    version: config.bundledRulesVersion,
    precomputed: readPrecompiledBeside(rulesPath),
    onPrecomputedIgnored: (reason) => logger.warn("precompiled rules ignored, compiled in full", { reason }),
  });

// DECISION_RECORDS_RETENTION_DAYS (set by the stack with decision records on): the records of answers
// given in the reply go to the worker through the queue, which writes them (no DynamoDB client here).
function recordRetentionDays(text: string | undefined): number | undefined {
  if (!text?.trim()) return undefined;
  const days = Number(text);
  if (!Number.isInteger(days) || days < 1 || days > 3650) {
    throw new Error("DECISION_RECORDS_RETENTION_DAYS must be a whole number of days, 1 to 3650");
  }
  return days;
}
const retentionDays = recordRetentionDays(env.DECISION_RECORDS_RETENTION_DAYS);
const queue = new SqsInvocationQueue({ queueUrl: config.queueUrl });

const core = createHttpHandler({
  rules,
  credentials,
  queue,
  ...(retentionDays === undefined
    ? {}
    : { records: queueRecordSink(queue), recordRetentionDays: retentionDays }),
  logger,
  metrics,
  ...(originVerify === undefined ? {} : { originVerify }),
  // SHADOW_MODE (set by the stack for triggers with `shadow` on): their shadow answer goes to ISC.
  ...(env.SHADOW_MODE?.trim() ? { shadow: parseShadowSettings(env.SHADOW_MODE) } : {}),
  ...(config.iscCredentialsSecretId === undefined
    ? {}
    : { context: lazyContextReader(config.iscCredentialsSecretId) }),
  tenantBaseUrl: config.tenantBaseUrl,
  responseDeadlineMs: config.responseDeadlineMs,
  dynamicBudgetMs: config.dynamicBudgetMs,
  maxBodyBytes: config.maxBodyBytes,
});

// timeoutEarlyInMillis 0: middy's early timeout costs a timer, a promise race and ~1 µs on every call,
// and adds nothing here: createHttpHandler bounds every wait so the reply leaves within 8 s of receipt,
// inside the function's 10 s timeout.
export const handler = middy<APIGatewayProxyEventV2>({ timeoutEarlyInMillis: 0 }).handler((event) =>
  core(event),
);
