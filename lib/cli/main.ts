/**
 * `isc-responder` entry point. Each command group lives in lib/cli/commands/<group>.ts and is
 * imported only when used, so `isc-responder rules check` does not load the sandbox or the CDK.
 */
import { type CliIo, type CommandGroup, formatCliError, processIo, UsageError } from "./io.ts";

const GROUPS: Record<string, { summary: string; load: () => Promise<{ default: CommandGroup }> }> = {
  dev: {
    summary: "run the sandbox, the local responder and sample invocations (npm start)",
    load: () => import("./commands/dev.ts"),
  },
  serve: {
    summary: "serve only the local responder against SAIL_BASE_URL",
    load: () => import("./commands/serve.ts"),
  },
  sandbox: { summary: "run the local ISC tenant sandbox", load: () => import("./commands/sandbox.ts") },
  console: {
    summary: "serve the console page over a records file or a deployed stack's records (read-only)",
    load: () => import("./commands/console.ts"),
  },
  decisions: {
    summary: "list and explain the decision records (audit trail)",
    load: () => import("./commands/decisions.ts"),
  },
  rules: {
    summary: "check, evaluate and test rules files; print their JSON Schema",
    load: () => import("./commands/rules.ts"),
  },
  invocations: {
    summary: "complete, test and list trigger invocations",
    load: () => import("./commands/invocations.ts"),
  },
  subscriptions: {
    summary: "manage trigger subscriptions",
    load: () => import("./commands/subscriptions.ts"),
  },
  triggers: { summary: "list the tenant's triggers", load: () => import("./commands/triggers.ts") },
  tasks: {
    summary: "update a task status (clear a pending task)",
    load: () => import("./commands/tasks.ts"),
  },
  campaigns: { summary: "complete a certification campaign", load: () => import("./commands/campaigns.ts") },
  credentials: {
    summary: "revoke the previous webhook token (after a leak)",
    load: () => import("./commands/credentials.ts"),
  },
  "role-insights": {
    summary: "request role insights generation",
    load: () => import("./commands/role-insights.ts"),
  },
};

export function topLevelHelp(): string {
  const width = Math.max(...Object.keys(GROUPS).map((name) => name.length));
  const lines = Object.entries(GROUPS).map(([name, group]) => `  ${name.padEnd(width)}  ${group.summary}`);
  return [
    "usage: isc-responder <command> [options]   (isc-responder <command> --help for more)",
    "",
    "commands:",
    ...lines,
    "",
    "ISC tenant: SAIL_BASE_URL, SAIL_CLIENT_ID, SAIL_CLIENT_SECRET (as SailPoint's SDK and CLI).",
  ].join("\n");
}

export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stdout(topLevelHelp());
    return name === undefined ? 2 : 0;
  }
  const group = GROUPS[name];
  if (group === undefined) {
    io.stderr(`error: unknown command "${name}"\n\n${topLevelHelp()}`);
    return 2;
  }
  try {
    const module = await group.load();
    return await module.default.run(rest, io);
  } catch (error) {
    io.stderr(formatCliError(error));
    return error instanceof UsageError ? 2 : 1;
  }
}
