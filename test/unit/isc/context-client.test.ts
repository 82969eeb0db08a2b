/**
 * The context-only ISC client (the http function's) and its rotating variant: the same checks of its
 * options as IscClient, one token per client, and a rotated credentials secret picked up by the next read.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemorySecretsStore } from "../../../lib/adapters/local/secrets.ts";
import { IscClient } from "../../../lib/isc/client.ts";
import { IscContextClient } from "../../../lib/isc/context-client.ts";
import { rotatingIscContextClient } from "../../../lib/isc/credentials.ts";
import { ConfigError } from "../../../lib/isc/errors.ts";
import { contextRoute, IDS, identity } from "./context-fixtures.ts";
import { type FakeTenant, startFakeTenant } from "./fake-tenant.ts";

let tenant: FakeTenant;
beforeAll(async () => {
  tenant = await startFakeTenant((request) => contextRoute(request) ?? { status: 200, body: [] });
});
afterAll(async () => {
  await tenant.close();
});

describe("IscContextClient", () => {
  it.each([
    ["http://acme.example.com", /https/],
    ["https://acme.api.identitynow.com/v3", /without a path/],
    ["not a url", /not a valid URL/],
  ])("refuses the base URL %s as IscClient does", (baseUrl, message) => {
    const options = { baseUrl, clientId: "id", clientSecret: "secret" };
    expect(() => new IscContextClient(options)).toThrow(message);
    expect(() => new IscClient(options)).toThrow(message);
  });

  it("refuses empty credentials, naming the variable", () => {
    const base = { baseUrl: tenant.baseUrl, rateLimit: false as const };
    expect(() => new IscContextClient({ ...base, clientId: "", clientSecret: "s" })).toThrow(ConfigError);
    expect(() => new IscContextClient({ ...base, clientId: "i", clientSecret: "" })).toThrow(
      /SAIL_CLIENT_SECRET/,
    );
  });

  it("reads with one token for several reads and normalises the base URL to its origin", async () => {
    const client = new IscContextClient({
      baseUrl: `${tenant.baseUrl}/`,
      clientId: "client-id",
      clientSecret: "client-secret",
      rateLimit: false,
    });
    expect(client.baseUrl).toBe(tenant.baseUrl);
    await expect(client.context.getIdentity(IDS.identity)).resolves.toEqual(identity);
    await client.context.getIdentity(IDS.identity);
    expect(client.tokenRequests).toBe(1);
  });
});

describe("rotatingIscContextClient", () => {
  it("builds a client per credentials value: a rotated secret is used by the next read", async () => {
    const secrets = new MemorySecretsStore({ creds: '{"clientId": "a", "clientSecret": "1"}' });
    const built: string[] = [];
    const tokensBefore = tenant.tokenRequests.length;
    const reads = rotatingIscContextClient(secrets, "creds", (credentials) => {
      built.push(`${credentials.clientId}:${credentials.clientSecret}`);
      return new IscContextClient({ baseUrl: tenant.baseUrl, ...credentials, rateLimit: false });
    });
    await reads.context.getIdentity(IDS.identity);
    await reads.context.getIdentity(IDS.identity);
    expect(built).toEqual(["a:1"]);
    secrets.set("creds", '{"clientId": "a", "clientSecret": "2"}');
    await expect(reads.context.getIdentity(IDS.identity)).resolves.toEqual(identity);
    expect(built).toEqual(["a:1", "a:2"]);
    // One token per client: the rotated secret's client asked for its own.
    expect(tenant.tokenRequests.length - tokensBefore).toBe(2);
  });

  it("a malformed secret fails the read without quoting it", async () => {
    const secrets = new MemorySecretsStore({ creds: '{"clientId": "a", "clientSecret": ""}' });
    const reads = rotatingIscContextClient(
      secrets,
      "creds",
      () => new IscContextClient({ baseUrl: tenant.baseUrl, clientId: "x", clientSecret: "y" }),
    );
    await expect(reads.context.getIdentity(IDS.identity)).rejects.toThrow(/secret creds must hold/);
  });
});
