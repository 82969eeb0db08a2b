import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { FileDecisionRecords } from "../../../lib/adapters/local/file-decision-records.ts";
import type { DecisionRecord } from "../../../lib/audit/record.ts";
import { replay } from "../../../lib/cli/commands/replay.ts";
import type { CliIo } from "../../../lib/cli/io.ts";
import { main } from "../../../lib/cli/main.ts";
import { startSandbox } from "../../../lib/sandbox/index.ts";
import {
  compile,
  exampleApprovingPrivileged,
  exampleText,
  MemoryRecords,
  PRIVILEGED_RULE,
  ROOT,
  sampleRecords,
  T0,
} from "../audit/replay-fixtures.ts";

interface Run {
  code: number;
  out: string;
  err: string;
}

function io(
  cwd: string,
  env: Record<string, string | undefined> = {},
): CliIo & { result: () => Omit<Run, "code"> } {
  let out = "";
  let err = "";
  return {
    stdout: (t) => {
      out += `${t}\n`;
    },
    stderr: (t) => {
      err += `${t}\n`;
    },
    env,
    cwd,
    result: () => ({ out, err }),
  };
}

let records: DecisionRecord[];
let dir: string;
let store: MemoryRecords;

beforeAll(async () => {
  records = await sampleRecords(compile(exampleText()));
  dir = mkdtempSync(join(tmpdir(), "replay-cli-"));
  writeFileSync(join(dir, "candidate.yaml"), exampleApprovingPrivileged());
  writeFileSync(join(dir, "same.yaml"), exampleText());
  writeFileSync(join(dir, "records.jsonl"), "");
  writeFileSync(
    join(dir, "broken.yaml"),
    "format: 1\nname: broken\npreApproval:\n  default: { decision: maybe }\n",
  );
});

async function run(argv: string[]): Promise<Run> {
  store = new MemoryRecords(records);
  const cli = io(dir);
  const code = await replay(argv, cli, { openRecords: async () => store });
  return { code, ...cli.result() };
}

async function viaMain(argv: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const cli = io(dir, env);
  const code = await main(argv, cli);
  return { code, ...cli.result() };
}

describe("isc-responder rules replay", () => {
  it("prints what would change and exits 0", async () => {
    const result = await run(["candidate.yaml", "--records", "records.jsonl"]);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(
      /^replay of candidate\.yaml \(version sha256:[0-9a-f]+\) over 80 recorded decisions from records records\.jsonl/,
    );
    expect(result.out).toContain(`deny -> approve  (rule ${PRIVILEGED_RULE} -> ${PRIVILEGED_RULE}): 5`);
    expect(store.filters).toEqual([{ limit: 10_000 }]);
  });

  it("--fail-on-change exits 1 when a decision changes, 0 when none does", async () => {
    expect((await run(["candidate.yaml", "--records", "records.jsonl", "--fail-on-change"])).code).toBe(1);
    const same = await run(["same.yaml", "--records", "records.jsonl", "--fail-on-change"]);
    expect(same.code).toBe(0);
    expect(same.out).toContain("no decision would change.");
  });

  it("--json prints the report's shape for tools", async () => {
    const result = await run(["candidate.yaml", "--records", "records.jsonl", "--json"]);
    const report = JSON.parse(result.out);
    expect(Object.keys(report).sort()).toEqual(
      [
        "candidate",
        "changed",
        "decidedOver",
        "differentRule",
        "filter",
        "limitReached",
        "live",
        "recordedFallbacks",
        "records",
        "sameAnswerDifferentRule",
        "total",
        "transitions",
        "unchanged",
        "undecidable",
        "undecidableReasons",
      ].sort(),
    );
    expect(report).toMatchObject({
      candidate: { file: "candidate.yaml", version: expect.stringMatching(/^sha256:/) },
      total: 80,
      changed: 5,
      unchanged: 75,
      sameAnswerDifferentRule: 0,
      undecidable: 0,
      live: false,
      filter: { limit: 10_000 },
      transitions: [
        {
          triggerId: "idn:access-request-pre-approval",
          from: "deny",
          to: "approve",
          fromRule: PRIVILEGED_RULE,
          toRule: PRIVILEGED_RULE,
          count: 5,
        },
      ],
    });
    expect(report.transitions[0].examples[0]).toMatchObject({
      invocationId: expect.any(String),
      accessRequestId: expect.any(String),
      people: [expect.any(String)],
      items: [expect.any(String)],
      time: expect.any(String),
      from: "deny",
      to: "approve",
      fromComment: expect.any(String),
    });
  });

  it("passes --since, --until, --trigger and --limit to the store", async () => {
    const since = new Date(T0 + 10 * 60_000).toISOString();
    const result = await run([
      "candidate.yaml",
      "--records",
      "records.jsonl",
      "--since",
      since,
      "--until",
      "2025-03-01T10:00:00Z",
      "--trigger",
      "preApproval",
      "--limit",
      "7",
      "--json",
    ]);
    expect(store.filters).toEqual([
      {
        since: T0 + 10 * 60_000,
        until: Date.parse("2025-03-01T10:00:00Z"),
        triggerId: "idn:access-request-pre-approval",
        limit: 7,
      },
    ]);
    const report = JSON.parse(result.out);
    expect(report).toMatchObject({ total: 7, limitReached: true, filter: { since, limit: 7 } });
  });

  it.each([
    [["candidate.yaml"], /cannot read the records file \.isc-responder\/decisions\.jsonl \(the default/],
    [
      ["candidate.yaml", "--records", "records.jsonl", "--stack", "S"],
      /give one of --records PATH, --stack NAME, --from-tenant/,
    ],
    [
      ["candidate.yaml", "--records", "records.jsonl", "--since", "last tuesday"],
      /--since must be an ISO 8601/,
    ],
    [
      ["candidate.yaml", "--records", "records.jsonl", "--until", "2025-13-45"],
      /--until must be an ISO 8601/,
    ],
    [["candidate.yaml", "--records", "records.jsonl", "--limit", "0"], /--limit must be an integer/],
    [["candidate.yaml", "--records", "records.jsonl", "--trigger", "nope"], /--trigger must be one of/],
    [["candidate.yaml", "--records", "records.jsonl", "--region", "eu-west-1"], /--region goes with --stack/],
    [["candidate.yaml", "--from-tenant", "--fail-on-change"], /--fail-on-change needs recorded decisions/],
    [["candidate.yaml", "--records", "missing.jsonl"], /cannot read the records file missing\.jsonl/],
    [["candidate.yaml", "--records", "records.jsonl", "--bogus"], /Unknown option '--bogus'/],
  ])("bad usage %j exits 2", async (args, message) => {
    const result = await viaMain(["rules", "replay", ...args]);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
  });

  it("an invalid candidate exits 2 with rules check's file:line problems", async () => {
    const result = await viaMain(["rules", "replay", "broken.yaml", "--records", "records.jsonl"]);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/^broken\.yaml:4: preApproval\.default/m);
    expect(result.err).toContain("not replayed");
  });

  it("reads a records file as dev and serve write it", async () => {
    const file = new FileDecisionRecords(join(dir, "real.jsonl"));
    // Recent expiry: the file store leaves expired records out.
    for (const record of records)
      await file.put({ ...record, expiresAt: Math.floor(Date.now() / 1000) + 86_400 });
    const changed = await viaMain([
      "rules",
      "replay",
      "candidate.yaml",
      "--records",
      "real.jsonl",
      "--fail-on-change",
    ]);
    expect(changed.code).toBe(1);
    expect(changed.out).toContain("over 80 recorded decisions from records real.jsonl");
    expect(changed.out).toMatch(/changed\s+5\s/);
  });

  it("--live reads from the tenant what the records did not keep", async () => {
    const payloadOnly = await sampleRecords(
      compile(
        "format: 1\nname: p\napprover: svc\npreApproval:\n  default: { decision: approve, comment: ok }\n",
      ),
    );
    const sandbox = await startSandbox({ rateLimit: false });
    try {
      const env = {
        SAIL_BASE_URL: sandbox.baseUrl,
        SAIL_CLIENT_ID: sandbox.clientId,
        SAIL_CLIENT_SECRET: sandbox.clientSecret,
      };
      const store = new MemoryRecords(
        payloadOnly.filter((r) => r.triggerId === "idn:access-request-pre-approval"),
      );
      const offline = io(dir, env);
      expect(
        await replay(["same.yaml", "--records", "records.jsonl", "--json"], offline, {
          openRecords: async () => store,
        }),
      ).toBe(0);
      const before = JSON.parse(offline.result().out);
      expect(before.undecidable).toBeGreaterThan(30);
      const live = io(dir, env);
      expect(
        await replay(["same.yaml", "--records", "records.jsonl", "--live", "--json"], live, {
          openRecords: async () => store,
        }),
      ).toBe(0);
      const after = JSON.parse(live.result().out);
      expect(after).toMatchObject({ live: true, undecidable: 0, decidedOver: { live: before.undecidable } });
      const text = io(dir, env);
      await replay(["same.yaml", "--records", "records.jsonl", "--live"], text, {
        openRecords: async () => store,
      });
      expect(text.result().out).toContain("read every source from the tenant now");
    } finally {
      await sandbox.close();
    }
  });

  it("is listed in `rules --help` and answers --help", async () => {
    expect((await viaMain(["rules", "--help"])).out).toContain("replay <candidate>");
    const help = await viaMain(["rules", "replay", "--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toContain("--fail-on-change");
  });

  it("--from-tenant decides the sandbox's access-request history and says there is nothing to compare", async () => {
    const sandbox = await startSandbox({ rateLimit: false });
    try {
      const env = {
        SAIL_BASE_URL: sandbox.baseUrl,
        SAIL_CLIENT_ID: sandbox.clientId,
        SAIL_CLIENT_SECRET: sandbox.clientSecret,
      };
      const rules = join(ROOT, "rules/example.yaml");
      const text = await viaMain(["rules", "replay", rules, "--from-tenant"], env);
      expect(text.code).toBe(0);
      expect(text.out).toContain("no recorded decisions to compare");
      expect(text.out).toMatch(/^pre-approval: 11 decided/m);
      expect(text.out).toMatch(/^dynamic-approver: 11 decided/m);
      expect(text.out + text.err).not.toContain(sandbox.clientSecret);

      // The last two days: Carla's six requests and Paula's, two hours ago.
      const since = new Date(Date.now() - 2 * 86_400_000).toISOString();
      const json = await viaMain(
        ["rules", "replay", rules, "--from-tenant", "--since", since, "--trigger", "preApproval", "--json"],
        env,
      );
      expect(json.code).toBe(0);
      const report = JSON.parse(json.out);
      expect(report).toMatchObject({ accessRequests: 7, tenant: sandbox.baseUrl, filter: { since } });
      expect(report.triggers.map((t: { triggerId: string }) => t.triggerId)).toEqual([
        "idn:access-request-pre-approval",
      ]);
    } finally {
      await sandbox.close();
    }
  });
});
