/**
 * The console's request checks and its last check on what it sends.
 *
 * - Host: only the names the console is reached by (its address, localhost, or the --console-host
 *   given). A DNS-rebinding page (evil.example resolving to 127.0.0.1) sends its own Host and is
 *   refused, so it cannot read the records either.
 * - Controls (POST/PUT): JSON only, `X-Console-Token` equal to the token the page was served with
 *   (another site cannot read the page, so cannot know it; a custom header also forces a CORS
 *   preflight we never allow), and an `Origin`, when sent, equal to the console's own.
 * - Secrets: every JSON body is scanned for the values the runtime knows are secret (the webhook
 *   token, the client secret, every invocation secret); one found refuses the reply instead of
 *   sending it. Records never hold them by construction; this catches a future mistake.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { ResponderError } from "../errors.ts";

export class ConsoleRequestRefused extends ResponderError {}

export function newConsoleToken(): string {
  return randomBytes(24).toString("hex");
}

/** The Host header values accepted: host:port for each name the console answers to. */
export function allowedHosts(listenHost: string, port: number, extra: readonly string[] = []): Set<string> {
  const names = new Set<string>([listenHost, "127.0.0.1", "localhost", "[::1]", ...extra]);
  if (listenHost.includes(":") && !listenHost.startsWith("[")) names.add(`[${listenHost}]`);
  const hosts = new Set<string>();
  for (const name of names) hosts.add(`${name}:${port}`.toLowerCase());
  return hosts;
}

export function checkHost(req: IncomingMessage, hosts: ReadonlySet<string>): void {
  const host = (req.headers.host ?? "").toLowerCase();
  if (!hosts.has(host)) {
    throw new ConsoleRequestRefused("HOST_REFUSED", "this console answers only on its own address", {
      httpStatus: 421,
    });
  }
}

function sameToken(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A control request (POST/PUT) from the console's own page, or a ConsoleRequestRefused (403/415). */
export function checkControlRequest(req: IncomingMessage, token: string, hosts: ReadonlySet<string>): void {
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let originHost: string;
    try {
      const parsed = new URL(origin);
      originHost = parsed.protocol === "http:" ? parsed.host.toLowerCase() : "";
    } catch {
      originHost = "";
    }
    if (!hosts.has(originHost)) {
      throw new ConsoleRequestRefused(
        "ORIGIN_REFUSED",
        "controls are accepted only from the console's own page",
        {
          httpStatus: 403,
        },
      );
    }
  }
  const given = req.headers["x-console-token"];
  if (typeof given !== "string" || !sameToken(token, given)) {
    throw new ConsoleRequestRefused("CONSOLE_TOKEN_REFUSED", "controls need the console page's token", {
      httpStatus: 403,
    });
  }
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") {
    throw new ConsoleRequestRefused("UNSUPPORTED_MEDIA_TYPE", "controls take application/json", {
      httpStatus: 415,
    });
  }
}

/** Secrets shorter than this are not scanned for (they would match ordinary text). */
const MIN_SECRET_LENGTH = 8;

/** Whether the body holds one of the secrets (the caller says only that a reply was refused, never which). */
export function containsSecret(body: string, secrets: Iterable<string>): boolean {
  for (const secret of secrets) {
    if (secret.length >= MIN_SECRET_LENGTH && body.includes(secret)) return true;
    // JSON escapes some characters: look for the escaped form too.
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (escaped !== secret && escaped.length >= MIN_SECRET_LENGTH && body.includes(escaped)) return true;
  }
  return false;
}
