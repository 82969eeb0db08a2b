/** `isc-responder invocations`: complete, test and list trigger invocations on the tenant. */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { CompletionTarget } from "../../isc/types.ts";
import {
  commandGroup,
  expectObject,
  filterValue,
  integerOption,
  listOption,
  requiredOption,
  stringOption,
} from "../command-group.ts";
import { type CliIo, printJson, readJsonArgument, UsageError } from "../io.ts";

/** `--secret S` or `--secret @file` (keeps the secret out of shell history). Never echoed. */
async function readSecret(io: CliIo, value: string): Promise<string> {
  if (!value.startsWith("@")) return value;
  const path = resolve(io.cwd, value.slice(1));
  try {
    return (await readFile(path, "utf8")).trim();
  } catch {
    throw new UsageError(`--secret: cannot read file ${path}`);
  }
}

export default commandGroup("invocations", "complete, test and list trigger invocations", {
  complete: {
    usage: "complete <invocationId|callbackURL> --secret S (--output JSON|@file) [--error MSG]",
    summary: "complete a REQUEST_RESPONSE invocation (POST /beta/trigger-invocations/{id}/complete)",
    details: [
      "  <invocationId|callbackURL>  the invocation id, or the callbackURL received (it must be the tenant's)",
      "  --secret S|@file            the invocation's secret (never printed)",
      '  --output JSON|@file         the trigger output, e.g. \'{"approved":true,"comment":"ok","approver":"a"}\'',
      "  --error MSG                 fail the invocation on purpose (output defaults to {})",
    ],
    options: { secret: { type: "string" }, output: { type: "string" }, error: { type: "string" } },
    positionals: 1,
    async run(args, { io, client, callOptions }) {
      const targetArg = args.positionals[0] as string;
      const secret = await readSecret(io, requiredOption(args, "secret"));
      const errorMessage = stringOption(args, "error");
      const outputArg = stringOption(args, "output");
      if (outputArg === undefined && errorMessage === undefined) {
        throw new UsageError("--output is required (or --error to fail the invocation)");
      }
      const output =
        outputArg === undefined
          ? {}
          : expectObject(await readJsonArgument(io, outputArg, "--output"), "--output");
      const target: CompletionTarget = /^https?:\/\//i.test(targetArg)
        ? { callbackUrl: targetArg }
        : { invocationId: targetArg };
      await client().completeInvocation(
        target,
        { secret, output, ...(errorMessage === undefined ? {} : { error: errorMessage }) },
        callOptions(),
      );
      printJson(io, { completed: true, target: targetArg, failed: errorMessage !== undefined });
      return 0;
    },
  },
  test: {
    usage: "test --trigger ID [--input JSON|@file] [--subscription ID ...] [--show-secrets]",
    summary: "send a test invocation to the trigger's subscribers (POST /beta/trigger-invocations/test)",
    details: [
      "  --trigger ID          e.g. idn:access-request-pre-approval",
      "  --input JSON|@file    trigger input (default: the trigger's sample payload)",
      "  --subscription ID     only this subscription (repeatable)",
      "  --show-secrets        print the test invocations' secrets (hidden by default)",
    ],
    options: {
      trigger: { type: "string" },
      input: { type: "string" },
      subscription: { type: "string", multiple: true },
      "show-secrets": { type: "boolean" },
    },
    async run(args, { io, client, callOptions }) {
      const inputArg = stringOption(args, "input");
      const subscriptionIds = listOption(args, "subscription");
      const invocations = await client().testInvocation(
        {
          triggerId: requiredOption(args, "trigger"),
          ...(inputArg === undefined
            ? {}
            : { input: expectObject(await readJsonArgument(io, inputArg, "--input"), "--input") }),
          ...(subscriptionIds === undefined ? {} : { subscriptionIds }),
        },
        callOptions(),
      );
      const show = args.values["show-secrets"] === true;
      printJson(
        io,
        invocations.map((invocation) => (show ? invocation : { ...invocation, secret: "[redacted]" })),
      );
      return 0;
    },
  },
  status: {
    usage: "status [--trigger ID] [--subscription ID] [--limit N] [--offset N]",
    summary: "list recent invocations and their status (GET /beta/trigger-invocations/status)",
    options: {
      trigger: { type: "string" },
      subscription: { type: "string" },
      limit: { type: "string" },
      offset: { type: "string" },
    },
    async run(args, { io, client, callOptions }) {
      const filters: string[] = [];
      const trigger = stringOption(args, "trigger");
      const subscription = stringOption(args, "subscription");
      if (trigger !== undefined) filters.push(`triggerId eq ${filterValue(trigger, "--trigger")}`);
      if (subscription !== undefined) {
        filters.push(`subscriptionId eq ${filterValue(subscription, "--subscription")}`);
      }
      const limit = integerOption(args, "limit", 0, 250);
      const offset = integerOption(args, "offset");
      const statuses = await client().listInvocationStatus(
        {
          ...(limit === undefined ? {} : { limit }),
          ...(offset === undefined ? {} : { offset }),
          ...(filters.length === 0 ? {} : { filters: filters.join(" and ") }),
        },
        callOptions(),
      );
      printJson(io, statuses);
      return 0;
    },
  },
});
