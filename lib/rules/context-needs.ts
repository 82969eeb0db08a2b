/**
 * Which context sources a rule uses, known statically from its paths: conditions, `lookup ... by`,
 * templates (comments, approvers, action ids), approvers `from` the context, and the rule's own
 * `needs:`. A rule over the payload alone needs nothing, so deciding it costs no read.
 *
 * Paths are read at the root of the request view (`identity.*`, `requester.*`, `manager.*`, `sod.*`,
 * `accessRequests.*`) or in an item's scope (`details.*`, `entitlements`, `privileged`, `source.*`,
 * also reachable as `requestedItems.details.*`). A scope is written as the root path it stands for
 * (an item: `requestedItems`; an element of `count: {of: accessRequests}`: `accessRequests`), so one
 * function classifies every path. Needs are bit masks: testing a rule costs one AND.
 */
import type { ContextNeeds, ContextSource } from "../context/types.ts";
import { MATCHED_ITEM, type PathKey, parseFieldPath, templatePaths } from "./paths.ts";
import type {
  ActionConfig,
  ApproverSpec,
  Condition,
  DynamicApproverDecisionConfig,
  FieldRef,
  PreApprovalDecisionConfig,
} from "./schema.ts";
import { CONTEXT_SOURCE_NAMES } from "./sources.ts";

export type NeedsMask = number;

// A Record literal over ContextSource: a source added to lib/context/types.ts fails to compile here
// until it has a bit (and sources.ts's CONTEXT_SOURCE_NAMES `satisfies` the other direction).
const BIT: Readonly<Record<ContextSource, number>> = {
  identity: 1,
  requester: 2,
  manager: 4,
  items: 8,
  grants: 16,
  sources: 32,
  sod: 64,
  sodPolicies: 128,
  accessRequests: 256,
};

export function bitOf(source: ContextSource): number {
  return BIT[source];
}

export function maskOf(sources: readonly ContextSource[] | undefined): NeedsMask {
  let mask = 0;
  for (const source of sources ?? []) mask |= bitOf(source);
  return mask;
}

/** The sources of a mask, in a new set (in CONTEXT_SOURCES order). */
export function needsOf(mask: NeedsMask): ContextNeeds {
  const set = new Set<ContextSource>();
  if (mask === 0) return set;
  for (const source of CONTEXT_SOURCE_NAMES) if ((mask & bitOf(source)) !== 0) set.add(source);
  return set;
}

/** The objects a context path reads, for the explanation's record of the values used. */
export type ContextObjectKind =
  | "identity"
  | "requester"
  | "manager"
  | "itemDetails"
  | "itemEntitlements"
  | "item"
  | "itemSource"
  | "sod"
  | "sodViolations"
  | "accessRequests";

/** One field of context objects a rule reads: `identity` + `lifecycleState.stateName`. */
export interface ContextFieldRef {
  kind: ContextObjectKind;
  source: ContextSource;
  /** The field's path inside the object. */
  field: readonly string[];
}

const ITEM_LISTS = new Set(["requestedItems", "requestedItemsStatus"]);
const ITEM_SCOPE: readonly PathKey[] = ["requestedItems"];

/** Collects the needs (and the context fields, for explanations) of a rule's parts. */
export class NeedsCollector {
  mask: NeedsMask = 0;
  /** A custom predicate or decision: code that may read any of the view. */
  custom = false;
  readonly fields = new Map<string, ContextFieldRef>();

  merge(other: NeedsCollector): void {
    this.mask |= other.mask;
    this.custom ||= other.custom;
    for (const [key, ref] of other.fields) if (!this.fields.has(key)) this.fields.set(key, ref);
  }

  /** A path from the root of the request view. */
  rootPath(keys: readonly PathKey[]): void {
    const k = keys.filter((key): key is string => typeof key === "string");
    const [first, second, third] = k;
    switch (first) {
      case "identity":
      case "requester":
      case "manager":
      case "accessRequests":
        this.use(first, first, k.slice(1));
        return;
      case "sod":
        if (second === "violations") {
          // A violation's owners are read by another call (sodPolicies) than the prediction (sod).
          const owners = third === "owner" || third === "violationOwner";
          this.mask |= bitOf("sod");
          this.use("sodViolations", owners ? "sodPolicies" : "sod", k.slice(2));
        } else {
          this.use("sod", "sod", k.slice(1));
        }
        return;
      default:
        if (first !== undefined && ITEM_LISTS.has(first)) this.itemPath(second, k.slice(2));
    }
  }

  private itemPath(key: string | undefined, rest: string[]): void {
    switch (key) {
      case "details":
        this.use("itemDetails", "items", rest);
        return;
      case "entitlements":
        this.use("itemEntitlements", "grants", rest);
        return;
      case "privileged":
        this.use("item", "grants", ["privileged"]);
        return;
      case "source":
        this.use("itemSource", "sources", rest);
        return;
    }
  }

  private use(kind: ContextObjectKind, source: ContextSource, field: readonly string[]): void {
    this.mask |= bitOf(source);
    if (field.length === 0) return;
    const key = `${kind}:${field.join(".")}`;
    if (!this.fields.has(key)) this.fields.set(key, { kind, source, field });
  }

  /** A path as written in scope `scope` (a root path); returns the root path it reads, if valid. */
  path(path: string | undefined, scope: readonly PathKey[]): readonly PathKey[] | undefined {
    if (path === undefined) return undefined;
    const parsed = parseFieldPath(path);
    if (parsed === undefined) return undefined;
    const full = parsed.rooted ? parsed.keys : [...scope, ...parsed.keys];
    this.rootPath(full);
    return full;
  }

  condition(c: Condition | undefined, scope: readonly PathKey[] = []): void {
    if (c === undefined) return;
    if (c.custom !== undefined) this.custom = true;
    for (const child of c.all ?? []) this.condition(child, scope);
    for (const child of c.any ?? []) this.condition(child, scope);
    this.condition(c.not, scope);
    this.condition(c.anyItem, [...scope, ...ITEM_SCOPE]);
    this.condition(c.everyItem, [...scope, ...ITEM_SCOPE]);
    this.condition(c.countItems?.where, [...scope, ...ITEM_SCOPE]);
    if (c.count !== undefined) {
      const of = this.path(c.count.of, scope);
      if (of !== undefined) this.condition(c.count.where, of);
    }
    if (c.field !== undefined) {
      this.path(c.field, scope);
      for (const operand of [c.equals, c.notEquals, c.in, c.notIn]) {
        if (isFieldRef(operand)) this.path(operand.field, scope);
      }
    }
  }

  template(text: string | undefined): void {
    if (text === undefined) return;
    const result = templatePaths(text);
    if (!("paths" in result)) return;
    for (const keys of result.paths) {
      // `{{item.x}}`: the matched requested item, read like any item's.
      this.rootPath(keys[0] === MATCHED_ITEM ? [...ITEM_SCOPE, ...keys.slice(1)] : keys);
    }
  }

  actions(actions: readonly ActionConfig[] | undefined): void {
    for (const action of actions ?? []) {
      if (action.type === "update-task-status") this.template(action.taskId);
      if (action.type === "complete-campaign") this.template(action.campaignId);
    }
  }

  preApproval(then: PreApprovalDecisionConfig): void {
    this.template(then.comment);
    this.template(then.approver);
    this.actions(then.actions);
    this.mask |= maskOf(then.needs);
    if (then.custom !== undefined) this.custom = true;
  }

  dynamicApprover(then: DynamicApproverDecisionConfig): void {
    if (then.approver !== undefined) this.approver(then.approver);
    this.actions(then.actions);
    this.mask |= maskOf(then.needs);
    if (then.custom !== undefined) this.custom = true;
  }

  approver(spec: ApproverSpec): void {
    if (spec === "none" || typeof spec !== "object") return;
    if ("lookup" in spec) {
      this.path(spec.by, []);
      this.approver(spec.otherwise);
      return;
    }
    if (!("from" in spec)) return;
    switch (spec.from) {
      case "manager":
        this.use("manager", "manager", ["id"]);
        break;
      case "itemOwner":
        this.use("itemDetails", "items", ["owner", "id"]);
        break;
      case "sourceOwner":
        this.use("itemSource", "sources", ["owner", "id"]);
        break;
      case "sodPolicyOwner":
        this.mask |= bitOf("sod");
        this.use("sodViolations", "sodPolicies", ["owner", "id"]);
        break;
      case "sodViolationOwner":
        this.mask |= bitOf("sod");
        this.use("sodViolations", "sodPolicies", ["violationOwner", "id"]);
        break;
    }
    this.condition(spec.where, ITEM_SCOPE);
    this.approver(spec.otherwise);
  }
}

function isFieldRef(value: unknown): value is FieldRef {
  return value !== null && typeof value === "object" && !Array.isArray(value) && "field" in value;
}
