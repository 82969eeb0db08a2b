import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileRulesText } from "../../../lib/rules/load-file.ts";
import { runRulesTests } from "../../../lib/rules/run-tests.ts";

const EXAMPLE = readFileSync(join(import.meta.dirname, "../../../rules/example.yaml"), "utf8");
const DISABLED = "      enabled: false\n      priority: 95\n";

/** Cases for the rule, appended to the example's own tests (they reuse its anchors). */
const CASES = `
  - name: office hours - a production admin role on a Saturday is denied, without any read
    trigger: preApproval
    at: 2026-03-07T09:00:00Z # Saturday 10:00 in Berlin
    input: &edAsksProdAdmin
      accessRequestId: 2c91808b7a0f1e2d017a0f1e2d3c9102
      requestedBy: { type: IDENTITY, id: 2c91808568c529c60168cca6f90c1314, name: Rob Robertson }
      requestedFor: { type: IDENTITY, id: 2c91808b6ef1d43e016efba0ce470909, name: Ed Engineer }
      requestedItems:
        - id: 2c9180887a1b2c3d017a1b2c3d4e0002
          name: Production Database Admin
          type: ROLE
          operation: Add
          comment: On call for the billing database this quarter (CHG-1234).
    contextFailure: { status: 503 } # proves nothing was read
    expect:
      rule: production-admin-office-hours
      output:
        approved: false
        comment: >-
          Production Database Admin is granted Monday to Friday, 08:00-18:00 Berlin time: submit
          request 2c91808b7a0f1e2d017a0f1e2d3c9102 again then.
  - name: office hours - Monday 07:59 in Berlin is too early
    trigger: preApproval
    at: 2026-03-02T07:59:59+01:00
    input: *edAsksProdAdmin
    expect: { rule: production-admin-office-hours }
  - name: office hours - Monday 08:00 in Berlin goes on to the other checks
    trigger: preApproval
    at: 2026-03-02T07:00:00Z
    input: *edAsksProdAdmin
    expect: { rule: default, output: { approved: true } }
  - name: office hours - after the spring switch, 08:30 CEST is 06:30 UTC
    trigger: preApproval
    at: 2026-03-30T06:30:00Z
    input: *edAsksProdAdmin
    expect: { rule: default }
  - name: office hours - after the autumn switch, 06:30 UTC is 07:30 CET
    trigger: preApproval
    at: 2026-10-26T06:30:00Z
    input: *edAsksProdAdmin
    expect: { rule: production-admin-office-hours }
  - name: office hours - a removal on a Sunday is approved
    trigger: preApproval
    at: 2026-03-08T12:00:00Z
    input:
      accessRequestId: 2c91808b7a0f1e2d017a0f1e2d3c9103
      requestedBy: { type: IDENTITY, id: 2c91808568c529c60168cca6f90c1314, name: Rob Robertson }
      requestedFor: { type: IDENTITY, id: 2c91808b6ef1d43e016efba0ce470909, name: Ed Engineer }
      requestedItems:
        - { id: 2c9180887a1b2c3d017a1b2c3d4e0002, name: Production Database Admin, type: ROLE, operation: Remove }
    contextFailure: { status: 503 }
    expect: { rule: approve-removals }
  - name: office hours - other access on a Saturday is not concerned
    trigger: preApproval
    at: 2026-03-07T09:00:00Z
    input: *williamAsks
    expect: { rule: deny-inactive-person }
`;

describe("the example's production-admin-office-hours rule", () => {
  it("is disabled in the example, which reads no clock", () => {
    expect(EXAMPLE).toContain(DISABLED);
    const { compiled } = compileRulesText(EXAMPLE, "example.yaml");
    expect(compiled.readsClock?.("idn:access-request-pre-approval")).toBe(false);
  });

  it("enabled, decides by Berlin's clock and every example test still passes at the file's testAt", async () => {
    const text = `${EXAMPLE.replace(DISABLED, "      priority: 95\n").trimEnd()}\n${CASES}`;
    const { compiled, document } = compileRulesText(text, "example.yaml");
    expect(compiled.readsClock?.("idn:access-request-pre-approval")).toBe(true);
    const report = await runRulesTests(compiled, document.tests ?? [], {
      testContext: document.testContext,
      testAt: document.testAt,
    });
    expect(report.results.filter((r) => !r.passed).map((r) => [r.name, r.failures])).toEqual([]);
    expect(report.passed).toBeGreaterThan(25);
  });
});
