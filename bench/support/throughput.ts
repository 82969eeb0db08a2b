/**
 * Async throughput: N async pre-approval invocations through local HTTP endpoint → queue → worker →
 * sandbox, with the sandbox enforcing ISC's rate limit per client id. Reports completions per second
 * against the limit's ceiling (sustained: after the first window, whose burst would flatter the
 * figure) and the 429s the client received.
 */
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../../lib/triggers/trigger-ids.ts";
import { startPipeline } from "./pipeline.ts";
import { round } from "./stats.ts";
import { benchInput, seededRandom } from "./workload.ts";

export interface ThroughputFigures {
  n: number;
  completed: number;
  failed: number;
  limit: string;
  /** Completions per second after the first rate-limit window. */
  completionsPerSecond: number;
  /** Over the whole run, first-window burst included. */
  overallPerSecond: number;
  ceilingPerSecond: number;
  ratioToCeiling: number;
  status429: number;
  /** Token and completion requests the sandbox answered. */
  tenantRequests: number;
  elapsedSeconds: number;
}

export async function runThroughput(options: {
  n: number;
  rateLimit: { requests: number; windowMs: number };
  rulesDocument: Record<string, unknown>;
}): Promise<ThroughputFigures | { skipped: string }> {
  const random = seededRandom(11);
  let pipeline: Awaited<ReturnType<typeof startPipeline>>;
  try {
    pipeline = await startPipeline({
      rulesDocument: options.rulesDocument,
      rateLimit: options.rateLimit,
      responseDeadline: "PT15M",
      preApprovalMode: "ASYNC",
      visibilityTimeoutMs: 120_000,
      maxReceiveCount: 5,
      duplicateRate: 0,
      seedRandom: random,
    });
  } catch (error) {
    return { skipped: `pipeline could not start: ${(error as Error).message.split("\n")[0]}` };
  }
  const { sandbox } = pipeline;
  // No EventBridge in this run: the dynamic-approver subscription would otherwise take a share.
  for (const subscription of sandbox.state.subscriptions.values()) {
    if (subscription.triggerId === DYNAMIC_APPROVER) subscription.enabled = false;
  }
  const requestsBefore = sandbox.state.requests.length;
  const started = Date.now();
  try {
    const fired = [];
    for (let i = 0; i < options.n; i++)
      fired.push(...(await sandbox.fireTrigger(PRE_APPROVAL, benchInput(i, random))));
    const timeoutMs =
      Math.ceil((options.n / options.rateLimit.requests) * options.rateLimit.windowMs * 2) + 30_000;
    const done = await Promise.all(
      fired.map((invocation) => sandbox.waitForInvocation(invocation.id, timeoutMs)),
    );
    const completedAt = done
      .filter((invocation) => invocation.status === "COMPLETED")
      .map((invocation) => invocation.completed ?? 0)
      .sort((a, b) => a - b);
    const last = completedAt.at(-1) ?? Date.now();
    const steadyFrom = started + options.rateLimit.windowMs;
    const steady = completedAt.filter((t) => t >= steadyFrom).length;
    const ceiling = (options.rateLimit.requests / options.rateLimit.windowMs) * 1000;
    const sustained =
      last > steadyFrom
        ? steady / ((last - steadyFrom) / 1000)
        : completedAt.length / ((last - started) / 1000);
    const requests = sandbox.state.requests.slice(requestsBefore);
    return {
      n: options.n,
      completed: completedAt.length,
      failed: done.length - completedAt.length,
      limit: `${options.rateLimit.requests} per ${options.rateLimit.windowMs} ms`,
      completionsPerSecond: round(sustained, 2),
      overallPerSecond: round(completedAt.length / ((last - started) / 1000), 2),
      ceilingPerSecond: round(ceiling, 2),
      ratioToCeiling: round(sustained / ceiling, 2),
      status429: requests.filter((r) => r.status === 429).length,
      tenantRequests: requests.length,
      elapsedSeconds: round((last - started) / 1000, 1),
    };
  } finally {
    await pipeline.close();
  }
}
