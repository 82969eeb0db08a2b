/**
 * `isc-responder dev` (what `npm start` runs): sandbox tenant + local responder + sample invocations
 * through every delivery mode, a table checked against the sandbox, then stays up for curl.
 */

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_RECORDS_PATH } from "../../adapters/local/file-decision-records.ts";
import type { DevSession } from "../../local/dev.ts";
import { parseLogLevel } from "../../local/log.ts";
import { exampleAccessRequestInput } from "../../triggers/examples.ts";
import { type CliIo, type CommandGroup, parseCommandOptions, UsageError } from "../io.ts";
import { SHADOW_FLAG_HELP, shadowFromFlags } from "../shadow-flag.ts";

export const DEV_HELP = `usage: isc-responder dev [options]     (npm start -- [options])

Starts the local ISC sandbox tenant and the responder (the Lambda's HTTP handler and worker, with
in-process queue, ledger and secrets), subscribes both REQUEST_RESPONSE triggers, fires sample
invocations through sync, async, dynamic and EventBridge delivery, prints what happened, then stays
up so you can send your own (Ctrl-C stops).

options:
  --rules FILE         rules file: YAML, JSON or a TypeScript module (default rules/example.yaml)
  --port N             the responder's port (default: a free one)
  --sandbox-port N     the sandbox tenant's port (default: a free one)
  --once               exit after the table: 0 if every invocation completed correctly, else 1
  --records PATH       where decision records go, JSON lines (default .isc-responder/decisions.jsonl;
                       read them with isc-responder decisions list)
  ${SHADOW_FLAG_HELP}
  --console-port N     the console page's port (default: a free one, printed; not with --once)
  --console-host ADDR  the console's address (default 127.0.0.1: the page shows personal data)
  --no-console         do not serve the console page
  --log-level LEVEL    debug, info, warn (default), error or silent; logs go to stderr
  -h, --help           this help`;

function port(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new UsageError(`${option} must be a port number`);
  return n;
}

/** `rules/example.yaml` in the working directory, else the one shipped with the package. */
export function defaultRulesPath(io: CliIo): string {
  const local = resolve(io.cwd, "rules/example.yaml");
  if (existsSync(local)) return local;
  return fileURLToPath(new URL("../../../rules/example.yaml", import.meta.url));
}

export function curlExample(url: string, token: string): string {
  const body = {
    ...exampleAccessRequestInput(),
    _metadata: {
      triggerId: "idn:access-request-pre-approval",
      triggerType: "requestResponse",
      responseMode: "sync",
    },
  };
  return [
    `curl -s -X POST ${url} \\`,
    `  -H "Authorization: Bearer ${token}" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d '${JSON.stringify(body)}'`,
  ].join("\n");
}

const command: CommandGroup = {
  summary: "run the sandbox, the local responder and sample invocations (npm start)",
  async run(argv, io) {
    const values = parseCommandOptions(
      argv,
      {
        rules: { type: "string" },
        port: { type: "string" },
        "sandbox-port": { type: "string" },
        once: { type: "boolean", default: false },
        records: { type: "string" },
        shadow: { type: "string", multiple: true },
        "console-port": { type: "string" },
        "console-host": { type: "string" },
        "no-console": { type: "boolean", default: false },
        "log-level": { type: "string" },
      },
      DEV_HELP,
      io,
    );
    if (values === undefined) return 0;
    const logLevel = parseLogLevel(values["log-level"] as string | undefined, "warn");
    const rulesPath =
      values.rules === undefined ? defaultRulesPath(io) : resolve(io.cwd, values.rules as string);
    const responderPort = port(values.port as string | undefined, "--port");
    const sandboxPort = port(values["sandbox-port"] as string | undefined, "--sandbox-port");
    const recordsPath = resolve(io.cwd, (values.records as string | undefined) ?? DEFAULT_RECORDS_PATH);
    const shadow = shadowFromFlags(values.shadow);

    // The console page (docs/console.md); its options are checked before anything starts.
    const withConsole = !values.once && !values["no-console"];
    const consoleModule = withConsole ? await import("../../console/start.ts") : undefined;
    const consoleOptions = consoleModule?.consoleFlags(values["console-host"], values["console-port"]);

    const { startDev } = await import("../../local/dev.ts");
    const { formatTable } = await import("../../local/samples.ts");
    const sandboxLinesShown = logLevel === "debug" || logLevel === "info";
    const session: DevSession = await startDev({
      rulesPath,
      ...(responderPort === undefined ? {} : { port: responderPort }),
      ...(sandboxPort === undefined ? {} : { sandboxPort }),
      logLevel,
      recordsPath,
      ...(shadow === undefined ? {} : { shadow }),
      // Responder lines are JSON (already filtered by level); sandbox lines are plain text.
      log: (line) => {
        if (line.startsWith("{") || sandboxLinesShown) io.stderr(line);
      },
    });
    let consoleServer: { close(): Promise<void> } | undefined;
    let consoleLines: string[] = [];
    let samplesDone!: () => void;
    const samplesRan = new Promise<void>((resolve) => {
      samplesDone = resolve;
    });
    try {
      if (consoleModule !== undefined && consoleOptions !== undefined && session.records !== undefined) {
        const started = await consoleModule.startDevConsole(session, session.records, consoleOptions, {
          ready: samplesRan,
        });
        consoleServer = started;
        consoleLines = consoleModule.consoleBanner(started, consoleOptions);
      }
      io.stdout(`ISC sandbox tenant   ${session.sandbox.baseUrl}`);
      io.stdout(`local responder      ${session.responder.url}`);
      io.stdout(`rules                ${rulesPath} (${session.rules.version.slice(0, 23)})`);
      io.stdout(`decision records     ${recordsPath}`);
      for (const line of consoleLines) io.stdout(line);
      io.stdout("");
      io.stdout("firing sample invocations through sync, async, dynamic and EventBridge delivery...");
      io.stdout("");
      const results = await session.runSamples().finally(samplesDone);
      io.stdout(formatTable(results));
      io.stdout("");
      const failed = results.filter((r) => !r.completed);
      // Completed with the fallback everywhere means the rules never decided: not "correct".
      const fallbacks = results.filter((r) => r.fallback).length;
      const allFallbacks = results.length > 0 && fallbacks === results.length;
      io.stdout(
        failed.length > 0
          ? `${failed.length} of ${results.length} invocations were NOT completed correctly`
          : allFallbacks
            ? `all ${results.length} invocations were answered by the fallback: the rules decided none of them (see the log: --log-level info)`
            : `all ${results.length} invocations completed correctly${fallbacks > 0 ? ` (${fallbacks} by the fallback)` : ""}`,
      );
      if (values.once) return failed.length === 0 && !allFallbacks ? 0 : 1;

      io.stdout("");
      io.stdout(
        "the responder stays up; send it your own invocation (this token is generated for this run):",
      );
      io.stdout("");
      io.stdout(curlExample(session.responder.url, session.bearerToken));
      io.stdout("");
      io.stdout("Ctrl-C stops.");
      const { waitForStop } = await import("../stop.ts");
      await waitForStop(io);
      return failed.length === 0 ? 0 : 1;
    } finally {
      await consoleServer?.close();
      await session.close();
    }
  },
};
export default command;
