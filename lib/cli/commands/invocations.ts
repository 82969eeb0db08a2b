/** `isc-responder invocations`: complete, test and list trigger invocations on the tenant. */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import * as z from "zod/mini";
import { zodIssueTexts } from "../../errors.ts";
import { checkCallbackUrl } from "../../isc/callback-url.ts";
import type { InvocationStatus } from "../../isc/schemas.ts";
import type { CompletionTarget } from "../../isc/types.ts";
import { DynamicApproverOutputSchema, PreApprovalOutputSchema } from "../../triggers/schemas.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../../triggers/trigger-ids.ts";
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

/** PENDING, COMPLETED or FAILED, from ISC's status entry (which has no such field). */
export function invocationState(status: InvocationStatus): "PENDING" | "COMPLETED" | "FAILED" {
  const completion = status.completeInvocationInput;
  if (completion?.localizedError) return "FAILED";
  return status.completed || completion ? "COMPLETED" : "PENDING";
}

/** The problems of `output` for `triggerId` (undefined: valid, or a trigger whose output we do not know). */
function outputProblems(triggerId: string, output: Record<string, unknown>): string[] | undefined {
  const schema =
    triggerId === PRE_APPROVAL
      ? PreApprovalOutputSchema
      : triggerId === DYNAMIC_APPROVER
        ? DynamicApproverOutputSchema
        : undefined;
  if (schema === undefined) return undefined;
  const result = z.safeParse(schema, output);
  return result.success ? undefined : zodIssueTexts(result.error.issues, output);
}

export default commandGroup("invocations", "complete, test and list trigger invocations", {
  complete: {
    usage:
      "complete <invocationId|callbackURL> --secret S (--output JSON|@file) [--error MSG] [--trigger ID] [--force]",
    summary: "complete a REQUEST_RESPONSE invocation (POST /beta/trigger-invocations/{id}/complete)",
    details: [
      "  <invocationId|callbackURL>  the invocation id, or the callbackURL received (it must be the tenant's)",
      "  --secret S|@file            the invocation's secret (never printed)",
      '  --output JSON|@file         the trigger output, e.g. \'{"approved":true,"comment":"ok","approver":"a"}\'',
      "  --error MSG                 fail the invocation on purpose (output defaults to {})",
      "  --trigger ID                the invocation's trigger (default: looked up in the invocation status)",
      "  --force                     send an output that does not match the trigger's output schema",
      "",
      "ISC answers 204 even for an output it then marks FAILED, so --output is checked against the",
      "trigger's output schema first; afterwards, `invocations status` shows what ISC made of it.",
    ],
    options: {
      secret: { type: "string" },
      output: { type: "string" },
      error: { type: "string" },
      trigger: { type: "string" },
      force: { type: "boolean" },
    },
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
      let triggerId = stringOption(args, "trigger");
      // A callbackURL that is not the tenant's is refused here, before the status lookup sends anything.
      const id =
        "callbackUrl" in target
          ? checkCallbackUrl(target.callbackUrl, client().baseUrl).invocationId
          : targetArg;
      if (
        triggerId === undefined &&
        errorMessage === undefined &&
        id !== undefined &&
        /^[\w-]{1,64}$/.test(id)
      ) {
        // Best effort: an unknown id or a failed lookup leaves the output unchecked (said below).
        const [found] = await client()
          .listInvocationStatus({ filters: `id eq "${id}"`, limit: 1 }, callOptions())
          .catch(() => []);
        triggerId = found?.triggerId;
      }
      const problems =
        errorMessage === undefined && triggerId !== undefined ? outputProblems(triggerId, output) : undefined;
      if (problems !== undefined && args.values.force !== true) {
        throw new UsageError(
          `--output does not match the output schema of ${triggerId} (ISC would mark the invocation FAILED): ${problems.join("; ")}. Fix it, or pass --force to send it anyway`,
        );
      }
      await client().completeInvocation(
        target,
        { secret, output, ...(errorMessage === undefined ? {} : { error: errorMessage }) },
        callOptions(),
      );
      printJson(io, {
        accepted: true,
        target: targetArg,
        failed: errorMessage !== undefined,
        outputChecked:
          errorMessage === undefined && triggerId !== undefined
            ? problems === undefined
              ? triggerId
              : "sent with --force"
            : false,
        next: `ISC answers 204 whether or not it takes the output: check \`isc-responder invocations status${triggerId === undefined ? "" : ` --trigger ${triggerId}`}\``,
      });
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
      if (invocations.length === 0) {
        // ISC answers 204 when no subscription matches: nothing was sent anywhere.
        io.stderr(
          `nobody is subscribed to ${requiredOption(args, "trigger")}${subscriptionIds === undefined ? "" : " (with the given --subscription ids)"}: ISC sent no invocation. Create a subscription first (isc-responder subscriptions create --help)`,
        );
        return 1;
      }
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
    summary:
      "list recent invocations with their status: PENDING, COMPLETED or FAILED (GET /beta/trigger-invocations/status)",
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
      printJson(
        io,
        statuses.map((entry) => ({ status: invocationState(entry), ...entry })),
      );
      return 0;
    },
  },
});
