import { describe, expect, it } from "vitest";
import type { CliIo } from "../../../lib/cli/io.ts";
import { main } from "../../../lib/cli/main.ts";

function io(signal?: AbortSignal) {
  const out: string[] = [];
  const err: string[] = [];
  const value: CliIo = {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    env: {},
    cwd: process.cwd(),
  };
  if (signal !== undefined) value.signal = signal;
  return { io: value, out, err };
}

describe("isc-responder sandbox", () => {
  it("prints the base URL, SAIL_* exports and seeded ids, serves, and stops on abort", async () => {
    const controller = new AbortController();
    const cli = io(controller.signal);
    const running = main(
      ["sandbox", "--rate-limit", "50", "--client-id", "cli-client", "--client-secret", "cli-secret"],
      cli.io,
    );
    for (let i = 0; i < 200 && cli.out.length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    const text = cli.out.join("\n");
    const baseUrl = /export SAIL_BASE_URL=(\S+)/.exec(text)?.[1];
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(text).toContain("export SAIL_CLIENT_ID=cli-client");
    expect(text).toContain("export SAIL_CLIENT_SECRET=cli-secret");
    expect(text).toMatch(/pending tasks: +[0-9a-f]{32} [0-9a-f]{32} [0-9a-f]{32}/);
    expect(text).toMatch(/past-due campaign: [0-9a-f]{32}/);

    const token = await fetch(`${baseUrl}/oauth/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: "cli-client",
        client_secret: "cli-secret",
      }),
    });
    expect(token.status).toBe(200);

    controller.abort();
    expect(await running).toBe(0);
    await expect(fetch(`${baseUrl}/sandbox/health`)).rejects.toThrow();
  });

  it("--help prints usage; bad options are usage errors (exit 2)", async () => {
    const help = io();
    expect(await main(["sandbox", "--help"], help.io)).toBe(0);
    expect(help.out.join("\n")).toContain("--fault-rate");
    for (const argv of [
      ["--fault-rate", "2"],
      ["--port", "x"],
      ["--bogus"],
      ["--fault-rate", "0.5", "--fault-kinds", "nope"],
    ]) {
      const bad = io();
      expect(await main(["sandbox", ...argv], bad.io), argv.join(" ")).toBe(2);
      expect(bad.err.join("\n")).toMatch(/error:/);
    }
  });
});
