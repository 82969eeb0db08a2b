/**
 * The triggers the sandbox tenant offers, as GET /beta/triggers returns them. Embedded rather than
 * read from shared/reference: the sandbox ships in the package and must run after `npm ci` alone.
 * Schemas are in ISC's "ETS-native" form (a JSON string), as the spec's examples show them.
 */
import { DYNAMIC_APPROVER, POST_APPROVAL, PRE_APPROVAL } from "../triggers/trigger-ids.ts";

export interface TriggerDefinition {
  id: string;
  name: string;
  type: "REQUEST_RESPONSE" | "FIRE_AND_FORGET";
  description: string;
  inputSchema: string;
  exampleInput: Record<string, unknown>;
  outputSchema: string | null;
  exampleOutput: Record<string, unknown> | null;
}

/** The catalog entry plus the input test invocations send when the caller gives none. */
interface CatalogEntry extends TriggerDefinition {
  sampleInput: Record<string, unknown>;
}

const identityRef = {
  type: "object",
  required: ["id", "name", "type"],
  additionalProperties: true,
  properties: { id: { type: "string" }, name: { type: "string" }, type: { type: "string" } },
};
const requestedObjectRef = {
  type: "object",
  optional: ["description", "comment"],
  required: ["id", "name", "type", "operation"],
  additionalProperties: true,
  properties: {
    id: { type: "string" },
    name: { type: "string" },
    description: { oneOf: [{ type: "null" }, { type: "string" }] },
    type: { type: "string" },
    operation: { type: "string" },
    comment: { oneOf: [{ type: "null" }, { type: "string" }] },
  },
};

function accessRequestInputSchema(record: string): string {
  return JSON.stringify({
    definitions: {
      [`record:${record}`]: {
        type: "object",
        required: ["accessRequestId", "requestedFor", "requestedItems", "requestedBy"],
        additionalProperties: true,
        properties: {
          accessRequestId: { type: "string" },
          requestedFor: { $ref: "#/definitions/record:requestedForIdentityRef" },
          requestedItems: { type: "array", items: { $ref: "#/definitions/record:requestedObjectRef" } },
          requestedBy: { $ref: "#/definitions/record:requestedByIdentityRef" },
        },
      },
      "record:requestedForIdentityRef": identityRef,
      "record:requestedObjectRef": requestedObjectRef,
      "record:requestedByIdentityRef": identityRef,
    },
    $ref: `#/definitions/record:${record}`,
  });
}

/**
 * `requestedFor` is an array in the spec (and so in GET /triggers' exampleInput) but one object in
 * every documented and observed delivery: the sample input used for test invocations is the latter.
 */
function exampleAccessRequest(form: "spec" | "observed"): Record<string, unknown> {
  const requestedFor = { type: "IDENTITY", id: "2c91808b6ef1d43e016efba0ce470909", name: "Ed Engineer" };
  return {
    accessRequestId: "4b4d982dddff4267ab12f0f1e72b5a6d",
    requestedFor: form === "spec" ? [requestedFor] : requestedFor,
    requestedItems: [
      {
        id: "2c91808b6ef1d43e016efba0ce470904",
        name: "Engineering Access",
        description: "Engineering Access",
        type: "ACCESS_PROFILE",
        operation: "Add",
        comment: "Ed needs this access for his day to day job activities",
      },
    ],
    requestedBy: { type: "IDENTITY", id: "2c91808b6ef1d43e016efba0ce470906", name: "Adam Admin" },
  };
}

const CATALOG: readonly CatalogEntry[] = [
  {
    id: PRE_APPROVAL,
    name: "Access Request Submitted",
    type: "REQUEST_RESPONSE",
    description:
      "Trigger for getting an approval decision before an access request enters its approval process.",
    inputSchema: accessRequestInputSchema("AccessRequestPreApprovalInput"),
    exampleInput: exampleAccessRequest("spec"),
    sampleInput: exampleAccessRequest("observed"),
    outputSchema: JSON.stringify({
      definitions: {
        "record:AccessRequestPreApprovalOutput": {
          type: "object",
          required: ["approved", "comment", "approver"],
          additionalProperties: true,
          properties: {
            approved: { type: "boolean" },
            comment: { type: "string" },
            approver: { type: "string" },
          },
        },
      },
      $ref: "#/definitions/record:AccessRequestPreApprovalOutput",
    }),
    exampleOutput: {
      approved: false,
      comment: "This access should be denied, because this will cause an SOD violation.",
      approver: "AcmeCorpExternalIntegration",
    },
  },
  {
    id: DYNAMIC_APPROVER,
    name: "Access Request Dynamic Approval",
    type: "REQUEST_RESPONSE",
    description: "Trigger for getting a dynamic approver.",
    inputSchema: accessRequestInputSchema("AccessRequestDynamicApproverInput"),
    exampleInput: exampleAccessRequest("spec"),
    sampleInput: exampleAccessRequest("observed"),
    outputSchema: JSON.stringify({
      definitions: {
        "record:AccessRequestDynamicApproverOutput": {
          type: ["null", "object"],
          required: ["id", "name", "type"],
          additionalProperties: true,
          properties: { id: { type: "string" }, name: { type: "string" }, type: { type: "string" } },
        },
      },
      $ref: "#/definitions/record:AccessRequestDynamicApproverOutput",
    }),
    exampleOutput: { id: "2c91808b6ef1d43e016efba0ce470906", name: "Adam Adams", type: "IDENTITY" },
  },
  {
    id: POST_APPROVAL,
    name: "Access Request Decision",
    type: "FIRE_AND_FORGET",
    description: "Trigger for an access request that has been approved or denied.",
    inputSchema: JSON.stringify({
      definitions: {
        "record:AccessRequestPostApprovalInput": {
          type: "object",
          required: ["accessRequestId", "requestedFor", "requestedItemsStatus", "requestedBy"],
          additionalProperties: true,
          properties: {
            accessRequestId: { type: "string" },
            requestedFor: { $ref: "#/definitions/record:identityRef" },
            requestedItemsStatus: { type: "array", items: { type: "object", additionalProperties: true } },
            requestedBy: { $ref: "#/definitions/record:identityRef" },
          },
        },
        "record:identityRef": identityRef,
      },
      $ref: "#/definitions/record:AccessRequestPostApprovalInput",
    }),
    exampleInput: postApprovalExample(),
    sampleInput: postApprovalExample(),
    outputSchema: null,
    exampleOutput: null,
  },
];

function postApprovalExample(): Record<string, unknown> {
  return {
    accessRequestId: "2c91808b6ef1d43e016efba0ce470904",
    requestedFor: [{ type: "IDENTITY", id: "2c4180a46faadee4016fb4e018c20626", name: "Robert Robinson" }],
    requestedItemsStatus: [
      {
        id: "2c91808b6ef1d43e016efba0ce470904",
        name: "Engineering Access",
        description: "Access to engineering database",
        type: "ACCESS_PROFILE",
        operation: "Add",
        comment: "William needs this access to do his job.",
        clientMetadata: { applicationName: "My application" },
        approvalInfo: [
          {
            approvalComment: "This access looks good.  Approved.",
            approvalDecision: "APPROVED",
            approverName: "Stephen.Austin",
            approver: { type: "IDENTITY", id: "2c3780a46faadee4016fb4e018c20652", name: "Allen Albertson" },
          },
        ],
      },
    ],
    requestedBy: { type: "IDENTITY", id: "2c91808b6ef1d43e016efba0ce470906", name: "Adam Admin" },
  };
}

/** The triggers as GET /triggers lists them. */
export const TRIGGERS: readonly TriggerDefinition[] = CATALOG.map(
  ({ sampleInput: _sample, ...trigger }) => trigger,
);

export function findTrigger(id: string): CatalogEntry | undefined {
  return CATALOG.find((trigger) => trigger.id === id);
}

/** `idn:access-request-pre-approval` → `access-request-pre-approval`, as in the partner event source name. */
export function triggerShortName(id: string): string {
  return id.replace(/^[a-z]+:/, "");
}

/** The default input of a test invocation: a fresh copy, so callers may mutate it. */
export function sampleInputOf(trigger: CatalogEntry): Record<string, unknown> {
  return structuredClone(trigger.sampleInput);
}
