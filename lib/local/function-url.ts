/**
 * Serves a Lambda Function URL handler (payload format 2.0) from a Node http server, so the local
 * runner exercises the very handler that runs in AWS: the request becomes an APIGatewayProxyEventV2
 * (headers lower-cased, rawPath, body as text or base64 when not text, requestContext.http.method,
 * timeEpoch), and the handler's result is written back (statusCode, headers, cookies, body,
 * isBase64Encoded).
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from "aws-lambda";

export type FunctionUrlHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2>;

/** Lambda's own request payload limit: bodies beyond it never reach a Function URL handler. */
export const FUNCTION_URL_MAX_REQUEST_BYTES = 6 * 1024 * 1024;

const TEXT_CONTENT_TYPE = /^(text\/|application\/([\w.+-]*\+)?(json|xml|x-www-form-urlencoded|javascript))/i;

function isTextContentType(contentType: string | undefined): boolean {
  return contentType === undefined || contentType === "" || TEXT_CONTENT_TYPE.test(contentType);
}

function formatRequestTime(date: Date): string {
  // Lambda writes `12/Mar/2020:19:03:58 +0000`.
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(
    date.getUTCHours(),
  )}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** The Function URL v2 event for a Node request whose body was read into `body`. */
export function toFunctionUrlEvent(
  request: IncomingMessage,
  body: Buffer,
  receivedAt = Date.now(),
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of Object.entries(request.headersDistinct)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    if (key === "cookie") cookies.push(...value.join("; ").split(/;\s*/).filter(Boolean));
    else headers[key] = value.join(",");
  }
  const url = new URL(request.url ?? "/", "http://localhost");
  const queryStringParameters: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    queryStringParameters[key] =
      key in queryStringParameters ? `${queryStringParameters[key]},${value}` : value;
  }
  const host = headers.host ?? "localhost";
  const isText = isTextContentType(headers["content-type"]);
  const event: APIGatewayProxyEventV2 = {
    version: "2.0",
    routeKey: "$default",
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    requestContext: {
      accountId: "anonymous",
      apiId: "local",
      domainName: host,
      domainPrefix: host.split(".")[0] ?? host,
      http: {
        method: request.method ?? "GET",
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: formatRequestTime(new Date(receivedAt)),
      timeEpoch: receivedAt,
    },
    isBase64Encoded: body.length > 0 && !isText,
  };
  if (cookies.length > 0) event.cookies = cookies;
  if (url.search !== "") event.queryStringParameters = queryStringParameters;
  if (body.length > 0) event.body = isText ? body.toString("utf8") : body.toString("base64");
  return event;
}

/** Writes a handler's result as Lambda does: a string result is a 200 JSON body; objects without statusCode too. */
export function writeFunctionUrlResult(response: ServerResponse, result: APIGatewayProxyResultV2): void {
  if (typeof result === "string" || result === null || result === undefined || !("statusCode" in result)) {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(typeof result === "string" ? result : JSON.stringify(result ?? null));
    return;
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {}))
    headers[name.toLowerCase()] = String(value);
  if (result.cookies !== undefined && result.cookies.length > 0) headers["set-cookie"] = result.cookies;
  const body =
    result.body === undefined
      ? Buffer.alloc(0)
      : result.isBase64Encoded
        ? Buffer.from(result.body, "base64")
        : Buffer.from(result.body, "utf8");
  headers["content-length"] = String(body.length);
  response.writeHead(result.statusCode ?? 200, headers);
  response.end(body);
}

function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      if (!tooLarge) chunks.push(chunk);
    });
    request.on("end", () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

export interface ServeHandlerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1: the local responder is not meant to be reachable from the network. */
  host?: string;
  /** Request bodies over this are answered 413 without calling the handler (default: Lambda's 6 MB). */
  maxRequestBytes?: number;
  /** Called when the handler throws (it then answers 502, as a Function URL does). */
  onError?: (error: unknown) => void;
}

export interface ServedHandler {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

export async function serveHandler(
  handler: FunctionUrlHandler,
  options: ServeHandlerOptions = {},
): Promise<ServedHandler> {
  const host = options.host ?? "127.0.0.1";
  const maxRequestBytes = options.maxRequestBytes ?? FUNCTION_URL_MAX_REQUEST_BYTES;

  const server = createServer((request, response) => {
    const receivedAt = Date.now();
    readBody(request, maxRequestBytes)
      .then(async (body) => {
        if (body === undefined) {
          writeFunctionUrlResult(response, {
            statusCode: 413,
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ message: "Request Entity Too Large" }),
          });
          return;
        }
        const result = await handler(toFunctionUrlEvent(request, body, receivedAt));
        writeFunctionUrlResult(response, result);
      })
      .catch((error: unknown) => {
        options.onError?.(error);
        if (!response.headersSent) {
          writeFunctionUrlResult(response, {
            statusCode: 502,
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ message: "Internal Server Error" }),
          });
        } else {
          response.destroy();
        }
      });
  });
  // Idle keep-alive sockets would hold close() open.
  server.keepAliveTimeout = 1_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}/`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
