/**
 * Starting the console from the commands: beside `npm start` (records of the local runtime, the
 * sandbox's controls), beside `serve --console` (records only), or alone over a records file or a
 * deployed stack's records (`isc-responder console`, read-only).
 */
import type { DecisionRecordSource, WatchableRecords } from "../audit/types.ts";
import { UsageError } from "../cli/io.ts";
import { type DevSessionLike, devSandboxControls } from "./sandbox-controls.ts";
import { type ConsoleServer, startConsole } from "./server.ts";

export interface ConsoleFlags {
  host?: string;
  port?: number;
}

/** `--console-host` / `--console-port` (or `--host` / `--port` for `console`), checked. */
export function consoleFlags(
  host: unknown,
  port: unknown,
  names = ["--console-host", "--console-port"],
): ConsoleFlags {
  const flags: ConsoleFlags = {};
  if (typeof host === "string") {
    if (host.trim() === "") throw new UsageError(`${names[0]} must be an address`);
    flags.host = host.trim();
  }
  if (typeof port === "string") {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 0 || n > 65_535)
      throw new UsageError(`${names[1]} must be a port number`);
    flags.port = n;
  }
  return flags;
}

/** A line for stdout that says what listens where, and warns when it is not loopback only. */
export function consoleBanner(server: ConsoleServer, flags: ConsoleFlags): string[] {
  const lines = [`console              ${server.url}`];
  const host = flags.host ?? "127.0.0.1";
  if (!["127.0.0.1", "localhost", "::1"].includes(host)) {
    lines.push(
      `                     listening on ${host}: whoever reaches it sees personal data and, with npm start, can use the sandbox controls (prefer loopback, or a TLS proxy)`,
    );
  }
  return lines;
}

type LocalRecords = DecisionRecordSource & Partial<WatchableRecords>;

/** The console of `npm start`: the runtime's records, live, and the sandbox's controls. */
export function startDevConsole(
  session: DevSessionLike,
  records: LocalRecords,
  flags: ConsoleFlags,
  options: { ready?: Promise<unknown>; onError?: (error: unknown) => void } = {},
): Promise<ConsoleServer> {
  const sandbox = devSandboxControls(session, options.ready === undefined ? {} : { ready: options.ready });
  return startConsole({
    records,
    sandbox,
    source: "local responder and sandbox (npm start)",
    secrets: () => sandbox.secrets(),
    ...flags,
    ...(options.onError === undefined ? {} : { onError: options.onError }),
  });
}

/** The console of `serve --console`: the runtime's records, no controls. */
export function startServeConsole(
  records: LocalRecords,
  secrets: readonly string[],
  flags: ConsoleFlags,
  onError?: (error: unknown) => void,
): Promise<ConsoleServer> {
  return startConsole({
    records,
    source: "local responder (serve)",
    secrets: () => secrets,
    ...flags,
    ...(onError === undefined ? {} : { onError }),
  });
}
