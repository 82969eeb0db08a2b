import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { CliIo } from "../../../lib/cli/io.ts";
import { main } from "../../../lib/cli/main.ts";
import { defaultDirectoryFile } from "../../../lib/context/default-directory.ts";

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

describe("isc-responder sandbox --directory", () => {
  async function withFile<T>(name: string, text: string, run: (path: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(tmpdir(), "sandbox-cli-"));
    try {
      const path = join(dir, name);
      await writeFile(path, text);
      return await run(path);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async function startCli(argv: string[]) {
    const controller = new AbortController();
    const cli = io(controller.signal);
    const running = main(["sandbox", ...argv], cli.io);
    for (let i = 0; i < 300 && cli.out.length === 0 && cli.err.length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    return { cli, controller, running };
  }

  it("serves the identities of a YAML directory file and says so", async () => {
    const yaml =
      "name: Tiny tenant\nidentities:\n  - {id: alice, name: Alice Able, identityStatus: TERMINATED}\n";
    await withFile("tiny.yaml", yaml, async (path) => {
      const { cli, controller, running } = await startCli([
        "--directory",
        path,
        "--client-id",
        "c",
        "--client-secret",
        "s",
        "--context-latency",
        "1",
        "--denied-scopes",
        "idn:sources:read",
      ]);
      const text = cli.out.join("\n");
      expect(text).toContain(`directory:         Tiny tenant (directory file ${path}): 1 identities`);
      expect(text).toContain("denied scopes:     idn:sources:read");
      const baseUrl = /export SAIL_BASE_URL=(\S+)/.exec(text)![1];
      const token = (await (
        await fetch(`${baseUrl}/oauth/token`, {
          method: "POST",
          body: new URLSearchParams({ grant_type: "client_credentials", client_id: "c", client_secret: "s" }),
        })
      ).json()) as { access_token: string };
      const headers = { authorization: `Bearer ${token.access_token}` };
      const alice = await fetch(`${baseUrl}/v2025/identities/alice`, { headers });
      expect(await alice.json()).toMatchObject({ id: "alice", identityStatus: "TERMINATED" });
      expect((await fetch(`${baseUrl}/v3/sources`, { headers })).status).toBe(403);
      controller.abort();
      expect(await running).toBe(0);
    });
  });

  it("refuses an invalid directory file with its path, field and line (exit 1)", async () => {
    const yaml = "identities:\n  - id: a\n    name: A\n    manager: ghost\n  - {id: b}\n";
    await withFile("bad.yaml", yaml, async (path) => {
      const cli = io();
      expect(await main(["sandbox", "--directory", path], cli.io)).toBe(1);
      const err = cli.err.join("\n");
      expect(err).toContain(path);
      expect(err).toContain("identities[1].name (line 5)");
    });
    await withFile("dangling.yaml", yaml.replace("  - {id: b}\n", ""), async (path) => {
      const cli = io();
      expect(await main(["sandbox", "--directory", path], cli.io)).toBe(1);
      expect(cli.err.join("\n")).toContain("identities[0].manager: no identity has the id ghost");
    });
  });

  it("--print-directory prints the default directory as YAML, a valid starting point", async () => {
    const cli = io();
    expect(await main(["sandbox", "--print-directory"], cli.io)).toBe(0);
    const printed = parse(cli.out.join("\n")) as ReturnType<typeof defaultDirectoryFile>;
    expect(printed.identities).toEqual(defaultDirectoryFile().identities);
  });

  it("refuses a bad --fault-target or --context-latency (exit 2)", async () => {
    for (const argv of [
      ["--fault-target", "some"],
      ["--context-latency", "-5"],
    ]) {
      const bad = io();
      expect(await main(["sandbox", ...argv], bad.io), argv.join(" ")).toBe(2);
    }
  });
});
