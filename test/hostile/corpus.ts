/**
 * The hostile-input corpus: malicious or malformed requests for the HTTP endpoint, each with the
 * status the handler must answer. Data tables expanded over a few dimensions (response modes, the
 * live tenant and attacker addresses), so adding a case is adding a row.
 *
 * Every case must be refused: none may lead to a completion, a queued message or any request to a
 * host other than the tenant. Cases use valid credentials unless they test auth, so each one
 * exercises exactly one defence.
 */

export type HostileCategory =
  | "broken-json"
  | "not-an-object"
  | "deep-nesting"
  | "huge-body"
  | "wrong-types"
  | "missing-metadata"
  | "unknown-trigger"
  | "callback-url"
  | "auth"
  | "method"
  | "header-injection";

export interface HostileCase {
  id: string;
  category: HostileCategory;
  expectStatus: 400 | 401 | 405 | 413;
  method: string;
  /** Extra request headers; `authorization` is the valid one unless set here (null = none). */
  headers: Record<string, string | null>;
  body: string | Buffer;
  /** When set, sent byte for byte on a raw socket (for requests an HTTP client refuses to build). */
  raw?: (host: string) => string;
}

export interface CorpusEnv {
  /** The sandbox tenant, e.g. `http://127.0.0.1:41234` (the only origin a callback may go to). */
  tenantBaseUrl: string;
  /** A loopback server that must receive nothing, e.g. `http://127.0.0.1:41235`. */
  attackerBaseUrl: string;
  /** The valid inbound bearer token. */
  bearerToken: string;
}

const PRE_APPROVAL = "idn:access-request-pre-approval";
const DYNAMIC_APPROVER = "idn:access-request-dynamic-approver";
/** Ids used in corpus bodies; none is a live sandbox invocation, so even a wrongly accepted case could not complete. */
const INVOCATION_ID = "0badc0de-0000-4000-8000-000000000001";

export function validInput(): Record<string, unknown> {
  return {
    accessRequestId: "2c91808b6ef1d43e016efba0ce470904",
    requestedFor: { type: "IDENTITY", id: "2c91808568c529c60168cca6f90c1313", name: "William Wilson" },
    requestedItems: [
      {
        id: "2c91808b6ef1d43e016efba0ce470904",
        name: "Engineering Access",
        description: "Access to engineering database",
        type: "ACCESS_PROFILE",
        operation: "Add",
        comment: "needed",
      },
    ],
    requestedBy: { type: "IDENTITY", id: "2c91808568c529c60168cca6f90c1314", name: "Rob Robertson" },
  };
}

function asyncMetadata(env: CorpusEnv, mode = "async", triggerId = PRE_APPROVAL): Record<string, unknown> {
  return {
    triggerId,
    triggerType: "requestResponse",
    responseMode: mode,
    callbackURL: `${env.tenantBaseUrl}/beta/trigger-invocations/${INVOCATION_ID}/complete`,
    secret: "hostile-corpus-secret-0001",
  };
}

function body(env: CorpusEnv, patch: (b: Record<string, unknown>) => void, mode = "async"): string {
  const b: Record<string, unknown> = { ...validInput(), _metadata: asyncMetadata(env, mode) };
  patch(b);
  return JSON.stringify(b);
}

function withField(env: CorpusEnv, key: string, value: unknown): string {
  return body(env, (b) => {
    b[key] = value;
  });
}

function withoutField(env: CorpusEnv, key: string): string {
  return body(env, (b) => {
    delete b[key];
  });
}

function withMeta(env: CorpusEnv, meta: Record<string, unknown>, mode = "async"): string {
  return body(
    env,
    (b) => {
      b._metadata = { ...(b._metadata as Record<string, unknown>), ...meta };
    },
    mode,
  );
}

function withoutMeta(env: CorpusEnv, key: string, mode = "async"): string {
  return body(
    env,
    (b) => {
      delete (b._metadata as Record<string, unknown>)[key];
    },
    mode,
  );
}

function nested(depth: number, open: string, close: string, leaf = "1"): string {
  return open.repeat(depth) + leaf + close.repeat(depth);
}

/** A valid (small) body, for the auth and method cases. */
function validBody(env: CorpusEnv): string {
  return body(env, () => {});
}

function brokenJson(env: CorpusEnv): Array<[string, string | Buffer]> {
  const valid = validBody(env);
  return [
    ["empty", ""],
    ["whitespace", "   \n\t "],
    ["open-brace", "{"],
    ["close-brace", "}"],
    ["open-bracket", "["],
    ["truncated-half", valid.slice(0, Math.floor(valid.length / 2))],
    ["truncated-last-byte", valid.slice(0, -1)],
    ["trailing-comma", valid.replace(/}$/, ",}")],
    ["single-quotes", "{'_metadata': {'triggerId': 'x'}}"],
    ["unquoted-keys", "{_metadata: {triggerId: 1}}"],
    ["comments", `/* hi */${valid}`],
    ["two-objects", valid + valid],
    ["nan", '{"a": NaN}'],
    ["infinity", '{"a": Infinity}'],
    ["hex-number", '{"a": 0x10}'],
    ["undefined-literal", "undefined"],
    ["nul-byte", `${valid.slice(0, 10)}\u0000${valid.slice(10)}`],
    ["bad-escape", '{"a": "\\x41"}'],
    ["control-char-in-string", '{"a": "line\nbreak"}'],
    [
      "invalid-utf8",
      Buffer.concat([Buffer.from('{"a": "'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]),
    ],
    ["utf16-bom", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(valid, "utf16le")])],
    ["form-encoded", "triggerId=idn%3Aaccess-request-pre-approval&secret=x"],
    ["xml", "<?xml version='1.0'?><a/>"],
    ["missing-colon", '{"_metadata" {}}'],
  ];
}

function notAnObject(env: CorpusEnv): Array<[string, string]> {
  return [
    ["null", "null"],
    ["true", "true"],
    ["number", "42"],
    ["huge-number", "1e999"],
    ["string", '"hello"'],
    ["empty-array", "[]"],
    ["array-of-body", `[${validBody(env)}]`],
    ["string-of-body", JSON.stringify(validBody(env))],
  ];
}

function deepNesting(env: CorpusEnv): Array<[string, string]> {
  return [
    ["arrays-10k", nested(10_000, "[", "]")],
    ["objects-10k", nested(10_000, '{"a":', "}")],
    ["arrays-100k", nested(100_000, "[", "]")],
    ["objects-65", nested(65, '{"a":', "}", "{}")],
    ["deep-in-metadata", withMeta(env, { extra: JSON.parse(nested(200, '{"a":', "}")) })],
    [
      "deep-in-form",
      body(env, (b) => {
        (b.requestedItems as Array<Record<string, unknown>>)[0]!.form = JSON.parse(nested(500, '{"f":', "}"));
      }),
    ],
    [
      "deep-in-requestedFor",
      body(env, (b) => {
        b.requestedFor = JSON.parse(nested(300, "[", "]", "{}"));
      }),
    ],
    [
      "deep-extra-field",
      body(env, (b) => {
        b.extra = JSON.parse(nested(1_000, "[", "]"));
      }),
    ],
  ];
}

function hugeBodies(env: CorpusEnv): Array<[string, string]> {
  return [
    [
      "padded-300k",
      body(env, (b) => {
        b.padding = "x".repeat(300_000);
      }),
    ],
    [
      "padded-1m",
      body(env, (b) => {
        b.padding = "x".repeat(1_000_000);
      }),
    ],
    [
      "many-keys",
      body(env, (b) => {
        for (let i = 0; i < 40_000; i++) b[`k${i}`] = i;
      }),
    ],
    [
      "huge-comment",
      body(env, (b) => {
        (b.requestedItems as Array<Record<string, unknown>>)[0]!.comment = "é".repeat(200_000);
      }),
    ],
    ["huge-secret", withMeta(env, { secret: "s".repeat(400_000) })],
    ["whitespace-300k", `${" ".repeat(300_000)}{}`],
  ];
}

function wrongTypes(env: CorpusEnv): Array<[string, string]> {
  const items = (patch: Record<string, unknown>) =>
    body(env, (b) => {
      const list = b.requestedItems as Array<Record<string, unknown>>;
      list[0] = { ...list[0], ...patch };
    });
  const item = (validInput().requestedItems as unknown[])[0];
  const identity = validInput().requestedBy;
  return [
    ["accessRequestId-number", withField(env, "accessRequestId", 123)],
    ["accessRequestId-empty", withField(env, "accessRequestId", "")],
    ["accessRequestId-missing", withoutField(env, "accessRequestId")],
    ["requestedItems-object", withField(env, "requestedItems", item)],
    ["requestedItems-empty", withField(env, "requestedItems", [])],
    [
      "requestedItems-26",
      withField(
        env,
        "requestedItems",
        Array.from({ length: 26 }, () => item),
      ),
    ],
    ["requestedItems-null", withField(env, "requestedItems", null)],
    ["requestedItems-strings", withField(env, "requestedItems", ["a"])],
    ["item-type-invalid", items({ type: "SUPERUSER" })],
    ["item-type-lowercase", items({ type: "role" })],
    ["item-operation-invalid", items({ operation: "Grant" })],
    ["item-id-missing", items({ id: undefined })],
    ["item-id-number", items({ id: 7 })],
    ["item-form-string", items({ form: "x" })],
    ["requestedFor-empty-array", withField(env, "requestedFor", [])],
    [
      "requestedFor-11",
      withField(
        env,
        "requestedFor",
        Array.from({ length: 11 }, () => identity),
      ),
    ],
    ["requestedFor-string", withField(env, "requestedFor", "William")],
    ["requestedFor-id-missing", withField(env, "requestedFor", { type: "IDENTITY", name: "x" })],
    ["requestedBy-missing", withoutField(env, "requestedBy")],
    ["requestedBy-array", withField(env, "requestedBy", [identity])],
    ["metadata-string", withField(env, "_metadata", "idn:access-request-pre-approval")],
    ["metadata-array", withField(env, "_metadata", [asyncMetadata(env)])],
    ["triggerType-invalid", withMeta(env, { triggerType: "fireAndForgetOrNot" })],
    ["responseMode-uppercase", withMeta(env, { responseMode: "ASYNC" })],
    ["responseMode-number", withMeta(env, { responseMode: 1 })],
    ["secret-empty", withMeta(env, { secret: "" })],
    ["secret-number", withMeta(env, { secret: 12345 })],
    ["secret-object", withMeta(env, { secret: { value: "x" } })],
    ["callbackURL-number", withMeta(env, { callbackURL: 42 })],
    [
      "callbackURL-array",
      withMeta(env, { callbackURL: [`${env.tenantBaseUrl}/beta/trigger-invocations/x/complete`] }),
    ],
    ["triggerId-number", withMeta(env, { triggerId: 1 })],
    ["async-without-callback", withoutMeta(env, "callbackURL")],
    ["async-without-secret", withoutMeta(env, "secret")],
    ["dynamic-without-callback", withoutMeta(env, "callbackURL", "dynamic")],
    ["invocationId-mismatch", withMeta(env, { invocationId: "0badc0de-0000-4000-8000-000000000002" })],
  ];
}

function missingMetadata(env: CorpusEnv): Array<[string, string]> {
  return [
    ["no-metadata", JSON.stringify(validInput())],
    ["metadata-null", withField(env, "_metadata", null)],
    ["metadata-empty", withField(env, "_metadata", {})],
    ["no-triggerId", withoutMeta(env, "triggerId")],
    ["no-triggerType", withoutMeta(env, "triggerType")],
    [
      "metadata-misspelled",
      body(env, (b) => {
        b.metadata = b._metadata;
        delete b._metadata;
      }),
    ],
    [
      "metadata-nested-in-input",
      body(env, (b) => {
        b.input = { _metadata: b._metadata };
        delete b._metadata;
      }),
    ],
    [
      "proto-metadata",
      body(env, (b) => {
        delete b._metadata;
      }).replace(/^\{/, `{"__proto__": {"_metadata": ${JSON.stringify(asyncMetadata(env))}},`),
    ],
  ];
}

function unknownTriggers(env: CorpusEnv): Array<[string, string]> {
  return [
    ["unknown-id", withMeta(env, { triggerId: "idn:does-not-exist" })],
    ["empty-id", withMeta(env, { triggerId: "" })],
    ["uppercase-id", withMeta(env, { triggerId: PRE_APPROVAL.toUpperCase() })],
    ["trailing-space", withMeta(env, { triggerId: `${PRE_APPROVAL} ` })],
    ["leading-space", withMeta(env, { triggerId: ` ${PRE_APPROVAL}` })],
    ["proto-id", withMeta(env, { triggerId: "__proto__" })],
    ["constructor-id", withMeta(env, { triggerId: "constructor" })],
    ["post-approval-as-request-response", withMeta(env, { triggerId: "idn:access-request-post-approval" })],
    ["pre-approval-as-fire-and-forget", withMeta(env, { triggerType: "fireAndForget" })],
    ["other-idn-trigger", withMeta(env, { triggerId: "idn:identity-created" })],
    ["very-long-id", withMeta(env, { triggerId: `idn:${"a".repeat(10_000)}` })],
  ];
}

/** callbackURLs that must be refused, as functions of the live tenant and attacker origins. */
function hostileCallbackUrls(env: CorpusEnv): Array<[string, string]> {
  const tenant = new URL(env.tenantBaseUrl);
  const attacker = new URL(env.attackerBaseUrl);
  const t = tenant.host; // 127.0.0.1:PORT
  const a = attacker.host;
  const tp = tenant.port;
  const path = `/beta/trigger-invocations/${INVOCATION_ID}/complete`;
  return [
    ["attacker-host", `${env.attackerBaseUrl}${path}`],
    ["attacker-v1-path", `${env.attackerBaseUrl}/trigger-invocations/v1/${INVOCATION_ID}/complete`],
    ["example-host", `https://evil.example.com${path}`],
    ["tenant-lookalike-suffix", `http://${tenant.hostname}.evil.example.com:${tp}${path}`],
    ["localhost-alias", `http://localhost:${tp}${path}`],
    ["ipv6-loopback", `http://[::1]:${tp}${path}`],
    ["ipv4-mapped-ipv6", `http://[::ffff:127.0.0.1]:${tp}${path}`],
    ["decimal-ip", `http://2130706433:${tp}${path}`],
    ["hex-ip", `http://0x7f.0.0.1:${tp}${path}`],
    ["octal-ip", `http://0177.0.0.1:${tp}${path}`],
    ["short-ip", `http://127.1:${tp}${path}`],
    ["trailing-dot", `http://${tenant.hostname}.:${tp}${path}`],
    ["other-port-attacker", `http://${tenant.hostname}:${attacker.port}${path}`],
    ["no-port", `http://${tenant.hostname}${path}`],
    ["port-zero-padded", `http://${tenant.hostname}:0${tp}${path}`],
    ["https-scheme", `https://${t}${path}`],
    ["ftp-scheme", `ftp://${t}${path}`],
    ["file-scheme", `file:///etc/passwd`],
    ["javascript-scheme", `javascript:alert(1)//${t}${path}`],
    ["data-scheme", `data:text/plain,${t}${path}`],
    ["uppercase-scheme", `HTTP://${t}${path}`],
    ["scheme-relative", `//${a}${path}`],
    ["path-only", path],
    ["userinfo-user", `http://user@${t}${path}`],
    ["userinfo-user-pass", `http://user:pass@${t}${path}`],
    ["userinfo-empty", `http://@${t}${path}`],
    ["at-trick-tenant-as-user", `http://${t}@${a}${path}`],
    ["at-trick-encoded", `http://${t}%40${a}${path}`],
    ["at-trick-in-path", `http://${a}/@${t}${path}`],
    ["backslash-host", `http://${a}\\@${t}${path}`],
    ["backslash-scheme", `http:\\\\${a}${path}`],
    ["backslash-path", `http://${t}\\beta\\trigger-invocations\\${INVOCATION_ID}\\complete`],
    ["hash-host-trick", `http://${a}#@${t}${path}`],
    ["question-host-trick", `http://${a}?@${t}${path}`],
    ["tab-in-host", `http://${tenant.hostname}\t:${tp}${path}`],
    ["newline-in-url", `http://${t}${path}\r\nHost: ${a}`],
    ["encoded-dot-dot", `http://${t}/beta/trigger-invocations/%2e%2e/${INVOCATION_ID}/complete`],
    ["encoded-dot-dot-upper", `http://${t}/beta/trigger-invocations/%2E%2E/%2E%2E/complete`],
    ["dot-dot-segments", `http://${t}/beta/trigger-invocations/../../oauth/token`],
    ["dot-segment", `http://${t}/beta/./trigger-invocations/${INVOCATION_ID}/complete`],
    ["encoded-slash-id", `http://${t}/beta/trigger-invocations/a%2F..%2F..%2Foauth/complete`],
    ["double-slash", `http://${t}/beta//trigger-invocations/${INVOCATION_ID}/complete`],
    ["query-string", `http://${t}${path}?redirect=${env.attackerBaseUrl}`],
    ["fragment", `http://${t}${path}#x`],
    ["trailing-slash", `http://${t}${path}/`],
    ["wrong-path", `http://${t}/beta/trigger-subscriptions`],
    ["oauth-path", `http://${t}/oauth/token`],
    ["v3-path", `http://${t}/v3/trigger-invocations/${INVOCATION_ID}/complete`],
    ["unicode-host", `http://аcme.api.identitynow.com:${tp}${path}`],
    ["punycode-host", `http://xn--cme-8cd.api.identitynow.com:${tp}${path}`],
    ["fullwidth-dot-host", `http://127\u30020\u30020\u30021:${tp}${path}`],
    ["fullwidth-digits", `http://１２７.０.０.１:${tp}${path}`],
    ["percent-encoded-host", `http://%31%32%37.0.0.1:${tp}${path}`],
    ["leading-space", ` ${env.tenantBaseUrl}${path}`],
    ["trailing-space", `${env.tenantBaseUrl}${path} `],
    ["empty", ""],
    ["over-512-chars", `${env.tenantBaseUrl}/beta/trigger-invocations/${"a".repeat(600)}/complete`],
    ["id-too-long", `${env.tenantBaseUrl}/beta/trigger-invocations/${"a".repeat(65)}/complete`],
  ];
}

function authCases(env: CorpusEnv): Array<[string, string | null]> {
  const token = env.bearerToken;
  return [
    ["missing", null],
    ["empty", ""],
    ["scheme-only", "Bearer"],
    ["scheme-space", "Bearer "],
    ["wrong-token", "Bearer not-the-token"],
    ["token-prefix", `Bearer ${token.slice(0, -1)}`],
    ["token-suffix", `Bearer ${token}x`],
    ["token-uppercased", `Bearer ${token.toUpperCase()}x`],
    ["token-without-scheme", token],
    ["basic-with-token", `Basic ${Buffer.from(`user:${token}`).toString("base64")}`],
    ["basic-token-as-user", `Basic ${Buffer.from(`${token}:`).toString("base64")}`],
    ["token-scheme", `Token ${token}`],
    ["digest-scheme", `Digest username="x"`],
    ["bearer-colon", `Bearer: ${token}`],
    ["bearer-base64", `Bearer ${Buffer.from(token).toString("base64")}`],
    ["two-tokens", `Bearer wrong, Bearer ${token}`],
    ["very-long", `Bearer ${"x".repeat(8_000)}`],
    ["unicode", "Bearer tökén"],
  ];
}

/** Raw requests Node's HTTP client would refuse to build: smuggling and header injection. */
function rawCases(env: CorpusEnv): Array<[string, (host: string) => string]> {
  const auth = `Authorization: Bearer ${env.bearerToken}`;
  // A hostile body too: should a parser ever accept the request, the handler still refuses it.
  const b = withMeta(env, {
    callbackURL: `${env.attackerBaseUrl}/beta/trigger-invocations/${INVOCATION_ID}/complete`,
  });
  return [
    [
      "cl-te-smuggling",
      (host) =>
        `POST / HTTP/1.1\r\nHost: ${host}\r\n${auth}\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    ],
    [
      "obs-fold-header",
      (host) =>
        `POST / HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer\r\n ${env.bearerToken}\r\nContent-Length: ${b.length}\r\n\r\n${b}`,
    ],
    [
      "bare-lf-injection",
      (host) =>
        `POST / HTTP/1.1\r\nHost: ${host}\r\nX-A: 1\nAuthorization: Bearer ${env.bearerToken}\r\nContent-Length: ${b.length}\r\n\r\n${b}`,
    ],
    [
      "duplicate-content-length",
      (host) =>
        `POST / HTTP/1.1\r\nHost: ${host}\r\n${auth}\r\nContent-Length: 2\r\nContent-Length: ${b.length}\r\n\r\n${b}`,
    ],
    [
      "nul-in-header",
      (host) => `POST / HTTP/1.1\r\nHost: ${host}\r\n${auth}\r\nX-A: a\u0000b\r\nContent-Length: 2\r\n\r\n{}`,
    ],
  ];
}

/** The whole corpus, expanded against the live addresses. */
export function buildCorpus(env: CorpusEnv): HostileCase[] {
  const cases: HostileCase[] = [];
  const add = (
    c: Omit<HostileCase, "method" | "headers"> & Partial<Pick<HostileCase, "method" | "headers">>,
  ) => {
    cases.push({ method: "POST", headers: {}, ...c });
  };

  for (const [name, b] of brokenJson(env))
    add({ id: `broken-json/${name}`, category: "broken-json", expectStatus: 400, body: b });
  for (const [name, b] of notAnObject(env))
    add({ id: `not-an-object/${name}`, category: "not-an-object", expectStatus: 400, body: b });
  for (const [name, b] of deepNesting(env)) {
    add({
      id: `deep-nesting/${name}`,
      category: "deep-nesting",
      expectStatus: b.length > 262_144 ? 413 : 400,
      body: b,
    });
  }
  for (const [name, b] of hugeBodies(env))
    add({ id: `huge-body/${name}`, category: "huge-body", expectStatus: 413, body: b });
  for (const [name, b] of wrongTypes(env))
    add({ id: `wrong-types/${name}`, category: "wrong-types", expectStatus: 400, body: b });
  for (const [name, b] of missingMetadata(env)) {
    add({ id: `missing-metadata/${name}`, category: "missing-metadata", expectStatus: 400, body: b });
  }
  for (const [name, b] of unknownTriggers(env)) {
    add({ id: `unknown-trigger/${name}`, category: "unknown-trigger", expectStatus: 400, body: b });
  }
  // Each hostile callbackURL in both modes that carry one, and in a dynamic-approver body too for the host tricks.
  for (const [name, url] of hostileCallbackUrls(env)) {
    for (const mode of ["async", "dynamic"]) {
      add({
        id: `callback-url/${mode}/${name}`,
        category: "callback-url",
        expectStatus: 400,
        body: withMeta(env, { callbackURL: url }, mode),
      });
    }
    // A sync invocation that nonetheless carries a hostile callbackURL is refused too (never stored for later).
    add({
      id: `callback-url/sync/${name}`,
      category: "callback-url",
      expectStatus: 400,
      body: withMeta(env, { callbackURL: url, triggerId: DYNAMIC_APPROVER }, "sync"),
    });
  }
  for (const [name, header] of authCases(env)) {
    add({
      id: `auth/${name}`,
      category: "auth",
      expectStatus: 401,
      headers: { authorization: header },
      body: validBody(env),
    });
    // Bad auth wins over a bad body: nothing about the payload is looked at before the caller is known.
    add({
      id: `auth/${name}+hostile-callback`,
      category: "auth",
      expectStatus: 401,
      headers: { authorization: header },
      body: withMeta(env, {
        callbackURL: `${env.attackerBaseUrl}/beta/trigger-invocations/${INVOCATION_ID}/complete`,
      }),
    });
  }
  for (const method of ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
    add({
      id: `method/${method}`,
      category: "method",
      expectStatus: 405,
      method,
      body: method === "GET" ? "" : validBody(env),
    });
  }
  // Header tricks that an HTTP client can send: none may redirect the callback or bypass auth.
  const hostileUrl = `${env.attackerBaseUrl}/beta/trigger-invocations/${INVOCATION_ID}/complete`;
  const headerTricks: Array<[string, Record<string, string | null>, string, 400 | 401]> = [
    [
      "x-forwarded-host",
      { "x-forwarded-host": new URL(env.attackerBaseUrl).host },
      withMeta(env, { callbackURL: hostileUrl }),
      400,
    ],
    [
      "host-header-attacker",
      { host: new URL(env.attackerBaseUrl).host },
      withMeta(env, { callbackURL: hostileUrl }),
      400,
    ],
    [
      "forwarded",
      { forwarded: `host=${new URL(env.attackerBaseUrl).host}` },
      withMeta(env, { callbackURL: hostileUrl }),
      400,
    ],
    ["x-original-url", { "x-original-url": hostileUrl }, withMeta(env, { callbackURL: hostileUrl }), 400],
    [
      "auth-in-other-header",
      { authorization: null, "x-authorization": `Bearer ${env.bearerToken}` },
      validBody(env),
      401,
    ],
    [
      "auth-in-proxy-header",
      { authorization: null, "proxy-authorization": `Bearer ${env.bearerToken}` },
      validBody(env),
      401,
    ],
    ["crlf-in-triggerId", {}, withMeta(env, { triggerId: `${PRE_APPROVAL}\r\nX-Injected: 1` }), 400],
    ["crlf-in-responseMode", {}, withMeta(env, { responseMode: "async\r\nX-Injected: 1" }), 400],
    [
      "crlf-in-callback-id",
      {},
      withMeta(env, { callbackURL: `${env.tenantBaseUrl}/beta/trigger-invocations/a\r\nHost: x/complete` }),
      400,
    ],
  ];
  for (const [name, headers, b, status] of headerTricks) {
    add({
      id: `header-injection/${name}`,
      category: "header-injection",
      expectStatus: status,
      headers,
      body: b,
    });
  }
  for (const [name, raw] of rawCases(env)) {
    add({
      id: `header-injection/raw-${name}`,
      category: "header-injection",
      expectStatus: 400,
      body: "",
      raw,
    });
  }
  return cases;
}
