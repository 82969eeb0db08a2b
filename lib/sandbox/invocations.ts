/**
 * Trigger invocations: creation (test call or fireTrigger), delivery to HTTP subscribers and the
 * EventBridge sink, completion by callback, and the deadline. Every state change goes through
 * `finish`, which is a no-op once the invocation has left PENDING: the first outcome wins.
 */
import { randomUUID, timingSafeEqual } from "node:crypto";
import * as z from "zod/mini";
import { zodIssueTexts } from "../errors.ts";
import { responseDeadlineMs } from "../triggers/duration.ts";
import {
  CompleteInvocationBodySchema,
  DynamicApproverOutputSchema,
  type EventBridgeTriggerEvent,
  PreApprovalOutputSchema,
} from "../triggers/schemas.ts";
import { DYNAMIC_APPROVER, isRequestResponseTrigger, PRE_APPROVAL } from "../triggers/trigger-ids.ts";
import { triggerShortName } from "./catalog.ts";
import { badRequest, iso, isPlainObject, referenceNotFound } from "./http.ts";
import { compileJsonPath } from "./json-path.ts";
import type {
  CompletionAttempt,
  InvocationStatus,
  SandboxDeliveryMode,
  SandboxInvocation,
  SandboxState,
  StoredSubscription,
} from "./state.ts";

export interface InvocationEngineOptions {
  state: SandboxState;
  baseUrl: () => string;
  now: () => number;
  deliveryTimeoutMs: number;
  eventBridgeSink?: ((event: EventBridgeTriggerEvent) => void | Promise<void>) | undefined;
  log: (line: string) => void;
}

/** Why `output` is not a valid output of `triggerId`, or undefined when it is. */
export function outputProblem(triggerId: string, output: unknown): string | undefined {
  if (!isPlainObject(output)) return "output is not a JSON object";
  let result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } };
  if (triggerId === PRE_APPROVAL) result = z.safeParse(PreApprovalOutputSchema, output);
  else if (triggerId === DYNAMIC_APPROVER) {
    // The docs also allow `{}` for "no additional approver".
    if (Object.keys(output).length === 0) return undefined;
    result = z.safeParse(DynamicApproverOutputSchema, output);
  } else return `trigger ${triggerId} takes no output`;
  if (result.success) return undefined;
  return `output does not match the ${triggerId} output schema: ${zodIssueTexts(
    result.error?.issues ?? [],
    output,
  )
    .slice(0, 3)
    .join("; ")}`;
}

function sameSecret(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function modeOf(subscription: StoredSubscription): SandboxDeliveryMode {
  if (subscription.type === "EVENTBRIDGE") return "eventbridge";
  return subscription.httpConfig!.httpDispatchMode.toLowerCase() as SandboxDeliveryMode;
}

function matchesFilter(subscription: StoredSubscription, input: unknown): boolean {
  if (subscription.filter === undefined) return true;
  try {
    return compileJsonPath(subscription.filter).evaluate(input).length > 0;
  } catch {
    return false;
  }
}

export class InvocationEngine {
  readonly #options: InvocationEngineOptions;
  readonly #pending = new Set<string>();
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #closing = new AbortController();
  readonly #deliveries = new Set<Promise<void>>();
  #sweeper: NodeJS.Timeout | undefined;

  constructor(options: InvocationEngineOptions) {
    this.#options = options;
    // A PENDING invocation past its deadline fails even if nobody looks at it.
    this.#sweeper = setInterval(() => this.expireOverdue(), 250);
    this.#sweeper.unref();
  }

  get #state(): SandboxState {
    return this.#options.state;
  }

  /** Creates one invocation per enabled, matching subscription of the trigger. Delivery is separate. */
  create(
    triggerId: string,
    input: Record<string, unknown>,
    contentJson: Record<string, unknown>,
    type: "TEST" | "REAL_TIME",
    subscriptionIds?: readonly string[],
  ): SandboxInvocation[] {
    const now = this.#options.now();
    const created: SandboxInvocation[] = [];
    for (const subscription of this.#state.subscriptions.values()) {
      if (subscription.triggerId !== triggerId || !subscription.enabled) continue;
      if (subscriptionIds !== undefined && !subscriptionIds.includes(subscription.id)) continue;
      if (!matchesFilter(subscription, input)) continue;
      const requestResponse = isRequestResponseTrigger(triggerId);
      const invocation: SandboxInvocation = {
        id: randomUUID(),
        triggerId,
        triggerType: requestResponse ? "requestResponse" : "fireAndForget",
        subscriptionId: subscription.id,
        subscriptionName: subscription.name,
        type,
        secret: randomUUID(),
        input: structuredClone(input),
        contentJson: structuredClone(contentJson),
        created: now,
        deadline: now + responseDeadlineMs(subscription.responseDeadline),
        status: "PENDING",
        completions: [],
        delivery: {
          mode: modeOf(subscription),
          target: subscription.type === "EVENTBRIDGE" ? "eventbridge" : subscription.httpConfig!.url,
        },
      };
      this.#state.invocations.set(invocation.id, invocation);
      this.#pending.add(invocation.id);
      created.push(invocation);
    }
    return created;
  }

  /** Starts delivering (in the background); close() waits for deliveries in flight. */
  deliverLater(invocations: readonly SandboxInvocation[]): void {
    for (const invocation of invocations) {
      const delivery = new Promise<void>((resolve) => setImmediate(resolve))
        .then(() => this.#deliver(invocation))
        .catch((error: unknown) => {
          this.#options.log(`[sandbox] delivery of ${invocation.id} crashed: ${(error as Error).message}`);
        })
        .finally(() => this.#deliveries.delete(delivery));
      this.#deliveries.add(delivery);
    }
  }

  callbackUrl(id: string): string {
    return `${this.#options.baseUrl()}/beta/trigger-invocations/${id}/complete`;
  }

  async #deliver(invocation: SandboxInvocation): Promise<void> {
    const subscription = this.#state.subscriptions.get(invocation.subscriptionId);
    invocation.delivery.startedAt = this.#options.now();
    if (subscription === undefined) {
      this.#deliveryFailed(invocation, "the subscription was deleted before delivery");
      return;
    }
    if (subscription.type === "EVENTBRIDGE") await this.#deliverEventBridge(invocation, subscription);
    else await this.#deliverHttp(invocation, subscription);
    invocation.delivery.finishedAt = this.#options.now();
  }

  #deliveryFailed(invocation: SandboxInvocation, reason: string, httpStatus?: number): void {
    invocation.delivery.error = reason;
    if (httpStatus !== undefined) invocation.delivery.httpStatus = httpStatus;
    this.finish(invocation, "FAILED", { error: reason });
  }

  async #deliverEventBridge(invocation: SandboxInvocation, subscription: StoredSubscription): Promise<void> {
    const requestResponse = invocation.triggerType === "requestResponse";
    const event: EventBridgeTriggerEvent = {
      version: "0",
      id: randomUUID(),
      "detail-type": invocation.triggerId,
      source: `aws.partner/sailpoint.com/${subscription.id}/idn/${triggerShortName(invocation.triggerId)}`,
      account: subscription.eventBridgeConfig!.awsAccount,
      time: new Date(this.#options.now()).toISOString().replace(/\.\d{3}Z$/, "Z"),
      region: subscription.eventBridgeConfig!.awsRegion,
      resources: [],
      detail: {
        ...structuredClone(invocation.input),
        _metadata: {
          invocationId: invocation.id,
          triggerId: invocation.triggerId,
          triggerType: invocation.triggerType,
          ...(requestResponse
            ? { callbackURL: this.callbackUrl(invocation.id), secret: invocation.secret }
            : {}),
        },
      },
    };
    const sink = this.#options.eventBridgeSink;
    if (sink === undefined) {
      // ISC does not retry a failed put: the invocation waits for its deadline.
      invocation.delivery.error = "no eventBridgeSink is configured: the event was not delivered";
      this.#options.log(`[sandbox] invocation ${invocation.id}: no EventBridge sink, event dropped`);
      return;
    }
    try {
      await sink(event);
    } catch (error) {
      invocation.delivery.error = `the EventBridge sink failed: ${(error as Error).message ?? "error"}`;
      return;
    }
    if (!requestResponse) this.finish(invocation, "COMPLETED", { output: null });
  }

  async #deliverHttp(invocation: SandboxInvocation, subscription: StoredSubscription): Promise<void> {
    const config = subscription.httpConfig!;
    const mode = invocation.delivery.mode;
    const requestResponse = invocation.triggerType === "requestResponse";
    const metadata: Record<string, unknown> = requestResponse
      ? {
          triggerId: invocation.triggerId,
          triggerType: "requestResponse",
          responseMode: mode,
          ...(mode === "sync"
            ? {}
            : { callbackURL: this.callbackUrl(invocation.id), secret: invocation.secret }),
        }
      : { triggerId: invocation.triggerId, triggerType: "fireAndForget", invocationId: invocation.id };
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: "application/json",
    };
    if (config.httpAuthenticationType === "BASIC_AUTH" && config.basicAuthConfig) {
      const { userName, password } = config.basicAuthConfig;
      headers.authorization = `Basic ${Buffer.from(`${userName}:${password ?? ""}`).toString("base64")}`;
    } else if (config.httpAuthenticationType === "BEARER_TOKEN" && config.bearerTokenAuthConfig) {
      headers.authorization = `Bearer ${config.bearerTokenAuthConfig.bearerToken ?? ""}`;
    }
    const timeoutMs = this.#options.deliveryTimeoutMs;
    const signal = AbortSignal.any([this.#closing.signal, AbortSignal.timeout(timeoutMs)]);
    let status: number;
    let text: string;
    try {
      const response = await fetch(config.url, {
        method: "POST",
        headers,
        body: JSON.stringify({ ...invocation.input, _metadata: metadata }),
        redirect: "manual",
        signal,
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      const timedOut = (error as Error).name === "TimeoutError";
      this.#deliveryFailed(
        invocation,
        timedOut
          ? `the subscriber did not reply within ${timeoutMs} ms`
          : `the subscriber could not be reached: ${(error as Error).message}`,
      );
      return;
    }
    invocation.delivery.httpStatus = status;

    if (!requestResponse) {
      if (status >= 200 && status < 300) this.finish(invocation, "COMPLETED", { output: null });
      else this.#deliveryFailed(invocation, `the subscriber replied ${status}`, status);
      return;
    }
    const acceptsOutput = mode === "sync" || mode === "dynamic";
    if (status === 200 && acceptsOutput) {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        this.#deliveryFailed(invocation, "the subscriber's reply is not JSON", status);
        return;
      }
      const problem = outputProblem(invocation.triggerId, body);
      if (problem !== undefined) this.#deliveryFailed(invocation, problem, status);
      else this.finish(invocation, "COMPLETED", { output: body as Record<string, unknown> });
      return;
    }
    if ((mode === "async" && status === 200) || (mode === "dynamic" && status === 202)) return; // wait for the callback
    this.#deliveryFailed(invocation, `the subscriber replied ${status} in ${mode} mode`, status);
  }

  /** Moves a PENDING invocation to its final status (once: later outcomes are ignored). */
  finish(
    invocation: SandboxInvocation,
    status: Exclude<InvocationStatus, "PENDING">,
    fields: { output?: Record<string, unknown> | null; error?: string },
  ): boolean {
    if (invocation.status !== "PENDING") return false;
    invocation.status = status;
    invocation.completed = this.#options.now();
    if ("output" in fields) invocation.output = fields.output ?? null;
    if (fields.error !== undefined) invocation.error = fields.error;
    this.#pending.delete(invocation.id);
    this.#options.log(
      `[sandbox] invocation ${invocation.id} ${status}${fields.error ? `: ${fields.error}` : ""}`,
    );
    const waiters = this.#waiters.get(invocation.id);
    this.#waiters.delete(invocation.id);
    for (const wake of waiters ?? []) wake();
    return true;
  }

  expireOverdue(): void {
    const now = this.#options.now();
    for (const id of this.#pending) {
      const invocation = this.#state.invocations.get(id);
      if (invocation === undefined) this.#pending.delete(id);
      else if (now > invocation.deadline)
        this.finish(invocation, "FAILED", { error: "invocation timed out" });
    }
  }

  /** POST /trigger-invocations/{id}/complete. Returns normally for 204; throws HttpReply for 400. */
  complete(id: string, body: unknown, withToken: boolean): void {
    const parsed = z.safeParse(CompleteInvocationBodySchema, body);
    if (!parsed.success) {
      throw badRequest("The completion body is invalid", zodIssueTexts(parsed.error.issues, body));
    }
    this.expireOverdue();
    const invocation = this.#state.invocations.get(id);
    const attempt = (fields: Omit<CompletionAttempt, "at" | "withToken">): void => {
      invocation?.completions.push({ at: this.#options.now(), withToken, ...fields });
    };
    if (
      invocation === undefined ||
      invocation.status !== "PENDING" ||
      invocation.triggerType !== "requestResponse"
    ) {
      const reply = referenceNotFound(
        `Invocation ${id.slice(0, 64)} is not pending: unknown, completed or past its deadline`,
      );
      attempt({
        httpStatus: 400,
        result: "REJECTED",
        detailCode: (reply.body as { detailCode: string }).detailCode,
        reason: "not pending",
      });
      throw reply;
    }
    if (!sameSecret(invocation.secret, parsed.data.secret)) {
      const reply = badRequest("The secret does not match the invocation");
      attempt({
        httpStatus: 400,
        result: "REJECTED",
        detailCode: "400.1 Bad Request Content",
        reason: "wrong secret",
      });
      throw reply;
    }
    if (parsed.data.error !== undefined) {
      this.finish(invocation, "FAILED", { output: parsed.data.output, error: parsed.data.error });
      attempt({ httpStatus: 204, result: "FAILED", reason: "error given" });
      return;
    }
    const problem = outputProblem(invocation.triggerId, parsed.data.output);
    // ISC answers 204 to an invalid output but fails the invocation.
    if (problem !== undefined) {
      this.finish(invocation, "FAILED", { output: parsed.data.output, error: problem });
      attempt({ httpStatus: 204, result: "FAILED", reason: problem });
      return;
    }
    this.finish(invocation, "COMPLETED", { output: parsed.data.output });
    attempt({ httpStatus: 204, result: "COMPLETED" });
  }

  /** Resolves with the invocation once it is no longer PENDING, or when timeoutMs passes. */
  waitFor(id: string, timeoutMs: number): Promise<SandboxInvocation> {
    const invocation = this.#state.invocations.get(id);
    if (invocation === undefined) return Promise.reject(new Error(`unknown invocation ${id}`));
    this.expireOverdue();
    if (invocation.status !== "PENDING") return Promise.resolve(invocation);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        clearInterval(poll);
        this.#waiters.get(id)?.delete(done);
        resolve(invocation);
      };
      const timer = setTimeout(done, timeoutMs);
      // An injected clock can move past the deadline without the sweeper's help.
      const poll = setInterval(() => this.expireOverdue(), 50);
      let waiters = this.#waiters.get(id);
      if (waiters === undefined) {
        waiters = new Set();
        this.#waiters.set(id, waiters);
      }
      waiters.add(done);
    });
  }

  /** The GET /trigger-invocations/status view of an invocation. */
  statusView(invocation: SandboxInvocation): Record<string, unknown> {
    const view: Record<string, unknown> = {
      id: invocation.id,
      triggerId: invocation.triggerId,
      subscriptionName: invocation.subscriptionName,
      subscriptionId: invocation.subscriptionId,
      type: invocation.type,
      created: iso(invocation.created),
      startInvocationInput: {
        triggerId: invocation.triggerId,
        input: invocation.input,
        contentJson: invocation.contentJson,
      },
    };
    if (invocation.completed !== undefined) {
      view.completed = iso(invocation.completed);
      view.completeInvocationInput = {
        localizedError:
          invocation.status === "FAILED" ? { locale: "en-US", message: invocation.error ?? "failed" } : null,
        output: invocation.output ?? null,
      };
    }
    return view;
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    this.#closing.abort();
    await Promise.allSettled([...this.#deliveries]);
  }
}
