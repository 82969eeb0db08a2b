/**
 * Decision records for the replay tests, made the way the pipeline makes them: the rules decide each
 * input over the sandbox's default directory (payload first, then one read), buildDecisionRecord
 * builds the record and it is read back through the record schema (as a store would).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildDecisionRecord } from "../../../lib/audit/build.ts";
import { type DecisionRecord, parseDecisionRecord } from "../../../lib/audit/record.ts";
import {
  DEFAULT_LIST_LIMIT,
  type DecisionFilter,
  type DecisionRecordSource,
} from "../../../lib/audit/types.ts";
import { defaultDirectory, DEFAULT_DIRECTORY_IDS as ID } from "../../../lib/context/directory.ts";
import { DirectoryFetcher, type DirectoryFetcherOptions } from "../../../lib/context/directory-fetcher.ts";
import { CachedContextReader } from "../../../lib/context/reader.ts";
import type { ContextReader } from "../../../lib/context/types.ts";
import {
  type ContextDecideResult,
  decideFromPayload,
  decideWithReadContext,
} from "../../../lib/responder/context-decide.ts";
import { compileRulesText } from "../../../lib/rules/load-file.ts";
import type { CompiledRules } from "../../../lib/rules/types.ts";
import type { RequestResponseInvocation } from "../../../lib/triggers/invocation.ts";
import type { AccessRequestInput } from "../../../lib/triggers/schemas.ts";
import {
  DYNAMIC_APPROVER,
  PRE_APPROVAL,
  type RequestResponseTriggerId,
} from "../../../lib/triggers/trigger-ids.ts";

export const ROOT = join(import.meta.dirname, "../../..");
export const EXAMPLE_PATH = join(ROOT, "rules/example.yaml");
export const exampleText = (): string => readFileSync(EXAMPLE_PATH, "utf8");

export function compile(text: string, name = "candidate.yaml"): CompiledRules {
  return compileRulesText(text, name).compiled;
}

/** Replaces `from` (which must occur exactly once) in the example policy. */
export function exampleWith(from: string, to: string): string {
  const text = exampleText();
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`not exactly once in the example: ${from}`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

/** The example with one rule's outcome changed: privileged access without justification is approved. */
export const PRIVILEGED_RULE = "deny-privileged-without-justification";
export function exampleApprovingPrivileged(): string {
  return exampleWith(
    "        decision: deny\n        comment: >-\n          {{item.name}} is privileged access",
    "        decision: approve\n        comment: >-\n          {{item.name}} is privileged access",
  );
}

export function directoryReader(options: DirectoryFetcherOptions = {}): ContextReader {
  return new CachedContextReader(new DirectoryFetcher(defaultDirectory(), options));
}

const directory = defaultDirectory();

function ref(id: string): { type: string; id: string; name: string } {
  return { type: "IDENTITY", id, name: String(directory.identity(id)?.name ?? id) };
}

type ItemType = "ENTITLEMENT" | "ACCESS_PROFILE" | "ROLE";
const ITEMS: Array<{ id: string; type: ItemType }> = [
  { id: ID.engineeringAccess, type: "ACCESS_PROFILE" },
  { id: ID.wikiReader, type: "ENTITLEMENT" },
  { id: ID.productionDatabaseAdmin, type: "ROLE" },
  { id: ID.paymentApproval, type: "ACCESS_PROFILE" },
  { id: ID.githubOrgOwners, type: "ENTITLEMENT" },
];
const PEOPLE = [ID.william, ID.ed, ID.carla, ID.victor, ID.terry, ID.helen, ID.dana, ID.paula];

function itemName(id: string, type: ItemType): string {
  const object =
    type === "ENTITLEMENT"
      ? directory.entitlement(id)
      : type === "ACCESS_PROFILE"
        ? directory.accessProfile(id)
        : directory.role(id);
  return String(object?.name ?? id);
}

/** 40 access requests over the default directory: every person asks for every item (some removals, some short comments). */
export function sampleInputs(): AccessRequestInput[] {
  const inputs: AccessRequestInput[] = [];
  let n = 0;
  for (const person of PEOPLE) {
    for (const item of ITEMS) {
      n++;
      inputs.push({
        accessRequestId: `ar${String(n).padStart(30, "0")}`,
        requestedFor: ref(person),
        requestedBy: ref(n % 3 === 0 ? person : ID.rob),
        requestedItems: [
          {
            id: item.id,
            name: itemName(item.id, item.type),
            type: item.type,
            operation: n % 7 === 0 ? "Remove" : "Add",
            comment: n % 2 === 0 ? "need it" : "Needed for the quarterly production incident review",
          },
        ],
      });
    }
  }
  return inputs;
}

export interface RecordOptions {
  invocationId: string;
  /** Epoch ms of receipt (and decision). */
  at: number;
  mode?: "sync" | "async" | "dynamic" | "eventbridge";
  reader?: ContextReader;
}

/** The record the pipeline would write for `input` decided by `rules`. */
export async function recordOf(
  rules: CompiledRules,
  triggerId: RequestResponseTriggerId,
  input: AccessRequestInput,
  options: RecordOptions,
): Promise<DecisionRecord> {
  const invocation: RequestResponseInvocation = {
    triggerType: "requestResponse",
    triggerId,
    invocationId: options.invocationId,
    mode: options.mode ?? "async",
    receivedAt: options.at,
    deadline: options.at + 3_600_000,
    input,
    callbackUrl: undefined,
    secret: undefined,
  };
  const first = decideFromPayload(invocation, rules);
  const result: ContextDecideResult =
    "contextRequired" in first
      ? await decideWithReadContext(invocation, rules, first.contextRequired, {
          reader: options.reader ?? directoryReader(),
          deadline: Date.now() + 5_000,
        })
      : first;
  const record = buildDecisionRecord({
    invocation,
    decision: result,
    completion: { outcome: "completed" },
    decidedAt: options.at + 5,
    recordedBy: "local",
  });
  // Through JSON and the schema, as a store gives it back.
  return parseDecisionRecord(JSON.parse(JSON.stringify(record)), "fixture");
}

export const T0 = Date.parse("2025-03-01T09:00:00Z");

/** Records of every sample input for both triggers, one minute apart, decided by `rules`. */
export async function sampleRecords(rules: CompiledRules, reader?: ContextReader): Promise<DecisionRecord[]> {
  const records: DecisionRecord[] = [];
  let minute = 0;
  for (const input of sampleInputs()) {
    for (const triggerId of [PRE_APPROVAL, DYNAMIC_APPROVER] as const) {
      records.push(
        await recordOf(rules, triggerId, input, {
          invocationId: `inv-${String(minute).padStart(3, "0")}`,
          at: T0 + minute * 60_000,
          ...(reader === undefined ? {} : { reader }),
        }),
      );
      minute++;
    }
  }
  return records;
}

/** A DecisionRecordSource over an array (newest first, the filters of `decisions list`). */
export class MemoryRecords implements DecisionRecordSource {
  readonly records: DecisionRecord[];
  readonly filters: DecisionFilter[] = [];
  constructor(records: DecisionRecord[]) {
    this.records = records;
  }
  async list(filter: DecisionFilter): Promise<DecisionRecord[]> {
    this.filters.push(filter);
    return this.records
      .filter((record) => {
        const at = Date.parse(record.timings.decidedAt);
        if (filter.since !== undefined && at < filter.since) return false;
        if (filter.until !== undefined && at > filter.until) return false;
        if (filter.triggerId !== undefined && record.triggerId !== filter.triggerId) return false;
        if (filter.ruleId !== undefined && record.decision.ruleId !== filter.ruleId) return false;
        return true;
      })
      .sort((a, b) => b.timings.decidedAt.localeCompare(a.timings.decidedAt))
      .slice(0, filter.limit ?? DEFAULT_LIST_LIMIT);
  }
  async find(id: string): Promise<DecisionRecord[]> {
    return this.records.filter((record) => record.invocationId === id || record.accessRequestId === id);
  }
}
