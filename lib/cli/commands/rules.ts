/**
 * `isc-responder rules check|eval|test|schema|replay`: validate a rules file with line numbers, evaluate one
 * payload, run the file's test cases, print the format's JSON Schema; `replay` lives in replay.ts.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { loadDirectoryFile } from "../../context/directory.ts";
import { DirectoryFetcher } from "../../context/directory-fetcher.ts";
import { contextReaderForClient } from "../../context/for-client.ts";
import { CachedContextReader } from "../../context/reader.ts";
import { IscClient } from "../../isc/client.ts";
import {
  type ContextDecideResult,
  decideFromPayload,
  decideWithReadContext,
  describeContextFailure,
} from "../../responder/context-decide.ts";
import { RulesDocumentError } from "../../rules/errors.ts";
import {
  findTestsFileBeside,
  type LoadedRules,
  loadRulesFile,
  parseRulesTestsFile,
} from "../../rules/load-file.ts";
import { formatRulesTestReport, invocationForTools, runRulesTests } from "../../rules/run-tests.ts";
import { rulesJsonSchema } from "../../rules/schema.ts";
import { AT_MESSAGE } from "../../rules/time-checks.ts";
import { parseInstant } from "../../rules/time-conditions.ts";
import { TRIGGER_ALIASES } from "../../rules/validate.ts";
import { type CliIo, type CommandGroup, printJson, readJsonArgument, UsageError } from "../io.ts";
import { REPLAY_HELP, replay } from "./replay.ts";

const HELP = {
  group: [
    "usage: isc-responder rules <command> [options]",
    "",
    "commands:",
    "  check <file>                              validate a rules file (YAML, JSON or a .ts module)",
    "  eval <file> --trigger ID --input JSON|@f  decide one payload; prints {output, explanation, actions}",
    "  test <file> [--tests FILE]                run the file's test cases; exit 1 on failure",
    "  replay <candidate> --records P|--stack N  re-decide recorded invocations; report what changes",
    "  schema                                    print the JSON Schema of the rules format",
    "",
    "The format is described in docs/rules.md; an example is rules/example.yaml.",
  ].join("\n"),
  check: [
    "usage: isc-responder rules check <file> [--json]",
    "",
    "Validates the file and compiles it. Problems are printed as file:line: path: message; exit 1.",
    "  --json   print the validated document as JSON (what the Lambda functions load)",
  ].join("\n"),
  eval: [
    "usage: isc-responder rules eval <file> --input JSON|@payload.json [--trigger ID] [--at ISO] [--context FILE | --live]",
    "",
    "Decides one payload: a bare trigger input (then --trigger is required), an HTTP body with",
    "_metadata, or an EventBridge event. Tenant checks are not applied; the deadline is PT1H.",
    "Prints {output, explanation, actions} and, when the rules read live context, what was read.",
    "  --trigger  preApproval | dynamicApprover | postApproval | a trigger id",
    "  --input    the payload, inline JSON or @file",
    "  --at       the decision's clock, an ISO date-time with its zone (2026-03-02T07:30:00Z); default: now",
    "             (access requests' `ago` in --context count back from it)",
    "  --context  read context offline from a directory file (JSON or YAML; docs/sandbox.md)",
    "  --live     read context from the tenant in SAIL_BASE_URL, SAIL_CLIENT_ID, SAIL_CLIENT_SECRET",
    "Without either, rules that need context fall back (the reason says so).",
  ].join("\n"),
  test: [
    "usage: isc-responder rules test <file> [--tests FILE]",
    "",
    "Runs the test cases of the file's `tests:` section and of FILE (default: <name>.tests.yaml beside",
    "the rules file, when it exists). Exit 1 when a test fails.",
  ].join("\n"),
  schema: ["usage: isc-responder rules schema", "", "Prints the JSON Schema of the rules format."].join("\n"),
};

interface Parsed {
  positional: string[];
  options: Record<string, string | true>;
}

function parseArgs(argv: string[], valued: readonly string[], flags: readonly string[] = []): Parsed {
  const positional: string[] = [];
  const options: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg.startsWith("--")) {
      const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      if (flags.includes(name)) {
        options[name] = true;
      } else if (valued.includes(name)) {
        const value = inline ?? argv[++i];
        if (value === undefined) throw new UsageError(`--${name} needs a value`);
        options[name] = value;
      } else {
        throw new UsageError(`unknown option --${name}`);
      }
    } else {
      positional.push(arg);
    }
  }
  return { positional, options };
}

function oneFile(parsed: Parsed, command: string): string {
  const [file, ...extra] = parsed.positional;
  if (file === undefined) throw new UsageError(`rules ${command}: missing <file>`);
  if (extra.length > 0) throw new UsageError(`rules ${command}: unexpected argument "${extra[0]}"`);
  return file;
}

/** Loads and compiles; a RulesDocumentError becomes one line per issue on stderr and undefined. */
async function load(io: CliIo, file: string): Promise<LoadedRules | undefined> {
  try {
    return await loadRulesFile(resolveFrom(io, file));
  } catch (error) {
    if (!(error instanceof RulesDocumentError)) throw error;
    // Name the file as the user typed it, not as resolved.
    const shown = new RulesDocumentError(file, error.issues);
    io.stderr(shown.formatIssues().join("\n"));
    io.stderr(`${file}: ${error.issues.length} problem${error.issues.length === 1 ? "" : "s"}`);
    return undefined;
  }
}

function resolveFrom(io: CliIo, file: string): string {
  return resolve(io.cwd, file);
}

async function check(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(argv, [], ["json"]);
  const file = oneFile(parsed, "check");
  const loaded = await load(io, file);
  if (loaded === undefined) return 1;
  // Warnings do not fail the check: the rule may be what its author meant (a field ISC adds, say).
  for (const w of loaded.warnings) {
    io.stderr(
      `${file}${w.line === undefined ? "" : `:${w.line}`}: ${w.path || "(root)"}: warning: ${w.message}`,
    );
  }
  if (parsed.options.json === true) {
    printJson(io, loaded.document);
    return 0;
  }
  const counts = (["preApproval", "dynamicApprover", "postApproval"] as const)
    .filter((section) => loaded.document[section] !== undefined)
    .map((section) => `${section}: ${loaded.document[section]?.rules?.length ?? 0} rules`);
  io.stdout(
    `${file}: OK (${counts.join(", ") || "no trigger sections"}; version ${loaded.compiled.version.slice(0, 23)})`,
  );
  return 0;
}

async function evaluate(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(argv, ["trigger", "input", "context", "at"], ["live"]);
  const file = oneFile(parsed, "eval");
  const input = parsed.options.input;
  if (typeof input !== "string") throw new UsageError("rules eval: --input JSON|@file is required");
  const trigger = parsed.options.trigger;
  if (typeof trigger === "string" && TRIGGER_ALIASES[trigger] === undefined) {
    throw new UsageError(`rules eval: --trigger must be one of ${Object.keys(TRIGGER_ALIASES).join(", ")}`);
  }
  const contextFile = parsed.options.context;
  if (typeof contextFile === "string" && parsed.options.live === true) {
    throw new UsageError("rules eval: --context and --live exclude each other");
  }
  const at = parsed.options.at;
  const receivedAt = typeof at === "string" ? parseInstant(at) : undefined;
  if (typeof at === "string" && receivedAt === undefined)
    throw new UsageError(`rules eval: --at ${AT_MESSAGE}`);
  const payload = await readJsonArgument(io, input, "--input");
  const loaded = await load(io, file);
  if (loaded === undefined) return 1;
  const invocation = invocationForTools(
    payload,
    typeof trigger === "string" ? trigger : undefined,
    receivedAt,
  );
  const first = decideFromPayload(invocation, loaded.compiled);
  let result: ContextDecideResult;
  if (!("contextRequired" in first)) {
    result = first;
  } else {
    const reader =
      typeof contextFile === "string"
        ? new CachedContextReader(
            new DirectoryFetcher(
              await loadDirectoryFile(resolveFrom(io, contextFile.replace(/^@/, "")), {
                now: invocation.receivedAt,
              }),
            ),
          )
        : parsed.options.live === true
          ? contextReaderForClient(IscClient.fromEnv(io.env))
          : undefined;
    result = await decideWithReadContext(invocation, loaded.compiled, first.contextRequired, {
      reader,
      deadline: Date.now() + 20_000,
    });
    const failure = result.context?.failure;
    if (failure !== undefined) {
      const hint = reader === undefined ? " (give --context FILE or --live)" : "";
      io.stderr(
        `context could not be read: ${describeContextFailure(failure)}; the decision is the fallback${hint}`,
      );
    }
  }
  const decision = result.decision;
  printJson(io, {
    triggerId: decision.triggerId,
    output: decision.output,
    explanation: decision.explanation,
    actions: decision.actions,
    ...(result.context === undefined ? {} : { context: result.context }),
  });
  return 0;
}

async function test(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(argv, ["tests"]);
  const file = oneFile(parsed, "test");
  const loaded = await load(io, file);
  if (loaded === undefined) return 1;
  const cases = [...(loaded.document.tests ?? [])];
  const testsOption = parsed.options.tests;
  const testsFile =
    typeof testsOption === "string"
      ? resolveFrom(io, testsOption)
      : await findTestsFileBeside(resolveFrom(io, file));
  if (testsFile !== undefined) {
    let text: string;
    try {
      text = await readFile(testsFile, "utf8");
    } catch {
      throw new UsageError(`--tests: cannot read file ${testsFile}`);
    }
    try {
      cases.push(...parseRulesTestsFile(text, typeof testsOption === "string" ? testsOption : testsFile));
    } catch (error) {
      if (!(error instanceof RulesDocumentError)) throw error;
      io.stderr(error.formatIssues().join("\n"));
      return 1;
    }
  }
  if (cases.length === 0) {
    io.stderr(
      `${file}: no test cases (add a tests: section, or ${file.replace(/\.(ya?ml|json)$/i, "")}.tests.yaml)`,
    );
    return 1;
  }
  const report = await runRulesTests(loaded.compiled, cases, {
    testContext: loaded.document.testContext,
    testAt: loaded.document.testAt,
  });
  (report.failed > 0 ? io.stderr : io.stdout)(formatRulesTestReport(report));
  return report.failed > 0 ? 1 : 0;
}

const SUBCOMMANDS: Record<string, { help: string; run: (argv: string[], io: CliIo) => Promise<number> }> = {
  check: { help: HELP.check, run: check },
  eval: { help: HELP.eval, run: evaluate },
  test: { help: HELP.test, run: test },
  replay: { help: REPLAY_HELP, run: (argv, io) => replay(argv, io) },
  schema: {
    help: HELP.schema,
    run: async (argv, io) => {
      if (argv.length > 0) throw new UsageError(`rules schema: unexpected argument "${argv[0]}"`);
      io.stdout(`${JSON.stringify(rulesJsonSchema(), null, 2)}\n`);
      return 0;
    },
  },
};

const command: CommandGroup = {
  summary: "check, evaluate and test rules files; print their JSON Schema",
  async run(argv, io) {
    const [name, ...rest] = argv;
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      io.stdout(HELP.group);
      return name === undefined ? 2 : 0;
    }
    const sub = SUBCOMMANDS[name];
    if (sub === undefined) {
      io.stderr(`error: unknown rules command "${name}"\n\n${HELP.group}`);
      return 2;
    }
    if (rest.includes("--help") || rest.includes("-h")) {
      io.stdout(sub.help);
      return 0;
    }
    return sub.run(rest, io);
  },
};
export default command;
