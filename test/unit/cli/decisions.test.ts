/** `isc-responder decisions list|show` against a local records file. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { FileDecisionRecords } from "../../../lib/adapters/local/file-decision-records.ts";
import { main } from "../../../lib/cli/main.ts";
import { sampleRecord } from "../audit/record-fixture.ts";

const dir = mkdtempSync(join(tmpdir(), "decisions-cli-"));
const path = join(dir, "decisions.jsonl");

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, {
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    env: {},
    cwd: dir,
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

beforeAll(async () => {
  const store = new FileDecisionRecords(path);
  const far = Math.floor(Date.now() / 1000) + 86_400;
  await store.put(
    sampleRecord({
      invocationId: "inv-deny",
      accessRequestId: "ar-1",
      at: "2026-03-03T10:00:00.000Z",
      expiresAt: far,
      decision: {
        ...sampleRecord().decision,
        contextUsed: [{ source: "sod", id: "", fields: { violated: true }, from: "api", ms: 9 }],
      },
      context: {
        needs: ["sod"],
        reads: [{ kind: "sodPrediction", ids: 1, from: "api", ms: 9 }],
        cacheHits: 0,
        ms: 11,
      },
      timeline: [{ at: "2026-03-03T10:00:00.000Z", event: "received", detail: "async delivery" }],
    }),
  );
  await store.put(
    sampleRecord({
      invocationId: "inv-approve",
      accessRequestId: "ar-2",
      at: "2026-03-04T10:00:00.000Z",
      label: "approve",
      expiresAt: far,
      people: [{ id: "p-9", name: "Quinn" }],
    }),
  );
});

describe("isc-responder decisions", () => {
  it("list: a table, newest first, with every column", async () => {
    const { code, out } = await run("decisions", "list", "--records", path);
    expect(code).toBe(0);
    const lines = out.split("\n");
    expect(lines[0]).toMatch(
      /^time\s+trigger\s+mode\s+person\s+items\s+decision\s+rule\s+fallback\s+outcome$/,
    );
    expect(lines[2]).toMatch(
      /^2026-03-04 10:00:00Z\s+pre-approval\s+async\s+Quinn\s+Payroll Admin\s+approve\s+deny-sod\s+completed$/,
    );
    expect(lines[3]).toContain("Pat Person");
    expect(out).toContain("2 record(s)");
  });

  it("list --json with filters; the default path under the working directory", async () => {
    const filtered = await run("decisions", "list", "--records", path, "--decision", "deny", "--json");
    expect(filtered.code).toBe(0);
    expect((JSON.parse(filtered.out) as Array<{ invocationId: string }>).map((r) => r.invocationId)).toEqual([
      "inv-deny",
    ]);
    const person = await run(
      "decisions",
      "list",
      "--records",
      path,
      "--person",
      "p-9",
      "--since",
      "2026-03-04",
      "--json",
    );
    expect((JSON.parse(person.out) as unknown[]).length).toBe(1);
    const none = await run("decisions", "list");
    expect(none.code).toBe(0);
    expect(none.out).toContain(join(dir, ".isc-responder", "decisions.jsonl"));
  });

  it("show: the explanation by invocation id or access request id; --json; exit 1 when unknown", async () => {
    const shown = await run("decisions", "show", "inv-deny", "--records", path);
    expect(shown.code).toBe(0);
    for (const text of [
      "invocation      inv-deny (pre-approval, async)",
      "access request  ar-1",
      "decision        deny by rule deny-sod",
      "matched         sod.violated == true",
      'context used    sod  from api (9 ms): {"violated":true}',
      "context read    sod: 1 API reads, 0 from cache, 11 ms",
      "completion      completed",
      "timeline        10:00:00.000  received  async delivery",
    ]) {
      expect(shown.out).toContain(text);
    }
    const byRequest = await run("decisions", "show", "ar-2", "--records", path, "--json");
    expect((JSON.parse(byRequest.out) as Array<{ invocationId: string }>)[0]?.invocationId).toBe(
      "inv-approve",
    );
    const missing = await run("decisions", "show", "nope", "--records", path);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('no decision record for "nope"');
  });

  it("refuses a bad date, an unknown decision, both sources at once, with exit 2", async () => {
    for (const argv of [
      ["--since", "last tuesday"],
      ["--until", "2026-13-45"],
      ["--decision", "maybe"],
      ["--trigger", "nope"],
      ["--stack", "s"],
      ["--region", "eu-west-1"],
    ]) {
      const { code, err } = await run("decisions", "list", "--records", path, ...argv);
      expect(code, argv.join(" ")).toBe(2);
      expect(err).toMatch(/^error: /);
    }
  });
});
