import { describe, expect, it } from "vitest";
import { createCachedCredentialsProvider } from "../../../lib/http/auth.ts";
import { DYNAMIC_APPROVER, POST_APPROVAL, PRE_APPROVAL } from "../../../lib/triggers/trigger-ids.ts";
import { body, event, fakeRules, PREVIOUS_TOKEN, SECRET, setup, TOKEN } from "./fixtures.ts";

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

function parse(result: { body: string }) {
  return JSON.parse(result.body);
}

describe("createHttpHandler: authentication", () => {
  const cases: Array<[string, string | null]> = [
    ["no Authorization header", null],
    ["a wrong bearer token", "Bearer nope"],
    ["the token with a different case", `Bearer ${TOKEN.toUpperCase()}`],
    ["the token as Basic", basic("isc", TOKEN)],
    ["an empty bearer", "Bearer "],
    ["a token without a scheme", TOKEN],
    ["a token prefix", `Bearer ${TOKEN.slice(0, -1)}`],
  ];
  for (const [name, authorization] of cases) {
    it(`refuses ${name} with 401 before parsing or enqueueing`, async () => {
      const { handler, queue, rules, logger } = setup();
      const result = await handler(event(body("async"), { authorization }));
      expect(result.statusCode).toBe(401);
      expect(result.headers["content-type"]).toBe("application/json");
      expect(result.headers["www-authenticate"]).toBe("Bearer");
      expect(parse(result).error.code).toBe("UNAUTHORIZED");
      expect(queue.messages).toHaveLength(0);
      expect(rules.calls).toBe(0);
      expect(logger.lines.join("\n")).not.toContain(TOKEN);
    });
  }

  it("refuses a malformed body from an unauthenticated caller with 401, not 400", async () => {
    const { handler } = setup();
    const result = await handler(event(undefined, { raw: "{not json", authorization: "Bearer x" }));
    expect(result.statusCode).toBe(401);
  });

  it("accepts the current and the previous token (rotation) and a lower-case scheme", async () => {
    const { handler, queue } = setup();
    expect((await handler(event(body("async")))).statusCode).toBe(200);
    expect(
      (await handler(event(body("async"), { authorization: `Bearer ${PREVIOUS_TOKEN}` }))).statusCode,
    ).toBe(200);
    expect((await handler(event(body("async"), { authorization: `bearer ${TOKEN}` }))).statusCode).toBe(200);
    expect(queue.messages).toHaveLength(3);
  });

  it("checks Basic credentials: user and either password", async () => {
    const secret = JSON.stringify({ type: "basic", username: "isc", current: "pw-now", previous: "pw-old" });
    const { handler, queue } = setup({ secret });
    expect((await handler(event(body("async"), { authorization: basic("isc", "pw-now") }))).statusCode).toBe(
      200,
    );
    expect((await handler(event(body("async"), { authorization: basic("isc", "pw-old") }))).statusCode).toBe(
      200,
    );
    for (const bad of [
      basic("other", "pw-now"),
      basic("isc", "wrong"),
      "Bearer pw-now",
      "Basic !!!notbase64",
    ]) {
      const result = await handler(event(body("async"), { authorization: bad }));
      expect(result.statusCode).toBe(401);
      expect(result.headers["www-authenticate"]).toContain("Basic");
    }
    expect(queue.messages).toHaveLength(2);
  });

  it("picks up a rotated token without waiting for the cache TTL (rate-limited re-read)", async () => {
    let secret = { type: "bearer", current: "old-token" };
    let reads = 0;
    let now = 1_000_000;
    const credentials = createCachedCredentialsProvider(
      async () => {
        reads++;
        return JSON.stringify(secret);
      },
      { ttlMs: 60_000, minRefreshIntervalMs: 10_000, now: () => now },
    );
    const { handler } = setup({ credentials });
    expect((await handler(event(body("async"), { authorization: "Bearer old-token" }))).statusCode).toBe(200);
    secret = { type: "bearer", current: "new-token" };
    // Too soon after the last read: no re-read, so the new token is not yet known.
    expect((await handler(event(body("async"), { authorization: "Bearer new-token" }))).statusCode).toBe(401);
    expect(reads).toBe(1);
    now += 10_000;
    expect((await handler(event(body("async"), { authorization: "Bearer new-token" }))).statusCode).toBe(200);
    expect(reads).toBe(2);
    // Wrong tokens do not cause a read per request.
    for (let i = 0; i < 5; i++) await handler(event(body("async"), { authorization: "Bearer wrong" }));
    expect(reads).toBe(2);
  });

  it("answers 503 when the credentials cannot be read, and does nothing else", async () => {
    const credentials = createCachedCredentialsProvider(async () => {
      throw new Error("secrets manager down");
    });
    const { handler, queue, rules } = setup({ credentials });
    const result = await handler(event(body("sync")));
    expect(result.statusCode).toBe(503);
    expect(parse(result).error.code).toBe("CREDENTIALS_UNAVAILABLE");
    expect(queue.messages).toHaveLength(0);
    expect(rules.calls).toBe(0);
  });
});

describe("createHttpHandler: refusals", () => {
  it("refuses non-POST with 405 and Allow: POST", async () => {
    for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
      const { handler, queue } = setup();
      const result = await handler(event(body("async"), { method }));
      expect(result.statusCode).toBe(405);
      expect(result.headers.allow).toBe("POST");
      expect(queue.messages).toHaveLength(0);
    }
  });

  it("refuses bodies over the limit with 413 (declared length, actual length, base64)", async () => {
    const { handler, queue } = setup({ maxBodyBytes: 2048 });
    const big = { ...body("async"), padding: "x".repeat(4000) };
    expect((await handler(event(big))).statusCode).toBe(413);
    expect((await handler(event(big, { base64: true }))).statusCode).toBe(413);
    // A lying Content-Length does not get a large body through.
    const lying = await handler(event(big, { headers: { "content-length": "10" } }));
    expect(lying.statusCode).toBe(413);
    // Multi-byte characters count as bytes.
    const wide = { ...body("async"), padding: "é".repeat(1000) };
    expect((await handler(event(wide, { headers: { "content-length": "1" } }))).statusCode).toBe(413);
    expect(parse(await handler(event(big))).error.code).toBe("BODY_TOO_LARGE");
    expect(queue.messages).toHaveLength(0);
  });

  it("accepts a base64-encoded body", async () => {
    const { handler, queue } = setup();
    const result = await handler(event(body("async"), { base64: true }));
    expect(result.statusCode).toBe(200);
    expect(queue.messages).toHaveLength(1);
  });

  it("refuses non-JSON, JSON that is not an object, and invalid UTF-8 with 400", async () => {
    const { handler, queue } = setup();
    for (const raw of ["{not json", "", "[1,2]", "42", "null", '"text"']) {
      const result = await handler(event(undefined, { raw }));
      expect(result.statusCode, raw).toBe(400);
      expect(parse(result).error.code).toBe("INVALID_JSON");
    }
    const invalidUtf8 = event(undefined, { raw: "x" });
    invalidUtf8.body = Buffer.from([0x7b, 0xff, 0x7d]).toString("base64");
    invalidUtf8.isBase64Encoded = true;
    expect((await handler(invalidUtf8)).statusCode).toBe(400);
    expect(queue.messages).toHaveLength(0);
  });

  it("refuses deep nesting quickly without crashing", async () => {
    const { handler, queue } = setup({ maxBodyBytes: 262_144 });
    const depth = 100_000;
    const raw = `{"_metadata":{},"x":${"[".repeat(depth)}${"]".repeat(depth)}}`;
    const result = await handler(event(undefined, { raw }));
    expect(result.statusCode).toBe(400);
    expect(parse(result).error.message).toContain("nested");
    expect(queue.messages).toHaveLength(0);
  });

  it("lists the fields at fault on schema failures", async () => {
    const { handler, queue } = setup();
    const b = body("async");
    b.requestedItems = [{ id: "", type: "SOMETHING", operation: "Add", name: "n" }];
    delete b.requestedBy;
    const result = await handler(event(b));
    expect(result.statusCode).toBe(400);
    const error = parse(result).error;
    expect(error.code).toBe("INVALID_PAYLOAD");
    const paths = error.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining(["requestedItems[0].id", "requestedItems[0].type", "requestedBy"]),
    );
    expect(result.body).not.toContain(SECRET);
    expect(queue.messages).toHaveLength(0);
  });

  it("refuses a body without _metadata and an async body without secret", async () => {
    const { handler } = setup();
    const noMeta = body("async");
    delete noMeta._metadata;
    const r1 = await handler(event(noMeta));
    expect(r1.statusCode).toBe(400);
    expect(parse(r1).error.issues[0].path).toBe("_metadata");
    const noSecret = body("async");
    delete noSecret._metadata.secret;
    const r2 = await handler(event(noSecret));
    expect(r2.statusCode).toBe(400);
    expect(parse(r2).error.issues[0].path).toBe("_metadata.secret");
  });

  it("refuses unknown triggers with 400", async () => {
    const { handler, queue } = setup();
    const result = await handler(event(body("async", "idn:identity-created")));
    expect(result.statusCode).toBe(400);
    expect(parse(result).error.code).toBe("UNKNOWN_TRIGGER");
    expect(queue.messages).toHaveLength(0);
  });

  const foreignCallbacks = [
    "https://evil.example.com/beta/trigger-invocations/e9103ca9-02c4-bb0f-9441-94b3af012345/complete",
    "https://acme.api.identitynow.com:8443/beta/trigger-invocations/e9103ca9-02c4-bb0f-9441-94b3af012345/complete",
    "http://acme.api.identitynow.com/beta/trigger-invocations/e9103ca9-02c4-bb0f-9441-94b3af012345/complete",
    "https://user:pw@acme.api.identitynow.com/beta/trigger-invocations/e9103ca9-02c4-bb0f-9441-94b3af012345/complete",
    "https://acme.api.identitynow.com.evil.com/beta/trigger-invocations/e9103ca9-02c4-bb0f-9441-94b3af012345/complete",
    "https://acme.api.identitynow.com/beta/trigger-invocations/e9103ca9/../../x/complete",
    "https://acme.api.identitynow.com/beta/other/e9103ca9-02c4-bb0f-9441-94b3af012345/complete",
  ];
  for (const callbackURL of foreignCallbacks) {
    it(`refuses callbackURL ${callbackURL} with 400 in every mode`, async () => {
      for (const mode of ["sync", "async", "dynamic"] as const) {
        const { handler, queue, rules } = setup();
        const b = body(mode);
        b._metadata.callbackURL = callbackURL;
        const result = await handler(event(b));
        expect(result.statusCode).toBe(400);
        expect(parse(result).error.code).toBe("CALLBACK_URL_REFUSED");
        expect(result.body).not.toContain("pw@");
        expect(queue.messages).toHaveLength(0);
        expect(rules.calls).toBe(0);
      }
    });
  }
});

describe("createHttpHandler: modes", () => {
  it("sync: decides and replies 200 with the output; enqueues nothing", async () => {
    const { handler, queue } = setup();
    const b = body("sync");
    delete b._metadata.callbackURL;
    delete b._metadata.secret;
    const result = await handler(event(b));
    expect(result.statusCode).toBe(200);
    expect(result.headers["content-type"]).toBe("application/json");
    expect(parse(result)).toEqual({ approved: true, comment: "ok", approver: "rules" });
    expect(queue.messages).toHaveLength(0);
  });

  it("sync: a decision with actions is answered at once and handed to the worker for its actions", async () => {
    const actions = [{ type: "request-role-insights" as const }];
    const { handler, queue } = setup({ rules: fakeRules({ actions }) });
    const b = body("sync");
    delete b._metadata.callbackURL;
    delete b._metadata.secret;
    const result = await handler(event(b));
    expect(result.statusCode).toBe(200);
    expect(parse(result)).toEqual({ approved: true, comment: "ok", approver: "rules" });
    expect(queue.messages).toHaveLength(1);
    expect(queue.messages[0]).toMatchObject({ mode: "sync", triggerType: "requestResponse" });
    expect(queue.messages[0]).not.toHaveProperty("secret");
    // With the answer's own actions: the worker must not decide again (context may have changed).
    expect(queue.messages[0]).toMatchObject({
      answered: { ruleId: "r1", rulesVersion: "sha256:test", actions },
    });
  });

  it("sync: a body that carries a callbackURL and secret hands over the actions only (no id, no secret)", async () => {
    const { handler, queue } = setup({ rules: fakeRules({ actions: [{ type: "request-role-insights" }] }) });
    const result = await handler(event(body("sync")));
    expect(result.statusCode).toBe(200);
    expect(queue.messages).toHaveLength(1);
    expect(queue.messages[0]).toMatchObject({ mode: "sync" });
    expect(queue.messages[0]).not.toHaveProperty("invocationId");
    expect(queue.messages[0]).not.toHaveProperty("callbackUrl");
    expect(queue.messages[0]).not.toHaveProperty("secret");
  });

  it("sync: if the actions cannot be handed over, the answer is still sent (and the failure logged)", async () => {
    const { handler, queue, logger } = setup({
      rules: fakeRules({ actions: [{ type: "request-role-insights" }] }),
    });
    queue.fail = true;
    const result = await handler(event(body("sync")));
    expect(result.statusCode).toBe(200);
    expect(parse(result)).toEqual({ approved: true, comment: "ok", approver: "rules" });
    expect(logger.lines.some((l) => l.includes("actions not handed to the worker"))).toBe(true);
  });

  it("sync: a missing responseMode means sync", async () => {
    const { handler } = setup();
    const result = await handler(event(body("none")));
    expect(parse(result)).toEqual({ approved: true, comment: "ok", approver: "rules" });
  });

  it("sync: a throwing rule gives the configured fallback, still 200", async () => {
    const { handler } = setup({ rules: fakeRules({ throws: true }) });
    const result = await handler(event(body("sync", DYNAMIC_APPROVER)));
    expect(result.statusCode).toBe(200);
    expect(parse(result)).toEqual({ id: "", name: "", type: "" });
  });

  it("async: enqueues the invocation (with its secret, deadline and receipt time) then replies 200 {}", async () => {
    const { handler, queue, rules, logger } = setup({ clock: () => 5_000_000 });
    const ev = event(body("async"));
    ev.requestContext.timeEpoch = 4_999_000;
    const result = await handler(ev);
    expect(result.statusCode).toBe(200);
    expect(result.body).toBe("{}");
    expect(rules.calls).toBe(0);
    expect(queue.messages).toHaveLength(1);
    const message = queue.messages[0]!;
    expect(message).toMatchObject({
      kind: "isc-invocation",
      triggerId: PRE_APPROVAL,
      mode: "async",
      invocationId: "e9103ca9-02c4-bb0f-9441-94b3af012345",
      receivedAt: 4_999_000,
      deadline: 4_999_000 + 3_600_000,
    });
    expect((message as { secret?: string }).secret).toBe(SECRET);
    expect(logger.lines.join("\n")).not.toContain(SECRET);
  });

  it("async: enqueue failure → 503 JSON, logged without the secret", async () => {
    const { handler, queue, logger } = setup();
    queue.fail = true;
    const result = await handler(event(body("async")));
    expect(result.statusCode).toBe(503);
    expect(parse(result).error.code).toBe("ENQUEUE_FAILED");
    expect(logger.lines.some((line) => line.includes("enqueue failed"))).toBe(true);
    expect(logger.lines.join("\n")).not.toContain(SECRET);
  });

  it("async: an enqueue that hangs is cut at enqueueTimeoutMs → 503", async () => {
    const { handler } = setup({
      queue: { enqueue: () => new Promise(() => {}) },
      enqueueTimeoutMs: 20,
    });
    expect((await handler(event(body("async")))).statusCode).toBe(503);
  });

  it("FIRE_AND_FORGET: enqueues, 200 {}", async () => {
    const { handler, queue } = setup();
    const result = await handler(
      event({ accessRequestId: "x", _metadata: { triggerId: POST_APPROVAL, triggerType: "fireAndForget" } }),
    );
    expect(result.statusCode).toBe(200);
    expect(result.body).toBe("{}");
    expect(queue.messages[0]?.triggerType).toBe("fireAndForget");
  });

  it("dynamic: decides within the budget and replies 200 with the output", async () => {
    const { handler, queue } = setup();
    const result = await handler(event(body("dynamic", DYNAMIC_APPROVER)));
    expect(result.statusCode).toBe(200);
    expect(parse(result)).toEqual({ id: "id1", name: "Boss", type: "IDENTITY" });
    expect(queue.messages).toHaveLength(0);
  });

  it("dynamic: a decision with actions is not answered inline: 202, and the worker completes it and runs them", async () => {
    const { handler, queue } = setup({
      rules: fakeRules({ actions: [{ type: "complete-campaign", campaignId: "c1" }] }),
    });
    const result = await handler(event(body("dynamic", DYNAMIC_APPROVER)));
    expect(result.statusCode).toBe(202);
    expect(result.body).toBe("{}");
    expect(queue.messages).toHaveLength(1);
    expect(queue.messages[0]).toMatchObject({ mode: "dynamic", secret: SECRET });
  });

  it("dynamic: if a decision with actions cannot be queued, it is answered here (the actions are lost, not the answer)", async () => {
    const { handler, queue, logger } = setup({
      rules: fakeRules({ actions: [{ type: "complete-campaign", campaignId: "c1" }] }),
    });
    queue.fail = true;
    const result = await handler(event(body("dynamic", DYNAMIC_APPROVER)));
    expect(result.statusCode).toBe(200);
    expect(parse(result)).toEqual({ id: "id1", name: "Boss", type: "IDENTITY" });
    expect(logger.lines.some((l) => l.includes("actions not handed to the worker"))).toBe(true);
  });

  it("dynamic: a decision slower than the budget is enqueued and answered 202 {}", async () => {
    const { handler, queue } = setup({ rules: fakeRules({ slowMs: 30 }), dynamicBudgetMs: 5 });
    const result = await handler(event(body("dynamic", DYNAMIC_APPROVER)));
    expect(result.statusCode).toBe(202);
    expect(result.body).toBe("{}");
    expect(queue.messages).toHaveLength(1);
    expect(queue.messages[0]?.mode).toBe("dynamic");
  });

  it("dynamic: a budget already spent (slow cold start) skips deciding", async () => {
    let now = 1_000_000;
    const { handler, queue, rules } = setup({
      clock: () => now,
      credentials: {
        get: async () => {
          now += 3_000;
          return { type: "bearer", current: TOKEN };
        },
      },
    });
    const ev = event(body("dynamic", DYNAMIC_APPROVER));
    ev.requestContext.timeEpoch = now;
    const result = await handler(ev);
    expect(result.statusCode).toBe(202);
    expect(rules.calls).toBe(0);
    expect(queue.messages).toHaveLength(1);
  });

  it("never puts the invocation secret or the token in any log line", async () => {
    const { handler, logger } = setup();
    await handler(event(body("sync")));
    await handler(event(body("async")));
    await handler(event(body("dynamic")));
    await handler(event(body("async"), { authorization: "Bearer wrong" }));
    const all = logger.lines.join("\n");
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain(TOKEN);
    expect(logger.lines.length).toBeGreaterThan(3);
  });
});

describe("createHttpHandler: metrics", () => {
  it("counts outcomes with low-cardinality dimensions and records reply latency", async () => {
    const points: Array<{ name: string; dimensions?: Record<string, string> }> = [];
    const { handler } = setup({
      metrics: { record: (name, _unit, _value, dimensions) => points.push({ name, dimensions }) },
    });
    await handler(event(body("async")));
    await handler(event(body("async"), { authorization: "Bearer wrong" }));
    await handler(event(body("async", "idn:nope")));
    const outcomes = points.filter((p) => p.name === "HttpRequests").map((p) => p.dimensions?.outcome);
    expect(outcomes).toEqual(["enqueued", "unauthorized", "unknown_trigger"]);
    const statuses = points.filter((p) => p.name === "HttpReplyLatency").map((p) => p.dimensions?.status);
    expect(statuses).toEqual(["200", "401", "400"]);
  });
});

describe("createHttpHandler: reply budget", () => {
  it("cuts the enqueue wait to what is left of the reply budget after a slow secret read", async () => {
    let now = 1_000_000;
    const { handler } = setup({
      clock: () => now,
      replyBudgetMs: 8000,
      // Far beyond the test's own timeout: only the reply budget can end the wait.
      enqueueTimeoutMs: 600_000,
      credentials: {
        get: async () => {
          now += 7_990; // a very slow first read leaves 10 ms of the budget
          return { type: "bearer", current: TOKEN };
        },
      },
      queue: { enqueue: () => new Promise(() => {}) },
    });
    const ev = event(body("async"));
    ev.requestContext.timeEpoch = now;
    const result = await handler(ev);
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body).error.code).toBe("ENQUEUE_FAILED");
  });
});

describe("createHttpHandler: credentials fast path", () => {
  it("uses the provider's fresh cached value without calling get()", async () => {
    let gets = 0;
    const { handler, queue } = setup({
      credentials: {
        peek: () => ({ type: "bearer", current: TOKEN }),
        get: async () => {
          gets++;
          return { type: "bearer", current: TOKEN };
        },
      },
    });
    expect((await handler(event(body("async")))).statusCode).toBe(200);
    expect(gets).toBe(0);
    expect(queue.messages).toHaveLength(1);
  });
});
