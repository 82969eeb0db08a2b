/** What every CLI command gets: output streams and environment, injectable so tests run commands in process. */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { ResponderError, ValidationError } from "../errors.ts";

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Resolves when the user asks a long-running command (sandbox, dev, serve) to stop. */
  signal?: AbortSignal;
}

export interface CommandGroup {
  /** One line for the top-level --help. */
  summary: string;
  /** argv after the group name; returns the exit code. */
  run(argv: string[], io: CliIo): Promise<number>;
}

export class UsageError extends ResponderError {
  constructor(message: string) {
    super("USAGE", message, { httpStatus: 400 });
  }
}

export type CommandOptions = Record<string, string | boolean | undefined>;

/**
 * Strict option parsing for a command without positionals, with `-h/--help` added: a bad option is a
 * UsageError followed by the help; `--help` prints the help and gives undefined (the command exits 0).
 */
export function parseCommandOptions(
  argv: string[],
  options: ParseArgsOptionsConfig,
  help: string,
  io: CliIo,
): CommandOptions | undefined {
  let values: CommandOptions;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { ...options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${help}`);
  }
  if (values.help) {
    io.stdout(help);
    return undefined;
  }
  return values;
}

export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
    stderr: (text) => process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
    env: process.env,
    cwd: process.cwd(),
  };
}

export function printJson(io: CliIo, value: unknown): void {
  io.stdout(JSON.stringify(value, null, 2));
}

/** `--output '{"a":1}'` or `--output @file.json`: JSON given inline or read from a file. */
export async function readJsonArgument(io: CliIo, value: string, option: string): Promise<unknown> {
  let text = value;
  if (value.startsWith("@")) {
    const path = resolve(io.cwd, value.slice(1));
    try {
      text = await readFile(path, "utf8");
    } catch {
      throw new UsageError(`${option}: cannot read file ${path}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${option}: not valid JSON (${(error as Error).message})`);
  }
}

/**
 * One line a person can act on. Errors that carry ISC details (status, detailCode, trackingId)
 * show them; messages are built without secrets by the code that throws.
 */
export function formatCliError(error: unknown): string {
  if (error instanceof ValidationError) {
    return `error: ${error.message}`;
  }
  if (error instanceof Error) {
    const details = error as Error & {
      status?: unknown;
      detailCode?: unknown;
      trackingId?: unknown;
      code?: unknown;
      causes?: unknown;
    };
    const parts: string[] = [];
    if (details.status !== undefined) parts.push(`status ${String(details.status)}`);
    if (typeof details.detailCode === "string") parts.push(`detailCode "${details.detailCode}"`);
    if (typeof details.trackingId === "string") parts.push(`trackingId ${details.trackingId}`);
    // ISC's causes say which field was refused and why: often the only actionable part.
    const causes = Array.isArray(details.causes)
      ? details.causes.filter((cause): cause is string => typeof cause === "string" && cause !== "")
      : [];
    return [
      `error: ${error.message}${parts.length > 0 ? ` (${parts.join(", ")})` : ""}`,
      ...causes.slice(0, 10).map((cause) => `  cause: ${cause}`),
    ].join("\n");
  }
  return `error: ${String(error)}`;
}
