/**
 * Helpers for the end-to-end tests: the worker factory (the real createWorkerHandler when
 * functions/worker.ts exports it, else a stand-in over respond() with the same SQS contract), slow
 * rules to force dynamic 202s, and a client wrapper that can hold completions to crash a worker mid-flight.
 */
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { LocalWorkerDeps, SqsBatchHandler, WorkerFactory } from "../../lib/local/responder.ts";
import { respond } from "../../lib/responder/respond.ts";
import type { CompiledRules } from "../../lib/rules/types.ts";
import {
  type Invocation,
  invocationFromEventBridgeEvent,
  looksLikeEventBridgeEvent,
} from "../../lib/triggers/invocation.ts";
import { fromQueuedInvocation } from "../../lib/triggers/queued-invocation.ts";

function standInWorker(deps: LocalWorkerDeps): SqsBatchHandler {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const batchItemFailures: SQSBatchResponse["batchItemFailures"] = [];
    for (const record of event.Records) {
      let invocation: Invocation;
      try {
        const body = JSON.parse(record.body);
        invocation = looksLikeEventBridgeEvent(body)
          ? invocationFromEventBridgeEvent(body, {
              tenantBaseUrl: deps.tenantBaseUrl,
              responseDeadlineMs: deps.responseDeadlineMs,
            })
          : fromQueuedInvocation(body);
      } catch {
        continue; // poison message: dropped (the real worker dead-letters it)
      }
      const outcome = await respond(invocation, {
        rules: deps.rules,
        client: deps.client,
        ledger: deps.ledger,
        logger: deps.logger,
        metrics: deps.metrics,
        workerId: deps.workerId,
      });
      if (outcome.retryable) batchItemFailures.push({ itemIdentifier: record.messageId });
    }
    return { batchItemFailures };
  };
}

/** The real worker if it exists yet, else the stand-in. */
export async function workerFactory(): Promise<{ factory: WorkerFactory; real: boolean }> {
  const worker = (await import("../../functions/worker.ts")) as unknown as {
    createWorkerHandler?: (deps: LocalWorkerDeps) => SqsBatchHandler;
  };
  const create = worker.createWorkerHandler;
  if (typeof create === "function") return { factory: (deps) => create(deps), real: true };
  return { factory: standInWorker, real: false };
}

/** Rules that take `delayMs` to decide (a slow custom predicate), to push dynamic mode past its budget. */
export function slowRules(rules: CompiledRules, delayMs: number): CompiledRules {
  return {
    version: rules.version,
    fallback: (triggerId, reason) => rules.fallback(triggerId, reason),
    decide(invocation) {
      const until = Date.now() + delayMs;
      while (Date.now() < until) {
        // busy, as a slow synchronous predicate would be
      }
      return rules.decide(invocation);
    },
  };
}

export function waitUntil(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (predicate()) resolve();
      else if (Date.now() > until) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}
