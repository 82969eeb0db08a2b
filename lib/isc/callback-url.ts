/**
 * The guard between an untrusted request body and our credentials: a callbackURL is used only if
 * it points at the configured tenant's completion endpoint. Anything else is refused before a
 * byte is sent, so neither the invocation secret nor a token can be sent to another host.
 */
import { ResponderError } from "../errors.ts";

export class CallbackUrlRefusedError extends ResponderError {
  constructor(reason: string) {
    super("CALLBACK_URL_REFUSED", `callbackURL refused: ${reason}`, { httpStatus: 400 });
  }
}

// Invocation ids are UUID-like; the documented example is not a valid RFC 4122 UUID, so accept any hex-and-dash id.
const INVOCATION_ID = "[0-9A-Za-z][0-9A-Za-z-]{0,63}";
const COMPLETE_PATHS = [
  new RegExp(`^/beta/trigger-invocations/(${INVOCATION_ID})/complete$`),
  new RegExp(`^/trigger-invocations/v1/(${INVOCATION_ID})/complete$`),
];

export interface CheckedCallbackUrl {
  /** The URL exactly as received (it is already canonical). */
  url: string;
  invocationId: string;
  apiVersion: "beta" | "v1";
}

/** The tenant's origin (`https://acme.api.identitynow.com`) from a configured base URL. */
export function tenantOrigin(tenantBaseUrl: string): string {
  let parsed: URL;
  try {
    parsed = new URL(tenantBaseUrl);
  } catch {
    throw new ResponderError("INVALID_TENANT_URL", "the tenant base URL is not a valid URL", {
      httpStatus: 500,
    });
  }
  return parsed.origin;
}

/**
 * Accepts only `<tenant origin>/beta/trigger-invocations/{id}/complete` (or the v1 form), written
 * canonically: no userinfo, query, fragment, encoded characters, dot segments or other port.
 */
export function checkCallbackUrl(raw: unknown, tenantBaseUrl: string): CheckedCallbackUrl {
  if (typeof raw !== "string" || raw.length === 0)
    throw new CallbackUrlRefusedError("it is missing or not a string");
  if (raw.length > 512) throw new CallbackUrlRefusedError("it is longer than 512 characters");
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CallbackUrlRefusedError("it is not a valid absolute URL");
  }
  const expectedOrigin = tenantOrigin(tenantBaseUrl);
  if (url.username !== "" || url.password !== "")
    throw new CallbackUrlRefusedError("it carries user information");
  if (url.origin !== expectedOrigin) {
    throw new CallbackUrlRefusedError(`its origin ${url.origin} is not the tenant ${expectedOrigin}`);
  }
  // A URL that the parser rewrote (dot segments, encodings, case, default port) is not what ISC sends.
  if (url.href !== raw) throw new CallbackUrlRefusedError("it is not in canonical form");
  // An empty `?` or `#` leaves search and hash empty (and href unchanged): look at the text too.
  if (url.search !== "" || url.hash !== "" || raw.includes("?") || raw.includes("#"))
    throw new CallbackUrlRefusedError("it has a query or fragment");
  for (const [index, pattern] of COMPLETE_PATHS.entries()) {
    const match = pattern.exec(url.pathname);
    if (match?.[1] !== undefined) {
      return { url: raw, invocationId: match[1], apiVersion: index === 0 ? "beta" : "v1" };
    }
  }
  throw new CallbackUrlRefusedError("its path is not /beta/trigger-invocations/{id}/complete");
}

/** True if `id` has the shape of an invocation id (safe to put in a URL path). */
export function isInvocationId(id: string): boolean {
  return new RegExp(`^${INVOCATION_ID}$`).test(id);
}
