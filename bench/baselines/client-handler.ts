/**
 * The SDK baseline's twin built on our own ISC client (lib/isc/client.ts): same job, same shape,
 * so the pair isolates what the client costs at cold start (bundle size, import, first completion).
 */
import { IscClient } from "../../lib/isc/client.ts";

interface FunctionUrlEvent {
  body?: string;
  isBase64Encoded?: boolean;
}

const client = IscClient.fromEnv(process.env);

export const handler = async (event: FunctionUrlEvent) => {
  const text = event.isBase64Encoded ? Buffer.from(event.body ?? "", "base64").toString("utf8") : event.body;
  const body = JSON.parse(text ?? "{}") as { _metadata?: { callbackURL?: string; secret?: string } };
  const output = { approved: true, comment: "client", approver: "" };
  const callbackUrl = body._metadata?.callbackURL;
  if (callbackUrl === undefined || body._metadata?.secret === undefined) {
    return { statusCode: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(output) };
  }
  await client.completeInvocation({ callbackUrl }, { secret: body._metadata.secret, output });
  return { statusCode: 200, headers: { "content-type": "application/json" }, body: "{}" };
};
