import { describe, expect, it } from "vitest";
import { decide } from "../../../lib/responder/decide.ts";
import type { LogFields } from "../../../lib/responder/observability.ts";
import {
  applyShadow,
  DEFAULT_PRE_APPROVAL_SHADOW_COMMENT,
  defaultShadowAnswer,
  parseShadowSettings,
  shadowNoteOf,
} from "../../../lib/responder/shadow.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../../../lib/triggers/trigger-ids.ts";
import { asyncInvocation, fakeRules } from "./fixtures.ts";

function recordingMetrics() {
  const seen: Array<{ name: string; dims: LogFields | undefined }> = [];
  return {
    seen,
    record(name: string, _unit: string, _value: number, dims?: Record<string, string>) {
      seen.push({ name, dims });
    },
  };
}

describe("shadow mode", () => {
  const invocation = asyncInvocation({ invocationId: "0f11b2d8-8e38-4a1c-9b7a-0a0a0a0a0a01" });

  it("sends the shadow answer, keeps the rules' answer and actions in the explanation, runs no action", () => {
    const rules = fakeRules({
      approved: false,
      actions: [{ type: "update-task-status", taskId: "t1", completionStatus: "SUCCESS" }],
    });
    const metrics = recordingMetrics();
    const result = applyShadow(
      invocation,
      decide(invocation, rules),
      { [PRE_APPROVAL]: defaultShadowAnswer(PRE_APPROVAL) as { approved: boolean; comment: string } },
      metrics,
    );
    expect(result.decision.output).toEqual({
      approved: true,
      comment: DEFAULT_PRE_APPROVAL_SHADOW_COMMENT,
      approver: "rules",
    });
    expect(result.decision.actions).toEqual([]);
    const note = shadowNoteOf(result.decision.explanation);
    expect(note?.rulesOutput).toEqual({ approved: false, comment: "approved by rule", approver: "rules" });
    expect(note?.rulesActions).toHaveLength(1);
    expect(note?.differs).toBe(true);
    expect(result.decision.explanation.ruleId).toBe("r-deny");
    expect(metrics.seen).toEqual([
      { name: "ShadowDecisions", dims: { trigger: PRE_APPROVAL, differs: "yes" } },
    ]);
  });

  it("counts agreement as differs=no", () => {
    const metrics = recordingMetrics();
    const result = applyShadow(
      invocation,
      decide(invocation, fakeRules()),
      { [PRE_APPROVAL]: { approved: true, comment: "approved by rule", approver: "rules" } },
      metrics,
    );
    expect(shadowNoteOf(result.decision.explanation)?.differs).toBe(false);
    expect(metrics.seen[0]?.dims).toEqual({ trigger: PRE_APPROVAL, differs: "no" });
  });

  it("leaves other triggers and unconfigured deployments alone", () => {
    const original = decide(invocation, fakeRules({ approved: false }));
    expect(applyShadow(invocation, original, undefined)).toBe(original);
    expect(applyShadow(invocation, original, {})).toBe(original);
    expect(applyShadow(invocation, original, { [DYNAMIC_APPROVER]: { id: "", name: "", type: "" } })).toBe(
      original,
    );
  });

  it("parses SHADOW_MODE strictly, naming the field at fault", () => {
    expect(parseShadowSettings(undefined)).toEqual({});
    expect(parseShadowSettings("")).toEqual({});
    expect(
      parseShadowSettings(JSON.stringify({ [DYNAMIC_APPROVER]: defaultShadowAnswer(DYNAMIC_APPROVER) })),
    ).toEqual({
      [DYNAMIC_APPROVER]: { id: "", name: "", type: "" },
    });
    expect(() => parseShadowSettings("{")).toThrow(/SHADOW_MODE/);
    expect(() =>
      parseShadowSettings(JSON.stringify({ [PRE_APPROVAL]: { approved: "yes", comment: "" } })),
    ).toThrow(/approved/);
    expect(() => parseShadowSettings(JSON.stringify({ "idn:unknown": {} }))).toThrow(/SHADOW_MODE/);
  });
});
