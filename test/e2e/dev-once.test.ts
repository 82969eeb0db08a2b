/**
 * `npm start -- --once`, in process: the dev command starts the sandbox and the local responder,
 * fires the samples through every mode, prints the table and exits 0 only if all completed.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../lib/cli/main.ts";

function captureIo() {
  const out: string[] = [];
  const err: string[] = [];
  const controller = new AbortController();
  return {
    out,
    err,
    controller,
    io: {
      stdout: (text: string) => out.push(text),
      stderr: (text: string) => err.push(text),
      env: {},
      cwd: process.cwd(),
      signal: controller.signal,
    },
  };
}

describe("isc-responder dev --once (npm start -- --once)", () => {
  it("prints a table of every trigger and mode, all completed, and exits 0", async () => {
    const { io, out, err } = captureIo();
    const records = join(mkdtempSync(join(tmpdir(), "dev-once-")), "decisions.jsonl");
    const code = await main(["dev", "--once", "--log-level", "info", "--records", records], io);
    const stdout = out.join("\n");
    expect(code, `${stdout}\n${err.join("\n")}`).toBe(0);
    for (const mode of ["sync", "async", "dynamic", "eventbridge"]) {
      expect(stdout).toMatch(new RegExp(`pre-approval\\s+${mode}\\s`));
      expect(stdout).toMatch(new RegExp(`dynamic-approver\\s+${mode}\\s`));
    }
    expect(stdout).toContain("all 8 invocations completed correctly");
    expect(stdout).not.toContain("NO:");
    // --once prints no token (nothing stays up to use it with).
    expect(stdout).not.toMatch(/Bearer [A-Za-z0-9]{48}/);
    // Every log line at info level is JSON from the responder or a plain sandbox line; none carries a bearer token.
    expect(err.join("\n")).not.toMatch(/Bearer [A-Za-z0-9]{48}/);
  }, 60_000);

  it("dev and serve answer --help with 0 and refuse unknown options with 2", async () => {
    for (const group of ["dev", "serve"]) {
      const help = captureIo();
      expect(await main([group, "--help"], help.io)).toBe(0);
      expect(help.out.join("\n")).toContain(`usage: isc-responder ${group}`);
      const bad = captureIo();
      expect(await main([group, "--bogus"], bad.io)).toBe(2);
    }
  });

  it("serve names the missing settings without starting anything", async () => {
    const { io, err } = captureIo();
    expect(await main(["serve", "--rules", "rules/example.yaml"], io)).toBe(2);
    expect(err.join("\n")).toContain("SAIL_BASE_URL");
  });
});
