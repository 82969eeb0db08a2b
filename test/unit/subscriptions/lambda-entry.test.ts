import { afterEach, describe, expect, it, vi } from "vitest";
import { SecretsManagerSecretsStore } from "../../../lib/adapters/aws/secrets-manager.ts";

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe("functions/subscriptions.ts", () => {
  it("fails a custom resource event with a reason that says what to fix, logged as one JSON line on stdout", async () => {
    vi.stubEnv("ISC_CREDENTIALS_SECRET_ID", "");
    const written: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const consoleLog = vi.spyOn(console, "log");
    const { handler } = await import("../../../functions/subscriptions.ts");
    const event = {
      RequestType: "Create",
      ServiceToken: "arn:aws:lambda:us-east-1:000000000000:function:provider",
      ResponseURL: "https://cloudformation-custom-resource-response.example/",
      StackId: "arn:aws:cloudformation:us-east-1:000000000000:stack/s/1",
      RequestId: "r1",
      LogicalResourceId: "Subscriptions",
      ResourceType: "Custom::IscTriggerSubscriptions",
      ResourceProperties: { ServiceToken: "x" },
    };
    await expect(handler(event as never, { getRemainingTimeInMillis: () => 60_000 })).rejects.toThrow(
      /ISC_CREDENTIALS_SECRET_ID is not set/,
    );
    expect(consoleLog).not.toHaveBeenCalled();
    const lines = written
      .join("")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.at(-1)).toMatchObject({
      level: "ERROR",
      service: "isc-trigger-subscriptions",
      message: expect.stringMatching(/ISC_CREDENTIALS_SECRET_ID is not set/),
    });
  });

  it("a plaintext ISC credentials secret: neither the failure reason nor the log quotes any of it", async () => {
    // A client secret pasted as plain text instead of JSON: V8's JSON.parse error quotes its start.
    const plaintext = "Qx7vZk93PfWm2tLr8Hn4";
    vi.stubEnv("ISC_CREDENTIALS_SECRET_ID", "acme/isc-credentials");
    vi.stubEnv("SAIL_BASE_URL", "https://acme.api.identitynow.com");
    vi.spyOn(SecretsManagerSecretsStore.prototype, "getSecretString").mockResolvedValue(plaintext);
    const written: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const { handler } = await import("../../../functions/subscriptions.ts");
    const event = {
      RequestType: "Create",
      ServiceToken: "arn:aws:lambda:us-east-1:000000000000:function:provider",
      ResponseURL: "https://cloudformation-custom-resource-response.example/",
      StackId: "arn:aws:cloudformation:us-east-1:000000000000:stack/s/1",
      RequestId: "r1",
      LogicalResourceId: "Subscriptions",
      ResourceType: "Custom::IscTriggerSubscriptions",
      ResourceProperties: { ServiceToken: "x" },
    };
    const error = await handler(event as never, { getRemainingTimeInMillis: () => 60_000 }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(Error);
    const reason = String(error?.message);
    expect(reason).toMatch(/acme\/isc-credentials/);
    expect(reason).toMatch(/clientId/);
    const logged = written.join("");
    expect(logged).toContain("acme/isc-credentials");
    // No run of 4 of the secret's characters, anywhere.
    for (let i = 0; i + 4 <= plaintext.length; i++) {
      expect(reason).not.toContain(plaintext.slice(i, i + 4));
      expect(logged).not.toContain(plaintext.slice(i, i + 4));
    }
  });
});
