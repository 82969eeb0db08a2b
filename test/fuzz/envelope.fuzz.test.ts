/**
 * Property tests over the envelope parsers and the callbackURL guard: whatever arrives, they either
 * return a well-formed Invocation or throw one of our typed errors, and never hand back a
 * callbackURL whose origin is not the tenant's.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ResponderError } from "../../lib/errors.ts";
import { checkCallbackUrl } from "../../lib/isc/callback-url.ts";
import {
  type Invocation,
  invocationFromEventBridgeEvent,
  invocationFromHttpBody,
} from "../../lib/triggers/index.ts";
import {
  accessRequestInput,
  anyJson,
  DYNAMIC_APPROVER,
  hostileCallbackUrl,
  httpBody,
  PRE_APPROVAL,
  TENANT,
  TENANT_ORIGIN,
  uuid,
} from "./arbitraries.ts";

const ctx = { tenantBaseUrl: TENANT, responseDeadlineMs: () => 3_600_000, receivedAt: 1_000 };
const RUNS = 400;
const COMPLETE_PATH =
  /^\/(beta\/trigger-invocations\/[^/]+\/complete|trigger-invocations\/v1\/[^/]+\/complete)$/;

/** Runs `fn`; a thrown value must be one of ours. Returns the result or undefined. */
function onlyTypedErrors<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof ResponderError)) {
      throw new Error(`untyped error escaped: ${String(error)}`, { cause: error });
    }
    expect(error.httpStatus).toBeGreaterThanOrEqual(400);
    expect(error.httpStatus).toBeLessThan(500);
    return undefined;
  }
}

function assertTenantOnly(invocation: Invocation | undefined): void {
  if (invocation?.callbackUrl === undefined) return;
  const url = new URL(invocation.callbackUrl);
  expect(url.origin).toBe(TENANT_ORIGIN);
  expect(url.username + url.password + url.search + url.hash).toBe("");
  expect(url.pathname).toMatch(COMPLETE_PATH);
}

/** Replaces or deletes the value at one random path of a JSON object. */
function mutate(value: unknown, path: string[], replacement: unknown, remove: boolean): unknown {
  if (path.length === 0) return replacement;
  if (typeof value !== "object" || value === null) return value;
  const copy: Record<string, unknown> = Array.isArray(value)
    ? ([...value] as unknown as Record<string, unknown>)
    : { ...value };
  const [head, ...rest] = path as [string, ...string[]];
  if (rest.length === 0 && remove) delete copy[head];
  else copy[head] = mutate(copy[head], rest, replacement, remove);
  return copy;
}

function pathsOf(value: unknown, prefix: string[] = [], out: string[][] = []): string[][] {
  out.push(prefix);
  if (typeof value === "object" && value !== null && out.length < 200) {
    for (const key of Object.keys(value))
      pathsOf((value as Record<string, unknown>)[key], [...prefix, key], out);
  }
  return out;
}

const validAsyncBody = fc
  .tuple(accessRequestInput, uuid, fc.constantFrom(PRE_APPROVAL, DYNAMIC_APPROVER), fc.uuid())
  .map(([input, id, triggerId, secret]) =>
    httpBody(input, {
      triggerId,
      triggerType: "requestResponse",
      responseMode: "async",
      callbackURL: `${TENANT}/beta/trigger-invocations/${id}/complete`,
      secret,
    }),
  );

describe("checkCallbackUrl (fuzz)", () => {
  it("accepts only canonical completion URLs on the tenant origin", () => {
    let accepted = 0;
    fc.assert(
      fc.property(hostileCallbackUrl, (raw) => {
        const checked = onlyTypedErrors(() => checkCallbackUrl(raw, TENANT));
        if (checked === undefined) return;
        accepted++;
        const url = new URL(checked.url);
        expect(checked.url).toBe(raw);
        expect(url.origin).toBe(TENANT_ORIGIN);
        expect(url.username + url.password + url.search + url.hash).toBe("");
        expect(url.pathname).toMatch(COMPLETE_PATH);
        expect(url.pathname).toContain(`/${checked.invocationId}/`);
      }),
      { numRuns: 3_000 },
    );
    // The generator is biased towards the real endpoint, so some must pass (else the test proves nothing).
    expect(accepted).toBeGreaterThan(0);
  });

  it("never throws anything but a typed error for any value", () => {
    fc.assert(
      fc.property(fc.anything(), (raw) => {
        onlyTypedErrors(() => checkCallbackUrl(raw, TENANT));
      }),
      { numRuns: RUNS },
    );
  });
});

describe("invocationFromHttpBody (fuzz)", () => {
  it("accepts every valid async body and keeps the secret redacted", () => {
    fc.assert(
      fc.property(validAsyncBody, (body) => {
        const invocation = invocationFromHttpBody(body, ctx);
        assertTenantOnly(invocation);
        const meta = body._metadata as { secret: string; callbackURL: string };
        expect(invocation.callbackUrl).toBe(meta.callbackURL);
        expect(JSON.stringify(invocation)).not.toContain(meta.secret);
      }),
      { numRuns: RUNS },
    );
  });

  it("throws only typed errors for arbitrary JSON", () => {
    fc.assert(
      fc.property(anyJson, (body) => {
        assertTenantOnly(onlyTypedErrors(() => invocationFromHttpBody(body, ctx)));
      }),
      { numRuns: RUNS },
    );
  });

  it("throws only typed errors, and keeps callbacks on the tenant, under random mutations", () => {
    fc.assert(
      fc.property(
        validAsyncBody,
        fc.nat(),
        fc.oneof(anyJson, hostileCallbackUrl),
        fc.boolean(),
        (body, pick, replacement, remove) => {
          const paths = pathsOf(body);
          const path = paths[pick % paths.length] ?? [];
          const mutated = mutate(body, path, replacement, remove);
          assertTenantOnly(onlyTypedErrors(() => invocationFromHttpBody(mutated, ctx)));
        },
      ),
      { numRuns: 1_500 },
    );
  });

  it("never accepts a hostile callbackURL whose origin is not the tenant", () => {
    fc.assert(
      fc.property(validAsyncBody, hostileCallbackUrl, (body, callbackURL) => {
        const meta = body._metadata as Record<string, unknown>;
        const hostile = { ...body, _metadata: { ...meta, callbackURL } };
        assertTenantOnly(onlyTypedErrors(() => invocationFromHttpBody(hostile, ctx)));
      }),
      { numRuns: 1_500 },
    );
  });
});

describe("invocationFromEventBridgeEvent (fuzz)", () => {
  const validEvent = fc
    .tuple(accessRequestInput, uuid, fc.constantFrom(PRE_APPROVAL, DYNAMIC_APPROVER), fc.uuid())
    .map(([input, id, triggerId, secret]) => ({
      version: "0",
      id: "278d2f65-0fd4-56e7-4f30-4a8f945ef0bb",
      "detail-type": triggerId,
      source: "aws.partner/sailpoint.com/0f11f2a4-7c94-4bf3-a2bd-742580fe3bde/idn/access-request",
      detail: {
        ...input,
        _metadata: {
          invocationId: id,
          triggerId,
          triggerType: "requestResponse",
          callbackURL: `${TENANT}/beta/trigger-invocations/${id}/complete`,
          secret,
        },
      },
    }));

  it("accepts every valid event", () => {
    fc.assert(
      fc.property(validEvent, (event) => {
        const invocation = invocationFromEventBridgeEvent(event, ctx);
        expect(invocation.mode).toBe("eventbridge");
        expect(invocation.invocationId).toBe(event.detail._metadata.invocationId);
        assertTenantOnly(invocation);
      }),
      { numRuns: RUNS },
    );
  });

  it("throws only typed errors for arbitrary JSON and mutations", () => {
    fc.assert(
      fc.property(anyJson, (event) => {
        assertTenantOnly(onlyTypedErrors(() => invocationFromEventBridgeEvent(event, ctx)));
      }),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(
        validEvent,
        fc.nat(),
        fc.oneof(anyJson, hostileCallbackUrl),
        fc.boolean(),
        (event, pick, replacement, remove) => {
          const paths = pathsOf(event);
          const mutated = mutate(event, paths[pick % paths.length] ?? [], replacement, remove);
          assertTenantOnly(onlyTypedErrors(() => invocationFromEventBridgeEvent(mutated, ctx)));
        },
      ),
      { numRuns: 1_500 },
    );
  });
});
