/**
 * Deciding one payload offline, the way the deployed functions do (payload first, then the context
 * the rules need, async predicates awaited within the deadline): for a TypeScript policy's own
 * tests (vitest, jest, node:test). `rules eval` and `rules test` run the same pipeline.
 *
 *   const result = await decideOffline(policy, input, { trigger: "preApproval", context: directory });
 *   expect(result.decision.explanation.ruleId).toBe("deny-high-risk");
 */
import { directoryFrom } from "../context/directory.ts";
import { DirectoryFetcher } from "../context/directory-fetcher.ts";
import { CachedContextReader } from "../context/reader.ts";
import {
  type ContextDecideResult,
  decideFromPayload,
  decideWithReadContext,
} from "../responder/context-decide.ts";
import { invocationForTools } from "./run-tests.ts";
import type { CompiledRules } from "./types.ts";

export interface DecideOfflineOptions {
  /** preApproval | dynamicApprover | postApproval | a trigger id (not needed for an HTTP body or an EventBridge event). */
  trigger?: string;
  /** The context the decision may read: a directory document (docs/sandbox.md), as `testContext` in a rules file. */
  context?: Record<string, unknown>;
  /** The decision's clock, epoch ms (default: now). */
  at?: number;
  /** How long context reads and async predicates may take (default 5 s). */
  budgetMs?: number;
}

/** The decision for `payload`, never throwing (a failing predicate is the fallback, `fallbackReason` says why). */
export async function decideOffline(
  rules: CompiledRules,
  payload: unknown,
  options: DecideOfflineOptions = {},
): Promise<ContextDecideResult> {
  const invocation = invocationForTools(payload, options.trigger, options.at);
  const first = decideFromPayload(invocation, rules);
  if (!("contextRequired" in first)) return first;
  const reader =
    options.context === undefined
      ? undefined
      : new CachedContextReader(
          new DirectoryFetcher(
            directoryFrom(options.context, { source: "test context", now: invocation.receivedAt }),
          ),
        );
  return decideWithReadContext(invocation, rules, first.contextRequired, {
    reader,
    deadline: Date.now() + (options.budgetMs ?? 5_000),
  });
}
