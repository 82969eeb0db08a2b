/**
 * What `rules replay` prints: counts by class, each transition (from → to, by old rule → new rule)
 * with up to five examples, the same answers reached by another rule, and why records could not be
 * re-decided. One JSON shape for tools (`--json`) and a text rendering of it for people.
 */
import type { ContextSource } from "../context/types.ts";
import type { RecordItem, RecordPerson } from "./record.ts";
import type { ContextBasis, ReplayedDecision, ReplayOutcome } from "./replay.ts";

export const EXAMPLES_PER_GROUP = 5;

/** One invocation shown as an example of its group. */
export interface ReplayExample {
  invocationId: string;
  accessRequestId?: string;
  /** The people the access was for, by name (id when unnamed). */
  people: string[];
  requestedBy?: string;
  /** `name (Add)` per item. */
  items: string[];
  /** When the recorded decision was made. */
  time: string;
  /** The recorded answer in one line (`deny: <comment>`, `Rob Robertson (IDENTITY)`). */
  from: string;
  /** The candidate's answer; absent when undecidable. */
  to?: string;
  fromComment?: string;
  toComment?: string;
  /** The recorded decision was a fallback. */
  recordedFallback?: true;
  /** The candidate decided over context read live now. */
  live?: true;
}

interface Group {
  count: number;
  examples: ReplayExample[];
}

export interface ReplayTransition extends Group {
  triggerId: string;
  from: string;
  to: string;
  fromRule: string;
  toRule: string;
}

export interface ReplayRuleShift extends Group {
  triggerId: string;
  label: string;
  fromRule: string;
  toRule: string;
}

export interface ReplayUndecidable extends Group {
  triggerId: string;
  reason: string;
  missing: ContextSource[];
}

export interface ReplayReport {
  candidate: { file: string; version: string };
  /** Where the records came from (`records FILE`, `stack NAME`). */
  records: string;
  filter: { since?: string; until?: string; triggerId?: string; limit: number };
  /** The limit was reached: older records in the window were not replayed. */
  limitReached: boolean;
  live: boolean;
  total: number;
  unchanged: number;
  changed: number;
  sameAnswerDifferentRule: number;
  undecidable: number;
  /** Records whose recorded decision was a fallback (compared all the same). */
  recordedFallbacks: number;
  /** How the candidate's decisions were made. */
  decidedOver: Record<ContextBasis, number>;
  transitions: ReplayTransition[];
  differentRule: ReplayRuleShift[];
  undecidableReasons: ReplayUndecidable[];
}

export interface ReplayReportMeta {
  candidate: { file: string; version: string };
  records: string;
  filter: ReplayReport["filter"];
  live: boolean;
}

/** Counts and groups outcomes; groups are ordered by count (largest first), then by name. */
export function buildReplayReport(outcomes: readonly ReplayOutcome[], meta: ReplayReportMeta): ReplayReport {
  const transitions = new Map<string, ReplayTransition>();
  const shifts = new Map<string, ReplayRuleShift>();
  const undecidable = new Map<string, ReplayUndecidable>();
  const decidedOver: Record<ContextBasis, number> = { payload: 0, recorded: 0, live: 0 };
  let unchanged = 0;
  let recordedFallbacks = 0;
  for (const outcome of outcomes) {
    if (outcome.recordedFallback) recordedFallbacks++;
    if (outcome.context !== undefined) decidedOver[outcome.context]++;
    const candidate = outcome.candidate;
    if (outcome.class === "unchanged") {
      unchanged++;
    } else if (outcome.class === "changed" && candidate !== undefined) {
      const from = labelWithFallback(outcome.recorded);
      const to = labelWithFallback(candidate);
      const key = [outcome.triggerId, from, to, outcome.recorded.ruleId, candidate.ruleId].join("\u0000");
      const group = transitions.get(key) ?? {
        triggerId: outcome.triggerId,
        from,
        to,
        fromRule: outcome.recorded.ruleId,
        toRule: candidate.ruleId,
        count: 0,
        examples: [],
      };
      transitions.set(key, add(group, outcome));
    } else if (outcome.class === "same-answer-different-rule" && candidate !== undefined) {
      const key = [outcome.triggerId, candidate.label, outcome.recorded.ruleId, candidate.ruleId].join(
        "\u0000",
      );
      const group = shifts.get(key) ?? {
        triggerId: outcome.triggerId,
        label: candidate.label,
        fromRule: outcome.recorded.ruleId,
        toRule: candidate.ruleId,
        count: 0,
        examples: [],
      };
      shifts.set(key, add(group, outcome));
    } else {
      const reason = outcome.reason ?? "unknown";
      const key = [outcome.triggerId, reason].join("\u0000");
      const group = undecidable.get(key) ?? {
        triggerId: outcome.triggerId,
        reason,
        missing: outcome.missing ?? [],
        count: 0,
        examples: [],
      };
      undecidable.set(key, add(group, outcome));
    }
  }
  const ordered = <T extends Group>(groups: Map<string, T>): T[] =>
    [...groups.entries()]
      .sort(([ka, a], [kb, b]) => b.count - a.count || (ka < kb ? -1 : 1))
      .map(([, g]) => g);
  const transitionList = ordered(transitions);
  const shiftList = ordered(shifts);
  const undecidableList = ordered(undecidable);
  return {
    ...meta,
    limitReached: outcomes.length >= meta.filter.limit,
    total: outcomes.length,
    unchanged,
    changed: sum(transitionList),
    sameAnswerDifferentRule: sum(shiftList),
    undecidable: sum(undecidableList),
    recordedFallbacks,
    decidedOver,
    transitions: transitionList,
    differentRule: shiftList,
    undecidableReasons: undecidableList,
  };
}

function sum(groups: readonly Group[]): number {
  return groups.reduce((total, group) => total + group.count, 0);
}

function add<T extends Group>(group: T, outcome: ReplayOutcome): T {
  group.count++;
  if (group.examples.length < EXAMPLES_PER_GROUP) group.examples.push(exampleOf(outcome));
  return group;
}

function labelWithFallback(decision: ReplayedDecision): string {
  return decision.fallback ? `${decision.label} (fallback)` : decision.label;
}

export function personName(person: RecordPerson | { id: string; name?: string | undefined }): string {
  return person.name === undefined || person.name === "" ? person.id : person.name;
}

export function itemLine(item: RecordItem): string {
  const name = personName(item);
  return item.operation === undefined ? name : `${name} (${item.operation})`;
}

function exampleOf(outcome: ReplayOutcome): ReplayExample {
  const example: ReplayExample = {
    invocationId: outcome.invocationId,
    ...(outcome.accessRequestId === undefined ? {} : { accessRequestId: outcome.accessRequestId }),
    people: outcome.people.map(personName),
    ...(outcome.requestedBy === undefined ? {} : { requestedBy: personName(outcome.requestedBy) }),
    items: outcome.items.map(itemLine),
    time: outcome.decidedAt,
    from: answerLine(outcome.recorded),
  };
  const fromComment = commentOf(outcome.recorded);
  if (fromComment !== undefined) example.fromComment = fromComment;
  if (outcome.candidate !== undefined) {
    example.to = answerLine(outcome.candidate);
    const toComment = commentOf(outcome.candidate);
    if (toComment !== undefined) example.toComment = toComment;
  }
  if (outcome.recordedFallback) example.recordedFallback = true;
  if (outcome.context === "live") example.live = true;
  return example;
}

function commentOf(decision: { output: Record<string, unknown> | null }): string | undefined {
  const comment = decision.output?.comment;
  return typeof comment === "string" ? comment : undefined;
}

/** One line: `deny`, `Rob Robertson (IDENTITY)`, `no extra approver`, `actions: request-role-insights`. */
export function answerLine(decision: Pick<ReplayedDecision, "label" | "output" | "actions">): string {
  const output = decision.output;
  if (decision.label === "approver") {
    return `${String(output?.name ?? "") || String(output?.id)} (${String(output?.type ?? "")})`;
  }
  if (decision.label === "no-approver") return "no extra approver";
  if (decision.label === "actions") {
    return decision.actions === undefined || decision.actions.length === 0
      ? "no actions"
      : `actions: ${decision.actions.join(", ")}`;
  }
  return decision.label;
}

const SHORT = 100;

function short(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > SHORT ? `${flat.slice(0, SHORT - 3)}...` : flat;
}

function exampleLines(example: ReplayExample): string[] {
  const who = example.people.join(", ") || "?";
  const by = example.requestedBy === undefined ? "" : ` by ${example.requestedBy}`;
  const lines = [
    `    - ${example.time}  request ${example.accessRequestId ?? "?"}  invocation ${example.invocationId}`,
    `      for ${who}${by}: ${example.items.join(", ")}`,
  ];
  const flags = [
    example.recordedFallback ? "recorded decision was a fallback" : "",
    example.live ? "decided over live context" : "",
  ]
    .filter((flag) => flag !== "")
    .join("; ");
  if (example.to !== undefined && example.from !== example.to)
    lines.push(`      ${example.from} -> ${example.to}`);
  if (example.fromComment !== undefined) lines.push(`      was: ${short(example.fromComment)}`);
  if (example.toComment !== undefined && example.toComment !== example.fromComment) {
    lines.push(`      now: ${short(example.toComment)}`);
  }
  if (flags !== "") lines.push(`      (${flags})`);
  return lines;
}

function pct(part: number, total: number): string {
  return total === 0 ? "0%" : `${((100 * part) / total).toFixed(part === total || part === 0 ? 0 : 1)}%`;
}

const SHORT_TRIGGER: Record<string, string> = {
  "idn:access-request-pre-approval": "pre-approval",
  "idn:access-request-dynamic-approver": "dynamic-approver",
  "idn:access-request-post-approval": "post-approval",
};

export function triggerName(triggerId: string): string {
  return SHORT_TRIGGER[triggerId] ?? triggerId;
}

/** The text a person reads. */
export function formatReplayReport(report: ReplayReport): string {
  const window = [
    report.filter.since === undefined ? "" : `since ${report.filter.since}`,
    report.filter.until === undefined ? "" : `until ${report.filter.until}`,
    report.filter.triggerId === undefined ? "" : `trigger ${report.filter.triggerId}`,
  ]
    .filter((part) => part !== "")
    .join(", ");
  const t = report.total;
  const lines = [
    `replay of ${report.candidate.file} (version ${report.candidate.version.slice(0, 23)}) over ${t} recorded decision${t === 1 ? "" : "s"} from ${report.records}${window === "" ? "" : ` (${window})`}`,
  ];
  if (report.limitReached) {
    lines.push(
      `  the limit of ${report.filter.limit} was reached: older records were not replayed (--limit)`,
    );
  }
  lines.push(
    `  unchanged                   ${String(report.unchanged).padStart(6)}  ${pct(report.unchanged, t)}`,
    `  changed                     ${String(report.changed).padStart(6)}  ${pct(report.changed, t)}`,
    `  same answer, another rule   ${String(report.sameAnswerDifferentRule).padStart(6)}  ${pct(report.sameAnswerDifferentRule, t)}`,
    `  undecidable                 ${String(report.undecidable).padStart(6)}  ${pct(report.undecidable, t)}`,
  );
  if (report.recordedFallbacks > 0) {
    lines.push(
      `  ${report.recordedFallbacks} recorded decision(s) were fallbacks (compared all the same; flagged below)`,
    );
  }
  if (report.live) {
    lines.push(
      `  --live: ${report.decidedOver.live} decision(s) read every source from the tenant now (today's context, not the context then)`,
    );
  }
  if (report.transitions.length > 0) {
    lines.push("", "changed decisions:");
    for (const group of report.transitions) {
      lines.push(
        `  ${triggerName(group.triggerId)}: ${group.from} -> ${group.to}  (rule ${group.fromRule} -> ${group.toRule}): ${group.count}`,
      );
      for (const example of group.examples) lines.push(...exampleLines(example));
    }
  }
  if (report.differentRule.length > 0) {
    lines.push("", "same answer, decided by another rule:");
    for (const group of report.differentRule) {
      lines.push(
        `  ${triggerName(group.triggerId)}: ${group.label}  (rule ${group.fromRule} -> ${group.toRule}): ${group.count}`,
      );
      for (const example of group.examples) lines.push(...exampleLines(example));
    }
  }
  if (report.undecidableReasons.length > 0) {
    lines.push("", "undecidable:");
    for (const group of report.undecidableReasons) {
      lines.push(`  ${triggerName(group.triggerId)}: ${group.reason}: ${group.count}`);
      for (const example of group.examples) lines.push(...exampleLines(example));
    }
  }
  if (report.changed === 0 && t > 0) lines.push("", "no decision would change.");
  return lines.join("\n");
}
