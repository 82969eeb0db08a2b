/**
 * POST /oauth/token: client_credentials from the body (form-urlencoded, or multipart/form-data as
 * SailPoint's TypeScript SDK posts them), the query string (as SailPoint's CLI sends them) or Basic
 * auth, as ISC takes them all; a token request is limited in its own window per client id (and counts
 * in each of the client's version windows, see index.ts).
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { RateLimiter, TokenStore } from "./auth.ts";
import { RATE_LIMIT_BODY, readBody } from "./http.ts";

export interface TokenAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** The client id the request named (for the request log), valid or not. */
  clientId?: string;
}

async function tokenRequest(
  req: IncomingMessage,
  url: URL,
): Promise<{ grantType?: string; clientId?: string; clientSecret?: string }> {
  const body = await readBody(req);
  const form =
    multipartBoundary(req.headers["content-type"]) !== undefined
      ? multipartFields(body, multipartBoundary(req.headers["content-type"])!)
      : new URLSearchParams(body);
  const pick = (name: string): string | undefined =>
    form.get(name) ?? url.searchParams.get(name) ?? undefined;
  let clientId = pick("client_id");
  let clientSecret = pick("client_secret");
  const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? "");
  if (basic && clientId === undefined) {
    const decoded = Buffer.from(basic[1]!, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon > 0) {
      clientId = decodeURIComponent(decoded.slice(0, colon));
      clientSecret = decodeURIComponent(decoded.slice(colon + 1));
    }
  }
  const result: { grantType?: string; clientId?: string; clientSecret?: string } = {};
  const grantType = pick("grant_type");
  if (grantType !== undefined) result.grantType = grantType;
  if (clientId !== undefined) result.clientId = clientId;
  if (clientSecret !== undefined) result.clientSecret = clientSecret;
  return result;
}

function multipartBoundary(contentType: string | undefined): string | undefined {
  if (contentType === undefined || !/^\s*multipart\/form-data\b/i.test(contentType)) return undefined;
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^;\s]{1,70}))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

/** The text fields of a multipart/form-data body (RFC 7578); file parts and malformed parts are skipped. */
function multipartFields(body: string, boundary: string): URLSearchParams {
  const fields = new URLSearchParams();
  for (const part of body.split(`--${boundary}`).slice(1)) {
    if (part.startsWith("--")) break;
    const headerEnd = part.indexOf("\r\n\r\n");
    if (headerEnd < 0) continue;
    const headers = part.slice(0, headerEnd);
    const name = /content-disposition:\s*form-data;[^\r\n]*?\bname="([^"]*)"/i.exec(headers)?.[1];
    if (name === undefined || /\bfilename=/i.test(headers)) continue;
    // The value runs to the CRLF that precedes the next delimiter.
    fields.append(name, part.slice(headerEnd + 4).replace(/\r\n$/, ""));
  }
  return fields;
}

/** The token endpoint's answer; `knownScopes` are listed in the reply of a client that lacks some. */
export async function answerTokenRequest(
  req: IncomingMessage,
  url: URL,
  tokens: TokenStore,
  limiter: RateLimiter | undefined,
  knownScopes: readonly string[],
): Promise<TokenAnswer> {
  const request = await tokenRequest(req, url);
  const named = request.clientId === undefined ? {} : { clientId: request.clientId };
  if (limiter !== undefined) {
    const retryAfter = limiter.hit(`client:${request.clientId ?? "anonymous"}:oauth`);
    if (retryAfter !== undefined) {
      return { status: 429, body: RATE_LIMIT_BODY, headers: { "retry-after": String(retryAfter) }, ...named };
    }
  }
  if (request.grantType !== "client_credentials") {
    return {
      status: 400,
      body: { error: "unsupported_grant_type", error_description: "Only client_credentials is supported" },
      ...named,
    };
  }
  if (
    request.clientId === undefined ||
    request.clientSecret === undefined ||
    !tokens.validClient(request.clientId, request.clientSecret)
  ) {
    return { status: 401, body: { error: "unauthorized", error_description: "Bad credentials" }, ...named };
  }
  const issued = tokens.issue(request.clientId);
  return {
    status: 200,
    body: {
      access_token: issued.token,
      token_type: "bearer",
      expires_in: issued.expiresInSeconds,
      scope: tokens.scopeOf(request.clientId, knownScopes),
      tenant_id: "sandbox",
      pod: "sandbox",
      strong_auth_supported: false,
      org: "sandbox",
      jti: randomUUID(),
    },
    clientId: request.clientId,
  };
}
