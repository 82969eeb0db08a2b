import { afterEach, describe, expect, it, vi } from "vitest";

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
});
