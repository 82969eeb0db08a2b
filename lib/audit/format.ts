/**
 * Decision records for people: a table of many (`decisions list`) and the explanation of one
 * (`decisions show`). Plain text, no colours; tools use `--json` instead.
 */
import type { DecisionRecord } from "./record.ts";

const SHORT_TRIGGER: Record<string, string> = {
  "idn:access-request-pre-approval": "pre-approval",
  "idn:access-request-dynamic-approver": "dynamic-approver",
  "idn:access-request-post-approval": "post-approval",
};

export function shortTrigger(triggerId: string): string {
  return SHORT_TRIGGER[triggerId] ?? triggerId;
}

/** `2026-03-03 10:15:02Z` */
function shortTime(isoTime: string): string {
  return isoTime.replace("T", " ").replace(/\.\d+Z$/, "Z");
}

function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length <= max ? flat : `${flat.slice(0, max - 3)}...`;
}

function named(p: { id: string; name?: string | undefined }): string {
  return p.name === undefined || p.name === "" ? p.id : p.name;
}

function more<T>(list: T[], show: (value: T) => string): string {
  if (list.length === 0) return "";
  const first = list[0] as T;
  return list.length === 1 ? show(first) : `${show(first)} +${list.length - 1}`;
}

/** The decision, as the table shows it: the label, the approver named, and what ISC got in shadow mode. */
export function decisionSummary(record: DecisionRecord): string {
  const { decision, answer } = record;
  let text: string = decision.label;
  const output = decision.output as { name?: unknown; type?: unknown } | null;
  if (decision.label === "approver" && typeof output?.name === "string") text = `approver ${output.name}`;
  if (answer.by === "shadow") text += ` (shadow; ISC got ${answer.label})`;
  return text;
}

export const LIST_COLUMNS = [
  "time",
  "trigger",
  "mode",
  "person",
  "items",
  "decision",
  "rule",
  "fallback",
  "outcome",
] as const;

export function listRow(record: DecisionRecord): string[] {
  return [
    shortTime(record.timings.decidedAt),
    shortTrigger(record.triggerId),
    record.mode,
    truncate(more(record.people, named), 30),
    truncate(
      more(record.items, (item) => `${item.operation === "Remove" ? "-" : ""}${named(item)}`),
      36,
    ),
    truncate(decisionSummary(record), 48),
    truncate(record.decision.ruleId, 40),
    record.decision.fallback ? "yes" : "",
    record.completion.outcome,
  ];
}

export function formatTable(header: readonly string[], rows: string[][]): string {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export function formatRecordList(records: DecisionRecord[]): string {
  return formatTable(LIST_COLUMNS, records.map(listRow));
}

function json(value: unknown): string {
  return JSON.stringify(value);
}

/** Everything a reviewer asks about one decision, in reading order. */
export function formatRecord(record: DecisionRecord): string {
  const out: string[] = [];
  const field = (name: string, value: string) => out.push(`${name.padEnd(16)}${value}`);
  const sub = (value: string) => out.push(`${" ".repeat(16)}${value}`);
  const { decision, answer, timings, completion } = record;

  field("invocation", `${record.invocationId} (${shortTrigger(record.triggerId)}, ${record.mode})`);
  if (record.accessRequestId !== undefined) field("access request", record.accessRequestId);
  if (record.requestedBy !== undefined)
    field("requested by", `${named(record.requestedBy)} (${record.requestedBy.id})`);
  if (record.people.length > 0) field("for", record.people.map((p) => `${named(p)} (${p.id})`).join(", "));
  record.items.forEach((item, i) => {
    const comment =
      item.comment === undefined || item.comment === null || item.comment === ""
        ? ""
        : `, comment ${json(item.comment)}`;
    const text = `${item.operation ?? "?"} ${item.type ?? ""} ${named(item)} (${item.id})${comment}`;
    if (i === 0) field("items", text);
    else sub(text);
  });

  field(
    "decision",
    `${decisionSummary(record)} by ${decision.kind} ${decision.ruleId}, rules ${decision.rulesVersion.slice(0, 23)}`,
  );
  if (decision.output !== null) sub(`output ${json(decision.output)}`);
  if (decision.fallback) field("fallback", decision.fallbackReason ?? "(no reason recorded)");
  decision.matched.forEach((condition, i) => {
    if (i === 0) field("matched", condition);
    else sub(condition);
  });
  for (const [i, n] of (decision.notEnforced ?? []).entries()) {
    const text =
      n.error !== undefined
        ? `${n.ruleId} (enforce: false) not evaluated: ${n.error}`
        : `${n.ruleId} (enforce: false) matched ${n.matched.join("; ") || "(no condition)"}`;
    if (i === 0) field("not enforced", text);
    else sub(text);
  }
  if (answer.by === "shadow") {
    field(
      "sent to ISC",
      `${answer.label} (shadow mode${answer.differs === true ? "; differs from the rules" : ""}) ${json(answer.output)}`,
    );
  }
  for (const [i, use] of (decision.contextUsed ?? []).entries()) {
    const origin =
      use.from === undefined ? "" : ` from ${use.from}${use.ms === undefined ? "" : ` (${use.ms} ms)`}`;
    const text = `${use.source} ${use.id}${origin}: ${json(use.fields)}`;
    if (i === 0) field("context used", text);
    else sub(text);
  }
  const context = record.context;
  if (context !== undefined) {
    field(
      "context read",
      `${context.needs.join(", ") || "nothing"}: ${context.reads.length} API reads, ${context.cacheHits} from cache, ${context.ms} ms`,
    );
    for (const read of context.reads) sub(describeRead(read));
    if (context.failure !== undefined) sub(`failed: ${json(context.failure)}`);
    if (context.ignoredFailure !== undefined)
      sub(`failed (only enforce: false rules needed it): ${json(context.ignoredFailure)}`);
    if (context.dataOmitted !== undefined) sub(`data not kept: ${context.dataOmitted}`);
    else if (context.data !== undefined)
      sub(`data kept for replay: ${Object.keys(context.data).join(", ") || "none"}`);
  }
  for (const action of decision.actions ?? []) {
    field("action", json(action));
  }

  field("received", shortTime(timings.receivedAt));
  sub(`decided ${shortTime(timings.decidedAt)} (${timings.decisionMs} ms after receipt)`);
  if (timings.deadline !== undefined) sub(`deadline ${shortTime(timings.deadline)}`);
  if (timings.completedAt !== undefined) sub(`completed ${shortTime(timings.completedAt)}`);
  const details = [
    completion.reason,
    completion.attempts === undefined ? undefined : `${completion.attempts} completion attempt(s)`,
    completion.ledgerBypassed === true ? "ledger bypassed near the deadline" : undefined,
    completion.actions === undefined ? undefined : `actions ${completion.actions.join(", ")}`,
  ].filter((part) => part !== undefined);
  field("completion", `${completion.outcome}${details.length > 0 ? `: ${details.join("; ")}` : ""}`);
  for (const [i, step] of (record.timeline ?? []).entries()) {
    const text = `${step.at.slice(11, 23)}  ${step.event}${step.detail === undefined ? "" : `  ${step.detail}`}`;
    if (i === 0) field("timeline", text);
    else sub(text);
  }
  field(
    "recorded by",
    `${record.recordedBy}; kept until ${new Date(record.expiresAt * 1000).toISOString().slice(0, 10)}`,
  );
  return out.join("\n");
}

function describeRead(read: Record<string, unknown>): string {
  const status = read.status === undefined ? "" : `, HTTP ${String(read.status)}`;
  return `${String(read.kind)}: ${String(read.ids)} ids from ${String(read.from)} in ${String(read.ms)} ms${status}`;
}
