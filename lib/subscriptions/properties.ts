/**
 * The CloudFormation properties of the Custom::IscTriggerSubscription resource. CloudFormation
 * passes every scalar as a string, so booleans arrive as "true"/"false".
 */
import * as z from "zod/mini";
import { issuesFromZod, ValidationError } from "../errors.ts";
import type { SubscriptionSpec } from "./types.ts";

const text = z.string().check(z.minLength(1));
const booleanish = z.union([z.boolean(), z.enum(["true", "false"])]);

const PropertiesSchema = z.looseObject({
  TriggerId: text,
  Name: text,
  Description: z.optional(z.string()),
  Delivery: z.enum(["HTTP", "EVENTBRIDGE"]),
  Url: z.optional(z.string()),
  HttpDispatchMode: z.optional(z.enum(["SYNC", "ASYNC", "DYNAMIC"])),
  AwsAccount: z.optional(z.string()),
  AwsRegion: z.optional(z.string()),
  ResponseDeadline: z.optional(z.string()),
  Filter: z.optional(z.string()),
  RetainOnDelete: z.optional(booleanish),
});

/** Property names, for the stack to build them with the same spelling. */
export interface SubscriptionResourceProperties {
  TriggerId: string;
  Name: string;
  Description?: string;
  Delivery: "HTTP" | "EVENTBRIDGE";
  Url?: string;
  HttpDispatchMode?: "SYNC" | "ASYNC" | "DYNAMIC";
  AwsAccount?: string;
  AwsRegion?: string;
  ResponseDeadline?: string;
  Filter?: string;
  RetainOnDelete?: boolean | "true" | "false";
}

export function parseSubscriptionProperties(properties: unknown): SubscriptionSpec {
  const result = z.safeParse(PropertiesSchema, properties);
  if (!result.success) {
    throw new ValidationError(
      "Custom::IscTriggerSubscription properties",
      issuesFromZod(result.error.issues),
      "INVALID_RESOURCE_PROPERTIES",
    );
  }
  const p = result.data;
  const issues: { path: string; message: string }[] = [];
  if (p.Delivery === "HTTP" && !p.Url?.startsWith("https://")) {
    issues.push({ path: "Url", message: "an https URL is required for HTTP delivery" });
  }
  if (p.Delivery === "EVENTBRIDGE" && (!/^\d{12}$/.test(p.AwsAccount ?? "") || !p.AwsRegion)) {
    issues.push({
      path: "AwsAccount",
      message: "a 12-digit account and a region are required for EVENTBRIDGE",
    });
  }
  if (issues.length > 0) {
    throw new ValidationError(
      "Custom::IscTriggerSubscription properties",
      issues,
      "INVALID_RESOURCE_PROPERTIES",
    );
  }
  return {
    triggerId: p.TriggerId,
    name: p.Name,
    description: p.Description ?? "",
    delivery: p.Delivery,
    ...(p.Url ? { url: p.Url } : {}),
    httpDispatchMode: p.HttpDispatchMode ?? "DYNAMIC",
    ...(p.AwsAccount ? { awsAccount: p.AwsAccount } : {}),
    ...(p.AwsRegion ? { awsRegion: p.AwsRegion } : {}),
    responseDeadline: p.ResponseDeadline || "PT1H",
    ...(p.Filter ? { filter: p.Filter } : {}),
    retainOnDelete: p.RetainOnDelete === true || p.RetainOnDelete === "true",
  };
}
