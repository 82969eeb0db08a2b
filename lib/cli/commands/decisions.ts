/**
 * `isc-responder decisions list|show`: the decision records, from a local records file (what dev and
 * serve write) or a deployed stack's table. A table and an explanation for people, JSON for tools.
 * The stores are imported only when used (no AWS SDK for a file).
 */
import { resolve } from "node:path";
import { DEFAULT_RECORDS_PATH } from "../../adapters/local/file-decision-records.ts";
import { DECISION_LABELS } from "../../audit/constants.ts";
import type { DecisionFilter, DecisionRecordSource } from "../../audit/types.ts";
import { TRIGGER_ALIASES } from "../../rules/validate.ts";
import {
  commandGroup,
  integerOption,
  type ParsedArgs,
  type Subcommand,
  stringOption,
} from "../command-group.ts";
import { type CliIo, printJson, UsageError } from "../io.ts";

const SOURCE_OPTIONS = {
  records: { type: "string" },
  stack: { type: "string" },
  region: { type: "string" },
  json: { type: "boolean" },
} as const;

const SOURCE_HELP = [
  `  --records PATH      a local records file (default ${DEFAULT_RECORDS_PATH}, what dev and serve write)`,
  "  --stack NAME        a deployed stack's decision records (table from its outputs; AWS credentials",
  "                      as usual, --region R)",
  "  --json              JSON for tools instead of the readable form",
];

export const DECISION_FILTERS = [...DECISION_LABELS, "fallback"] as const;
const MAX_LIST_LIMIT = 10_000;

interface Source {
  records: DecisionRecordSource;
  /** `file PATH` or `stack NAME`. */
  name: string;
}

/** How the command opens a store; injectable for tests. */
export type OpenSource = (args: ParsedArgs, io: CliIo) => Promise<Source>;

const openSource: OpenSource = async (args, io) => {
  const stack = stringOption(args, "stack");
  const records = stringOption(args, "records");
  const region = stringOption(args, "region");
  if (stack !== undefined && records !== undefined)
    throw new UsageError("give --records PATH or --stack NAME, not both");
  if (region !== undefined && stack === undefined) throw new UsageError("--region goes with --stack");
  if (stack !== undefined) {
    const { openStackDecisionRecords } = await import("../../adapters/aws/stack-decision-records.ts");
    const opened = await openStackDecisionRecords(stack, region === undefined ? {} : { region });
    return { records: opened, name: `stack ${stack}` };
  }
  const path = resolve(io.cwd, records ?? DEFAULT_RECORDS_PATH);
  const { FileDecisionRecords } = await import("../../adapters/local/file-decision-records.ts");
  return {
    records: new FileDecisionRecords(path, { warn: (message) => io.stderr(`warning: ${message}`) }),
    name: `file ${path}`,
  };
};

/** An ISO 8601 date or date-time (a bare date is midnight UTC), as epoch ms. */
export function isoOption(args: ParsedArgs, name: string): number | undefined {
  const raw = stringOption(args, name);
  if (raw === undefined) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(raw)
    ? Date.parse(raw)
    : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new UsageError(
      `--${name} must be an ISO 8601 date or date-time (2026-03-03 or 2026-03-03T10:00:00Z)`,
    );
  }
  return ms;
}

export function filterFromArgs(args: ParsedArgs): DecisionFilter {
  const filter: DecisionFilter = {};
  const accessRequestId = stringOption(args, "access-request");
  const personId = stringOption(args, "person");
  const ruleId = stringOption(args, "rule");
  const decision = stringOption(args, "decision");
  const trigger = stringOption(args, "trigger");
  if (accessRequestId !== undefined) filter.accessRequestId = accessRequestId;
  if (personId !== undefined) filter.personId = personId;
  if (ruleId !== undefined) filter.ruleId = ruleId;
  if (decision !== undefined) {
    if (!(DECISION_FILTERS as readonly string[]).includes(decision)) {
      throw new UsageError(`--decision must be one of ${DECISION_FILTERS.join(", ")}`);
    }
    filter.decision = decision as DecisionFilter["decision"];
  }
  if (trigger !== undefined) {
    const triggerId = TRIGGER_ALIASES[trigger];
    if (triggerId === undefined) {
      throw new UsageError(`--trigger must be one of ${Object.keys(TRIGGER_ALIASES).join(", ")}`);
    }
    filter.triggerId = triggerId;
  }
  const since = isoOption(args, "since");
  const until = isoOption(args, "until");
  if (since !== undefined) filter.since = since;
  if (until !== undefined) filter.until = until;
  if (since !== undefined && until !== undefined && since > until)
    throw new UsageError("--since is after --until");
  const limit = integerOption(args, "limit", 1, MAX_LIST_LIMIT);
  if (limit !== undefined) filter.limit = limit;
  return filter;
}

function callOptions(io: CliIo) {
  return io.signal === undefined ? {} : { signal: io.signal };
}

export function decisionsCommand(open: OpenSource = openSource) {
  const list: Subcommand = {
    usage:
      "list [--access-request ID] [--person ID] [--rule ID] [--decision D] [--trigger ID] [--since ISO] [--until ISO] [--limit N] [--records PATH | --stack NAME] [--json]",
    summary: "list decision records, newest first",
    details: [
      "  --access-request ID the access request's records",
      "  --person ID         records of requests for this identity id",
      "  --rule ID           records decided by this rule id (default, fallback included)",
      `  --decision D        ${DECISION_FILTERS.join(" | ")}`,
      "  --trigger ID        preApproval | dynamicApprover | postApproval | a trigger id",
      "  --since, --until    ISO 8601 date or date-time bounds on when the decision was made (inclusive)",
      "  --limit N           at most N records (default 100)",
      ...SOURCE_HELP,
      "Columns: time decided, trigger, delivery mode, person, items, decision, rule, fallback, completion.",
    ],
    options: {
      ...SOURCE_OPTIONS,
      "access-request": { type: "string" },
      person: { type: "string" },
      rule: { type: "string" },
      decision: { type: "string" },
      trigger: { type: "string" },
      since: { type: "string" },
      until: { type: "string" },
      limit: { type: "string" },
    },
    async run(args, { io }) {
      const filter = filterFromArgs(args);
      const source = await open(args, io);
      const records = await source.records.list(filter, callOptions(io));
      if (args.values.json === true) {
        printJson(io, records);
        return 0;
      }
      if (records.length === 0) {
        io.stdout(`no decision records in ${source.name} match`);
        return 0;
      }
      const { formatRecordList } = await import("../../audit/format.ts");
      io.stdout(formatRecordList(records));
      io.stdout("");
      io.stdout(
        `${records.length} record(s) from ${source.name}; isc-responder decisions show <invocationId> explains one`,
      );
      return 0;
    },
  };

  const show: Subcommand = {
    usage: "show <invocationId|accessRequestId> [--records PATH | --stack NAME] [--json]",
    summary: "explain one decision: input, rule, matched conditions, context used, timings, completion",
    details: [
      "An access request id shows every invocation of that request (both triggers, redeliveries).",
      ...SOURCE_HELP,
      "Exit 1 when no record has that id.",
    ],
    options: SOURCE_OPTIONS,
    positionals: 1,
    async run(args, { io }) {
      const id = args.positionals[0] as string;
      const source = await open(args, io);
      const records = await source.records.find(id, callOptions(io));
      if (records.length === 0) {
        io.stderr(`error: no decision record for "${id.slice(0, 200)}" in ${source.name}`);
        return 1;
      }
      if (args.values.json === true) {
        printJson(io, records);
        return 0;
      }
      const { formatRecord } = await import("../../audit/format.ts");
      io.stdout(records.map(formatRecord).join("\n\n"));
      return 0;
    },
  };

  return commandGroup("decisions", "list and explain the responder's decision records (audit trail)", {
    list,
    show,
  });
}

export default decisionsCommand();
