/**
 * `isc-responder console`: the console page over a records file or a deployed stack's decision
 * records, read-only (no sandbox controls). `npm start` and `serve --console` start it themselves.
 */
import { resolve } from "node:path";
import type { DecisionRecordSource } from "../../audit/types.ts";
import { type CommandGroup, parseCommandOptions, UsageError } from "../io.ts";

export const CONSOLE_HELP = `usage: isc-responder console [--records PATH | --stack NAME [--region R]] [options]

Serves the console page (every decision, its explanation, context and timeline) over decision
records, read-only. A records file is watched: what a running \`npm start\` or \`serve\` writes appears
live. A stack's records (DynamoDB) are read on demand: use the page's Refresh.

options:
  --records PATH     a local records file, as dev and serve write (default .isc-responder/decisions.jsonl)
  --stack NAME       a deployed stack: its DecisionRecordsTableName output (AWS credentials as the SDK finds them)
  --region R         the stack's region (default: AWS_REGION / the profile's)
  --port N           port to listen on (default: a free one, printed)
  --host ADDRESS     address to listen on (default 127.0.0.1: the page shows personal data)
  -h, --help         this help`;

/** How often a records file is re-read for new records, ms. */
const FILE_POLL_MS = 1_000;

const command: CommandGroup = {
  summary: "serve the console page over a records file or a deployed stack's records (read-only)",
  async run(argv, io) {
    const values = parseCommandOptions(
      argv,
      {
        records: { type: "string" },
        stack: { type: "string" },
        region: { type: "string" },
        port: { type: "string" },
        host: { type: "string" },
      },
      CONSOLE_HELP,
      io,
    );
    if (values === undefined) return 0;
    const { consoleFlags, consoleBanner } = await import("../../console/start.ts");
    const flags = consoleFlags(values.host, values.port, ["--host", "--port"]);
    if (values.records !== undefined && values.stack !== undefined) {
      throw new UsageError(`give --records PATH or --stack NAME, not both\n\n${CONSOLE_HELP}`);
    }
    if (values.region !== undefined && values.stack === undefined) {
      throw new UsageError("--region goes with --stack");
    }

    let records: DecisionRecordSource;
    let source: string;
    let pollMs = 0;
    if (values.stack === undefined) {
      const { DEFAULT_RECORDS_PATH, FileDecisionRecords } = await import(
        "../../adapters/local/file-decision-records.ts"
      );
      const path = resolve(
        io.cwd,
        typeof values.records === "string" ? values.records : DEFAULT_RECORDS_PATH,
      );
      const file = new FileDecisionRecords(path, { warn: (message) => io.stderr(`warning: ${message}`) });
      // Polled, not subscribed: the file's writer is another process (npm start, serve).
      records = { list: file.list.bind(file), find: file.find.bind(file) };
      source = `file ${path}`;
      pollMs = FILE_POLL_MS;
    } else {
      const { openStackDecisionRecords } = await import("../../adapters/aws/stack-decision-records.ts");
      const stack = values.stack as string;
      const opened = await openStackDecisionRecords(
        stack,
        typeof values.region === "string" ? { region: values.region } : {},
      );
      // Only reads: the console never writes a deployed stack's records.
      records = { list: opened.list.bind(opened), find: opened.find.bind(opened) };
      source = `stack ${stack} (table ${opened.tableName})`;
    }

    const { startConsole } = await import("../../console/server.ts");
    const server = await startConsole({
      records,
      source,
      pollMs,
      ...flags,
      // The error's kind only: a message may quote a record.
      onError: (error) => {
        const code = (error as { code?: unknown } | undefined)?.code;
        io.stderr(
          `console: a request failed (${error instanceof Error ? error.name : "error"}${typeof code === "string" ? ` ${code}` : ""})`,
        );
      },
    });
    try {
      for (const line of consoleBanner(server, flags)) io.stdout(line);
      io.stdout(`records              ${source}`);
      io.stdout("Ctrl-C stops.");
      const { waitForStop } = await import("../stop.ts");
      await waitForStop(io);
      return 0;
    } finally {
      await server.close();
    }
  },
};
export default command;
