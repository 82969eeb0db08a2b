/**
 * zod/mini schemas of the ISC bodies the transport itself reads (the OAuth token, error bodies):
 * apart from schemas.ts so that a client with the context reads only (context-client.ts) does not
 * bundle the subscription and task schemas. schemas.ts re-exports them.
 */
import * as z from "zod/mini";

const optionalString = z.optional(z.string());
const nullableString = z.optional(z.nullable(z.string()));

export const OAuthTokenSchema = z.looseObject({
  access_token: z.string().check(z.minLength(1)),
  // Documented and always sent; tolerated when absent (the client then assumes a short lifetime).
  expires_in: z.optional(z.number().check(z.nonnegative())),
  token_type: optionalString,
});
export type OAuthToken = z.infer<typeof OAuthTokenSchema>;

const ErrorMessageSchema = z.looseObject({
  locale: nullableString,
  localeOrigin: nullableString,
  text: z.optional(z.nullable(z.string())),
});

/** ErrorResponseDto, the 401 form `{error}` and the 429 form `{message}`: every field optional. */
export const IscErrorBodySchema = z.looseObject({
  detailCode: z.optional(z.nullable(z.string())),
  trackingId: z.optional(z.nullable(z.string())),
  messages: z.optional(z.nullable(z.array(ErrorMessageSchema))),
  causes: z.optional(z.nullable(z.array(ErrorMessageSchema))),
  error: z.optional(z.nullable(z.string())),
  error_description: z.optional(z.nullable(z.string())),
  message: z.optional(z.nullable(z.string())),
});
export type IscErrorBody = z.infer<typeof IscErrorBodySchema>;
