/**
 * Reads a secret string through the AWS Parameters and Secrets Lambda Extension with node:http,
 * for the HTTP handler's cold start only. The general ExtensionSecretsStore (lib/adapters/aws)
 * uses fetch, whose first call loads undici: measured at 50-75 ms in a fresh process against about
 * 20 ms for node:http obtained through process.getBuiltinModule (an ESM `import` of node:http
 * builds its ESM facade, which costs about as much again). On the reply path that difference is
 * most of the cold-start budget.
 */
import type { Agent, IncomingMessage } from "node:http";
import { ResponderError } from "../errors.ts";

export class ExtensionSecretError extends ResponderError {
  constructor(secretId: string, reason: string) {
    super("SECRET_UNAVAILABLE", `secret ${secretId}: ${reason}`, { httpStatus: 503 });
  }
}

export interface ExtensionSecretReaderOptions {
  /** PARAMETERS_SECRETS_EXTENSION_HTTP_PORT */
  port: number;
  /** AWS_SESSION_TOKEN: the extension authenticates callers with it. */
  sessionToken: string;
  /**
   * Default: 127.0.0.1, then `localhost` (where AWS documents the extension) if nothing listens there.
   * An IP literal skips the DNS lookup and Node's isIP check of a host name, whose IPv6 regex costs
   * ~4 ms the first time it runs: a tenth of this function's cold start. Tests use a loopback fake.
   */
  host?: string;
  /** Per request (default 2000 ms). */
  timeoutMs?: number;
}

/** Largest reply accepted: a GetSecretValue JSON for a 64 KB secret, with room to spare. */
const MAX_REPLY_BYTES = 256 * 1024;

export function createExtensionSecretReader(
  options: ExtensionSecretReaderOptions,
): (secretId: string) => Promise<string> {
  const http = process.getBuiltinModule("node:http");
  let agent: Agent | undefined;
  let host = options.host ?? "127.0.0.1";
  const timeoutMs = options.timeoutMs ?? 2000;

  const read = (secretId: string): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      agent ??= new http.Agent({ keepAlive: true, maxSockets: 4 });
      const path = `/secretsmanager/get?secretId=${encodeURIComponent(secretId)}`;
      const request = http.get(
        {
          host,
          port: options.port,
          path,
          agent,
          headers: { "X-Aws-Parameters-Secrets-Token": options.sessionToken },
          timeout: timeoutMs,
        },
        (response: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_REPLY_BYTES) {
              response.destroy();
              reject(new ExtensionSecretError(secretId, "the extension's reply is too large"));
              return;
            }
            chunks.push(chunk);
          });
          response.on("error", () =>
            reject(new ExtensionSecretError(secretId, "the extension's reply was cut")),
          );
          response.on("end", () => {
            const status = response.statusCode ?? 0;
            // The body is not quoted in errors: it may echo request details.
            if (status !== 200) {
              reject(new ExtensionSecretError(secretId, `the extension answered HTTP ${status}`));
              return;
            }
            let value: unknown;
            try {
              value = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { SecretString?: unknown })
                ?.SecretString;
            } catch {
              reject(new ExtensionSecretError(secretId, "the extension's reply is not JSON"));
              return;
            }
            if (typeof value !== "string") {
              reject(new ExtensionSecretError(secretId, "it has no string value"));
              return;
            }
            resolve(value);
          });
        },
      );
      request.on("timeout", () => request.destroy(new Error("timeout")));
      request.on("error", (error: Error) => {
        if (options.host === undefined && host !== "localhost" && isConnectionRefused(error)) {
          // Not listening on 127.0.0.1 (bound to ::1 only?): use the documented name from now on.
          host = "localhost";
          read(secretId).then(resolve, reject);
          return;
        }
        reject(
          new ExtensionSecretError(
            secretId,
            error.message === "timeout"
              ? `the extension did not answer within ${timeoutMs} ms`
              : "the extension is unreachable",
          ),
        );
      });
    });
  return read;
}

function isConnectionRefused(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ECONNREFUSED" || code === "EADDRNOTAVAIL";
}
