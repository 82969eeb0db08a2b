import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { isAuthorized, parseWebhookCredentials } from "../../../lib/http/auth.ts";
import { IscClient } from "../../../lib/isc/client.ts";
import { type Sandbox, startSandbox } from "../../../lib/sandbox/index.ts";
import {
  generateToken,
  handleRotationEvent,
  type RotationDeps,
  type RotationSecretsApi,
} from "../../../lib/subscriptions/rotation.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../../../lib/triggers/trigger-ids.ts";

const FUNCTION_URL = "https://abc123.lambda-url.eu-west-1.on.aws/";
const OLD = "oldTokenAAAAbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjj";
const NEW = "newTokenAAAAbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjj";

/** Secrets Manager in memory: versions with staging labels. */
class MemorySecrets implements RotationSecretsApi {
  versions = new Map<string, { value: string | undefined; stages: string[] }>();
  rotationEnabled = true;

  constructor(initial: string) {
    this.versions.set("v1", { value: initial, stages: ["AWSCURRENT"] });
  }
  async describe() {
    return {
      rotationEnabled: this.rotationEnabled,
      versions: Object.fromEntries([...this.versions].map(([id, v]) => [id, [...v.stages]])),
    };
  }
  async getValue(_id: string, version: { versionId?: string; stage?: string }) {
    for (const [id, v] of this.versions) {
      if (version.versionId !== undefined && id !== version.versionId) continue;
      if (version.stage !== undefined && !v.stages.includes(version.stage)) continue;
      return v.value;
    }
    return undefined;
  }
  /** RotateSecret: Secrets Manager labels the new version id AWSPENDING before calling createSecret. */
  startRotation(versionId: string) {
    if (!this.versions.has(versionId))
      this.versions.set(versionId, { value: undefined, stages: ["AWSPENDING"] });
  }
  async putPending(_id: string, versionId: string, value: string) {
    this.versions.set(versionId, { value, stages: ["AWSPENDING"] });
  }
  async promote(_id: string, versionId: string, from: string | undefined) {
    if (from) {
      const old = this.versions.get(from)!;
      old.stages = old.stages.filter((s) => s !== "AWSCURRENT").concat("AWSPREVIOUS");
    }
    const next = this.versions.get(versionId)!;
    next.stages = next.stages.filter((s) => s !== "AWSPENDING").concat("AWSCURRENT");
  }
  current(): string {
    return [...this.versions.values()].find((v) => v.stages.includes("AWSCURRENT"))!.value ?? "";
  }
}

let sandbox: Sandbox;
let api: IscClient;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, rateLimit: false });
  api = new IscClient({
    baseUrl: sandbox.baseUrl,
    clientId: sandbox.clientId,
    clientSecret: sandbox.clientSecret,
    rateLimit: false,
  });
});

afterAll(async () => {
  await sandbox.close();
});

beforeEach(() => {
  sandbox.state.subscriptions.clear();
});

async function subscribe(triggerId: string, url: string) {
  return api.createSubscription({
    name: "s",
    triggerId,
    type: "HTTP",
    httpConfig: {
      url,
      httpDispatchMode: "ASYNC",
      httpAuthenticationType: "BEARER_TOKEN",
      bearerTokenAuthConfig: { bearerToken: OLD },
    },
    filter: '$[?($.accessRequestId != "")]',
  });
}

async function rotate(secrets: MemorySecrets, deps: Partial<RotationDeps> = {}) {
  const all: RotationDeps = {
    secrets,
    api,
    functionUrl: FUNCTION_URL,
    triggerIds: [PRE_APPROVAL, DYNAMIC_APPROVER],
    newToken: () => NEW,
    ...deps,
  };
  secrets.startRotation("v2");
  for (const Step of ["createSecret", "setSecret", "testSecret", "finishSecret"] as const) {
    await handleRotationEvent({ Step, SecretId: "webhook", ClientRequestToken: "v2" }, all);
  }
}

describe("webhook token rotation", () => {
  it("keeps the old token as previous, promotes, then switches this deployment's subscriptions only", async () => {
    const secrets = new MemorySecrets(JSON.stringify({ type: "bearer", current: OLD }));
    const ours = await subscribe(PRE_APPROVAL, FUNCTION_URL);
    const theirs = await subscribe(DYNAMIC_APPROVER, "https://someone-else.example.com/hook");

    await rotate(secrets);

    const credentials = parseWebhookCredentials(secrets.current());
    expect(credentials).toEqual({ type: "bearer", current: NEW, previous: OLD });
    // The handler accepts both while ISC moves over.
    expect(isAuthorized(`Bearer ${NEW}`, credentials)).toBe(true);
    expect(isAuthorized(`Bearer ${OLD}`, credentials)).toBe(true);

    const stored = sandbox.state.subscriptions.get(ours.id);
    expect(stored?.httpConfig?.bearerTokenAuthConfig?.bearerToken).toBe(NEW);
    // Everything else is kept as ISC had it.
    expect(stored?.httpConfig?.httpDispatchMode).toBe("ASYNC");
    expect(stored?.filter).toBe('$[?($.accessRequestId != "")]');
    expect(sandbox.state.subscriptions.get(theirs.id)?.httpConfig?.bearerTokenAuthConfig?.bearerToken).toBe(
      OLD,
    );
  });

  it("is idempotent: re-running finishSecret after an ISC failure completes the switch", async () => {
    const secrets = new MemorySecrets(JSON.stringify({ type: "bearer", current: OLD }));
    const ours = await subscribe(PRE_APPROVAL, FUNCTION_URL);
    sandbox.setFaults({ rate: 1, kinds: { status500: 1 }, paths: /trigger-subscriptions/ });
    const failing = new IscClient({
      baseUrl: sandbox.baseUrl,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
      rateLimit: false,
      retry: { maxAttempts: 1 },
    });
    await expect(rotate(secrets, { api: failing })).rejects.toThrow(/status 500/);
    sandbox.setFaults(undefined);
    // Secrets Manager retries the failed step.
    await handleRotationEvent(
      { Step: "finishSecret", SecretId: "webhook", ClientRequestToken: "v2" },
      { secrets, api, functionUrl: FUNCTION_URL, triggerIds: [PRE_APPROVAL] },
    );
    expect(sandbox.state.subscriptions.get(ours.id)?.httpConfig?.bearerTokenAuthConfig?.bearerToken).toBe(
      NEW,
    );
    expect(parseWebhookCredentials(secrets.current()).current).toBe(NEW);
  });

  it("createSecret does not overwrite an existing pending version", async () => {
    const secrets = new MemorySecrets(JSON.stringify({ type: "bearer", current: OLD }));
    await secrets.putPending(
      "webhook",
      "v2",
      JSON.stringify({ type: "bearer", current: "already-there", previous: OLD }),
    );
    await handleRotationEvent(
      { Step: "createSecret", SecretId: "webhook", ClientRequestToken: "v2" },
      { secrets, api, functionUrl: FUNCTION_URL, triggerIds: [PRE_APPROVAL], newToken: () => NEW },
    );
    expect(JSON.parse((await secrets.getValue("webhook", { versionId: "v2" })) ?? "{}").current).toBe(
      "already-there",
    );
  });

  it("refuses to run when rotation is not enabled on the secret", async () => {
    const secrets = new MemorySecrets(JSON.stringify({ type: "bearer", current: OLD }));
    secrets.rotationEnabled = false;
    await expect(rotate(secrets)).rejects.toThrow(/rotation is not enabled/);
  });

  it("generates 48 letters and digits", () => {
    const token = generateToken();
    expect(token).toMatch(/^[A-Za-z0-9]{48}$/);
    expect(generateToken()).not.toBe(token);
  });
});
