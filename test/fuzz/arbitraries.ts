/**
 * fast-check generators shared by the fuzz tests: valid trigger inputs (so mutations reach deep
 * into the parser rather than failing at the first field) and callbackURLs assembled from the
 * pieces attackers combine (schemes, userinfo, look-alike hosts, ports, encodings, dot segments).
 */
import fc from "fast-check";

export const TENANT = "https://acme.api.identitynow.com";
export const TENANT_ORIGIN = new URL(TENANT).origin;
export const PRE_APPROVAL = "idn:access-request-pre-approval";
export const DYNAMIC_APPROVER = "idn:access-request-dynamic-approver";

const hexId = fc.stringMatching(/^[0-9a-f]{32}$/);
export const uuid = fc.uuid();

export const identityRef = fc.record({
  type: fc.constantFrom("IDENTITY", "GOVERNANCE_GROUP", "identity"),
  id: hexId,
  name: fc.string({ maxLength: 30 }),
});

export const requestedItem = fc.record(
  {
    id: hexId,
    name: fc.string({ maxLength: 30 }),
    description: fc.option(fc.string({ maxLength: 40 }), { nil: null }),
    type: fc.constantFrom("ACCESS_PROFILE", "ROLE", "ENTITLEMENT"),
    operation: fc.constantFrom("Add", "Remove"),
    comment: fc.option(fc.string({ maxLength: 40 }), { nil: null }),
  },
  { requiredKeys: ["id", "name", "type", "operation"] },
);

export const accessRequestInput = fc.record({
  accessRequestId: hexId,
  requestedFor: fc.oneof(identityRef, fc.array(identityRef, { minLength: 1, maxLength: 10 })),
  requestedItems: fc.array(requestedItem, { minLength: 1, maxLength: 25 }),
  requestedBy: identityRef,
});

/** Every piece is a string an attacker might put in that slot of a URL. */
const schemes = fc.constantFrom(
  "https://",
  "http://",
  "HTTPS://",
  "https:/",
  "https:\\\\",
  "https:",
  "//",
  "ftp://",
  "javascript://",
  "file://",
  " https://",
  "https://\t",
);
const userinfos = fc.constantFrom(
  "",
  "",
  "",
  "user@",
  "user:pass@",
  ":@",
  "@",
  "acme.api.identitynow.com@",
  "evil.example.com@",
  "%40@",
);
const hosts = fc.constantFrom(
  "acme.api.identitynow.com",
  "acme.api.identitynow.com",
  "acme.api.identitynow.com",
  "ACME.api.identitynow.com",
  "acme.api.identitynow.com.",
  "acme.api.identitynow.com.evil.example.com",
  "evil.example.com",
  "evil.example.com#acme.api.identitynow.com",
  "evil.example.com\\acme.api.identitynow.com",
  "acme.api.identitynow.com%2eevil.example.com",
  "127.0.0.1",
  "0x7f000001",
  "2130706433",
  "[::1]",
  "[::ffff:127.0.0.1]",
  "аcme.api.identitynow.com", // Cyrillic a
  "acme.api.identitynow.com\u3002evil",
  "xn--acme-9za.api.identitynow.com",
  "acme.api.identitynow.co",
  "api.identitynow.com",
  "other.api.identitynow.com",
  "",
);
const ports = fc.constantFrom("", "", "", ":443", ":8443", ":80", ":0", ":65536", ":", ":443:443");
const prefixes = fc.constantFrom(
  "/beta/trigger-invocations/",
  "/beta/trigger-invocations/",
  "/trigger-invocations/v1/",
  "/BETA/trigger-invocations/",
  "/beta/trigger-invocations/%2e%2e/",
  "/beta/trigger-invocations/../",
  "/beta/./trigger-invocations/",
  "/beta//trigger-invocations/",
  "\\beta\\trigger-invocations\\",
  "/beta/trigger-invocations%2f",
  "/v3/trigger-invocations/",
  "/",
  "",
);
const ids = fc.oneof(
  uuid,
  fc.constantFrom("..", "%2e%2e", "a%2Fb", "a/b", "", "x".repeat(65), "a?b", "a#b", "é", "%00", "a b"),
);
const suffixes = fc.constantFrom(
  "/complete",
  "/complete",
  "/complete",
  "/complete/",
  "/complete?",
  "/complete?x=1",
  "/complete#frag",
  "/complete%20",
  "/Complete",
  "/complete/..",
  "/complete\n",
  "",
);

/** Mostly the canonical piece, sometimes a hostile one: URLs a substitution or two away from the real endpoint. */
function usually<T>(canonical: fc.Arbitrary<T>, hostile: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return fc.oneof({ arbitrary: canonical, weight: 4 }, { arbitrary: hostile, weight: 1 });
}

export const hostileCallbackUrl = fc
  .tuple(
    usually(fc.constant("https://"), schemes),
    usually(fc.constant(""), userinfos),
    usually(fc.constant("acme.api.identitynow.com"), hosts),
    usually(fc.constant(""), ports),
    usually(fc.constantFrom("/beta/trigger-invocations/", "/trigger-invocations/v1/"), prefixes),
    usually(uuid, ids),
    usually(fc.constant("/complete"), suffixes),
  )
  .map((parts) => parts.join(""));

/** Any JSON-ish value, to throw at the parsers whole. */
export const anyJson = fc.jsonValue({ maxDepth: 6 });

export function httpBody(
  input: Record<string, unknown>,
  metadata: Record<string, unknown>,
): Record<string, unknown> {
  return { ...input, _metadata: metadata };
}

// --- live context of any shape, aligned with an input (for rules that read context) ---------------

const contextText = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom("ACTIVE", "TERMINATED", "DISABLED", "inactive", "Terminated", "", "__proto__"),
);
const contextRef = fc.option(
  fc.record(
    {
      type: fc.constantFrom("IDENTITY", "GOVERNANCE_GROUP", "SOURCE", "", "identity"),
      id: fc.option(fc.string({ maxLength: 34 }), { nil: undefined }),
      name: fc.option(contextText, { nil: undefined }),
    },
    { requiredKeys: ["type"] },
  ),
  { nil: null },
);
const contextIdentity = fc.record(
  {
    id: fc.string({ minLength: 1, maxLength: 34 }),
    name: contextText,
    identityStatus: fc.option(contextText, { nil: undefined }),
    lifecycleState: fc.option(fc.record({ stateName: contextText }), { nil: null }),
    managerRef: contextRef,
    isManager: fc.option(fc.boolean(), { nil: undefined }),
    attributes: fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 })), {
      nil: undefined,
    }),
  },
  { requiredKeys: ["id", "name"] },
);
const contextEntitlement = fc.record(
  {
    id: fc.string({ minLength: 1, maxLength: 34 }),
    name: fc.option(contextText, { nil: undefined }),
    privileged: fc.option(fc.boolean(), { nil: null }),
    owner: contextRef,
    source: contextRef,
  },
  { requiredKeys: ["id"] },
);

/**
 * ContextData for `input` with every source loaded: a person, a manager (or none) for each entry of
 * requestedFor, the requester, details/grants/source for each item, an SoD prediction with owners,
 * access requests. Values of any shape the schemas let through.
 */
export function contextArbitrary(input: {
  requestedFor: unknown;
  requestedItems: unknown[];
}): fc.Arbitrary<Record<string, unknown>> {
  const people = Array.isArray(input.requestedFor) ? input.requestedFor.length : 1;
  const items = input.requestedItems.length;
  const item = fc.record({
    details: fc.record({
      id: fc.string({ minLength: 1, maxLength: 34 }),
      owner: contextRef,
      source: contextRef,
      privileged: fc.option(fc.boolean(), { nil: undefined }),
      privilegeLevel: fc.option(contextText, { nil: null }),
    }),
    entitlements: fc.array(contextEntitlement, { maxLength: 3 }),
    privileged: fc.boolean(),
    source: fc.option(fc.record({ id: fc.string({ minLength: 1, maxLength: 34 }), owner: contextRef }), {
      nil: null,
    }),
  });
  const violation = fc.record({
    identityId: fc.string({ minLength: 1, maxLength: 34 }),
    policy: fc.record({ id: fc.string({ minLength: 1, maxLength: 34 }), name: contextText }),
    owner: contextRef,
    violationOwner: contextRef,
  });
  return fc.record({
    identity: fc.array(contextIdentity, { minLength: people, maxLength: people }),
    requester: contextIdentity,
    manager: fc.array(fc.option(contextIdentity, { nil: null }), { minLength: people, maxLength: people }),
    items: fc.array(item, { minLength: items, maxLength: items }),
    sod: fc
      .array(violation, { maxLength: 3 })
      .map((violations) => ({ violations, violated: violations.length > 0 })),
    accessRequests: fc.array(
      fc.record({
        id: fc.string({ maxLength: 34 }),
        state: contextText,
        created: fc.oneof(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          contextText,
        ),
      }),
      { maxLength: 8 },
    ),
  });
}
