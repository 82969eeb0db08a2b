import { describe, expect, it } from "vitest";
import { HttpConfigError, httpConfigFromEnv } from "../../../lib/http/config.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../../../lib/triggers/trigger-ids.ts";

const base = {
  SAIL_BASE_URL: "https://acme.api.identitynow.com",
  WEBHOOK_CREDENTIALS_SECRET_ID: "webhook",
  QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/1/q",
};

describe("httpConfigFromEnv", () => {
  it("applies the documented defaults", () => {
    const config = httpConfigFromEnv(base);
    expect(config.dynamicBudgetMs).toBe(2000);
    expect(config.maxBodyBytes).toBe(262_144);
    expect(config.rulesPath).toBeUndefined();
    expect(config.responseDeadlineMs(PRE_APPROVAL)).toBe(3_600_000);
  });

  it("reads deadlines per trigger (truncated to minutes), budget and body limit", () => {
    const config = httpConfigFromEnv({
      ...base,
      RESPONSE_DEADLINE_PRE_APPROVAL: "PT30M",
      RESPONSE_DEADLINE_DYNAMIC_APPROVER: "PT2M30S",
      DYNAMIC_DECISION_BUDGET_MS: "1500",
      MAX_BODY_BYTES: "1024",
      RULES_PATH: "/var/task/rules.json",
    });
    expect(config.responseDeadlineMs(PRE_APPROVAL)).toBe(1_800_000);
    expect(config.responseDeadlineMs(DYNAMIC_APPROVER)).toBe(120_000);
    expect(config.dynamicBudgetMs).toBe(1500);
    expect(config.maxBodyBytes).toBe(1024);
    expect(config.rulesPath).toBe("/var/task/rules.json");
  });

  it("takes RULES_VERSION for the bundled rules.json only, and only in its sha256 form", () => {
    const version = `sha256:${"ab".repeat(32)}`;
    expect(httpConfigFromEnv({ ...base, RULES_VERSION: version }).bundledRulesVersion).toBe(version);
    // Another rules file is not the one the stack hashed: its version is computed from its content.
    expect(
      httpConfigFromEnv({ ...base, RULES_VERSION: version, RULES_PATH: "/tmp/other.json" })
        .bundledRulesVersion,
    ).toBeUndefined();
    expect(() => httpConfigFromEnv({ ...base, RULES_VERSION: "v1" })).toThrow(/RULES_VERSION/);
  });

  it("fails loudly on missing or malformed settings, naming the variable", () => {
    expect(() => httpConfigFromEnv({ ...base, SAIL_BASE_URL: "" })).toThrow(/SAIL_BASE_URL/);
    expect(() => httpConfigFromEnv({ ...base, SAIL_BASE_URL: "not a url" })).toThrow(HttpConfigError);
    expect(() => httpConfigFromEnv({ ...base, QUEUE_URL: undefined })).toThrow(/QUEUE_URL/);
    expect(() => httpConfigFromEnv({ ...base, DYNAMIC_DECISION_BUDGET_MS: "-1" })).toThrow(
      /DYNAMIC_DECISION_BUDGET_MS/,
    );
    expect(() => httpConfigFromEnv({ ...base, RESPONSE_DEADLINE_PRE_APPROVAL: "PT30S" })).toThrow(
      /RESPONSE_DEADLINE_PRE_APPROVAL/,
    );
  });
});
