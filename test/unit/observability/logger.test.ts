import { describe, expect, it } from "vitest";
import { createLogger } from "../../../lib/observability/logger.ts";
import { REDACTED, redact, redactString } from "../../../lib/observability/redact.ts";
import { createMemorySink } from "../../../lib/observability/sink.ts";
import { InvocationSecret } from "../../../lib/triggers/secret.ts";

// Distinct values so a leak of any of them is caught wherever it appears in a line.
const SECRETS = [
  "inv-secret-3a24d1e9",
  "client-secret-Zk9",
  "access-token-eyJhbGci",
  "bearer-token-48chars",
  "basic-dXNlcjpwYXNz",
  "hunter2-password",
  "cookie-session-77",
  "api-key-0451",
  "refresh-token-abc",
  "query-secret-qq",
  "auth-header-bb",
  "cause-token-cc",
  "meta-secret-dd",
];

function assertNoSecret(lines: string[]): void {
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) {
    for (const secret of SECRETS) expect(line, `line leaks ${secret}: ${line}`).not.toContain(secret);
  }
}

describe("redact", () => {
  it("masks sensitive keys at any depth, auth schemes and query secrets in strings", () => {
    expect(
      redact({
        clientSecret: "x",
        access_token: "x",
        bearerToken: "x",
        Authorization: "x",
        "X-Api-Key": "x",
        nested: [{ password: "x", ok: "Bearer abc.def", url: "https://h/p?secret=s1&a=1" }],
        fine: 3,
      }),
    ).toEqual({
      clientSecret: REDACTED,
      access_token: REDACTED,
      bearerToken: REDACTED,
      Authorization: REDACTED,
      "X-Api-Key": REDACTED,
      nested: [{ password: REDACTED, ok: `Bearer ${REDACTED}`, url: `https://h/p?secret=${REDACTED}&a=1` }],
      fine: 3,
    });
    expect(redactString("Authorization: Basic dXNlcjpwYXNz")).toBe(`Authorization: Basic ${REDACTED}`);
  });

  it("handles InvocationSecret, Map, Headers, URL, cycles and errors with causes", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const error = Object.assign(new Error("call failed with Bearer tok123"), {
      code: "X",
      headers: { authorization: "Bearer tok123" },
      cause: new Error("inner", { cause: { token: "t" } }),
    });
    const out = redact({
      s: new InvocationSecret("v"),
      m: new Map([["secret", "v"]]),
      h: new Headers({ authorization: "Bearer v", "content-type": "json" }),
      u: new URL("https://user:pw@h/p?access_token=v"),
      cyclic,
      error,
    }) as Record<string, unknown>;
    expect(out.s).toBe(REDACTED);
    expect(out.m).toEqual({ secret: REDACTED });
    expect(out.h).toEqual({ authorization: REDACTED, "content-type": "json" });
    expect(out.u).toBe(`https://user:${encodeURIComponent(REDACTED)}@h/p?access_token=${REDACTED}`);
    expect((out.cyclic as Record<string, unknown>).self).toBe("[circular]");
    expect(out.error).toMatchObject({
      name: "Error",
      message: `call failed with Bearer ${REDACTED}`,
      code: "X",
      headers: { authorization: REDACTED },
      cause: { message: "inner", cause: { token: REDACTED } },
    });
    expect(JSON.stringify(out)).not.toContain("tok123");
  });
});

describe("createLogger", () => {
  it("redacts every captured line: messages, attributes, persistent keys, errors with causes, children", () => {
    const sink = createMemorySink();
    const logger = createLogger({ serviceName: "test", logLevel: "DEBUG", sink: sink.console });
    logger.appendPersistentKeys({ session: { cookie: "cookie-session-77" } });
    logger.appendKeys({ apiKey: "api-key-0451" });

    logger.info("received invocation", {
      headers: { Authorization: "Bearer auth-header-bb", "content-type": "application/json" },
      body: {
        accessRequestId: "ar-1",
        _metadata: {
          secret: "meta-secret-dd",
          callbackURL: "https://acme.api.identitynow.com/beta/x/complete",
        },
      },
      secretWrapper: new InvocationSecret("inv-secret-3a24d1e9"),
    });
    logger.debug("token reply", {
      reply: { access_token: "access-token-eyJhbGci", refresh_token: "refresh-token-abc" },
    });
    logger.warn("calling with Bearer bearer-token-48chars and Basic basic-dXNlcjpwYXNz");
    logger.info("form", {
      request: {
        url: "https://h/oauth/token?client_secret=query-secret-qq",
        clientSecret: "client-secret-Zk9",
      },
    });
    const cause = Object.assign(new Error("db said no"), { details: { password: "hunter2-password" } });
    logger.error(
      "completion failed",
      Object.assign(new Error("401 Bearer cause-token-cc", { cause }), {
        request: { headers: { authorization: "x" } },
      }),
    );
    logger.error("wrapped", { error: new Error("e", { cause: { credential: "cause-token-cc" } }) });
    const child = logger.createChild({ persistentKeys: { child: true } });
    child.info("child line", { token: "bearer-token-48chars", list: [{ secret: "meta-secret-dd" }] });

    assertNoSecret(sink.lines);
    expect(sink.lines).toHaveLength(7);
    const records = sink.records();
    expect(records[0]).toMatchObject({
      level: "INFO",
      message: "received invocation",
      service: "test",
      headers: { Authorization: REDACTED, "content-type": "application/json" },
      body: { accessRequestId: "ar-1", _metadata: { secret: REDACTED } },
      secretWrapper: REDACTED,
      session: { cookie: REDACTED },
      apiKey: REDACTED,
    });
    expect(records[4]).toMatchObject({
      error: {
        name: "Error",
        message: `401 Bearer ${REDACTED}`,
        cause: { message: "db said no", details: { password: REDACTED } },
      },
    });
    expect(records[6]).toMatchObject({ child: true, token: REDACTED, message: "child line" });
  });

  it("a child built with its own formatter/replacer options still redacts", () => {
    const sink = createMemorySink();
    const logger = createLogger({ serviceName: "test", sink: sink.console });
    const child = logger.createChild({ jsonReplacerFn: (_k: string, v: unknown) => v } as never);
    child.info("x", { password: "hunter2-password" });
    assertNoSecret(sink.lines);
  });
});

describe("credentials inside text", () => {
  it("masks sensitive JSON pairs and form pairs written inside strings (raw bodies, parse errors)", () => {
    const sink = createMemorySink();
    const logger = createLogger({ serviceName: "test", sink: sink.console });
    logger.info("raw body", { body: '{"_metadata":{"secret":"inv-secret-3a24d1e9","callbackURL":"x"}}' });
    logger.info('reply {"access_token": "access-token-eyJhbGci", "expires_in": 749}');
    logger.info("escaped", { detail: '{\\"client_secret\\":\\"client-secret-Zk9\\"}' });
    logger.info("client_secret=client-secret-Zk9&grant_type=client_credentials");
    logger.info("form body: password=hunter2-password&user=ed");
    assertNoSecret(sink.lines);
    // Non-sensitive pairs are left readable.
    expect(sink.lines.join("\n")).toContain("callbackURL");
    expect(sink.lines.join("\n")).toContain("749");
    expect(redactString('{"secret":"a\\"b","ok":"yes"}')).toBe(`{"secret":"${REDACTED}","ok":"yes"}`);
  });
});
