/**
 * Sample invocations the dev runner fires through every delivery mode, and the check of each one
 * against the sandbox's state: completed once, with the output the rules give for its input.
 */
import { isDeepStrictEqual } from "node:util";
import { type Directory, defaultDirectory } from "../context/directory.ts";
import { DirectoryFetcher } from "../context/directory-fetcher.ts";
import { CachedContextReader } from "../context/reader.ts";
import { decideFromPayload, decideWithReadContext } from "../responder/context-decide.ts";
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

const CARLA = { type: "IDENTITY", id: "2c9180857a0f1e2d017a0f1e2d3c0101", name: "Carla Contractor" };
const PROD_DB_ADMIN = {
  id: "2c9180887a1b2c3d017a1b2c3d4e0002",
  name: "Production Database Admin",
  type: "ROLE",
  operation: "Add",
};

/** Inputs that take different paths through rules/example.yaml (any rules file works: outputs are computed). */
export function defaultSamples(): Record<RequestResponseTriggerId, Sample[]> {
  return {
    [PRE_APPROVAL]: [
      {
        name: "employee asks for Engineering Access",
        triggerId: PRE_APPROVAL,
        input: exampleAccessRequestInput({ itemDetails: true }),
      },
      {
        name: "contractor asks for a privileged role without a comment",
        triggerId: PRE_APPROVAL,
        input: {
          accessRequestId: "2c91808b7a0f1e2d017a0f1e2d3c9001",
          requestedFor: CARLA,
          requestedItems: [PROD_DB_ADMIN],
          requestedBy: CARLA,
        },
      },
    ],
    [DYNAMIC_APPROVER]: [
      {
        name: "item with an owner",
        triggerId: DYNAMIC_APPROVER,
        input: {
          ...exampleAccessRequestInput({ itemDetails: true }),
          accessRequestId: "4b4d982dddff4267ab12f0f1e72b5a6d",
        },
      },
      {
        name: "privileged role",
        triggerId: DYNAMIC_APPROVER,
        input: {
          accessRequestId: "2c91808b7a0f1e2d017a0f1e2d3c9002",
          requestedFor: CARLA,
          requestedItems: [{ ...PROD_DB_ADMIN, comment: "on call (CHG-1234)" }],
          requestedBy: CARLA,
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
): Promise<Expected> {
  const invocation = invocationFromAnyPayload(
    sample.input,
    { tenantBaseUrl, responseDeadlineMs: () => 3_600_000 },
    sample.triggerId,
  );
  const first = decideFromPayload(invocation, rules);
  const result =
    "contextRequired" in first
      ? await decideWithReadContext(invocation, rules, first.contextRequired, {
          reader: new CachedContextReader(new DirectoryFetcher(directory)),
          deadline: Date.now() + 10_000,
        })
      : first;
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
  /** created → completed at the sandbox, ms. */
  latencyMs: number | undefined;
  /** Why it does not count as completed correctly. */
  problem?: string;
}

export function describeOutput(triggerId: string, output: unknown): string {
  if (output === null || output === undefined) return "-";
  const o = output as Record<string, unknown>;
  if (triggerId === PRE_APPROVAL)
    return o.approved === true ? "approve" : o.approved === false ? "deny" : "?";
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
    latencyMs: invocation.completed === undefined ? undefined : invocation.completed - invocation.created,
    ...(problem === undefined ? {} : { problem }),
  };
}

/** A plain-text table with aligned columns. */
export function formatTable(results: readonly SampleResult[]): string {
  const header = ["trigger", "mode", "decision", "rule", "completed", "latency"];
  const rows = results.map((r) => [
    r.trigger,
    r.mode,
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
