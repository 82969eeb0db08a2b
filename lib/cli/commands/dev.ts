/**
 * `isc-responder dev` (what `npm start` runs): sandbox tenant + local responder + sample invocations
 * through every delivery mode, a table checked against the sandbox, then stays up for curl.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { DevSession } from "../../local/dev.ts";
import { parseLogLevel } from "../../local/log.ts";
import { exampleAccessRequestInput } from "../../triggers/examples.ts";
import { type CliIo, type CommandGroup, parseCommandOptions, UsageError } from "../io.ts";

export const DEV_HELP = `usage: isc-responder dev [options]     (npm start -- [options])

Starts the local ISC sandbox tenant and the responder (the Lambda's HTTP handler and worker, with
in-process queue, ledger and secrets), subscribes both REQUEST_RESPONSE triggers, fires sample
invocations through sync, async, dynamic and EventBridge delivery, prints what happened, then stays
up so you can send your own (Ctrl-C stops).

options:
  --rules FILE         rules file, YAML or JSON (default rules/example.yaml)
  --port N             the responder's port (default: a free one)
  --sandbox-port N     the sandbox tenant's port (default: a free one)
  --once               exit after the table: 0 if every invocation completed correctly, else 1
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

    const { startDev } = await import("../../local/dev.ts");
    const { formatTable } = await import("../../local/samples.ts");
    const sandboxLinesShown = logLevel === "debug" || logLevel === "info";
    const session: DevSession = await startDev({
      rulesPath,
      ...(responderPort === undefined ? {} : { port: responderPort }),
      ...(sandboxPort === undefined ? {} : { sandboxPort }),
      logLevel,
      // Responder lines are JSON (already filtered by level); sandbox lines are plain text.
      log: (line) => {
        if (line.startsWith("{") || sandboxLinesShown) io.stderr(line);
      },
    });
    try {
      io.stdout(`ISC sandbox tenant   ${session.sandbox.baseUrl}`);
      io.stdout(`local responder      ${session.responder.url}`);
      io.stdout(`rules                ${rulesPath} (${session.rules.version.slice(0, 23)})`);
      io.stdout("");
      io.stdout("firing sample invocations through sync, async, dynamic and EventBridge delivery...");
      io.stdout("");
      const results = await session.runSamples();
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
      await session.close();
    }
  },
};
export default command;
