/**
 * `isc-responder console --records PATH`: serves the page over a records file, read-only, and shows
 * what another process appends to it; refuses contradictory options.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FileDecisionRecords } from "../../../lib/adapters/local/file-decision-records.ts";
import { main } from "../../../lib/cli/main.ts";
import { makeRecord } from "./records.ts";

function captureIo(cwd: string) {
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
      cwd,
      signal: controller.signal,
    },
  };
}

async function until<T>(what: () => T | undefined, ms = 5_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = what();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let dir: string | undefined;
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("isc-responder console", () => {
  it("serves a records file read-only, live as another process appends to it", async () => {
    dir = await mkdtemp(join(tmpdir(), "console-"));
    const path = join(dir, "decisions.jsonl");
    const writer = new FileDecisionRecords(path);
    const first = makeRecord();
    await writer.put(first);
    const { io, out, err, controller } = captureIo(dir);
    const running = main(["console", "--records", "decisions.jsonl"], io);
    try {
      const url = await until(() => /^console\s+(http:\S+)$/.exec(out.join("\n").split("\n")[0] ?? "")?.[1]);
      expect(out.join("\n")).toContain(`records              file ${path}`);
      const info = await (await fetch(`${url}api/info`)).json();
      expect(info).toMatchObject({ live: true, sandbox: false });
      const listed = (await (await fetch(`${url}api/decisions`)).json()) as {
        decisions: { invocationId: string }[];
      };
      expect(listed.decisions.map((r) => r.invocationId)).toEqual([first.invocationId]);

      // The stream announces a record another writer appends.
      const stream = await fetch(`${url}api/events`, { signal: AbortSignal.timeout(8_000) });
      const reader = stream.body!.getReader();
      const decoder = new TextDecoder();
      let text = "";
      const second = makeRecord();
      let appended = false;
      while (!text.includes(second.invocationId)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value);
        if (!appended && text.includes("event: hello")) {
          appended = true;
          // After the first poll has read the file.
          setTimeout(() => void writer.put(second), 1_200);
        }
      }
      await reader.cancel();
      expect(text).toContain(second.invocationId);
      expect(text).not.toContain(`"invocationId":"${first.invocationId}"`);
    } finally {
      controller.abort();
    }
    expect(await running, err.join("\n")).toBe(0);
  }, 20_000);

  it("refuses --records with --stack, and --region without --stack", async () => {
    const both = captureIo(process.cwd());
    expect(await main(["console", "--records", "x", "--stack", "y"], both.io)).toBe(2);
    expect(both.err.join("\n")).toContain("not both");
    const region = captureIo(process.cwd());
    expect(await main(["console", "--region", "eu-west-1"], region.io)).toBe(2);
    const port = captureIo(process.cwd());
    expect(await main(["console", "--port", "99999"], port.io)).toBe(2);
    const help = captureIo(process.cwd());
    expect(await main(["console", "--help"], help.io)).toBe(0);
    expect(help.out.join("\n")).toContain("usage: isc-responder console");
  });
});
