import { describe, expect, it } from "vitest";
import { ConfigurationError, loadResponderConfig, shadowModeOf } from "../../../infra/config.ts";
import { DEFAULT_PRE_APPROVAL_SHADOW_COMMENT, parseShadowSettings } from "../../../lib/responder/shadow.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../../../lib/triggers/trigger-ids.ts";
import { baseConfig, writeConfig } from "./helpers.ts";

const load = (triggers: Record<string, unknown>) =>
  loadResponderConfig({ configFile: writeConfig(baseConfig({ triggers })) });

describe("triggers.<trigger>.shadow → SHADOW_MODE", () => {
  it("is empty when no trigger runs in shadow mode", () => {
    expect(shadowModeOf(load({ preApproval: { enabled: true } }))).toBe("");
  });

  it("true: the neutral answer of each trigger, as the functions parse it", () => {
    const text = shadowModeOf(
      load({
        preApproval: { enabled: true, shadow: true },
        dynamicApprover: { enabled: true, shadow: true },
      }),
    );
    expect(parseShadowSettings(text)).toEqual({
      [PRE_APPROVAL]: { approved: true, comment: DEFAULT_PRE_APPROVAL_SHADOW_COMMENT },
      [DYNAMIC_APPROVER]: { id: "", name: "", type: "" },
    });
  });

  it("an explicit answer, checked against the trigger's output", () => {
    const text = shadowModeOf(
      load({
        dynamicApprover: {
          enabled: true,
          shadow: {
            answer: { id: "2c9180835d2e5168015d32f890ca1581", name: "IAM team", type: "GOVERNANCE_GROUP" },
          },
        },
      }),
    );
    expect(parseShadowSettings(text)[DYNAMIC_APPROVER]).toMatchObject({ type: "GOVERNANCE_GROUP" });
    expect(() =>
      load({ preApproval: { enabled: true, shadow: { answer: { id: "x", name: "n", type: "IDENTITY" } } } }),
    ).toThrow(ConfigurationError);
    expect(() => load({ preApproval: { shadow: "yes" } })).toThrow(/triggers\.preApproval\.shadow/);
  });
});
