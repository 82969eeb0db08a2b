/**
 * What `rules replay --from-tenant` prints: per trigger, how the candidate would decide the tenant's
 * access requests (by decision and by rule, with examples), the requests it could not decide, and
 * the ones no trigger input can be rebuilt for. There is no recorded decision to compare with: the
 * report says so.
 */
import type { TenantDecision, TenantHistory } from "./from-tenant.ts";
import { answerLine, EXAMPLES_PER_GROUP, itemLine, personName, triggerName } from "./replay-report.ts";

export const FROM_TENANT_NOTE =
  "no recorded decisions to compare: this is what the candidate decides for the tenant's access requests, over the context the tenant holds now";

export interface TenantExample {
  accessRequestId: string;
  created: string;
  people: string[];
  requestedBy: string;
  items: string[];
  answer?: string;
  comment?: string;
  fallbackReason?: string;
  failure?: string;
}

interface Group {
  count: number;
  examples: TenantExample[];
}

export interface TenantRuleGroup extends Group {
  label: string;
  ruleId: string;
  fallback: boolean;
}

export interface TenantTriggerReport {
  triggerId: string;
  decided: number;
  byDecision: Record<string, number>;
  byRule: TenantRuleGroup[];
  /** Not decided: a context read failed (the responder would have answered its fallback). */
  undecided: Array<Group & { reason: string }>;
}

export interface TenantReport {
  note: string;
  candidate: { file: string; version: string };
  tenant: string;
  filter: { since?: string; until?: string; limit: number };
  limitReached: boolean;
  accessRequests: number;
  entriesRead: number;
  pages: number;
  skipped: Array<Group & { reason: string }>;
  triggers: TenantTriggerReport[];
}

export interface TenantReportMeta {
  candidate: { file: string; version: string };
  tenant: string;
  filter: TenantReport["filter"];
}

export function buildTenantReport(
  history: TenantHistory,
  decisions: readonly TenantDecision[],
  meta: TenantReportMeta,
): TenantReport {
  const triggers = new Map<
    string,
    {
      report: TenantTriggerReport;
      rules: Map<string, TenantRuleGroup>;
      undecided: Map<string, Group & { reason: string }>;
    }
  >();
  for (const decision of decisions) {
    let entry = triggers.get(decision.triggerId);
    if (entry === undefined) {
      entry = {
        report: { triggerId: decision.triggerId, decided: 0, byDecision: {}, byRule: [], undecided: [] },
        rules: new Map(),
        undecided: new Map(),
      };
      triggers.set(decision.triggerId, entry);
    }
    const example = exampleOf(decision);
    if (decision.decision === undefined) {
      const reason = decision.failure ?? "not decided";
      const group = entry.undecided.get(reason) ?? { reason, count: 0, examples: [] };
      entry.undecided.set(reason, add(group, example));
      continue;
    }
    const d = decision.decision;
    const label = d.fallback ? `${d.label} (fallback)` : d.label;
    entry.report.decided++;
    entry.report.byDecision[label] = (entry.report.byDecision[label] ?? 0) + 1;
    const key = `${label}\u0000${d.ruleId}`;
    const group = entry.rules.get(key) ?? {
      label,
      ruleId: d.ruleId,
      fallback: d.fallback,
      count: 0,
      examples: [],
    };
    entry.rules.set(key, add(group, example));
  }
  const skipped = new Map<string, Group & { reason: string }>();
  for (const skip of history.skipped) {
    const group = skipped.get(skip.reason) ?? { reason: skip.reason, count: 0, examples: [] };
    group.count++;
    if (group.examples.length < EXAMPLES_PER_GROUP) {
      group.examples.push({
        accessRequestId: skip.accessRequestId,
        created: "",
        people: [],
        requestedBy: "",
        items: [],
      });
    }
    skipped.set(skip.reason, group);
  }
  return {
    note: FROM_TENANT_NOTE,
    ...meta,
    limitReached: history.limitReached,
    accessRequests: history.requests.length + history.skipped.length,
    entriesRead: history.entriesRead,
    pages: history.pages,
    skipped: byCount([...skipped.values()]),
    triggers: [...triggers.values()].map(({ report, rules, undecided }) => ({
      ...report,
      byRule: byCount([...rules.values()]),
      undecided: byCount([...undecided.values()]),
    })),
  };
}

function byCount<T extends Group>(groups: T[]): T[] {
  return groups.sort((a, b) => b.count - a.count);
}

function add<T extends Group>(group: T, example: TenantExample): T {
  group.count++;
  if (group.examples.length < EXAMPLES_PER_GROUP) group.examples.push(example);
  return group;
}

function exampleOf(decision: TenantDecision): TenantExample {
  const example: TenantExample = {
    accessRequestId: decision.accessRequestId,
    created: decision.created,
    people: decision.people.map(personName),
    requestedBy: personName(decision.requestedBy),
    items: decision.items.map(itemLine),
  };
  if (decision.decision !== undefined) {
    example.answer = answerLine(decision.decision);
    const comment = decision.decision.output?.comment;
    if (typeof comment === "string") example.comment = comment;
    if (decision.decision.fallbackReason !== undefined)
      example.fallbackReason = decision.decision.fallbackReason;
  }
  if (decision.failure !== undefined) example.failure = decision.failure;
  return example;
}

function short(text: string, max = 100): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

function exampleLines(example: TenantExample): string[] {
  const lines = [
    `    - ${example.created}  request ${example.accessRequestId}`,
    `      for ${example.people.join(", ")} by ${example.requestedBy}: ${example.items.join(", ")}`,
  ];
  if (example.answer !== undefined) {
    const said = example.comment === undefined ? "" : `: ${short(example.comment)}`;
    lines.push(`      answer: ${example.answer}${said}`);
  }
  if (example.fallbackReason !== undefined) lines.push(`      fallback: ${short(example.fallbackReason)}`);
  return lines;
}

export function formatTenantReport(report: TenantReport): string {
  const window = [
    report.filter.since === undefined ? "" : `since ${report.filter.since}`,
    report.filter.until === undefined ? "" : `until ${report.filter.until}`,
  ]
    .filter((part) => part !== "")
    .join(", ");
  const lines = [
    `${report.candidate.file} (version ${report.candidate.version.slice(0, 23)}) over ${report.accessRequests} access request(s) of ${report.tenant}${window === "" ? "" : ` (${window})`}`,
    `  ${report.note}`,
  ];
  if (report.limitReached)
    lines.push(`  the limit of ${report.filter.limit} was reached: older requests were not read (--limit)`);
  for (const trigger of report.triggers) {
    const counts = Object.entries(trigger.byDecision)
      .sort(([, a], [, b]) => b - a)
      .map(([label, count]) => `${label} ${count}`)
      .join(", ");
    lines.push(
      "",
      `${triggerName(trigger.triggerId)}: ${trigger.decided} decided${counts === "" ? "" : ` (${counts})`}`,
    );
    for (const group of trigger.byRule) {
      lines.push(`  ${group.label} by rule ${group.ruleId}: ${group.count}`);
      for (const example of group.examples) lines.push(...exampleLines(example));
    }
    for (const group of trigger.undecided) {
      lines.push(`  not decided, ${group.reason}: ${group.count}`);
      for (const example of group.examples) lines.push(...exampleLines(example));
    }
  }
  for (const group of report.skipped) {
    lines.push(
      "",
      `skipped, ${group.reason}: ${group.count} (${group.examples.map((e) => e.accessRequestId).join(", ")})`,
    );
  }
  return lines.join("\n");
}
