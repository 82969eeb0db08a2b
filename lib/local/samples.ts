/**
 * Sample invocations the dev runner fires through every delivery mode, and the check of each one
 * against the sandbox's state: completed once, with the output the rules give for its input.
 */

import { isDeepStrictEqual } from "node:util";
import { DEFAULT_DIRECTORY_IDS, type Directory, defaultDirectory } from "../context/directory.ts";
import { DirectoryFetcher } from "../context/directory-fetcher.ts";
import { CachedContextReader } from "../context/reader.ts";
import { decideFromPayload, decideWithReadContext } from "../responder/context-decide.ts";
import { applyShadow, type ShadowSettings } from "../responder/shadow.ts";
import type { CompiledRules } from "../rules/types.ts";
import type { SandboxInvocation } from "../sandbox/index.ts";
import { exampleAccessRequestInput } from "../triggers/examples.ts";
import { invocationFromAnyPayload } from "../triggers/invocation.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL, type RequestResponseTriggerId } from "../triggers/trigger-ids.ts";

export type SampleMode = "sync" | "async" | "dynamic" | "eventbridge";
export const SAMPLE_MODES: readonly SampleMode[] = ["sync", "async", "dynamic", "eventbridge"];

export interface Sample {
  name: string;
  triggerId: RequestResponseTriggerId;
  input: Record<string, unknown>;
}

const ID = DEFAULT_DIRECTORY_IDS;
const person = (id: string, name: string) => ({ type: "IDENTITY", id, name });
const ROB = person(ID.rob, "Rob Robertson");
const ADAM = person(ID.adam, "Adam Admin");

function item(id: string, name: string, type: "ROLE" | "ACCESS_PROFILE" | "ENTITLEMENT", comment?: string) {
  return { id, name, type, operation: "Add", ...(comment === undefined ? {} : { comment }) };
}

/**
 * Inputs over the sandbox's default directory that take different paths through rules/example.yaml,
 * most of them decided by live context (any rules file works: expected outputs are computed).
 */
export function defaultSamples(): Record<RequestResponseTriggerId, Sample[]> {
  return {
    [PRE_APPROVAL]: [
      {
        name: "an employee, ordinary access",
        triggerId: PRE_APPROVAL,
        input: exampleAccessRequestInput({ itemDetails: true }),
      },
      {
        name: "a terminated person",
        triggerId: PRE_APPROVAL,
        input: {
          accessRequestId: "2c91808b7a0f1e2d017a0f1e2d3c9001",
          requestedFor: person(ID.terry, "Terry Terminated"),
          requestedItems: [item(ID.softwareEngineer, "Software Engineer", "ROLE", "Back from leave")],
          requestedBy: ROB,
        },
      },
      {
        name: "an SoD conflict",
        triggerId: PRE_APPROVAL,
        input: {
          accessRequestId: "2c91808b7a0f1e2d017a0f1e2d3c9003",
          requestedFor: person(ID.paula, "Paula Payables"),
          requestedItems: [
            item(ID.paymentApproval, "AP Payment Approval", "ACCESS_PROFILE", "Covering for Fiona in May"),
          ],
          requestedBy: person(ID.paula, "Paula Payables"),
        },
      },
      {
        name: "a privileged role with a short justification",
        triggerId: PRE_APPROVAL,
        input: {
          accessRequestId: "2c91808b7a0f1e2d017a0f1e2d3c9004",
          requestedFor: person(ID.ed, "Ed Engineer"),
          requestedItems: [item(ID.productionDatabaseAdmin, "Production Database Admin", "ROLE", "need it")],
          requestedBy: ADAM,
        },
      },
    ],
    [DYNAMIC_APPROVER]: [
      {
        name: "ordinary access",
        triggerId: DYNAMIC_APPROVER,
        input: {
          accessRequestId: "2c91808b7a0f1e2d017a0f1e2d3c9011",
          requestedFor: person(ID.ed, "Ed Engineer"),
          requestedItems: [item(ID.engineeringAccess, "Engineering Access", "ACCESS_PROFILE")],
          requestedBy: ADAM,
        },
      },
      {
        name: "the requester is the manager",
        triggerId: DYNAMIC_APPROVER,
        input: {
          accessRequestId: "2c91808b7a0f1e2d017a0f1e2d3c9012",
          requestedFor: person(ID.william, "William Wilson"),
          requestedItems: [item(ID.wikiReader, "Wiki Reader", "ENTITLEMENT")],
          requestedBy: ROB,
        },
      },
      {
        name: "a privileged item",
        triggerId: DYNAMIC_APPROVER,
        input: {
          accessRequestId: "2c91808b7a0f1e2d017a0f1e2d3c9013",
          requestedFor: person(ID.ed, "Ed Engineer"),
          requestedItems: [
            item(
              ID.productionDbSuperuser,
              "Production DB Superuser",
              "ACCESS_PROFILE",
              "Incident INC-2231 on call",
            ),
          ],
          requestedBy: ADAM,
        },
      },
      {
        name: "a removal",
        triggerId: DYNAMIC_APPROVER,
        input: {
          accessRequestId: "2c91808b7a0f1e2d017a0f1e2d3c9014",
          requestedFor: person(ID.william, "William Wilson"),
          requestedItems: [
            { ...item(ID.ledgerAccess, "Ledger Access", "ACCESS_PROFILE"), operation: "Remove" },
          ],
          requestedBy: ROB,
        },
      },
    ],
  };
}

export interface Expected {
  output: Record<string, unknown>;
  ruleId: string;
  fallback: boolean;
}

/**
 * What the rules answer for this input (as a sync invocation: the decision does not depend on the
 * mode), with context read straight from the directory the sandbox serves, not over HTTP.
 */
export async function expectedDecision(
  rules: CompiledRules,
  sample: Sample,
  tenantBaseUrl: string,
  directory: Directory = defaultDirectory(),
  shadow?: ShadowSettings,
): Promise<Expected> {
  const invocation = invocationFromAnyPayload(
    sample.input,
    { tenantBaseUrl, responseDeadlineMs: () => 3_600_000 },
    sample.triggerId,
  );
  const first = decideFromPayload(invocation, rules);
  const decided =
    "contextRequired" in first
      ? await decideWithReadContext(invocation, rules, first.contextRequired, {
          reader: new CachedContextReader(new DirectoryFetcher(directory)),
          deadline: Date.now() + 10_000,
        })
      : first;
  // In shadow mode ISC gets the trigger's shadow answer, whatever the rules decided.
  const result = applyShadow(invocation, decided, shadow);
  return {
    output: result.decision.output as Record<string, unknown>,
    ruleId: result.decision.explanation.ruleId,
    fallback: result.fallback,
  };
}

export interface SampleResult {
  trigger: string;
  mode: SampleMode;
  sample: string;
  invocationId: string;
  /** approve/deny + comment start, or the approver's name. */
  decision: string;
  ruleId: string;
  completed: boolean;
  /** The rules could not decide: the trigger's fallback answered. */
  fallback: boolean;
  /** created → completed at the sandbox, ms. */
  latencyMs: number | undefined;
  /** Why it does not count as completed correctly. */
  problem?: string;
}

export function describeOutput(triggerId: string, output: unknown): string {
  if (output === null || output === undefined) return "-";
  const o = output as Record<string, unknown>;
  if (triggerId === PRE_APPROVAL) {
    if (o.approved === true) return "approve";
    if (o.approved !== false) return "?";
    // The reason a person reads first (a policy name, "terminated"), kept to a table's width.
    const comment = typeof o.comment === "string" ? o.comment.replace(/\s+/g, " ").trim() : "";
    return comment === "" ? "deny" : `deny: ${comment.length > 66 ? `${comment.slice(0, 63)}...` : comment}`;
  }
  if (typeof o.id === "string" && o.id === "") return "no extra approver";
  if (Object.keys(o).length === 0) return "no extra approver";
  return `${String(o.name ?? o.id)} (${String(o.type ?? "?")})`;
}

/** Completed once, with the expected output; for sync/dynamic-200 the reply itself completes it (no callback). */
export function checkInvocation(
  invocation: SandboxInvocation,
  mode: SampleMode,
  sample: Sample,
  expected: Expected,
): SampleResult {
  const accepted = invocation.completions.filter((c) => c.result === "COMPLETED").length;
  let problem: string | undefined;
  if (invocation.status !== "COMPLETED") {
    problem = `status ${invocation.status}${invocation.error ? `: ${invocation.error}` : ""}`;
  } else if (!isDeepStrictEqual(invocation.output, expected.output)) {
    problem = "output differs from the rules' decision";
  } else if (accepted > 1) {
    problem = `completed ${accepted} times`;
  } else if ((mode === "async" || mode === "eventbridge") && accepted !== 1) {
    problem = "completed without a callback";
  }
  const short = sample.triggerId === PRE_APPROVAL ? "pre-approval" : "dynamic-approver";
  return {
    trigger: short,
    mode,
    sample: sample.name,
    invocationId: invocation.id,
    decision: describeOutput(sample.triggerId, invocation.output ?? expected.output),
    ruleId: expected.fallback ? `${expected.ruleId} (fallback)` : expected.ruleId,
    completed: problem === undefined,
    fallback: expected.fallback,
    latencyMs: invocation.completed === undefined ? undefined : invocation.completed - invocation.created,
    ...(problem === undefined ? {} : { problem }),
  };
}

/** A plain-text table with aligned columns. */
export function formatTable(results: readonly SampleResult[]): string {
  const header = ["trigger", "mode", "case", "decision", "rule", "completed", "latency"];
  const rows = results.map((r) => [
    r.trigger,
    r.mode,
    r.sample,
    r.decision,
    r.ruleId,
    r.completed ? "yes" : `NO: ${r.problem ?? "?"}`,
    r.latencyMs === undefined ? "-" : `${r.latencyMs} ms`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
