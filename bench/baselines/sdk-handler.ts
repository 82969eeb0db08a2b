/**
 * Baseline for "what our small client saves": the same job (answer, and complete the invocation
 * through its callbackURL) written the way SailPoint's docs show it, with the official
 * `sailpoint-api-client` SDK (axios, OAuth at construction). Bundled like our functions.
 * Not shipped: it exists only so the bench can build and time it.
 */
import { Configuration, TriggersBetaApi } from "sailpoint-api-client";

interface FunctionUrlEvent {
  body?: string;
  isBase64Encoded?: boolean;
}

const baseUrl = process.env.SAIL_BASE_URL ?? "https://example.api.identitynow.com";
// As in the SDK's own examples: configured once per container, the token is fetched at construction.
const api = new TriggersBetaApi(
  new Configuration({
    baseurl: baseUrl,
    tokenUrl: `${baseUrl}/oauth/token`,
    clientId: process.env.SAIL_CLIENT_ID ?? "",
    clientSecret: process.env.SAIL_CLIENT_SECRET ?? "",
  }),
);

export const handler = async (event: FunctionUrlEvent) => {
  const text = event.isBase64Encoded ? Buffer.from(event.body ?? "", "base64").toString("utf8") : event.body;
  const body = JSON.parse(text ?? "{}") as { _metadata?: { callbackURL?: string; secret?: string } };
  const output = { approved: true, comment: "sdk", approver: "" };
  const callbackUrl = body._metadata?.callbackURL;
  if (callbackUrl === undefined || body._metadata?.secret === undefined) {
    return { statusCode: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(output) };
  }
  const id = callbackUrl.split("/").at(-2) ?? "";
  await api.completeTriggerInvocation({
    id,
    completeInvocationBeta: { secret: body._metadata.secret, output },
  });
  return { statusCode: 200, headers: { "content-type": "application/json" }, body: "{}" };
};
