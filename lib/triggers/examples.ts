/**
 * The canonical sample access request input (ISC's documented example: William Wilson asks for
 * Engineering Access, Rob Robertson submits; synthetic ids). One home for the dev runner, the
 * filter check and the tests; each call returns a fresh copy so callers may change it.
 */

export interface ExampleIdentityRef {
  type: "IDENTITY";
  id: string;
  name: string;
}

export interface ExampleRequestedItem {
  id: string;
  name: string;
  description?: string;
  type: "ACCESS_PROFILE";
  operation: "Add";
  comment?: string;
}

export interface ExampleAccessRequestInput {
  accessRequestId: string;
  requestedFor: ExampleIdentityRef;
  requestedItems: ExampleRequestedItem[];
  requestedBy: ExampleIdentityRef;
  [key: string]: unknown;
}

/** `itemDetails` adds the item's description and the requester's comment (as ISC's example has them). */
export function exampleAccessRequestInput(
  options: { itemDetails?: boolean } = {},
): ExampleAccessRequestInput {
  const item: ExampleRequestedItem = options.itemDetails
    ? {
        id: "2c91808b6ef1d43e016efba0ce470904",
        name: "Engineering Access",
        description: "Access to engineering database",
        type: "ACCESS_PROFILE",
        operation: "Add",
        comment: "William needs this access to do his job.",
      }
    : {
        id: "2c91808b6ef1d43e016efba0ce470904",
        name: "Engineering Access",
        type: "ACCESS_PROFILE",
        operation: "Add",
      };
  return {
    accessRequestId: "2c91808b6ef1d43e016efba0ce470904",
    requestedFor: { type: "IDENTITY", id: "2c91808568c529c60168cca6f90c1313", name: "William Wilson" },
    requestedItems: [item],
    requestedBy: { type: "IDENTITY", id: "2c91808568c529c60168cca6f90c1314", name: "Rob Robertson" },
  };
}
