/**
 * The ISC command groups run in process (main(argv, io)) against the sandbox over loopback HTTP.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliIo } from "../../../lib/cli/io.ts";
import { main } from "../../../lib/cli/main.ts";
import { type Sandbox, startSandbox } from "../../../lib/sandbox/index.ts";
import { exampleAccessRequestInput } from "../../../lib/triggers/examples.ts";

const PRE_APPROVAL = "idn:access-request-pre-approval";
const INPUT = exampleAccessRequestInput();

let sandbox: Sandbox;
let subscriber: Server;
let subscriberUrl: string;
let dir: string;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, rateLimit: false });
  subscriber = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => subscriber.listen(0, "127.0.0.1", resolve));
  subscriberUrl = `http://127.0.0.1:${(subscriber.address() as AddressInfo).port}/hook`;
  dir = await mkdtemp(join(tmpdir(), "isc-cli-"));
});

afterAll(async () => {
  await sandbox.close();
  subscriber.closeAllConnections();
  await new Promise<void>((resolve) => subscriber.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  json: unknown;
}

async function run(argv: string[], env?: Record<string, string | undefined>): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: (text) => {
      stdout += `${text}\n`;
    },
    stderr: (text) => {
      stderr += `${text}\n`;
    },
    env: env ?? {
      SAIL_BASE_URL: sandbox.baseUrl,
      SAIL_CLIENT_ID: sandbox.clientId,
      SAIL_CLIENT_SECRET: sandbox.clientSecret,
    },
    cwd: dir,
  };
  const code = await main(argv, io);
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    json = undefined;
  }
  return { code, stdout, stderr, json };
}

const GROUPS: Record<string, string[]> = {
  invocations: ["complete", "test", "status"],
  subscriptions: ["list", "get", "create", "update", "patch", "delete", "validate-filter"],
  triggers: ["list"],
  tasks: ["update-status", "get"],
  campaigns: ["complete"],
  "role-insights": ["generate", "get"],
};

describe("--help on every command and subcommand", () => {
  it.each(Object.entries(GROUPS))("%s", async (group, subcommands) => {
    const top = await run([group, "--help"], {});
    expect(top.code).toBe(0);
    for (const sub of subcommands) expect(top.stdout).toContain(`${group} ${sub}`);
    for (const sub of subcommands) {
      const help = await run([group, sub, "--help"], {});
      expect(help.code, `${group} ${sub} --help`).toBe(0);
      expect(help.stdout).toContain(`usage: isc-responder ${group} ${sub}`);
    }
  });

  it("usage errors exit 2 with the subcommand's help", async () => {
    const unknown = await run(["subscriptions", "frobnicate"]);
    expect(unknown.code).toBe(2);
    const badOption = await run(["triggers", "list", "--nope"]);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toContain("usage: isc-responder triggers list");
    const missing = await run(["subscriptions", "get"]);
    expect(missing.code).toBe(2);
  });

  it("missing tenant settings name the variables", async () => {
    const result = await run(["triggers", "list"], { SAIL_BASE_URL: sandbox.baseUrl });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("SAIL_CLIENT_ID, SAIL_CLIENT_SECRET");
  });
});

describe("commands against the sandbox", () => {
  it("triggers list", async () => {
    const result = await run(["triggers", "list"]);
    expect(result.code).toBe(0);
    expect(result.json).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: PRE_APPROVAL, type: "REQUEST_RESPONSE" })]),
    );
  });

  it("subscriptions: create, list, get, patch, update, validate-filter, delete", async () => {
    for (const existing of (await run(["subscriptions", "list", "--trigger", PRE_APPROVAL])).json as Array<{
      id: string;
    }>) {
      expect((await run(["subscriptions", "delete", existing.id])).code).toBe(0);
    }
    const body = {
      name: "cli",
      triggerId: PRE_APPROVAL,
      type: "HTTP",
      responseDeadline: "PT1H",
      httpConfig: { url: subscriberUrl, httpDispatchMode: "ASYNC", httpAuthenticationType: "NO_AUTH" },
      enabled: true,
    };
    await writeFile(join(dir, "sub.json"), JSON.stringify(body));
    const created = await run(["subscriptions", "create", "--body", "@sub.json"]);
    expect(created.code, created.stderr).toBe(0);
    const id = (created.json as { id: string }).id;

    const listed = await run(["subscriptions", "list", "--trigger", PRE_APPROVAL]);
    expect((listed.json as Array<{ id: string }>).map((s) => s.id)).toEqual([id]);
    expect(((await run(["subscriptions", "get", id])).json as { name: string }).name).toBe("cli");

    const patched = await run([
      "subscriptions",
      "patch",
      id,
      "--ops",
      '[{"op":"add","path":"/description","value":"patched"}]',
    ]);
    expect(patched.code, patched.stderr).toBe(0);
    expect((patched.json as { description: string }).description).toBe("patched");

    const { triggerId: _t, ...put } = body;
    const updated = await run([
      "subscriptions",
      "update",
      id,
      "--body",
      JSON.stringify({ ...put, name: "cli renamed" }),
    ]);
    expect(updated.code, updated.stderr).toBe(0);
    expect((updated.json as { name: string }).name).toBe("cli renamed");

    const refused = await run([
      "subscriptions",
      "update",
      id,
      "--body",
      JSON.stringify({ ...put, triggerId: "idn:access-request-dynamic-approver" }),
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("triggerId cannot change");

    const valid = await run([
      "subscriptions",
      "validate-filter",
      "--input",
      JSON.stringify(INPUT),
      "--filter",
      "$[?($.accessRequestId)]",
    ]);
    expect(valid.code, valid.stderr).toBe(0);
    expect(valid.json).toMatchObject({ isValid: true });

    expect((await run(["subscriptions", "delete", id])).code).toBe(0);
    const gone = await run(["subscriptions", "get", id]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("not found");
  });

  it("invocations: test (secrets hidden), complete, a second completion fails with the ISC details, status", async () => {
    for (const existing of (await run(["subscriptions", "list", "--trigger", PRE_APPROVAL])).json as Array<{
      id: string;
    }>) {
      await run(["subscriptions", "delete", existing.id]);
    }
    const created = await run([
      "subscriptions",
      "create",
      "--body",
      JSON.stringify({
        name: "cli invocations",
        triggerId: PRE_APPROVAL,
        type: "HTTP",
        httpConfig: { url: subscriberUrl, httpDispatchMode: "ASYNC" },
      }),
    ]);
    expect(created.code, created.stderr).toBe(0);

    await writeFile(join(dir, "input.json"), JSON.stringify(INPUT));
    const tested = await run(["invocations", "test", "--trigger", PRE_APPROVAL, "--input", "@input.json"]);
    expect(tested.code, tested.stderr).toBe(0);
    const [invocation] = tested.json as Array<{ id: string; secret: string }>;
    expect(invocation?.secret).toBe("[redacted]");
    const secret = sandbox.state.invocations.get(invocation!.id)!.secret;
    expect(tested.stdout).not.toContain(secret);

    // An output ISC would mark FAILED (it still answers 204) is refused before anything is sent.
    const sentBefore = sandbox.state.requests.length;
    const wrong = await run([
      "invocations",
      "complete",
      invocation!.id,
      "--secret",
      secret,
      "--output",
      JSON.stringify({ approved: "yes", comment: "x" }),
    ]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("does not match the output schema of idn:access-request-pre-approval");
    expect(wrong.stderr).toContain("approved: must be a boolean");
    expect(wrong.stderr).toContain("approver: required");
    expect(wrong.stderr).toContain("--force");
    expect(sandbox.state.requests.slice(sentBefore).some((r) => r.path.endsWith("/complete"))).toBe(false);
    expect(sandbox.state.invocations.get(invocation!.id)?.status).toBe("PENDING");

    const output = JSON.stringify({ approved: false, comment: "denied by CLI", approver: "cli" });
    const completed = await run([
      "invocations",
      "complete",
      invocation!.id,
      "--secret",
      secret,
      "--output",
      output,
    ]);
    expect(completed.code, completed.stderr).toBe(0);
    expect(completed.json).toMatchObject({ accepted: true, outputChecked: PRE_APPROVAL });
    expect((completed.json as { next: string }).next).toContain("invocations status");
    expect(completed.stdout + completed.stderr).not.toContain(secret);
    expect(sandbox.state.invocations.get(invocation!.id)?.status).toBe("COMPLETED");

    const again = await run([
      "invocations",
      "complete",
      invocation!.id,
      "--secret",
      secret,
      "--error",
      "late",
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("was not found, is already completed, or has expired");
    expect(again.stderr).toContain("status 400");
    expect(again.stderr).toContain('detailCode "400.1.404');
    expect(again.stderr).toContain("trackingId");
    expect(again.stdout + again.stderr).not.toContain(secret);

    const status = await run(["invocations", "status", "--trigger", PRE_APPROVAL, "--limit", "50"]);
    expect(status.code, status.stderr).toBe(0);
    const entry = (status.json as Array<{ id: string; status: string }>).find((s) => s.id === invocation!.id);
    expect(entry?.status).toBe("COMPLETED");

    // --force sends an output the schema refuses; ISC answers 204 and marks it FAILED.
    const [second] = (await run(["invocations", "test", "--trigger", PRE_APPROVAL])).json as Array<{
      id: string;
    }>;
    const forced = await run([
      "invocations",
      "complete",
      second!.id,
      "--secret",
      sandbox.state.invocations.get(second!.id)!.secret,
      "--output",
      "{}",
      "--force",
    ]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.json).toMatchObject({ accepted: true, outputChecked: "sent with --force" });
    const after = await run(["invocations", "status", "--trigger", PRE_APPROVAL, "--limit", "50"]);
    const states = new Map(
      (after.json as Array<{ id: string; status: string }>).map((s) => [s.id, s.status]),
    );
    expect(states.get(second!.id)).toBe("FAILED");
  });

  it("invocations test with no subscriber says so and exits 1", async () => {
    sandbox.state.subscriptions.clear();
    const result = await run(["invocations", "test", "--trigger", PRE_APPROVAL]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("nobody is subscribed to idn:access-request-pre-approval");
  });

  it("ISC's causes are printed with the error", async () => {
    const result = await run([
      "subscriptions",
      "create",
      "--body",
      JSON.stringify({ name: "no url", triggerId: PRE_APPROVAL, type: "HTTP", httpConfig: {} }),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/\n {2}cause: httpConfig\.url: required/);
  });

  it("invocations complete refuses a foreign callbackURL without contacting the tenant", async () => {
    const before = sandbox.state.requests.length;
    const result = await run([
      "invocations",
      "complete",
      "https://evil.example.com/beta/trigger-invocations/0f11f2a4-7c94-4bf3-a2bd-742580fe3bde/complete",
      "--secret",
      "top-secret-value",
      "--output",
      "{}",
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("callbackURL refused");
    expect(result.stderr).not.toContain("top-secret-value");
    expect(sandbox.state.requests.length).toBe(before);
  });

  it("tasks update-status clears a pending task", async () => {
    const taskId = sandbox.state.seeded.taskIds[1] as string;
    const result = await run([
      "tasks",
      "update-status",
      taskId,
      "--status",
      "Error",
      "--completed",
      "2026-05-17T19:33:16Z",
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json).toMatchObject({
      id: taskId,
      completionStatus: "ERROR",
      completed: "2026-05-17T19:33:16.000Z",
    });
    expect((await run(["tasks", "update-status", taskId, "--status", "DONE"])).code).toBe(2);
  });

  it("campaigns complete (v3) a past-due campaign; an active one fails with ISC's 400", async () => {
    const done = await run([
      "campaigns",
      "complete",
      sandbox.state.seeded.pastDueCampaignId,
      "--v3",
      "--auto-complete-action",
      "revoke",
    ]);
    expect(done.code, done.stderr).toBe(0);
    expect(done.json).toMatchObject({ accepted: true, apiVersion: "v3", autoCompleteAction: "REVOKE" });
    const active = await run(["campaigns", "complete", sandbox.state.seeded.activeCampaignId]);
    expect(active.code).toBe(1);
    expect(active.stderr).toContain("status 400");
  });

  it("role-insights generate --wait shows progress and sees a 2-second request done within 4 s, not after 5", {
    timeout: 10_000,
  }, async () => {
    const started = Date.now();
    const result = await run(["role-insights", "generate", "--wait", "--interval", "5", "--timeout", "20"]);
    expect(result.code, result.stderr).toBe(0);
    expect((result.json as { status: string }).status).toBe("COMPLETED");
    expect(Date.now() - started).toBeLessThan(4_500);
    expect(result.stderr).toMatch(
      /role insights request [\w-]+: (CREATED|RUNNING) after \d+ s; next check in 1 s/,
    );
  });

  it("subscriptions patch --help's example works on a subscription made with create --help's example", async () => {
    sandbox.state.subscriptions.clear();
    const example = (help: string, option: string) => {
      const lines = help.split("\n").filter((line) => /^\s+(--\w+\s+e\.g\.|\s{8,}["{[])/.test(line));
      const start = lines.findIndex((line) => line.includes(`${option}  e.g.`));
      const text = [
        lines[start]!.split("e.g. ")[1]!,
        ...lines.slice(start + 1).map((line) => line.trim()),
      ].join("");
      return text.replace("https://...", subscriberUrl);
    };
    const body = example((await run(["subscriptions", "create", "--help"])).stdout, "--body");
    const created = await run(["subscriptions", "create", "--body", body]);
    expect(created.code, created.stderr).toBe(0);
    const ops = example((await run(["subscriptions", "patch", "--help"])).stdout, "--ops");
    const patched = await run(["subscriptions", "patch", (created.json as { id: string }).id, "--ops", ops]);
    expect(patched.code, patched.stderr).toBe(0);
    expect(patched.json).toMatchObject({ description: "new" });
  });

  it("serve refuses a bearer token shorter than 16 characters", async () => {
    const result = await run(["serve", "--rules", "rules/example.yaml"], {
      SAIL_BASE_URL: sandbox.baseUrl,
      SAIL_CLIENT_ID: sandbox.clientId,
      SAIL_CLIENT_SECRET: sandbox.clientSecret,
      RESPONDER_BEARER_TOKEN: "abc",
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("RESPONDER_BEARER_TOKEN is 3 characters: use at least 16");
    expect(result.stderr).not.toContain("abc ");
  });

  it("role-insights generate --wait polls until COMPLETED; get reads it", async () => {
    const result = await run(["role-insights", "generate", "--wait", "--interval", "0", "--timeout", "10"]);
    expect(result.code, result.stderr).toBe(0);
    const request = result.json as { id: string; status: string };
    expect(request.status).toBe("COMPLETED");
    const got = await run(["role-insights", "get", request.id]);
    expect((got.json as { id: string }).id).toBe(request.id);
  });
});
