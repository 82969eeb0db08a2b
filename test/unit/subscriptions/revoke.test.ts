import { describe, expect, it } from "vitest";
import { credentialsGroup } from "../../../lib/cli/commands/credentials.ts";
import type { CliIo } from "../../../lib/cli/io.ts";
import { main } from "../../../lib/cli/main.ts";
import { isAuthorized, parseWebhookCredentials } from "../../../lib/http/auth.ts";
import { revokePreviousToken } from "../../../lib/subscriptions/revoke.ts";
import { MemorySecrets } from "./memory-secrets.ts";

const LEAKED = "leakedAAAAbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjjkk";
const FRESH = "freshAAAAbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjjkkl";

function io(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: {}, cwd: "/" };
}

describe("revoking the previous webhook token", () => {
  it("writes a new current version without previous: the leaked token is refused at once", async () => {
    const secrets = new MemorySecrets(
      JSON.stringify({
        type: "bearer",
        current: FRESH,
        previous: LEAKED,
        previousExpiresAt: "2999-01-01T00:00:00Z",
      }),
    );
    const result = await revokePreviousToken(secrets, "webhook", { newVersionId: () => "v9" });
    expect(result).toEqual({ revoked: true, versionId: "v9" });
    const credentials = parseWebhookCredentials(secrets.current());
    expect(credentials).toEqual({ type: "bearer", current: FRESH });
    expect(isAuthorized(`Bearer ${LEAKED}`, credentials)).toBe(false);
    expect(isAuthorized(`Bearer ${FRESH}`, credentials)).toBe(true);
    expect((await secrets.describe()).versions.v1).toEqual(["AWSPREVIOUS"]);
  });

  it("keeps a basic username; nothing to do without a previous token", async () => {
    const basic = new MemorySecrets(
      JSON.stringify({ type: "basic", username: "isc", current: FRESH, previous: LEAKED }),
    );
    await revokePreviousToken(basic, "webhook");
    expect(parseWebhookCredentials(basic.current())).toEqual({
      type: "basic",
      username: "isc",
      current: FRESH,
    });
    expect(await revokePreviousToken(basic, "webhook")).toEqual({
      revoked: false,
      reason: "the secret holds no previous token",
    });
  });

  it("refuses while a rotation is unfinished (ISC may still send the previous token) unless forced", async () => {
    const secrets = new MemorySecrets(JSON.stringify({ type: "bearer", current: FRESH, previous: LEAKED }));
    secrets.startRotation("v2");
    await expect(revokePreviousToken(secrets, "webhook")).rejects.toThrow(/AWSPENDING.*--force/);
    expect((await revokePreviousToken(secrets, "webhook", { force: true })).revoked).toBe(true);
  });

  it("isc-responder credentials revoke-previous: prints the result, never a token", async () => {
    const secrets = new MemorySecrets(JSON.stringify({ type: "bearer", current: FRESH, previous: LEAKED }));
    const cli = credentialsGroup(async () => secrets);
    const out = io();
    expect(await cli.run(["revoke-previous", "--secret-id", "webhook"], out)).toBe(0);
    const printed = JSON.parse(out.out.join(""));
    expect(printed.revoked).toBe(true);
    expect(out.out.join("")).not.toContain(FRESH);
    expect(out.out.join("")).not.toContain(LEAKED);
    await expect(cli.run(["revoke-previous"], io())).rejects.toThrow(/--secret-id is required/);
    const help = io();
    expect(await main(["credentials", "--help"], help)).toBe(0);
    expect(help.out.join("")).toContain("revoke-previous --secret-id");
  });
});
