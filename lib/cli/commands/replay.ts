/**
 * `isc-responder rules replay`: re-decide recorded invocations (a local records file or a deployed
 * stack's table) with a candidate rules file, and report what would change; or, before any record
 * exists, decide the tenant's own access-request history (`--from-tenant`). Registered as a
 * subcommand of `rules` (rules.ts). Record stores are imported only when used (no AWS SDK for a file).
 */
import { access } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_RECORDS_PATH } from "../../adapters/local/file-decision-records.ts";
import { decideTenantHistory, readTenantHistory } from "../../audit/from-tenant.ts";
import { buildTenantReport, formatTenantReport } from "../../audit/from-tenant-report.ts";
import { replayRecords } from "../../audit/replay.ts";
import { buildReplayReport, formatReplayReport } from "../../audit/replay-report.ts";
import type { DecisionFilter, DecisionRecordSource } from "../../audit/types.ts";
import { contextReaderForClient } from "../../context/for-client.ts";
import { IscClient } from "../../isc/client.ts";
import { RulesDocumentError } from "../../rules/errors.ts";
import { type LoadedRules, loadRulesFile } from "../../rules/load-file.ts";
import { TRIGGER_ALIASES } from "../../rules/validate.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL, type RequestResponseTriggerId } from "../../triggers/trigger-ids.ts";
import { type CliIo, printJson, UsageError } from "../io.ts";

export const REPLAY_HELP = [
  "usage: isc-responder rules replay CANDIDATE.(yaml|json) [--records PATH | --stack NAME [--region R] | --from-tenant]",
  "         [--since ISO] [--until ISO] [--trigger ID] [--limit N] [--json] [--fail-on-change] [--live]",
  "",
  "Re-decides recorded invocations with the candidate rules over the context each record kept (no",
  "tenant call) and reports how many decisions would change, from what to what, by which rules,",
  "with examples. A record lacking context the candidate needs is undecidable, unless --live.",
  `  --records PATH    a local records file (default ${DEFAULT_RECORDS_PATH}, what dev and serve write)`,
  "  --stack NAME      a deployed stack's decision records (AWS credentials as usual; --region R)",
  "  --from-tenant     no records yet: decide the tenant's access-request history (SAIL_*) over live",
  "                    context; reports the distribution (there is no old decision to compare)",
  "  --since, --until  ISO 8601 date or date-time bounds on when the decision was made",
  "  --trigger         preApproval | dynamicApprover | postApproval | a trigger id",
  "  --limit N         at most N records or access requests, newest first (default 10000)",
  "  --json            print the report as JSON",
  "  --fail-on-change  exit 1 when any decision would change (a CI gate for a policy change)",
  "  --live            read context the record lacks from the tenant in SAIL_BASE_URL, SAIL_CLIENT_ID,",
  "                    SAIL_CLIENT_SECRET (every source of that record, read now)",
  "Exit 0; 1 with --fail-on-change when a decision changes; 2 on bad usage or an invalid candidate.",
  "docs/replay.md has the details.",
].join("\n");

export const DEFAULT_REPLAY_LIMIT = 10_000;
const MAX_REPLAY_LIMIT = 1_000_000;

/** How the command opens a record store (injectable for tests). */
export interface ReplayDeps {
  openRecords?: (
    where: { kind: "records"; path: string } | { kind: "stack"; stackName: string; region?: string },
  ) => Promise<DecisionRecordSource>;
  /** The tenant client (live reads, --from-tenant); default IscClient.fromEnv. */
  client?: (io: CliIo) => IscClient;
}

const OPTIONS = {
  records: { type: "string" },
  stack: { type: "string" },
  region: { type: "string" },
  since: { type: "string" },
  until: { type: "string" },
  trigger: { type: "string" },
  limit: { type: "string" },
  json: { type: "boolean" },
  "fail-on-change": { type: "boolean" },
  live: { type: "boolean" },
  "from-tenant": { type: "boolean" },
} as const;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** An ISO 8601 date or date-time, in epoch ms; anything else is a usage error. */
export function parseIsoOption(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = ISO_DATE.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new UsageError(
      `--${option} must be an ISO 8601 date or date-time (2025-03-01 or 2025-03-01T00:00:00Z)`,
    );
  }
  return ms;
}

function parseReplayArgs(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`rules replay: ${(error as Error).message}`);
  }
}

export async function replay(argv: string[], io: CliIo, deps: ReplayDeps = {}): Promise<number> {
  const parsed = parseReplayArgs(argv);
  const values = parsed.values;
  const [file, ...extra] = parsed.positionals;
  if (file === undefined) throw new UsageError("rules replay: missing CANDIDATE file");
  if (extra.length > 0) throw new UsageError(`rules replay: unexpected argument "${extra[0]}"`);
  const sources = [values.records, values.stack, values["from-tenant"] ? "tenant" : undefined].filter(
    (value) => value !== undefined,
  );
  if (sources.length > 1) {
    throw new UsageError("rules replay: give one of --records PATH, --stack NAME, --from-tenant");
  }
  // Without any: the file `dev` and `serve` write by default.
  const recordsPath = values.records ?? (sources.length === 0 ? DEFAULT_RECORDS_PATH : undefined);
  if (values.region !== undefined && values.stack === undefined) {
    throw new UsageError("rules replay: --region goes with --stack");
  }
  if (values["from-tenant"] && values["fail-on-change"]) {
    throw new UsageError(
      "rules replay: --fail-on-change needs recorded decisions to compare (not --from-tenant)",
    );
  }
  const since = parseIsoOption(values.since, "since");
  const until = parseIsoOption(values.until, "until");
  if (since !== undefined && until !== undefined && since > until) {
    throw new UsageError("rules replay: --since is after --until");
  }
  let triggerId: string | undefined;
  if (values.trigger !== undefined) {
    triggerId = TRIGGER_ALIASES[values.trigger];
    if (triggerId === undefined) {
      throw new UsageError(
        `rules replay: --trigger must be one of ${Object.keys(TRIGGER_ALIASES).join(", ")}`,
      );
    }
  }
  const limit = values.limit === undefined ? DEFAULT_REPLAY_LIMIT : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_REPLAY_LIMIT) {
    throw new UsageError(`rules replay: --limit must be an integer from 1 to ${MAX_REPLAY_LIMIT}`);
  }

  const loaded = await loadCandidate(io, file);
  if (loaded === undefined) return 2;
  const candidate = { file, version: loaded.compiled.version };
  const signalOption = io.signal === undefined ? {} : { signal: io.signal };
  const client = (): IscClient => (deps.client ?? ((cliIo) => IscClient.fromEnv(cliIo.env)))(io);
  const filterShown = {
    ...(values.since === undefined ? {} : { since: new Date(since as number).toISOString() }),
    ...(values.until === undefined ? {} : { until: new Date(until as number).toISOString() }),
  };

  if (values["from-tenant"]) {
    const triggers = tenantTriggers(loaded, triggerId);
    const tenant = client();
    const history = await readTenantHistory(tenant.context, {
      ...(since === undefined ? {} : { since }),
      ...(until === undefined ? {} : { until }),
      limit,
      ...signalOption,
    });
    const decisions = await decideTenantHistory(history.requests, loaded.compiled, {
      triggers,
      reader: contextReaderForClient(tenant),
      ...signalOption,
    });
    const report = buildTenantReport(history, decisions, {
      candidate,
      tenant: tenant.baseUrl,
      filter: { ...filterShown, limit },
    });
    if (values.json) printJson(io, report);
    else io.stdout(formatTenantReport(report));
    return 0;
  }

  const where =
    recordsPath !== undefined
      ? ({ kind: "records", path: resolve(io.cwd, recordsPath) } as const)
      : ({
          kind: "stack",
          stackName: values.stack as string,
          ...(values.region === undefined ? {} : { region: values.region }),
        } as const);
  if (where.kind === "records") {
    try {
      await access(where.path);
    } catch {
      const hint =
        values.records === undefined
          ? " (the default, written by dev and serve; give --records PATH, --stack NAME or --from-tenant)"
          : "";
      throw new UsageError(`rules replay: cannot read the records file ${recordsPath}${hint}`);
    }
  }
  const store = await (deps.openRecords ?? openRecords)(where);
  const filter: DecisionFilter = {
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
    ...(triggerId === undefined ? {} : { triggerId }),
    limit,
  };
  const records = await store.list(filter, signalOption);
  const outcomes = await replayRecords(records, loaded.compiled, {
    ...(values.live ? { reader: contextReaderForClient(client()) } : {}),
    ...signalOption,
  });
  const report = buildReplayReport(outcomes, {
    candidate,
    records: where.kind === "records" ? `records ${recordsPath}` : `stack ${where.stackName}`,
    filter: { ...filterShown, ...(triggerId === undefined ? {} : { triggerId }), limit },
    live: values.live === true,
  });
  if (values.json) printJson(io, report);
  else io.stdout(formatReplayReport(report));
  return values["fail-on-change"] && report.changed > 0 ? 1 : 0;
}

/** The candidate, compiled; `rules check` problems printed as file:line: path: message. */
async function loadCandidate(io: CliIo, file: string): Promise<LoadedRules | undefined> {
  try {
    return await loadRulesFile(resolve(io.cwd, file));
  } catch (error) {
    if (!(error instanceof RulesDocumentError)) throw error;
    const shown = new RulesDocumentError(file, error.issues);
    io.stderr(shown.formatIssues().join("\n"));
    io.stderr(`${file}: ${error.issues.length} problem${error.issues.length === 1 ? "" : "s"}: not replayed`);
    return undefined;
  }
}

/** The request-response triggers the candidate has a section for (and --trigger allows). */
function tenantTriggers(loaded: LoadedRules, triggerId: string | undefined): RequestResponseTriggerId[] {
  const triggers: RequestResponseTriggerId[] = [];
  if (loaded.document.preApproval !== undefined) triggers.push(PRE_APPROVAL);
  if (loaded.document.dynamicApprover !== undefined) triggers.push(DYNAMIC_APPROVER);
  const chosen = triggerId === undefined ? triggers : triggers.filter((id) => id === triggerId);
  if (chosen.length === 0) {
    throw new UsageError(
      triggerId === undefined
        ? "rules replay --from-tenant: the candidate has no preApproval or dynamicApprover section"
        : `rules replay --from-tenant: the candidate has no section for ${triggerId} (pre-approval and dynamic approver only)`,
    );
  }
  return chosen;
}

async function openRecords(
  where: { kind: "records"; path: string } | { kind: "stack"; stackName: string; region?: string },
): Promise<DecisionRecordSource> {
  if (where.kind === "records") {
    const module = await import("../../adapters/local/file-decision-records.ts");
    return new module.FileDecisionRecords(where.path);
  }
  const module = await import("../../adapters/aws/stack-decision-records.ts");
  return module.openStackDecisionRecords(
    where.stackName,
    where.region === undefined ? {} : { region: where.region },
  );
}
