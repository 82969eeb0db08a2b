/** ContextData by hand, and evaluation helpers, for the context tests of the rules engine. */
import type { ContextData, ItemContext } from "../../../lib/context/types.ts";
import type { Entitlement, Identity, Ref, Source } from "../../../lib/isc/context-schemas.ts";
import { invocationForTools } from "../../../lib/rules/run-tests.ts";
import type { CompiledRules, ContextRequired, Decision } from "../../../lib/rules/types.ts";
import type { Invocation } from "../../../lib/triggers/invocation.ts";

/** The clock of every context test invocation: 2026-03-01T12:00:00Z. */
export const NOW = Date.parse("2026-03-01T12:00:00Z");

export function invocation(payload: unknown, trigger = "preApproval", receivedAt = NOW): Invocation {
  return { ...invocationForTools(payload, trigger), receivedAt };
}

export function evaluate(
  rules: CompiledRules,
  payload: unknown,
  context?: ContextData,
  trigger = "preApproval",
): Decision | ContextRequired {
  return rules.evaluate(invocation(payload, trigger), context);
}

/** evaluate() that must decide (fails the test with the sources asked for otherwise). */
export function decided(
  rules: CompiledRules,
  payload: unknown,
  context?: ContextData,
  trigger = "preApproval",
): Decision {
  const result = evaluate(rules, payload, context, trigger);
  if ("contextRequired" in result) {
    throw new Error(`expected a decision, got contextRequired: ${[...result.contextRequired].join(", ")}`);
  }
  return result;
}

/** The sorted sources evaluate() asked for, or "decided". */
export function required(
  rules: CompiledRules,
  payload: unknown,
  context?: ContextData,
  trigger = "preApproval",
): string[] | "decided" {
  const result = evaluate(rules, payload, context, trigger);
  return "contextRequired" in result ? [...result.contextRequired].sort() : "decided";
}

export function identity(id: string, overrides: Partial<Identity> = {}): Identity {
  return {
    id,
    name: `Person ${id}`,
    identityStatus: "ACTIVE",
    lifecycleState: { stateName: "active", manuallyUpdated: false },
    attributes: { department: "Engineering" },
    ...overrides,
  };
}

export function ref(id: string, type = "IDENTITY", name = `Name of ${id}`): Ref {
  return { type, id, name };
}

export function entitlement(id: string, overrides: Partial<Entitlement> = {}): Entitlement {
  return { id, name: `Entitlement ${id}`, privileged: false, owner: ref(`owner-of-${id}`), ...overrides };
}

export function source(id: string, overrides: Partial<Source> = {}): Source {
  return { id, name: `Source ${id}`, owner: ref(`owner-of-${id}`), ...overrides };
}

/** An item's full context (items, grants, sources). */
export function itemContext(id: string, overrides: Partial<ItemContext> = {}): ItemContext {
  const granted = entitlement(id);
  return {
    details: granted,
    entitlements: [granted],
    privileged: false,
    source: source(`src-${id}`),
    ...overrides,
  };
}

/** Every source loaded, for a request for `people` with `items` (no SoD violation, no other requests). */
export function fullContext(
  people: readonly string[],
  items: readonly string[],
  overrides: Partial<ContextData> = {},
): ContextData {
  return {
    identity: people.map((id) => identity(id)),
    requester: identity("id-rob"),
    manager: people.map((id) => identity(`mgr-of-${id}`)),
    items: items.map((id) => itemContext(id)),
    sod: { violations: [], violated: false },
    accessRequests: [],
    ...overrides,
  };
}
