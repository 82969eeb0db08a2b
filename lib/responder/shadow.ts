/**
 * Shadow mode, per trigger: the rules decide as usual, but ISC receives a configured, neutral
 * answer (pre-approval: approve, so the request goes on to its usual approvals; dynamic approver: no
 * extra approver). The rules' own answer travels in the explanation (`shadow`), so the ledger, a
 * resumed delivery and the decision record all see both; their actions do not run (an action is a
 * side effect of enforcing). A team watches how often the two differ (ShadowDecisions{differs}) before
 * it lets the rules answer. Applies to fallbacks too: in shadow mode ISC never gets the policy's answer.
 */
import * as z from "zod/mini";
import { issuesFromZod, ValidationError } from "../errors.ts";
import type { Decision, Explanation } from "../rules/types.ts";
import type { Invocation } from "../triggers/invocation.ts";
import {
  type DynamicApproverOutput,
  DynamicApproverOutputSchema,
  NO_ADDITIONAL_APPROVER,
  type PreApprovalOutput,
} from "../triggers/schemas.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../triggers/trigger-ids.ts";
import type { DecideResult } from "./decide.ts";
import { PipelineMetric, type PipelineMetrics } from "./observability.ts";
import { canonicalJson } from "./run-support.ts";

/** The pre-approval answer in shadow mode; `approver` defaults to the rules' own (a username ISC knows). */
const PreApprovalShadowSchema = z.strictObject({
  approved: z.boolean(),
  comment: z.string().check(z.maxLength(2_000)),
  approver: z.optional(z.string().check(z.maxLength(200))),
});

/** Which triggers run in shadow mode and what ISC receives meanwhile (the SHADOW_MODE environment variable, as JSON). */
export const ShadowSettingsSchema = z.strictObject({
  [PRE_APPROVAL]: z.optional(PreApprovalShadowSchema),
  [DYNAMIC_APPROVER]: z.optional(DynamicApproverOutputSchema),
});
export type ShadowSettings = z.infer<typeof ShadowSettingsSchema>;

export const DEFAULT_PRE_APPROVAL_SHADOW_COMMENT =
  "Passed on to the usual approvals: the responder runs in shadow mode (its policy's decision is recorded, not enforced).";

/** The neutral answer of each trigger, for `--shadow TRIGGER` without an answer. */
export function defaultShadowAnswer(triggerId: typeof PRE_APPROVAL | typeof DYNAMIC_APPROVER) {
  return triggerId === PRE_APPROVAL
    ? { approved: true, comment: DEFAULT_PRE_APPROVAL_SHADOW_COMMENT }
    : { ...NO_ADDITIONAL_APPROVER };
}

/** Parses SHADOW_MODE (absent or empty: no trigger in shadow mode); a bad value is a configuration error. */
export function parseShadowSettings(text: string | undefined): ShadowSettings {
  if (text === undefined || text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ValidationError("SHADOW_MODE", [{ path: "", message: "expected JSON" }], "CONFIG_INVALID");
  }
  const parsed = z.safeParse(ShadowSettingsSchema, value);
  if (!parsed.success)
    throw new ValidationError("SHADOW_MODE", issuesFromZod(parsed.error.issues), "CONFIG_INVALID");
  return parsed.data;
}

/** What the explanation of a shadowed decision carries: the rules' own answer. */
export interface ShadowNote {
  /** The output the rules decided (what ISC would have received). */
  rulesOutput: Record<string, unknown>;
  /** The actions the rules' decision would have run. */
  rulesActions: Decision["actions"];
  /** The rules' answer differs from the shadow answer ISC received. */
  differs: boolean;
}

export type ShadowedExplanation = Explanation & { shadow?: ShadowNote };

/** The note of a shadowed decision's explanation (from the rules engine or read back from the ledger), if any. */
export function shadowNoteOf(explanation: unknown): ShadowNote | undefined {
  const note = (explanation as { shadow?: unknown } | null | undefined)?.shadow;
  if (typeof note !== "object" || note === null) return undefined;
  const { rulesOutput, differs } = note as { rulesOutput?: unknown; differs?: unknown };
  if (typeof rulesOutput !== "object" || rulesOutput === null || typeof differs !== "boolean")
    return undefined;
  return note as ShadowNote;
}

/**
 * The decision ISC receives: unchanged unless the invocation's trigger runs in shadow mode; then the
 * shadow answer, no actions, and the rules' decision in `explanation.shadow`. Counted per trigger
 * and whether the two differ.
 */
export function applyShadow<Result extends DecideResult>(
  invocation: Invocation,
  result: Result,
  settings: ShadowSettings | undefined,
  metrics?: PipelineMetrics,
): Result {
  if (settings === undefined || invocation.triggerType !== "requestResponse") return result;
  const decision = result.decision;
  const rulesOutput = decision.output as PreApprovalOutput | DynamicApproverOutput | null;
  if (rulesOutput === null) return result;
  let output: PreApprovalOutput | DynamicApproverOutput;
  if (invocation.triggerId === PRE_APPROVAL) {
    const configured = settings[PRE_APPROVAL];
    if (configured === undefined) return result;
    output = {
      approved: configured.approved,
      comment: configured.comment,
      approver: configured.approver ?? (rulesOutput as PreApprovalOutput).approver ?? "",
    };
  } else {
    const configured = settings[DYNAMIC_APPROVER];
    if (configured === undefined) return result;
    output = { ...configured };
  }
  const differs = canonicalJson(output) !== canonicalJson(rulesOutput);
  metrics?.record(PipelineMetric.shadowDecisions, "Count", 1, {
    trigger: invocation.triggerId,
    differs: differs ? "yes" : "no",
  });
  const explanation: ShadowedExplanation = {
    ...decision.explanation,
    shadow: { rulesOutput: { ...rulesOutput }, rulesActions: decision.actions, differs },
  };
  return {
    ...result,
    decision: { ...decision, output, explanation, actions: [] } as Decision,
  };
}
