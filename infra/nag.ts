/**
 * cdk-nag (AwsSolutions) runs on every synth. Findings are fixed; the few that are acknowledged go
 * through `acknowledge`, which refuses an acknowledgement without a written reason.
 */
import { type App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import type { IConstruct } from "constructs";

export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}

/** Acknowledges one cdk-nag finding (e.g. `AwsSolutions-IAM5[Resource::*]`) on `scope`, with a reason. */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  if (reason.trim().length < 20) throw new Error(`cdk-nag acknowledgement ${id} needs a written reason`);
  Validations.of(scope).acknowledge({ id, reason });
}
