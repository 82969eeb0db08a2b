/** `isc-responder subscriptions`: trigger subscriptions CRUD and filter validation. */

import type { SubscriptionPostRequest, SubscriptionPutRequest } from "../../isc/schemas.ts";
import type { JsonPatchOperation } from "../../isc/types.ts";
import {
  commandGroup,
  expectObject,
  filterValue,
  integerOption,
  requiredOption,
  stringOption,
} from "../command-group.ts";
import { printJson, readJsonArgument, UsageError } from "../io.ts";

export default commandGroup("subscriptions", "manage trigger subscriptions", {
  list: {
    usage: "list [--trigger ID] [--filters EXPR] [--limit N] [--offset N]",
    summary: "list subscriptions (GET /beta/trigger-subscriptions)",
    options: {
      trigger: { type: "string" },
      filters: { type: "string" },
      limit: { type: "string" },
      offset: { type: "string" },
    },
    async run(args, { io, client, callOptions }) {
      const filters: string[] = [];
      const trigger = stringOption(args, "trigger");
      if (trigger !== undefined) filters.push(`triggerId eq ${filterValue(trigger, "--trigger")}`);
      const extra = stringOption(args, "filters");
      if (extra !== undefined) filters.push(extra);
      const limit = integerOption(args, "limit", 0, 250);
      const offset = integerOption(args, "offset");
      printJson(
        io,
        await client().listSubscriptions(
          {
            ...(filters.length === 0 ? {} : { filters: filters.join(" and ") }),
            ...(limit === undefined ? {} : { limit }),
            ...(offset === undefined ? {} : { offset }),
          },
          callOptions(),
        ),
      );
      return 0;
    },
  },
  get: {
    usage: "get <id>",
    summary: "show one subscription",
    positionals: 1,
    async run(args, { io, client, callOptions }) {
      printJson(io, await client().getSubscription(args.positionals[0] as string, callOptions()));
      return 0;
    },
  },
  create: {
    usage: "create --body JSON|@file",
    summary: "create a subscription (POST /beta/trigger-subscriptions)",
    details: [
      '  --body  e.g. {"name":"pre-approval","triggerId":"idn:access-request-pre-approval","type":"HTTP",',
      '          "httpConfig":{"url":"https://...","httpDispatchMode":"ASYNC"},"responseDeadline":"PT1H"}',
      "          (https://... is your subscriber's URL; ISC allows one subscription per trigger)",
    ],
    options: { body: { type: "string" } },
    async run(args, { io, client, callOptions }) {
      const body = expectObject(await readJsonArgument(io, requiredOption(args, "body"), "--body"), "--body");
      printJson(
        io,
        await client().createSubscription(body as unknown as SubscriptionPostRequest, callOptions()),
      );
      return 0;
    },
  },
  update: {
    usage: "update <id> --body JSON|@file",
    summary: "replace a subscription (PUT: the whole object; id and triggerId cannot change)",
    options: { body: { type: "string" } },
    positionals: 1,
    async run(args, { io, client, callOptions }) {
      const body = expectObject(await readJsonArgument(io, requiredOption(args, "body"), "--body"), "--body");
      printJson(
        io,
        await client().updateSubscription(
          args.positionals[0] as string,
          body as unknown as SubscriptionPutRequest,
          callOptions(),
        ),
      );
      return 0;
    },
  },
  patch: {
    usage: "patch <id> --ops JSON|@file",
    summary: "apply a JSON Patch to a subscription (application/json-patch+json)",
    details: [
      '  --ops  e.g. [{"op":"add","path":"/description","value":"new"}]',
      '         ("add" sets a field whether or not it is there; "replace" needs it to exist already)',
    ],
    options: { ops: { type: "string" } },
    positionals: 1,
    async run(args, { io, client, callOptions }) {
      const ops = await readJsonArgument(io, requiredOption(args, "ops"), "--ops");
      if (!Array.isArray(ops)) throw new UsageError("--ops must be a JSON array of patch operations");
      printJson(
        io,
        await client().patchSubscription(
          args.positionals[0] as string,
          ops as JsonPatchOperation[],
          callOptions(),
        ),
      );
      return 0;
    },
  },
  delete: {
    usage: "delete <id>",
    summary: "delete a subscription",
    positionals: 1,
    async run(args, { io, client, callOptions }) {
      const id = args.positionals[0] as string;
      await client().deleteSubscription(id, callOptions());
      printJson(io, { deleted: true, id });
      return 0;
    },
  },
  "validate-filter": {
    usage: "validate-filter --input JSON|@file --filter EXPR",
    summary: "check a JSONPath filter against a sample input (POST .../validate-filter)",
    options: { input: { type: "string" }, filter: { type: "string" } },
    async run(args, { io, client, callOptions }) {
      const input = expectObject(
        await readJsonArgument(io, requiredOption(args, "input"), "--input"),
        "--input",
      );
      const result = await client().validateFilter(
        { input, filter: requiredOption(args, "filter") },
        callOptions(),
      );
      printJson(io, result);
      return result.isValid === false ? 1 : 0;
    },
  },
});
