/**
 * The rules document: what a customer writes in a rules file (YAML or JSON). This zod/mini schema is
 * the single source of the format: its types (z.infer), its validation and its published JSON Schema
 * (rules/rules.schema.json, for editor completion). No yaml import: Lambda handlers load it.
 *
 * Semantics beyond the shape (one operator per condition, references to lists and tables, regex
 * safety, unique rule ids) are checked in validate.ts, with the same path-based messages.
 */
import * as z from "zod/mini";
import { CONTEXT_SOURCE_NAMES } from "./sources.ts";
import { AT_MESSAGE } from "./time-checks.ts";
import type { TimeCondition } from "./time-conditions.ts";
import { parseInstant } from "./time-conditions.ts";

function described<T extends z.ZodMiniType>(schema: T, description: string): T {
  z.globalRegistry.add(schema, { description });
  return schema;
}

const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]*$/;
const name = (what: string) =>
  described(
    z
      .string()
      .check(z.regex(NAME_PATTERN, `${what} must start with a letter and use letters, digits, - or _`)),
    what,
  );

const Scalar = z.union([z.string(), z.number(), z.boolean()]);
export type Scalar = z.infer<typeof Scalar>;

export { CONTEXT_SOURCE_NAMES } from "./sources.ts";

/** A dynamic approver: an identity or a governance group, as ISC expects it. */
export const ApproverRefSchema = described(
  z.strictObject({
    id: described(z.string().check(z.minLength(1)), "ISC id of the identity or governance group"),
    name: described(z.string(), "display name (informational)"),
    type: z.enum(["IDENTITY", "GOVERNANCE_GROUP"]),
  }),
  "an identity or governance group: {id, name, type}",
);
export type ApproverRef = z.infer<typeof ApproverRefSchema>;

/** `{field: PATH}`: the value(s) at another path, compared with the condition's field. */
const FieldRefSchema = described(
  z.strictObject({
    field: described(
      z.string(),
      "path of the other field, relative to the condition's scope ($. = from the request)",
    ),
  }),
  "another field's value(s): holds when any value on the left equals any value at this path",
);
export type FieldRef = z.infer<typeof FieldRefSchema>;

const InListSchema = z.union([
  described(z.array(Scalar), "inline list of values"),
  described(z.strictObject({ list: name("list name") }), "a named list from `lists`"),
  described(z.strictObject({ table: name("table name") }), "the keys of a table from `tables`"),
  FieldRefSchema,
]);

const TimeOfDay = described(z.string(), "a time of day, HH:MM (24-hour)");
const IsoDate = described(z.string(), "a date, YYYY-MM-DD");

/** `time: {zone, weekdays, between, date}`: the decision's clock (the invocation's receipt) in a zone. */
const TimeConditionSchema = described(
  z.strictObject({
    zone: z.optional(
      described(
        z.string(),
        "IANA time zone the clock is read in (Europe/Berlin, America/New_York, UTC); default: the file's timeZone",
      ),
    ),
    weekdays: z.optional(
      described(
        z.union([z.string(), z.array(z.string()).check(z.minLength(1))]),
        'Mon-Fri, Sat, "Sat, Sun", or a list: [Mon, Wed, Fri], [Mon-Thu, Sat]',
      ),
    ),
    between: z.optional(
      described(
        z.tuple([TimeOfDay, TimeOfDay]),
        "times of day [from, until]: from included, until excluded; [22:00, 06:00] crosses midnight",
      ),
    ),
    date: z.optional(
      described(
        z.strictObject({
          after: z.optional(described(IsoDate, "later than this date (the date excluded)")),
          before: z.optional(described(IsoDate, "earlier than this date (the date excluded)")),
          between: z.optional(
            described(z.tuple([IsoDate, IsoDate]), "from the first to the last date, both included"),
          ),
        }),
        "the local date",
      ),
    ),
  }),
  "the decision's clock (when the invocation was received) in a time zone: every part given holds",
);

/** The sources a rule reads beyond its paths (a custom predicate or decision reading context). */
const NeedsSchema = described(
  z.array(z.enum(CONTEXT_SOURCE_NAMES)),
  "context sources a custom predicate or decision reads (paths declare their own)",
);

export interface Condition {
  description?: string | undefined;
  all?: Condition[] | undefined;
  any?: Condition[] | undefined;
  not?: Condition | undefined;
  anyItem?: Condition | undefined;
  everyItem?: Condition | undefined;
  countItems?: CountItems | undefined;
  count?: Count | undefined;
  custom?: string | undefined;
  time?: TimeCondition | undefined;
  field?: string | undefined;
  lookup?: string | undefined;
  ignoreCase?: boolean | undefined;
  equals?: Scalar | FieldRef | undefined;
  notEquals?: Scalar | FieldRef | undefined;
  in?: z.infer<typeof InListSchema> | undefined;
  notIn?: z.infer<typeof InListSchema> | undefined;
  startsWith?: string | undefined;
  endsWith?: string | undefined;
  contains?: string | undefined;
  matches?: string | undefined;
  exists?: boolean | undefined;
  missing?: boolean | undefined;
  gt?: number | undefined;
  gte?: number | undefined;
  lt?: number | undefined;
  lte?: number | undefined;
  within?: string | undefined;
  minLength?: number | undefined;
  maxLength?: number | undefined;
  trim?: boolean | undefined;
}

export interface CountItems {
  where: Condition;
  equals?: number | undefined;
  gt?: number | undefined;
  gte?: number | undefined;
  lt?: number | undefined;
  lte?: number | undefined;
}

/** `count: {of, where?, equals|gt|gte|lt|lte}`: how many elements of any list match `where`. */
export interface Count {
  of: string;
  where?: Condition | undefined;
  equals?: number | undefined;
  gt?: number | undefined;
  gte?: number | undefined;
  lt?: number | undefined;
  lte?: number | undefined;
}

/** Keys that make a condition what it is; validate.ts requires exactly one group of them. */
export const COMBINATOR_KEYS = [
  "all",
  "any",
  "not",
  "anyItem",
  "everyItem",
  "countItems",
  "count",
  "custom",
  "time",
  "field",
] as const;
export const FIELD_OPERATOR_KEYS = [
  "equals",
  "notEquals",
  "in",
  "notIn",
  "startsWith",
  "endsWith",
  "contains",
  "matches",
  "exists",
  "missing",
  "gt",
  "gte",
  "lt",
  "lte",
  "within",
  "minLength",
  "maxLength",
] as const;
export type FieldOperator = (typeof FIELD_OPERATOR_KEYS)[number];

export const ConditionSchema: z.ZodMiniType<Condition> = z
  .strictObject({
    description: z.optional(described(z.string(), "how this condition reads in explanations")),
    get all() {
      return z.optional(described(z.array(ConditionSchema).check(z.minLength(1)), "every condition holds"));
    },
    get any() {
      return z.optional(
        described(z.array(ConditionSchema).check(z.minLength(1)), "at least one condition holds"),
      );
    },
    get not() {
      return z.optional(described(ConditionSchema, "the condition does not hold"));
    },
    get anyItem() {
      return z.optional(
        described(ConditionSchema, "at least one requested item matches (fields relative to the item)"),
      );
    },
    get everyItem() {
      return z.optional(
        described(ConditionSchema, "every requested item matches (fields relative to the item)"),
      );
    },
    get countItems() {
      return z.optional(CountItemsSchema);
    },
    get count() {
      return z.optional(CountSchema);
    },
    custom: z.optional(name("name of a predicate registered in TypeScript")),
    time: z.optional(TimeConditionSchema),
    field: z.optional(
      described(
        z.string(),
        "path of an input or context field: requestedFor.name, identity.identityStatus, details.privileged, $.requestedBy.id, ...",
      ),
    ),
    lookup: z.optional(name("table whose entry for the field's value is tested instead of the value")),
    ignoreCase: z.optional(described(z.boolean(), "compare text without regard to case")),
    equals: z.optional(z.union([Scalar, FieldRefSchema])),
    notEquals: z.optional(z.union([Scalar, FieldRefSchema])),
    in: z.optional(InListSchema),
    notIn: z.optional(InListSchema),
    startsWith: z.optional(z.string()),
    endsWith: z.optional(z.string()),
    contains: z.optional(z.string()),
    matches: z.optional(
      described(z.string(), "a regular expression, run by RE2 (no backreferences, no lookaround)"),
    ),
    exists: z.optional(described(z.boolean(), "true: the field has a value (false = missing)")),
    missing: z.optional(described(z.boolean(), "true: the field has no value (false = exists)")),
    gt: z.optional(z.number()),
    gte: z.optional(z.number()),
    lt: z.optional(z.number()),
    lte: z.optional(z.number()),
    within: z.optional(
      described(
        z.string(),
        "ISO-8601 duration (PT24H, P7D): the field is a date-time no older than that before the decision",
      ),
    ),
    minLength: z.optional(
      described(
        z.number().check(z.int(), z.minimum(0)),
        "the field is text of at least this many characters",
      ),
    ),
    maxLength: z.optional(
      described(z.number().check(z.int(), z.minimum(0)), "the field is text of at most this many characters"),
    ),
    trim: z.optional(
      described(
        z.boolean(),
        "minLength / maxLength: count the characters once leading and trailing spaces are removed",
      ),
    ),
  })
  .register(z.globalRegistry, {
    id: "Condition",
    description:
      "one of: all, any, not, anyItem, everyItem, countItems, count, custom, time, or field + one operator",
  });

const CountItemsSchema: z.ZodMiniType<CountItems> = described(
  z.strictObject({
    get where() {
      return ConditionSchema;
    },
    equals: z.optional(z.number()),
    gt: z.optional(z.number()),
    gte: z.optional(z.number()),
    lt: z.optional(z.number()),
    lte: z.optional(z.number()),
  }),
  "how many requested items match `where`, compared with equals/gt/gte/lt/lte",
);

const CountSchema: z.ZodMiniType<Count> = described(
  z.strictObject({
    of: described(z.string(), "path of a list (accessRequests, identity, requestedItems.entitlements, ...)"),
    get where() {
      return z.optional(
        described(ConditionSchema, "the elements counted (fields relative to each element); default: all"),
      );
    },
    equals: z.optional(z.number()),
    gt: z.optional(z.number()),
    gte: z.optional(z.number()),
    lt: z.optional(z.number()),
    lte: z.optional(z.number()),
  }),
  "how many elements of `of` match `where`, compared with equals/gt/gte/lt/lte",
);

const IdTemplate = described(z.string().check(z.minLength(1)), "an id; may interpolate {{input.paths}}");

export const ActionSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("update-task-status"),
    taskId: IdTemplate,
    completionStatus: z.enum(["SUCCESS", "WARNING", "ERROR", "TERMINATED", "TEMPERROR"]),
    completed: z.optional(described(z.string(), "ISO date-time, or `now`")),
  }),
  z.strictObject({
    type: z.literal("complete-campaign"),
    campaignId: IdTemplate,
    autoCompleteAction: z.optional(z.enum(["APPROVE", "REVOKE"])),
  }),
  z.strictObject({ type: z.literal("request-role-insights") }),
]);
export type ActionConfig = z.infer<typeof ActionSchema>;

const Actions = z.optional(
  described(z.array(ActionSchema), "run after the invocation is completed, never delaying it"),
);

const CommentTemplate = described(
  z.string(),
  "shown to the requester; may interpolate {{requestedFor.name}}, {{requestedItems[0].name}}, ...",
);

export const PreApprovalDecisionSchema = z.strictObject({
  decision: z.optional(z.enum(["approve", "deny"])),
  comment: z.optional(CommentTemplate),
  approver: z.optional(
    described(z.string(), "username recorded as approver; default: the file's `approver`"),
  ),
  custom: z.optional(name("name of a decision registered in TypeScript (replaces decision/comment)")),
  needs: z.optional(NeedsSchema),
  actions: Actions,
});
export type PreApprovalDecisionConfig = z.infer<typeof PreApprovalDecisionSchema>;

export const NoApproverSchema = described(z.literal("none"), "no additional approver");

/** Where `from` takes an approver in the context. */
export const APPROVER_FROM = [
  "manager",
  "itemOwner",
  "sourceOwner",
  "sodPolicyOwner",
  "sodViolationOwner",
] as const;
export type ApproverFromKind = (typeof APPROVER_FROM)[number];

/** An approver: none, a fixed one, one from the context, or one from a table; `otherwise` chains them. */
export type ApproverSpec = "none" | ApproverRef | ApproverFrom | ApproverLookup;
export interface ApproverFrom {
  from: ApproverFromKind;
  where?: Condition | undefined;
  otherwise: ApproverSpec;
}
export interface ApproverLookup {
  lookup: string;
  by: string;
  otherwise: ApproverSpec;
}

export const ApproverFromSchema: z.ZodMiniType<ApproverFrom> = described(
  z.strictObject({
    from: described(
      z.enum(APPROVER_FROM),
      "manager: of the first person the access is for; itemOwner / sourceOwner: of the first requested item matching `where` (default: the first added); sodPolicyOwner / sodViolationOwner: of the first predicted SoD violation",
    ),
    get where() {
      return z.optional(
        described(
          ConditionSchema,
          "itemOwner / sourceOwner: which requested item (fields relative to the item)",
        ),
      );
    },
    get otherwise() {
      return ApproverSchema;
    },
  }),
  "an approver from the context; `otherwise` when there is none, or it is the requester or a person the access is for",
);

export const ApproverLookupSchema: z.ZodMiniType<ApproverLookup> = z.strictObject({
  lookup: name("table of approvers ({id, name, type} entries)"),
  by: described(
    z.string(),
    "field whose value is the table key; requestedItems.id = the first item that has an entry",
  ),
  get otherwise() {
    return ApproverSchema;
  },
});

export const ApproverSchema: z.ZodMiniType<ApproverSpec> = z
  .union([NoApproverSchema, ApproverRefSchema, ApproverFromSchema, ApproverLookupSchema])
  .register(z.globalRegistry, {
    id: "Approver",
    description: "none, {id, name, type}, {from, where?, otherwise} or {lookup, by, otherwise}",
  });

export const DynamicApproverDecisionSchema = z.strictObject({
  approver: z.optional(ApproverSchema),
  custom: z.optional(name("name of a decision registered in TypeScript (replaces approver)")),
  needs: z.optional(NeedsSchema),
  actions: Actions,
});
export type DynamicApproverDecisionConfig = z.infer<typeof DynamicApproverDecisionSchema>;

export const ActionsOnlyDecisionSchema = z.strictObject({ actions: Actions });

function ruleSchema<T extends z.ZodMiniType>(then: T) {
  return z.strictObject({
    id: name("rule id (shown in every explanation)"),
    description: z.optional(z.string()),
    priority: z.optional(
      described(z.number().check(z.int()), "higher first; equal priorities in file order (default 0)"),
    ),
    enabled: z.optional(z.boolean()),
    enforce: z.optional(
      described(
        z.boolean(),
        "false: shadow mode, the rule is evaluated and recorded when it matches (explanation.notEnforced) but does not decide",
      ),
    ),
    needs: z.optional(NeedsSchema),
    when: ConditionSchema,
    then,
  });
}

export const PreApprovalSectionSchema = z.strictObject({
  rules: z.optional(z.array(ruleSchema(PreApprovalDecisionSchema))),
  default: PreApprovalDecisionSchema,
  fallback: z.optional(
    described(
      z.strictObject({
        decision: z.enum(["approve", "deny"]),
        comment: z.string(),
        approver: z.optional(z.string()),
      }),
      "used when evaluation or anything after it fails (default: deny with a clear comment)",
    ),
  ),
});

export const DynamicApproverSectionSchema = z.strictObject({
  rules: z.optional(z.array(ruleSchema(DynamicApproverDecisionSchema))),
  default: DynamicApproverDecisionSchema,
  fallback: z.optional(
    described(
      z.strictObject({ approver: z.union([NoApproverSchema, ApproverRefSchema]) }),
      "used when evaluation or anything after it fails (default: no additional approver)",
    ),
  ),
});

export const PostApprovalSectionSchema = z.strictObject({
  rules: z.optional(z.array(ruleSchema(ActionsOnlyDecisionSchema))),
  default: z.optional(ActionsOnlyDecisionSchema),
});

export const TableValueSchema = z.union([Scalar, ApproverRefSchema]);
export type TableValue = z.infer<typeof TableValueSchema>;

function TestInstant(description: string) {
  return described(
    z.string().check(z.refine((text) => parseInstant(text) !== undefined, { message: AT_MESSAGE })),
    `${description}: an ISO-8601 date-time with its zone (2026-03-02T07:30:00Z)`,
  );
}

export const RulesTestCaseSchema = z.strictObject({
  name: z.string().check(z.minLength(1)),
  trigger: described(
    z.optional(z.string()),
    "preApproval, dynamicApprover, postApproval or a trigger id; optional when input has _metadata",
  ),
  input: described(
    z.record(z.string(), z.unknown()),
    "a bare trigger input, an HTTP body with _metadata, or an EventBridge event",
  ),
  at: z.optional(TestInstant("the decision's clock for this test (default: the file's testAt)")),
  context: z.optional(
    described(
      z.record(z.string(), z.unknown()),
      "the ISC context this test assumes, as a directory (identities, entitlements, accessProfiles, roles, sources, governanceGroups, sodPolicies, accessRequests: docs/sandbox.md), merged over the file's testContext by id",
    ),
  ),
  contextFailure: z.optional(
    described(
      z.strictObject({
        kind: z.optional(
          z.enum([
            "identities",
            "entitlements",
            "accessProfiles",
            "roles",
            "sources",
            "sodPrediction",
            "sodPolicy",
            "accessRequestStatus",
          ]),
        ),
        status: z.union([z.literal(403), z.literal(404), z.literal(429), z.literal(500), z.literal(503)]),
      }),
      "make reading context fail (every kind, or `kind`) with this HTTP status: the decision must be the fallback",
    ),
  ),
  expect: z
    .strictObject({
      output: z.optional(described(z.unknown(), "expected output; objects match partially")),
      rule: z.optional(described(z.string(), "expected rule id, or `default` / `fallback`")),
      notEnforced: z.optional(
        described(
          z.array(z.string()),
          "the rules with `enforce: false` that matched before the deciding rule, in evaluation order ([] = none)",
        ),
      ),
      actions: z.optional(z.array(z.record(z.string(), z.unknown()))),
    })
    .check(
      // `expect: {}` would pass whatever the rules decide.
      z.refine((expect) => Object.values(expect).some((v) => v !== undefined), {
        message: "expects nothing, so the test would always pass: give rule, output, actions or notEnforced",
      }),
    ),
});
export type RulesTestCase = z.infer<typeof RulesTestCaseSchema>;

export const RulesDocumentSchema = z
  .strictObject({
    $schema: z.optional(z.string()),
    format: z.optional(described(z.literal(1), "version of this rules format")),
    name: z.optional(z.string()),
    description: z.optional(z.string()),
    approver: z.optional(
      described(z.string(), "default approver username of pre-approval decisions (a real identity)"),
    ),
    timeZone: z.optional(
      described(z.string(), "IANA time zone of `time:` conditions that name none (Europe/Berlin)"),
    ),
    lists: z.optional(
      described(z.record(z.string().check(z.regex(NAME_PATTERN)), z.array(Scalar)), "named lists of values"),
    ),
    tables: z.optional(
      described(
        z.record(z.string().check(z.regex(NAME_PATTERN)), z.record(z.string(), TableValueSchema)),
        "lookup tables: key → value (text, number, or an approver {id, name, type})",
      ),
    ),
    preApproval: z.optional(
      described(PreApprovalSectionSchema, "idn:access-request-pre-approval (Access Request Submitted)"),
    ),
    dynamicApprover: z.optional(
      described(DynamicApproverSectionSchema, "idn:access-request-dynamic-approver (Dynamic Approval)"),
    ),
    postApproval: z.optional(
      described(PostApprovalSectionSchema, "idn:access-request-post-approval (Access Request Decision)"),
    ),
    testContext: z.optional(
      described(
        z.record(z.string(), z.unknown()),
        "the ISC context the tests share, as a directory (docs/sandbox.md); each test's `context` is merged over it",
      ),
    ),
    testAt: z.optional(TestInstant("the decision's clock of every test that gives no `at`")),
    tests: z.optional(z.array(RulesTestCaseSchema)),
  })
  .register(z.globalRegistry, {
    title: "isc-trigger-responder rules",
    description: "Business rules answering SailPoint ISC access request triggers",
  });

export type RulesDocument = z.infer<typeof RulesDocumentSchema>;
export type PreApprovalSection = z.infer<typeof PreApprovalSectionSchema>;
export type DynamicApproverSection = z.infer<typeof DynamicApproverSectionSchema>;
export type PostApprovalSection = z.infer<typeof PostApprovalSectionSchema>;

/** The section of the document for each trigger id. */
export const SECTION_OF_TRIGGER = {
  "idn:access-request-pre-approval": "preApproval",
  "idn:access-request-dynamic-approver": "dynamicApprover",
  "idn:access-request-post-approval": "postApproval",
} as const;

/** The JSON Schema published as rules/rules.schema.json. */
export function rulesJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(RulesDocumentSchema, { io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
}
