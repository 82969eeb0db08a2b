/**
 * The request view rules read when they use context: the payload, with every context key set from
 * `ContextData` (undefined when not read), never from the payload. A payload carrying its own
 * `identity`, or `privileged: false` on an item, is therefore never taken for context. Built once per
 * evaluation, only for rule sets that read context (or run custom code, which might).
 */
import type { ContextData, ContextSource, ItemContext, SodViolation } from "../context/types.ts";
import type { AccessRequestStatus, Identity } from "../isc/context-schemas.ts";
import type { AccessRequestInput, RequestedItem } from "../triggers/schemas.ts";
import { bitOf, type ContextFieldRef, type NeedsMask } from "./context-needs.ts";
import { compileSingleValueGetter, MAX_INTERPOLATED_LENGTH } from "./paths.ts";
import type { ContextUse } from "./types.ts";

/** A requested item as rules see it: the payload's fields and the item's context. */
export type ItemView = RequestedItem & ItemContext;

/** The root rules (and custom predicates and decisions) see: the input and its context. */
/** The named fields of a loose object type (Omit<> over its index signature would drop them all). */
type NamedFields<T> = {
  [K in keyof T as string extends K ? never : number extends K ? never : K]: T[K];
};

export type RequestView = Omit<NamedFields<AccessRequestInput>, "requestedItems"> & {
  /** Fields ISC adds that the schema does not name. */
  [key: string]: unknown;
  requestedItems: ItemView[];
  /** Per person in requestedFor, in order (always a list). */
  identity?: Identity[] | undefined;
  requester?: Identity | undefined;
  /** Per person in requestedFor; null where the person has no manager. */
  manager?: Array<Identity | null> | undefined;
  sod?: { violations: SodViolation[]; violated: boolean } | undefined;
  accessRequests?: AccessRequestStatus[] | undefined;
};

/** The requested items of an input: `requestedItems`, or `requestedItemsStatus` (post-approval). */
function itemListKey(input: Record<string, unknown>): "requestedItems" | "requestedItemsStatus" | undefined {
  if (Array.isArray(input.requestedItems)) return "requestedItems";
  if (Array.isArray(input.requestedItemsStatus)) return "requestedItemsStatus";
  return undefined;
}

/**
 * Thrown when code the engine cannot analyse (a custom predicate or decision) reads a context key
 * that was not read: evaluate() turns it into ContextRequired (never a value of `undefined` that
 * a predicate could take for "no violation" or "not terminated").
 */
export class ContextNotReadSignal extends Error {
  readonly source: ContextSource;
  constructor(source: ContextSource) {
    super(`custom code read ${source} context, which was not read`);
    this.name = "ContextNotReadSignal";
    this.source = source;
  }
}

/** Told which source custom code tried to read (even if the code catches the signal). */
export type NotReadListener = (source: ContextSource) => void;

/**
 * Sets `key` on `target`: the value, or (when guarded and not read) a getter that reports the
 * source and throws ContextNotReadSignal. Enumerable, so copying or serialising the view counts as
 * reading it (a copy must not carry `undefined` for context that was not read).
 */
function put(
  target: Record<string, unknown>,
  key: string,
  value: unknown,
  source: ContextSource,
  guard: NotReadListener | undefined,
): void {
  if (value !== undefined || guard === undefined) {
    target[key] = value;
    return;
  }
  Object.defineProperty(target, key, {
    enumerable: true,
    configurable: true,
    get() {
      guard(source);
      throw new ContextNotReadSignal(source);
    },
  });
}

/**
 * The view of `input` with `data`. `guarded` (for sections with custom code): a context key that was
 * not read throws ContextNotReadSignal when read, instead of reading as undefined.
 */
export function requestView(
  input: unknown,
  data: ContextData | undefined,
  guarded?: NotReadListener,
): unknown {
  if (input === null || typeof input !== "object") return input;
  const record = input as Record<string, unknown>;
  const view: Record<string, unknown> = { ...record };
  put(view, "identity", data?.identity, "identity", guarded);
  put(view, "requester", data?.requester, "requester", guarded);
  put(view, "manager", data?.manager, "manager", guarded);
  put(view, "sod", data?.sod, "sod", guarded);
  put(view, "accessRequests", data?.accessRequests, "accessRequests", guarded);
  const key = itemListKey(record);
  if (key !== undefined) {
    const contexts = data?.items;
    view[key] = (record[key] as unknown[]).map((item, i) => {
      const context = contexts?.[i];
      const itemView: Record<string, unknown> = {
        ...(item !== null && typeof item === "object" ? item : {}),
      };
      put(itemView, "details", context?.details, "items", guarded);
      put(itemView, "entitlements", context?.entitlements, "grants", guarded);
      put(itemView, "privileged", context?.privileged, "grants", guarded);
      put(itemView, "source", context?.source, "sources", guarded);
      return itemView;
    });
  }
  return view;
}

/** How many people the input's requestedFor names (one object or a list). */
function peopleCount(record: Record<string, unknown>): number {
  const people = record.requestedFor;
  return Array.isArray(people) ? people.length : people === undefined ? 0 : 1;
}

/** The sources `data` holds: a key present, and for item sources every item's part of it. */
export function loadedMask(input: unknown, data: ContextData): NeedsMask {
  let mask = 0;
  const record = input !== null && typeof input === "object" ? (input as Record<string, unknown>) : {};
  // One identity (and one manager entry) per person: a shorter list would hide someone from "any person".
  const people = peopleCount(record);
  if (data.identity !== undefined && data.identity.length === people) mask |= bitOf("identity");
  if (data.requester !== undefined) mask |= bitOf("requester");
  if (data.manager !== undefined && data.manager.length === people) mask |= bitOf("manager");
  if (data.accessRequests !== undefined) mask |= bitOf("accessRequests");
  if (data.sod !== undefined) {
    mask |= bitOf("sod");
    // Vacuously true with no violations: there is no owner to read.
    if (data.sod.violations.every((v) => v.owner !== undefined)) mask |= bitOf("sodPolicies");
  }
  const items = data.items;
  const key = itemListKey(record);
  const count = key === undefined ? 0 : (record[key] as unknown[]).length;
  // Context for other items than the request's is none at all (aligned by index).
  if (items !== undefined && items.length === count) {
    if (items.every((item) => item?.details !== undefined)) mask |= bitOf("items");
    if (items.every((item) => item?.entitlements !== undefined)) mask |= bitOf("grants");
    if (items.every((item) => item?.source !== undefined)) mask |= bitOf("sources");
  }
  return mask;
}

// --- the explanation's record of the context values used -----------------------------------------

/** Most field values recorded per decision; each text value is cut at MAX_INTERPOLATED_LENGTH. */
export const MAX_CONTEXT_FIELDS = 50;

interface CompiledFieldRef {
  ref: ContextFieldRef;
  name: string;
  get: (object: unknown) => unknown;
}

export type ContextUseCollector = (view: unknown) => ContextUse[];

/** What a decision records of the context: the referenced fields' values, per object read. */
export function compileContextUses(refs: readonly ContextFieldRef[]): ContextUseCollector {
  const compiled: CompiledFieldRef[] = refs.map((ref) => ({
    ref,
    name: ref.field.join("."),
    get: compileSingleValueGetter(ref.field),
  }));
  return (view) => {
    const uses = new Map<string, ContextUse>();
    let entries = 0;
    for (const { ref, name, get } of compiled) {
      forEachObject(view, ref.kind, (id, object) => {
        if (entries >= MAX_CONTEXT_FIELDS) return false;
        const value = recordable(get(object));
        if (value === undefined) return true;
        const key = `${ref.source}:${id}`;
        let use = uses.get(key);
        if (use === undefined) {
          use = { source: ref.source, id, fields: {} };
          uses.set(key, use);
        }
        if (!(name in use.fields)) {
          use.fields[name] = value;
          entries++;
        }
        return true;
      });
      if (entries >= MAX_CONTEXT_FIELDS) break;
    }
    return [...uses.values()];
  };
}

/** Scalars as they are (text cut), missing as null; lists and objects (several values) are not recorded. */
function recordable(value: unknown): string | number | boolean | null | undefined {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") return value.slice(0, MAX_INTERPOLATED_LENGTH);
  if (typeof value === "number" || typeof value === "boolean") return value;
  return undefined;
}

function at(value: unknown, key: string): unknown {
  return value !== null && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
}

function list(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** `visit` returns false to stop. */
type Visit = (id: string, object: unknown) => boolean;

/** Visits an object that has a text id (at `key`, or `fallbackKey`); objects without one are left out. */
function visitWithId(object: unknown, visit: Visit, key = "id", fallbackKey?: string): boolean {
  let id = at(object, key);
  if ((typeof id !== "string" || id === "") && fallbackKey !== undefined) id = at(object, fallbackKey);
  if (typeof id !== "string" || id === "") return true;
  return visit(id.slice(0, MAX_INTERPOLATED_LENGTH), object);
}

/** The objects of a kind in the view, each with its id. */
function forEachObject(view: unknown, kind: ContextFieldRef["kind"], visit: Visit): void {
  const items = list(at(view, "requestedItems") ?? at(view, "requestedItemsStatus"));
  switch (kind) {
    case "identity":
    case "manager":
      for (const object of list(at(view, kind))) if (!visitWithId(object, visit)) return;
      return;
    case "accessRequests":
      for (const object of list(at(view, kind)))
        if (!visitWithId(object, visit, "id", "accessRequestId")) return;
      return;
    case "requester":
      visitWithId(at(view, "requester"), visit);
      return;
    case "item":
      for (const item of items) if (!visitWithId(item, visit)) return;
      return;
    case "itemDetails":
    case "itemSource": {
      const key = kind === "itemDetails" ? "details" : "source";
      for (const item of items) if (!visitWithId(at(item, key), visit)) return;
      return;
    }
    case "itemEntitlements":
      for (const item of items) {
        for (const entitlement of list(at(item, "entitlements")))
          if (!visitWithId(entitlement, visit)) return;
      }
      return;
    case "sod": {
      const sod = at(view, "sod");
      if (sod !== null && typeof sod === "object") visit("prediction", sod);
      return;
    }
    case "sodViolations":
      for (const violation of list(at(at(view, "sod"), "violations"))) {
        const id = at(at(violation, "policy"), "id");
        if (typeof id === "string" && id !== "" && !visit(id.slice(0, MAX_INTERPOLATED_LENGTH), violation))
          return;
      }
      return;
  }
}
