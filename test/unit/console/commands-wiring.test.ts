/**
 * `npm start` (dev) and `serve --console` start the console and print its URL; it lists what the
 * runtime decided; --once and --no-console start none; a bad --console-port starts nothing.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../../../lib/cli/main.ts";
import { type Sandbox, startSandbox } from "../../../lib/sandbox/index.ts";

function captureIo(cwd: string, env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const controller = new AbortController();
  return {
    out,
    err,
    controller,
    io: {
      stdout: (t: string) => out.push(t),
      stderr: (t: string) => err.push(t),
      env,
      cwd,
      signal: controller.signal,
    },
  };
}

async function until<T>(what: () => T | undefined, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = what();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const consoleUrl = (out: string[]) => /^console\s+(http:\S+)$/m.exec(out.join("\n"))?.[1];

let dir: string | undefined;
let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("the console beside dev and serve", () => {
  it("dev prints the console's URL and the console lists the samples with sandbox controls", async () => {
    dir = await mkdtemp(join(tmpdir(), "console-dev-"));
    const { io, out, err, controller } = captureIo(dir);
    const running = main(["dev", "--records", "records.jsonl", "--log-level", "silent"], io);
    try {
      const url = await until(
        () => (out.join("\n").includes("Ctrl-C stops.") ? consoleUrl(out) : undefined),
        45_000,
      );
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const info = (await (await fetch(`${url}api/info`)).json()) as { sandbox: boolean };
      expect(info.sandbox).toBe(true);
      // dev lets the queue drain before it prints, so every sample's record is there.
      const listed = (await (await fetch(`${url}api/decisions`)).json()) as { decisions: unknown[] };
      expect(listed.decisions).toHaveLength(8);
    } finally {
      controller.abort();
    }
    expect(await running, err.join("\n")).toBe(0);
  }, 60_000);

  it("dev --once and --no-console serve no console; a bad --console-port starts nothing", async () => {
    dir = await mkdtemp(join(tmpdir(), "console-dev-"));
    const bad = captureIo(dir);
    expect(await main(["dev", "--console-port", "http"], bad.io)).toBe(2);
    expect(bad.err.join("\n")).toContain("--console-port must be a port number");
    expect(bad.out).toEqual([]);

    const none = captureIo(dir);
    const running = main(["dev", "--no-console", "--records", "r.jsonl", "--log-level", "silent"], none.io);
    try {
      await until(() => (none.out.join("\n").includes("Ctrl-C stops.") ? true : undefined), 45_000);
      expect(consoleUrl(none.out)).toBeUndefined();
    } finally {
      none.controller.abort();
    }
    expect(await running).toBe(0);
  }, 60_000);

  it("serve --console serves the records read-only", async () => {
    dir = await mkdtemp(join(tmpdir(), "console-serve-"));
    sandbox = await startSandbox();
    const { io, out, err, controller } = captureIo(dir, {
      SAIL_BASE_URL: sandbox.baseUrl,
      SAIL_CLIENT_ID: sandbox.clientId,
      SAIL_CLIENT_SECRET: sandbox.clientSecret,
      RESPONDER_BEARER_TOKEN: "a-bearer-token-for-this-test-0123456789",
    });
    const running = main(
      ["serve", "--rules", join(process.cwd(), "rules/example.yaml"), "--console", "--log-level", "silent"],
      io,
    );
    try {
      const url = await until(
        () => (out.join("\n").includes("Ctrl-C stops.") ? consoleUrl(out) : undefined),
        20_000,
      );
      const info = (await (await fetch(`${url}api/info`)).json()) as { sandbox: boolean; live: boolean };
      expect(info).toMatchObject({ sandbox: false, live: true });
      expect((await fetch(`${url}api/sandbox/faults`)).status).toBe(404);
    } finally {
      controller.abort();
    }
    expect(await running, err.join("\n")).toBe(0);
  }, 30_000);
});
