// biome-ignore-all lint/suspicious/noThenProperty: `then` is the rules format's key for a decision (never callable).
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import rulesCommand from "../../../lib/cli/commands/rules.ts";
import type { CliIo } from "../../../lib/cli/io.ts";
import { RulesFileError } from "../../../lib/rules/errors.ts";
import { compileRulesText, parseRulesTestsFile } from "../../../lib/rules/load-file.ts";
import { runRulesTests } from "../../../lib/rules/run-tests.ts";
import { input } from "./helpers.ts";

/** The `file:line: path: message` lines `rules check` prints for `text`, or [] when it is valid. */
function problems(text: string): string[] {
  try {
    compileRulesText(text, "p.yaml");
    return [];
  } catch (error) {
    if (!(error instanceof RulesFileError)) throw error;
    return error.formatIssues();
  }
}

const withWhen = (when: string, extra = "") => `approver: svc
${extra}preApproval:
  rules:
    - id: r
      when: ${when}
      then: { decision: deny, comment: x }
  default: { decision: approve, comment: ok }
`;

describe("rules check: time conditions", () => {
  it("accepts a valid one", () => {
    expect(
      problems(withWhen("{ time: { zone: Europe/Berlin, weekdays: Mon-Fri, between: [08:00, 18:00] } }")),
    ).toEqual([]);
  });

  it("refuses an unknown zone, a fixed offset and a missing zone, at their lines", () => {
    expect(problems(withWhen("{ time: { zone: Europe/Berln, weekdays: Mon } }"))).toEqual([
      'p.yaml:5: preApproval.rules[0].when.time.zone: unknown time zone "Europe/Berln" (an IANA name like Europe/Berlin, America/New_York, or UTC)',
    ]);
    expect(problems(withWhen("{ time: { zone: '+01:00', weekdays: Mon } }"))[0]).toMatch(
      /^p\.yaml:5: preApproval\.rules\[0\]\.when\.time\.zone: "\+01:00" is not a named time zone: .*ignores daylight saving time$/,
    );
    expect(problems(withWhen("{ time: { weekdays: Mon } }"))).toEqual([
      "p.yaml:5: preApproval.rules[0].when.time: needs a zone: `zone: Europe/Berlin` here, or `timeZone:` at the top of the file (the clock is read in that zone)",
    ]);
    expect(problems(withWhen("{ time: { weekdays: Mon } }", "timeZone: Europe/Berlin\n"))).toEqual([]);
    expect(problems(withWhen("{ time: { weekdays: Mon } }", "timeZone: Mars/Olympus\n"))).toEqual([
      'p.yaml:2: timeZone: unknown time zone "Mars/Olympus" (an IANA name like Europe/Berlin, America/New_York, or UTC)',
    ]);
  });

  it("refuses weekdays, times and dates that do not parse, and conditions that cannot mean anything", () => {
    const at = "p.yaml:5: preApproval.rules[0].when.time";
    expect(problems(withWhen("{ time: { zone: UTC, weekdays: [Mon, Fry] } }"))).toEqual([
      `${at}.weekdays: "Fry" is not a weekday or a range of them (Mon, Tue, ... Sun; Mon-Fri)`,
    ]);
    expect(problems(withWhen("{ time: { zone: UTC, between: ['8am', '25:00'] } }"))).toEqual([
      `${at}.between[0]: expected a time of day HH:MM`,
      `${at}.between[1]: expected a time of day HH:MM (or 24:00)`,
    ]);
    expect(problems(withWhen("{ time: { zone: UTC, between: ['08:00', '08:00'] } }"))).toEqual([
      `${at}.between: starts when it ends: give two different times (22:00-06:00 crosses midnight; a whole day needs no between)`,
    ]);
    expect(problems(withWhen("{ time: { zone: UTC, date: { after: 2026-02-30 } } }"))).toEqual([
      `${at}.date.after: expected a date YYYY-MM-DD`,
    ]);
    expect(
      problems(withWhen("{ time: { zone: UTC, date: { after: 2026-03-31, before: 2026-04-01 } } }")),
    ).toEqual([
      `${at}.date: never holds: no date is in this range (after and before exclude the date, between includes both ends)`,
    ]);
    expect(problems(withWhen("{ time: { zone: UTC } }"))).toEqual([
      `${at}: always holds: give weekdays, between (times of day) or date`,
    ]);
    expect(problems(withWhen("{ time: { zone: UTC, weekdays: Mon }, field: x }"))).toEqual([
      "p.yaml:5: preApproval.rules[0].when: a condition has exactly one of time, field (nest them under all/any)",
    ]);
  });
});

describe("rules test: a fixed clock", () => {
  const policy = `approver: svc
preApproval:
  rules:
    - id: prod-admin-office-hours
      when:
        all:
          - anyItem: { field: name, startsWith: "Production " }
          - not: { time: { zone: Europe/Berlin, weekdays: Mon-Fri, between: [08:00, 18:00] } }
      then: { decision: deny, comment: Production admin roles only Mon-Fri 08:00-18:00 Berlin time. }
  default: { decision: approve, comment: ok }
`;
  const prod = {
    ...input(),
    requestedItems: [{ id: "r1", name: "Production DB Admin", type: "ROLE", operation: "Add" }],
  };
  const tests = (cases: string) => `${policy}tests:\n${cases}`;
  const testCase = (name: string, at: string | undefined, rule: string) =>
    `  - name: ${name}\n    trigger: preApproval\n${at === undefined ? "" : `    at: ${at}\n`}    input: ${JSON.stringify(prod)}\n    expect: { rule: ${rule} }\n`;

  it("runs each test at its `at`, or at the file's testAt", async () => {
    const loaded = compileRulesText(
      tests(
        testCase("Monday 08:30 in Berlin", "2026-03-02T07:30:00Z", "default") +
          testCase("Monday 07:30 in Berlin", "2026-03-02T07:30:00+01:00", "prod-admin-office-hours") +
          testCase("at the file's clock (Saturday)", undefined, "prod-admin-office-hours"),
      ).replace("tests:\n", "testAt: 2026-03-07T10:00:00Z\ntests:\n"),
      "p.yaml",
    );
    const report = await runRulesTests(loaded.compiled, loaded.document.tests ?? [], {
      testAt: loaded.document.testAt,
    });
    expect(report.results.map((r) => [r.name, r.passed, r.failures])).toEqual([
      ["Monday 08:30 in Berlin", true, []],
      ["Monday 07:30 in Berlin", true, []],
      ["at the file's clock (Saturday)", true, []],
    ]);
  });

  it("refuses a test of clock-reading rules without a clock, at its line; and an `at` without a zone", async () => {
    expect(problems(tests(testCase("no clock", undefined, "default")))).toEqual([
      "p.yaml:12: tests[0]: the rules of this trigger read the clock (time or within): fix it with `at: 2026-03-02T07:30:00Z` on the test, or `testAt` for the file",
    ]);
    expect(problems(tests(testCase("no zone", "2026-03-02T08:30", "default")))).toEqual([
      "p.yaml:14: tests[0].at: expected an ISO-8601 date-time with its zone, like 2026-03-02T07:30:00Z or 2026-03-02T08:30:00+01:00",
    ]);
    // A test file beside the rules is checked when it runs.
    const loaded = compileRulesText(policy, "p.yaml");
    const cases = parseRulesTestsFile(testCase("no clock", undefined, "default"), "p.tests.yaml");
    const report = await runRulesTests(loaded.compiled, cases);
    expect(report.results[0]?.failures).toEqual([
      "the rules of this trigger read the clock (time or within): fix it with `at: 2026-03-02T07:30:00Z` on the test, or `testAt` for the file",
    ]);
  });

  it("counts access requests over history: more than 5 for this person in the last 24 hours", async () => {
    const loaded = compileRulesText(
      `approver: svc
preApproval:
  rules:
    - id: too-many-requests
      when: { count: { of: accessRequests, where: { field: created, within: PT24H }, gt: 5 } }
      then: { decision: deny, comment: "More than 5 requests for {{requestedFor.name}} in 24 hours." }
  default: { decision: approve, comment: ok }
testAt: 2026-03-02T12:00:00Z
testContext:
  identities: [{ id: id-william, name: William Wilson }]
  entitlements: [{ id: item-1, name: Wiki Reader, source: src-1 }]
  sources: [{ id: src-1, name: Wiki }]
  accessRequests:
${[1, 2, 3, 4, 5].map((h) => `    - { accessRequestId: r${h}, requestedFor: id-william, item: item-1, state: EXECUTING, ago: PT${h}H }`).join("\n")}
    - { accessRequestId: r6, requestedFor: id-william, item: item-1, state: REQUEST_COMPLETED, created: "2026-03-01T08:00:00Z" }
tests:
  - name: five in the last day (the sixth is 28 hours old) pass
    trigger: preApproval
    input: ${JSON.stringify({ ...input(), requestedItems: [{ id: "item-1", name: "Wiki Reader", type: "ENTITLEMENT", operation: "Add" }] })}
    expect: { rule: default }
  - name: a sixth within the day is denied
    trigger: preApproval
    at: 2026-03-02T07:59:00Z
    input: ${JSON.stringify({ ...input(), requestedItems: [{ id: "item-1", name: "Wiki Reader", type: "ENTITLEMENT", operation: "Add" }] })}
    expect: { rule: too-many-requests, output: { comment: More than 5 requests for William Wilson in 24 hours. } }
`,
      "p.yaml",
    );
    const report = await runRulesTests(loaded.compiled, loaded.document.tests ?? [], {
      testAt: loaded.document.testAt,
      testContext: loaded.document.testContext,
    });
    expect(report.results.map((r) => [r.name, r.failures])).toEqual([
      ["five in the last day (the sixth is 28 hours old) pass", []],
      ["a sixth within the day is denied", []],
    ]);
  });
});

describe("rules eval --at", () => {
  async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const io: CliIo = {
      stdout: (t) => {
        out += `${t}\n`;
      },
      stderr: (t) => {
        err += `${t}\n`;
      },
      env: {},
      cwd: process.cwd(),
    };
    return { code: await rulesCommand.run(argv, io), out, err };
  }

  it("decides at the given instant, and refuses one without a zone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rules-at-"));
    const file = join(dir, "p.yaml");
    writeFileSync(file, withWhen("{ time: { zone: Europe/Berlin, weekdays: Sat } }"));
    const payload = JSON.stringify(input());
    const ruleAt = async (at: string) => {
      const result = await run(["eval", file, "--trigger", "preApproval", "--input", payload, "--at", at]);
      expect(result.code, result.err).toBe(0);
      return JSON.parse(result.out).explanation.ruleId;
    };
    expect(await ruleAt("2026-03-07T10:00:00Z")).toBe("r");
    expect(await ruleAt("2026-03-06T22:59:00Z")).toBe("default"); // Friday 23:59 in Berlin
    await expect(
      run(["eval", file, "--trigger", "preApproval", "--input", payload, "--at", "2026-03-07"]),
    ).rejects.toThrow(/--at expected an ISO-8601 date-time with its zone/);
    expect(readFileSync(file, "utf8")).toContain("Sat");
  });
});
