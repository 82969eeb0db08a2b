/**
 * What the ISC command groups of the CLI share (invocations, subscriptions, triggers, tasks,
 * campaigns, role-insights): subcommand dispatch, `--help` everywhere, strict option parsing and the
 * client built from the CLI's environment. Part of the CLI: lib/isc never imports it (imports point
 * down, test/unit/import-direction.test.ts).
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { IscClient } from "../isc/client.ts";
import type { CallOptions } from "../isc/types.ts";
import { type CliIo, type CommandGroup, UsageError } from "./io.ts";

type OptionsConfig = NonNullable<ParseArgsConfig["options"]>;

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export interface Subcommand {
  /** `complete <invocationId|callbackURL> --secret S ...`: the usage after the group name. */
  usage: string;
  summary: string;
  /** Further help lines (options, examples). */
  details?: string[];
  options?: OptionsConfig;
  /** Exact number of positionals, or [min, max]. Default 0. */
  positionals?: number | [number, number];
  run(args: ParsedArgs, context: CommandContext): Promise<number>;
}

export interface CommandContext {
  io: CliIo;
  /** The tenant client, built from SAIL_BASE_URL / SAIL_CLIENT_ID / SAIL_CLIENT_SECRET on first use. */
  client(): IscClient;
  /** Call options bound to the CLI's stop signal. */
  callOptions(): CallOptions;
}

/** Builds a command group whose every level answers `--help`. */
export function commandGroup(
  name: string,
  summary: string,
  subcommands: Record<string, Subcommand>,
  createClient: (io: CliIo) => IscClient = (io) => IscClient.fromEnv(io.env),
): CommandGroup {
  const groupHelp = () =>
    [
      `usage: isc-responder ${name} <subcommand> [options]`,
      "",
      summary,
      "",
      "subcommands:",
      ...Object.values(subcommands).map((sub) => `  ${name} ${sub.usage}\n      ${sub.summary}`),
      "",
      `isc-responder ${name} <subcommand> --help for details.`,
      "Tenant: SAIL_BASE_URL, SAIL_CLIENT_ID, SAIL_CLIENT_SECRET.",
    ].join("\n");

  return {
    summary,
    async run(argv, io) {
      const [subName, ...rest] = argv;
      if (subName === undefined || subName === "--help" || subName === "-h" || subName === "help") {
        io.stdout(groupHelp());
        return subName === undefined ? 2 : 0;
      }
      const sub = subcommands[subName];
      if (sub === undefined)
        throw new UsageError(`unknown subcommand "${name} ${subName}"\n\n${groupHelp()}`);
      const help = () =>
        [
          `usage: isc-responder ${name} ${sub.usage}`,
          "",
          sub.summary,
          ...(sub.details && sub.details.length > 0 ? ["", ...sub.details] : []),
        ].join("\n");
      if (rest.includes("--help") || rest.includes("-h")) {
        io.stdout(help());
        return 0;
      }
      let parsed: ParsedArgs;
      try {
        const result = parseArgs({
          args: rest,
          options: sub.options ?? {},
          allowPositionals: true,
          strict: true,
        });
        parsed = { values: result.values as ParsedArgs["values"], positionals: result.positionals };
      } catch (error) {
        throw new UsageError(`${(error as Error).message}\n\n${help()}`);
      }
      const [min, max] = Array.isArray(sub.positionals)
        ? sub.positionals
        : [sub.positionals ?? 0, sub.positionals ?? 0];
      if (parsed.positionals.length < min || parsed.positionals.length > max) {
        throw new UsageError(
          `${name} ${subName}: expected ${min === max ? min : `${min} to ${max}`} argument(s), got ${parsed.positionals.length}\n\n${help()}`,
        );
      }
      let client: IscClient | undefined;
      return sub.run(parsed, {
        io,
        client: () => {
          client ??= createClient(io);
          return client;
        },
        callOptions: () => (io.signal === undefined ? {} : { signal: io.signal }),
      });
    },
  };
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === "string" ? value : undefined;
}

export function requiredOption(args: ParsedArgs, name: string): string {
  const value = stringOption(args, name);
  if (value === undefined || value === "") throw new UsageError(`--${name} is required`);
  return value;
}

export function listOption(args: ParsedArgs, name: string): string[] | undefined {
  const value = args.values[name];
  if (Array.isArray(value)) return value;
  return typeof value === "string" ? [value] : undefined;
}

export function integerOption(
  args: ParsedArgs,
  name: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  const raw = stringOption(args, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be an integer between ${min} and ${max}`);
  }
  return value;
}

/** A JSON object argument (`JSON` or `@file`). */
export function expectObject(value: unknown, option: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(`${option} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Quotes a value for an ISC filter expression (`triggerId eq "..."`); refuses quotes and backslashes. */
export function filterValue(value: string, option: string): string {
  if (/["\\]/.test(value)) throw new UsageError(`${option} must not contain quotes or backslashes`);
  return `"${value}"`;
}
