/** Helpers for the end-to-end tests: the worker factory, slow rules to force dynamic 202s, polling. */
import type { WorkerFactory } from "../../lib/local/responder.ts";
import type { CompiledRules } from "../../lib/rules/types.ts";
import type { Invocation } from "../../lib/triggers/invocation.ts";
import type { KnownTriggerId } from "../../lib/triggers/trigger-ids.ts";
import { createWorkerHandler } from "../../lib/worker/handler.ts";
import { payloadOnly } from "../helpers/payload-rules.ts";

/** The worker as the local runner builds it by default (lib/worker/handler.ts createWorkerHandler). */
export async function workerFactory(): Promise<{ factory: WorkerFactory }> {
  return { factory: (deps) => createWorkerHandler(deps) };
}

/** Rules that take `delayMs` to decide (a slow custom predicate), to push dynamic mode past its budget. */
export function slowRules(rules: CompiledRules, delayMs: number): CompiledRules {
  return payloadOnly({
    version: rules.version,
    fallback: (triggerId: KnownTriggerId, reason: string) => rules.fallback(triggerId, reason),
    decide(invocation: Invocation) {
      const until = Date.now() + delayMs;
      while (Date.now() < until) {
        // busy, as a slow synchronous predicate would be
      }
      return rules.decide(invocation);
    },
  });
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
