/**
 * A Lambda Function URL (payload format 2.0) POST event for the benches, as ISC's delivery reaches
 * the http function. `timeEpoch` is now; senders that hold events before sending reset it.
 */
import type { HttpEvent } from "../../lib/http/handler.ts";

export function functionUrlEvent(
  body: unknown,
  options: { authorization?: string; contentLength?: boolean } = {},
): HttpEvent {
  const now = Date.now();
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: "/",
    rawQueryString: "",
    headers: {
      "content-type": "application/json",
      ...(options.contentLength ? { "content-length": String(Buffer.byteLength(text)) } : {}),
      ...(options.authorization === undefined ? {} : { authorization: options.authorization }),
    },
    requestContext: {
      accountId: "anonymous",
      apiId: "bench",
      domainName: "bench.lambda-url.local",
      domainPrefix: "bench",
      http: { method: "POST", path: "/", protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "bench" },
      requestId: "bench",
      routeKey: "$default",
      stage: "$default",
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    body: text,
    isBase64Encoded: false,
  };
}
