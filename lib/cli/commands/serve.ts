/**
 * `isc-responder serve`: only the local responder, against the tenant in SAIL_BASE_URL, with the
 * worker in process. Point a subscription (or a tunnel to it) at the printed URL.
 */

import { resolve } from "node:path";
import { DEFAULT_RECORDS_PATH } from "../../adapters/local/file-decision-records.ts";
import { createLineLogger, parseLogLevel } from "../../local/log.ts";
import { type CommandGroup, parseCommandOptions, UsageError } from "../io.ts";
import { shadowFromFlags } from "../shadow-flag.ts";

export const SERVE_HELP = `usage: isc-responder serve --rules FILE [--port N] [options]

Serves only the responder (the Lambda's HTTP handler, with the worker in process) for a real tenant:
ISC, or a tunnel to this machine, delivers to the printed URL; completions go to SAIL_BASE_URL.

options:
  --rules FILE              rules file: YAML, JSON or a TypeScript module (required)
  --port N                  port to listen on (default: a free one, printed)
  --host ADDRESS            address to listen on (default 127.0.0.1)
  --response-deadline DUR   the subscriptions' responseDeadline, ISO-8601 (default PT1H)
  --dynamic-budget MS       dynamic mode: answer in the reply only within this budget (default 2000)
  --records PATH            where decision records go, JSON lines (default .isc-responder/decisions.jsonl)
  --shadow TRIGGER          run pre-approval or dynamic-approver in shadow mode: the rules decide and are
                            recorded, ISC gets approve / no extra approver (repeatable; docs/going-live.md)
  --console                 also serve the console page over those records (read-only; docs/console.md)
  --console-port N          its port (default: a free one, printed)
  --console-host ADDRESS    its address (default 127.0.0.1: the page shows personal data)
  --log-level LEVEL         debug, info (default), warn, error or silent; logs go to stderr
  -h, --help                this help

environment:
  SAIL_BASE_URL, SAIL_CLIENT_ID, SAIL_CLIENT_SECRET   the tenant, and the client that completes invocations
  RESPONDER_BEARER_TOKEN                              the token ISC sends (Authorization: Bearer), or
  RESPONDER_BASIC_USER, RESPONDER_BASIC_PASSWORD      the Basic credentials ISC sends`;

/** The shortest bearer token or Basic password `serve` accepts. */
export const MIN_TOKEN_LENGTH = 16;

const command: CommandGroup = {
  summary: "serve only the local responder against SAIL_BASE_URL",
  async run(argv, io) {
    const values = parseCommandOptions(
      argv,
      {
        rules: { type: "string" },
        port: { type: "string" },
        host: { type: "string" },
        "response-deadline": { type: "string" },
        "dynamic-budget": { type: "string" },
        records: { type: "string" },
        shadow: { type: "string", multiple: true },
        console: { type: "boolean", default: false },
        "console-port": { type: "string" },
        "console-host": { type: "string" },
        "log-level": { type: "string" },
      },
      SERVE_HELP,
      io,
    );
    if (values === undefined) return 0;
    if (typeof values.rules !== "string") throw new UsageError(`--rules FILE is required\n\n${SERVE_HELP}`);
    const port = values.port === undefined ? 0 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65_535)
      throw new UsageError("--port must be a port number");
    let dynamicBudgetMs: number | undefined;
    if (values["dynamic-budget"] !== undefined) {
      dynamicBudgetMs = Number(values["dynamic-budget"]);
      if (!Number.isInteger(dynamicBudgetMs) || dynamicBudgetMs <= 0) {
        throw new UsageError("--dynamic-budget must be a positive number of milliseconds");
      }
    }

    // A short token is guessable by anyone who can reach the port: refuse it rather than serve with it.
    for (const name of ["RESPONDER_BEARER_TOKEN", "RESPONDER_BASIC_PASSWORD"] as const) {
      const value = io.env[name];
      if (value !== undefined && value !== "" && value.length < MIN_TOKEN_LENGTH) {
        throw new UsageError(
          `${name} is ${value.length} characters: use at least ${MIN_TOKEN_LENGTH} (e.g. openssl rand -hex 24)`,
        );
      }
    }
    const consoleModule = values.console ? await import("../../console/start.ts") : undefined;
    const consoleOptions = consoleModule?.consoleFlags(values["console-host"], values["console-port"]);
    const { startServe, ServeConfigError } = await import("../../local/serve.ts");
    const logger = createLineLogger((line) => io.stderr(line), {
      level: parseLogLevel(values["log-level"] as string | undefined, "info"),
    });
    let responder: Awaited<ReturnType<typeof startServe>>;
    try {
      const shadow = shadowFromFlags(values.shadow);
      responder = await startServe({
        ...(shadow === undefined ? {} : { shadow }),
        rulesPath: resolve(io.cwd, values.rules),
        port,
        ...(typeof values.host === "string" ? { host: values.host } : {}),
        ...(typeof values["response-deadline"] === "string"
          ? { responseDeadline: values["response-deadline"] }
          : {}),
        ...(dynamicBudgetMs === undefined ? {} : { dynamicBudgetMs }),
        env: io.env,
        logger,
        recordsPath: resolve(
          io.cwd,
          typeof values.records === "string" ? values.records : DEFAULT_RECORDS_PATH,
        ),
      });
    } catch (error) {
      if (error instanceof ServeConfigError) throw new UsageError(error.message);
      throw error;
    }
    let consoleServer: { close(): Promise<void> } | undefined;
    try {
      if (consoleModule !== undefined && consoleOptions !== undefined && responder.records !== undefined) {
        // Values no console reply may hold: ISC's inbound credentials and the API client's secret.
        const secrets = ["RESPONDER_BEARER_TOKEN", "RESPONDER_BASIC_PASSWORD", "SAIL_CLIENT_SECRET"]
          .map((name) => io.env[name] ?? "")
          .filter((value) => value !== "");
        const started = await consoleModule.startServeConsole(responder.records, secrets, consoleOptions);
        consoleServer = started;
        for (const line of consoleModule.consoleBanner(started, consoleOptions)) io.stdout(line);
      }
      io.stdout(`responder listening on ${responder.url}`);
      io.stdout(`completing invocations at ${responder.tenantBaseUrl}`);
      io.stdout(
        `decision records in ${resolve(io.cwd, typeof values.records === "string" ? values.records : DEFAULT_RECORDS_PATH)}`,
      );
      io.stdout("Ctrl-C stops.");
      const { waitForStop } = await import("../stop.ts");
      await waitForStop(io);
      return 0;
    } finally {
      await consoleServer?.close();
      await responder.close();
    }
  },
};
export default command;
