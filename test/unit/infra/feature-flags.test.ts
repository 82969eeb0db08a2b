/**
 * cdk.json sets every feature flag aws-cdk-lib recommends (so `cdk synth` prints no "NN feature flags
 * are not configured" notice), at the recommended value except where that would change the stack.
 * An aws-cdk-lib upgrade that adds flags fails here rather than bringing the notice back.
 */
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { CDK_JSON_CONTEXT } from "./helpers.ts";

const recommended = createRequire(import.meta.url)("aws-cdk-lib/recommended-feature-flags.json") as Record<
  string,
  unknown
>;

/**
 * Flags kept at their old behaviour on purpose. minimizePolicies merges and reorders IAM statements:
 * the same permissions, but every role's policy document changes and the exact-grants tests
 * (stack.test.ts) read one statement per grant.
 */
const KEPT_AT_OLD_BEHAVIOUR: Record<string, unknown> = { "@aws-cdk/aws-iam:minimizePolicies": false };

describe("cdk.json feature flags", () => {
  it("configures every recommended flag", () => {
    const missing = Object.keys(recommended).filter((flag) => !(flag in CDK_JSON_CONTEXT));
    expect(missing, "add them to cdk.json `context` (npx cdk flags --unstable=flags)").toEqual([]);
  });

  it("uses the recommended values, but for the flags kept at their old behaviour", () => {
    const differing = Object.fromEntries(
      Object.keys(recommended)
        .filter((flag) => JSON.stringify(CDK_JSON_CONTEXT[flag]) !== JSON.stringify(recommended[flag]))
        .map((flag) => [flag, CDK_JSON_CONTEXT[flag]]),
    );
    expect(differing).toEqual(KEPT_AT_OLD_BEHAVIOUR);
  });
});
