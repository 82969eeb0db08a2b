/**
 * The optional front (config `front`): CloudFront + WAF before the Function URL, the origin header,
 * the us-east-1 constraint of CLOUDFRONT web ACLs, and ISC's subscriptions pointing at the distribution.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { App, type CfnElement, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { describe, expect, it } from "vitest";
import { Front, ORIGIN_VERIFY_HEADER } from "../../../infra/front.ts";
import { baseConfig, buildApp } from "./helpers.ts";

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON, read by path
type Json = any;

describe("front: CloudFront and WAF before the Function URL", () => {
  it("is off by default: no distribution, ISC calls the Function URL", async () => {
    const { stack } = await buildApp(baseConfig(), { bundle: false });
    const template = Template.fromStack(stack);
    template.resourceCountIs("AWS::CloudFront::Distribution", 0);
    template.resourceCountIs("AWS::WAFv2::WebACL", 0);
    template.hasResourceProperties("Custom::IscTriggerSubscription", {
      Url: {
        "Fn::GetAtt": [stack.getLogicalId(stack.functionUrl.node.defaultChild as CfnElement), "FunctionUrl"],
      },
    });
  });

  it("puts a rate-limited web ACL and a distribution before the URL, and points ISC at the distribution", async () => {
    const { stack, app, outdir } = await buildApp(
      baseConfig({ front: { enabled: true, rateLimitPer5Min: 500 } }),
      {
        bundle: false,
      },
    );
    app.synth(); // cdk-nag: every finding fixed or acknowledged with a reason
    const template = Template.fromStack(stack);
    const json = template.toJSON() as { Resources: Record<string, Json>; Rules?: Json; Outputs: Json };
    const front = stack.front!;
    const distributionId = stack.getLogicalId(front.distribution.node.defaultChild as CfnElement);
    const config = json.Resources[distributionId].Properties.DistributionConfig;

    // WAF: CLOUDFRONT scope, a per-IP rate-based rule that blocks at the configured limit.
    const acls = Object.entries(json.Resources).filter(([, r]) => r.Type === "AWS::WAFv2::WebACL");
    expect(acls).toHaveLength(1);
    const [aclId, acl] = acls[0]!;
    expect(acl.Properties.Scope).toBe("CLOUDFRONT");
    expect(acl.Properties.Rules).toEqual([
      expect.objectContaining({
        Action: { Block: {} },
        Statement: { RateBasedStatement: { Limit: 500, AggregateKeyType: "IP", EvaluationWindowSec: 300 } },
      }),
    ]);
    expect(config.WebACLId).toEqual({ "Fn::GetAtt": [aclId, "Arn"] });
    // A CLOUDFRONT web ACL exists only in us-east-1: the environment-agnostic template says so up front.
    expect(JSON.stringify(json.Rules)).toContain("us-east-1");

    // The origin: the Function URL over HTTPS, nothing cached, with the origin header from the secret
    // (a dynamic reference: the template never holds the value).
    expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe("https-only");
    expect(config.DefaultCacheBehavior.AllowedMethods).toContain("POST");
    expect(config.DefaultCacheBehavior.CachePolicyId).toBe("4135ea2d-6df8-44a3-9df3-4b5a84be39ad"); // CachingDisabled
    const origin = config.Origins[0];
    expect(origin.CustomOriginConfig.OriginProtocolPolicy).toBe("https-only");
    const header = origin.OriginCustomHeaders.find((h: Json) => h.HeaderName === ORIGIN_VERIFY_HEADER);
    const secretId = stack.getLogicalId(front.originVerifySecret.node.defaultChild as CfnElement);
    expect(JSON.stringify(header.HeaderValue)).toContain("{{resolve:secretsmanager:");
    expect(JSON.stringify(header.HeaderValue)).toContain(secretId);

    // ISC's subscriptions and the rotation's re-pointing use the distribution's URL.
    const distributionUrl = {
      "Fn::Join": ["", ["https://", { "Fn::GetAtt": [distributionId, "DomainName"] }, "/"]],
    };
    template.hasResourceProperties("Custom::IscTriggerSubscription", { Url: distributionUrl });
    const subscriptions =
      json.Resources[stack.getLogicalId(stack.subscriptionsFunction.node.defaultChild as CfnElement)];
    expect(subscriptions.Properties.Environment.Variables.FUNCTION_URL).toEqual(distributionUrl);
    expect(json.Outputs.FrontUrl.Value).toEqual(distributionUrl);

    // The http function may read the header's value (GetSecretValue on that secret only).
    const http = json.Resources[stack.getLogicalId(stack.httpFunction.node.defaultChild as CfnElement)];
    expect(http.Properties.Environment.Variables.ORIGIN_VERIFY_SECRET_ID).toEqual({ Ref: secretId });
    const httpRole = stack.getLogicalId(stack.httpFunction.role!.node.defaultChild as CfnElement);
    const httpPolicies = JSON.stringify(
      Object.values(json.Resources).filter(
        (r: Json) => r.Type === "AWS::IAM::Policy" && JSON.stringify(r.Properties.Roles).includes(httpRole),
      ),
    );
    expect(httpPolicies).toContain(`{"Ref":"${secretId}"}`);

    // cfn-lint, when installed, accepts the template (the Rules section included).
    const probe = spawnSync("cfn-lint", ["--version"], { encoding: "utf8" });
    if (!probe.error) {
      const file = join(outdir, "front.template.json");
      writeFileSync(file, JSON.stringify(json));
      const result = spawnSync("cfn-lint", ["--format", "parseable", file], {
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(result.stdout).not.toMatch(/:E\d{4}:/);
    }
  }, 120_000);

  it("uses a given web ACL (made in us-east-1) instead of creating one, from any region", async () => {
    const webAclArn =
      "arn:aws:wafv2:us-east-1:123456789012:global/webacl/isc-front/0123abcd-0000-4000-8000-000000000000";
    const { stack } = await buildApp(baseConfig({ front: { enabled: true, webAclArn } }), { bundle: false });
    const json = Template.fromStack(stack).toJSON() as { Resources: Record<string, Json>; Rules?: Json };
    expect(Object.values(json.Resources).filter((r) => r.Type === "AWS::WAFv2::WebACL")).toHaveLength(0);
    expect(JSON.stringify(json.Rules ?? {})).not.toContain("us-east-1");
    const distribution = Object.values(json.Resources).find(
      (r) => r.Type === "AWS::CloudFront::Distribution",
    )!;
    expect(distribution.Properties.DistributionConfig.WebACLId).toBe(webAclArn);
  });

  it("refuses at synth to create a web ACL in a stack pinned to another region", () => {
    const app = new App();
    const stack = new Stack(app, "Elsewhere", { env: { account: "123456789012", region: "eu-west-1" } });
    const fn = new lambda.Function(stack, "Fn", {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: "index.handler",
      code: lambda.Code.fromInline("exports.handler = async () => ({})"),
    });
    const functionUrl = fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    expect(
      () => new Front(stack, "Front", { front: { enabled: true, rateLimitPer5Min: 1000 }, functionUrl }),
    ).toThrow(/us-east-1.*front\.webAclArn/);
  });

  it("rejects a web ACL ARN that is not CLOUDFRONT-scope in us-east-1", async () => {
    await expect(
      buildApp(
        baseConfig({
          front: {
            enabled: true,
            webAclArn:
              "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/x/0123abcd-0000-4000-8000-000000000000",
          },
        }),
        { bundle: false },
      ),
    ).rejects.toMatchObject({ issues: [expect.objectContaining({ path: "front.webAclArn" })] });
  });
});
