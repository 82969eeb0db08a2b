/**
 * The optional front of the Function URL (config `front`): a CloudFront distribution with a WAFv2
 * web ACL whose rate-based rule blocks a flooding source IP at the edge, before it occupies the http
 * function's reserved concurrency. ISC's subscriptions then point at the distribution.
 *
 * How the Function URL is closed to everything but CloudFront: CloudFront adds a secret origin header
 * (`x-origin-verify`, generated in Secrets Manager, put in the distribution by a dynamic reference so
 * the template never holds it) and the http function refuses a request without it. Not origin access
 * control (AuthType AWS_IAM): with OAC a POST must carry `x-amz-content-sha256` (the body's hash),
 * which ISC does not send (docs/deploy.md "Front: CloudFront and WAF").
 */
import { CfnOutput, CfnRule, Duration, Fn, Stack, Token } from "aws-cdk-lib";
import * as cloudfront from "aws-cdk-lib/aws-cloudfront";
import * as origins from "aws-cdk-lib/aws-cloudfront-origins";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as wafv2 from "aws-cdk-lib/aws-wafv2";
import { Construct } from "constructs";
import type { ResponderConfig } from "./config.ts";
import { acknowledge } from "./nag.ts";

/** The header CloudFront adds to every origin request; the http function compares it in constant time. */
export const ORIGIN_VERIFY_HEADER = "x-origin-verify";

/** WAF keeps CLOUDFRONT-scope web ACLs in this region only. */
const CLOUDFRONT_WAF_REGION = "us-east-1";

export interface FrontProps {
  front: ResponderConfig["front"];
  functionUrl: lambda.FunctionUrl;
}

export class Front extends Construct {
  readonly distribution: cloudfront.Distribution;
  /** The origin header's value (`{"value": "..."}`); the http function reads it to check requests. */
  readonly originVerifySecret: secretsmanager.Secret;
  /** `https://<distribution domain>/`: the URL ISC's subscriptions use. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: FrontProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.originVerifySecret = new secretsmanager.Secret(this, "OriginVerify", {
      description: `Value of the ${ORIGIN_VERIFY_HEADER} header CloudFront adds to requests to the http function`,
      generateSecretString: {
        secretStringTemplate: "{}",
        generateStringKey: "value",
        excludePunctuation: true,
        passwordLength: 48,
      },
    });
    acknowledge(
      this.originVerifySecret,
      "AwsSolutions-SMG4",
      "The origin header value only proves a request came through CloudFront (ISC's token is checked after it); rotating it means updating the distribution and the function together: docs/deploy.md says how.",
    );

    const webAclArn = props.front.webAclArn ?? this.createWebAcl(stack, props.front.rateLimitPer5Min);

    this.distribution = new cloudfront.Distribution(this, "Distribution", {
      comment: "ISC trigger responder: ISC's requests to the http function",
      webAclId: webAclArn,
      // ISC sends HTTPS POSTs with a bearer token; nothing is cacheable.
      defaultBehavior: {
        origin: new origins.FunctionUrlOrigin(props.functionUrl, {
          customHeaders: {
            [ORIGIN_VERIFY_HEADER]: this.originVerifySecret.secretValueFromJson("value").unsafeUnwrap(),
          },
          // ISC waits 10 s for a reply; the handler answers within 8.
          readTimeout: Duration.seconds(10),
        }),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
        cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
        // Every viewer header but Host (the Function URL needs its own); CloudFront forwards
        // Authorization on a POST whatever the policy says.
        originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      },
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
    });
    this.url = `https://${this.distribution.distributionDomainName}/`;
    acknowledge(
      this.distribution,
      "AwsSolutions-CFR1",
      "ISC calls from SailPoint's cloud in several regions; a geo restriction would refuse ISC itself. The WAF rate rule bounds floods instead.",
    );
    acknowledge(
      this.distribution,
      "AwsSolutions-CFR3",
      "Every request reaches the http function, whose JSON log records each one (status, source IP for refusals); CloudFront access logs would need an S3 bucket and hold only what those logs already say.",
    );
    acknowledge(
      this.distribution,
      "AwsSolutions-CFR4",
      "The distribution uses the default *.cloudfront.net certificate, for which CloudFront fixes the viewer security policy (TLSv1); use a custom domain and certificate to set TLSv1.2_2021.",
    );
    new CfnOutput(stack, "FrontUrl", {
      value: this.url,
      description:
        "The CloudFront URL ISC's HTTP subscriptions use (the Function URL refuses requests that do not come through it)",
    });
  }

  /**
   * The web ACL with the rate-based rule. CLOUDFRONT-scope web ACLs exist in us-east-1 only: a stack
   * elsewhere must be given `front.webAclArn`. A stack whose region is known at synth is checked
   * here; an environment-agnostic one by a template rule, so the deploy stops before creating anything.
   */
  private createWebAcl(stack: Stack, limit: number): string {
    if (!Token.isUnresolved(stack.region) && stack.region !== CLOUDFRONT_WAF_REGION) {
      throw new Error(
        `front.enabled in ${stack.region}: a CloudFront web ACL can only be created in ${CLOUDFRONT_WAF_REGION}. Create one there and set front.webAclArn (docs/deploy.md "Front: CloudFront and WAF").`,
      );
    }
    if (Token.isUnresolved(stack.region)) {
      new CfnRule(this, "WebAclRegion", {
        assertions: [
          {
            assert: Fn.conditionEquals(stack.region, CLOUDFRONT_WAF_REGION),
            assertDescription: `The front's web ACL can only be created in ${CLOUDFRONT_WAF_REGION}: deploy there, or create the web ACL in ${CLOUDFRONT_WAF_REGION} and set front.webAclArn.`,
          },
        ],
      });
    }
    const metric = (name: string) => ({
      cloudWatchMetricsEnabled: true,
      metricName: name,
      sampledRequestsEnabled: true,
    });
    const acl = new wafv2.CfnWebACL(this, "WebAcl", {
      scope: "CLOUDFRONT",
      defaultAction: { allow: {} },
      description: "ISC trigger responder front: per-IP rate limit",
      visibilityConfig: metric("IscResponderFront"),
      rules: [
        {
          name: "RateLimitPerIp",
          priority: 0,
          // ISC's own requests come from a few SailPoint addresses: the limit must stay above the
          // tenant's busiest 5 minutes of invocations (docs/deploy.md).
          statement: { rateBasedStatement: { limit, aggregateKeyType: "IP", evaluationWindowSec: 300 } },
          action: { block: {} },
          visibilityConfig: metric("IscResponderFrontRateLimit"),
        },
      ],
    });
    return acl.attrArn;
  }
}
