import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createCachedCredentialsProvider,
  isAuthorized,
  parseWebhookCredentials,
} from "../../../lib/http/auth.ts";
import { IscClient } from "../../../lib/isc/client.ts";
import { type Sandbox, startSandbox } from "../../../lib/sandbox/index.ts";
import {
  DEFAULT_PREVIOUS_TOKEN_GRACE_MS,
  generateToken,
  handleRotationEvent,
  PROMOTION_SETTLE_MS,
  type RotationDeps,
  settledVersionId,
} from "../../../lib/subscriptions/rotation.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../../../lib/triggers/trigger-ids.ts";
import { MemorySecrets } from "./memory-secrets.ts";

const FUNCTION_URL = "https://abc123.lambda-url.eu-west-1.on.aws/";
const OLD = "oldTokenAAAAbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjj";
const NEW = "newTokenAAAAbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjj";
const NOW = Date.parse("2025-03-01T12:00:00Z");

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
    now: () => NOW,
    sleep: async (ms) => {
      secrets.events.push(`sleep ${ms}`);
    },
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
    const expiresAt = NOW + DEFAULT_PREVIOUS_TOKEN_GRACE_MS;
    expect(credentials).toEqual({
      type: "bearer",
      current: NEW,
      previous: OLD,
      previousExpiresAt: expiresAt,
    });
    // The handler accepts both while ISC moves over, and the old token only for the grace period.
    expect(isAuthorized(`Bearer ${NEW}`, credentials, NOW)).toBe(true);
    expect(isAuthorized(`Bearer ${OLD}`, credentials, NOW)).toBe(true);
    expect(isAuthorized(`Bearer ${OLD}`, credentials, expiresAt)).toBe(false);
    expect(isAuthorized(`Bearer ${NEW}`, credentials, expiresAt + 86_400_000)).toBe(true);
    // The expiry is written only after ISC was switched; nothing is left AWSPENDING (next rotation runs).
    expect(secrets.events).toEqual([
      "promote",
      `sleep ${PROMOTION_SETTLE_MS}`,
      "putCurrent",
      "removePending",
    ]);
    expect(Object.values((await secrets.describe()).versions).flat()).not.toContain("AWSPENDING");
    expect((await secrets.describe()).versions.v2).toEqual(["AWSPREVIOUS"]);

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
    // The old token never got an expiry: ISC still sends it.
    expect(parseWebhookCredentials(secrets.current()).previousExpiresAt).toBeUndefined();
    // Secrets Manager retries the failed step.
    const retry = { secrets, api, functionUrl: FUNCTION_URL, triggerIds: [PRE_APPROVAL], now: () => NOW };
    await handleRotationEvent({ Step: "finishSecret", SecretId: "webhook", ClientRequestToken: "v2" }, retry);
    expect(sandbox.state.subscriptions.get(ours.id)?.httpConfig?.bearerTokenAuthConfig?.bearerToken).toBe(
      NEW,
    );
    const settled = parseWebhookCredentials(secrets.current());
    expect(settled).toMatchObject({ current: NEW, previous: OLD });
    expect(settled.previousExpiresAt).toBe(NOW + DEFAULT_PREVIOUS_TOKEN_GRACE_MS);
    // Once more (its reply lost): nothing promoted back, no second expiry version, nothing fails.
    const versions = secrets.versions.size;
    await handleRotationEvent({ Step: "finishSecret", SecretId: "webhook", ClientRequestToken: "v2" }, retry);
    expect(secrets.versions.size).toBe(versions);
    expect(parseWebhookCredentials(secrets.current())).toEqual(settled);
  });

  it("a later rotation replaces the expiring previous token with the last current one", async () => {
    const secrets = new MemorySecrets(
      JSON.stringify({
        type: "bearer",
        current: OLD,
        previous: "older",
        previousExpiresAt: "2020-01-01T00:00:00Z",
      }),
    );
    await rotate(secrets);
    const credentials = parseWebhookCredentials(secrets.current());
    expect(credentials.previous).toBe(OLD);
    expect(credentials.previousExpiresAt).toBe(NOW + DEFAULT_PREVIOUS_TOKEN_GRACE_MS);
    expect(isAuthorized("Bearer older", credentials, NOW)).toBe(false);
  });

  it("basic credentials keep their username through rotation and expiry", async () => {
    const secrets = new MemorySecrets(JSON.stringify({ type: "basic", username: "isc", current: OLD }));
    await rotate(secrets, { triggerIds: [] });
    expect(parseWebhookCredentials(secrets.current())).toEqual({
      type: "basic",
      username: "isc",
      current: NEW,
      previous: OLD,
      previousExpiresAt: NOW + DEFAULT_PREVIOUS_TOKEN_GRACE_MS,
    });
  });

  it("the settled version id is a stable UUID per rotation", () => {
    expect(settledVersionId("v2")).toBe(settledVersionId("v2"));
    expect(settledVersionId("v2")).not.toBe(settledVersionId("v3"));
    expect(settledVersionId("v2")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it("a container that read the secret just before the promotion accepts ISC's new token at once", async () => {
    const secrets = new MemorySecrets(JSON.stringify({ type: "bearer", current: OLD }));
    await subscribe(PRE_APPROVAL, FUNCTION_URL);
    let clock = 0;
    const container = createCachedCredentialsProvider(async () => secrets.current(), { now: () => clock });
    await container.get();
    // The rotation starts 2 s later; ISC is switched when finishSecret's ISC calls run.
    clock = 2_000;
    await rotate(secrets, {
      sleep: async (ms) => {
        clock += ms;
      },
    });
    // The handler's path: the cached value refuses the new token, so it forces one re-read.
    const header = `Bearer ${NEW}`;
    const cached = container.peek?.();
    expect(cached !== undefined && isAuthorized(header, cached, clock)).toBe(false);
    expect(isAuthorized(header, await container.get({ forceRefresh: true }), clock)).toBe(true);
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
