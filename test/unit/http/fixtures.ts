/** Shared helpers for the HTTP handler tests: real Function URL v2 event shapes, fakes for rules/queue/logger. */
import { readFileSync } from "node:fs";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { InvocationQueue } from "../../../lib/adapters/types.ts";
import { createCachedCredentialsProvider } from "../../../lib/http/auth.ts";
import { createHttpHandler, type HttpHandlerDeps, type HttpLogger } from "../../../lib/http/handler.ts";
import type { ActionSpec, CompiledRules, Decision } from "../../../lib/rules/types.ts";
import type { QueuedInvocation } from "../../../lib/triggers/queued-invocation.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../../../lib/triggers/trigger-ids.ts";
import { payloadOnly } from "../../helpers/payload-rules.ts";

export const TENANT = "https://acme.api.identitynow.com";
export const TOKEN = "tok3nCurrentAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
export const PREVIOUS_TOKEN = "tok3nPreviousBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
export const SECRET = "c1c60493-3347-4550-9c00-123cdde";

const examples = new URL("../../fixtures/isc-reference/examples/", import.meta.url);
// biome-ignore lint/suspicious/noExplicitAny: JSON fixtures that tests mutate freely
export function example(name: string): Record<string, any> {
  return JSON.parse(readFileSync(new URL(name, examples), "utf8"));
}

/** The documented async pre-approval body, with the mode and trigger changed as asked. */
export function body(
  mode: "sync" | "async" | "dynamic" | "none" = "async",
  triggerId: string = PRE_APPROVAL,
  // biome-ignore lint/suspicious/noExplicitAny: JSON fixtures that tests mutate freely
): Record<string, any> {
  const b = example("http-async-pre-approval.request.json");
  b._metadata.triggerId = triggerId;
  if (mode === "none") delete b._metadata.responseMode;
  else b._metadata.responseMode = mode;
  return b;
}

export function event(
  payload: unknown,
  options: {
    method?: string;
    authorization?: string | null;
    base64?: boolean;
    headers?: Record<string, string>;
    raw?: string;
  } = {},
): APIGatewayProxyEventV2 {
  const text = options.raw ?? JSON.stringify(payload);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
    host: "abc.lambda-url.us-east-1.on.aws",
    ...options.headers,
  };
  if (options.authorization !== null) headers.authorization = options.authorization ?? `Bearer ${TOKEN}`;
  const method = options.method ?? "POST";
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: "/",
    rawQueryString: "",
    headers,
    requestContext: {
      accountId: "anonymous",
      apiId: "abc",
      domainName: "abc.lambda-url.us-east-1.on.aws",
      domainPrefix: "abc",
      http: { method, path: "/", protocol: "HTTP/1.1", sourceIp: "203.0.113.9", userAgent: "isc" },
      requestId: "req-1",
      routeKey: "$default",
      stage: "$default",
      time: "01/Jan/2026:00:00:00 +0000",
      timeEpoch: Date.now(),
    },
    body: options.base64 ? Buffer.from(text).toString("base64") : text,
    isBase64Encoded: options.base64 ?? false,
  };
}

export function fakeRules(
  options: { slowMs?: number; throws?: boolean; actions?: ActionSpec[] } = {},
): CompiledRules & { calls: number } {
  const rules = {
    version: "sha256:test",
    calls: 0,
    decide(invocation): Decision {
      rules.calls++;
      if (options.throws) throw new Error("boom");
      if (options.slowMs) {
        const until = Date.now() + options.slowMs;
        while (Date.now() < until) {
          // busy: a slow custom predicate
        }
      }
      const explanation = {
        ruleId: "r1",
        kind: "rule" as const,
        matched: [],
        rulesVersion: "sha256:test",
        rulesEvaluated: 1,
        evaluationMicros: 1,
      };
      if (invocation.triggerId === PRE_APPROVAL) {
        return {
          triggerId: PRE_APPROVAL,
          output: { approved: true, comment: "ok", approver: "rules" },
          explanation,
          actions: options.actions ?? [],
        };
      }
      if (invocation.triggerId === DYNAMIC_APPROVER) {
        return {
          triggerId: DYNAMIC_APPROVER,
          output: { id: "id1", name: "Boss", type: "IDENTITY" },
          explanation,
          actions: options.actions ?? [],
        };
      }
      return { triggerId: invocation.triggerId, output: null, explanation, actions: [] };
    },
    fallback(triggerId, reason): Decision {
      const explanation = {
        ruleId: "fallback",
        kind: "fallback" as const,
        matched: [],
        rulesVersion: "sha256:test",
        rulesEvaluated: 0,
        evaluationMicros: 0,
        fallbackReason: reason,
      };
      if (triggerId === PRE_APPROVAL) {
        return {
          triggerId,
          output: { approved: false, comment: "fallback", approver: "rules" },
          explanation,
          actions: [],
        };
      }
      if (triggerId === DYNAMIC_APPROVER) {
        return { triggerId, output: { id: "", name: "", type: "" }, explanation, actions: [] };
      }
      return { triggerId, output: null, explanation, actions: [] };
    },
  } satisfies Omit<CompiledRules, "evaluate" | "contextNeeds"> & { calls: number };
  return payloadOnly(rules);
}

export class FakeQueue implements InvocationQueue {
  messages: QueuedInvocation[] = [];
  fail = false;
  async enqueue(message: QueuedInvocation): Promise<void> {
    if (this.fail) throw Object.assign(new Error("queue down"), { name: "QueueDown" });
    // Serialise as SQS would, so an unserialisable message fails here as it would in AWS.
    this.messages.push(JSON.parse(JSON.stringify(message)));
  }
}

export function captureLogger(): HttpLogger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push(JSON.stringify({ level, message, ...fields }));
  };
  return { lines, info: log("info"), warn: log("warn"), error: log("error") };
}

export function setup(overrides: Partial<HttpHandlerDeps> & { secret?: string } = {}) {
  const queue = new FakeQueue();
  const rules = fakeRules();
  const logger = captureLogger();
  const secretString =
    overrides.secret ?? JSON.stringify({ type: "bearer", current: TOKEN, previous: PREVIOUS_TOKEN });
  const deps: HttpHandlerDeps = {
    rules,
    queue,
    logger,
    credentials: createCachedCredentialsProvider(async () => secretString),
    tenantBaseUrl: TENANT,
    responseDeadlineMs: () => 3_600_000,
    ...overrides,
  };
  return { handler: createHttpHandler(deps), queue, rules, logger, deps };
}
