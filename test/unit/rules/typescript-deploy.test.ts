/**
 * The deploy path of a TypeScript rules module: what synth does (infra/rules.ts validates and
 * versions it, infra/typescript-rules.ts writes the file esbuild injects), the http function's bundle
 * built with it (esbuildOptions, as the stack), then that bundle's handler invoked in process with
 * a Function URL event: the module's async predicate and its custom decision answer.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { CfnElement } from "aws-cdk-lib";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import type { IConstruct } from "constructs";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { bundleBuilds } from "../../../infra/bundling.ts";
import { type ValidatedRules, validateRulesFile, writeRulesForBundling } from "../../../infra/rules.ts";
import { writeRulesModuleInject } from "../../../infra/typescript-rules.ts";
import { body, event, TOKEN } from "../http/fixtures.ts";
import { baseConfig, buildApp } from "../infra/helpers.ts";

const POLICY = join(import.meta.dirname, "fixtures/typescript-policy.ts");

let rules: ValidatedRules;
let extension: Server;
let handler: (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<{ statusCode: number; body: string }>;
let outdir: string;
const saved = { ...process.env };

beforeAll(async () => {
  rules = await validateRulesFile(POLICY);
  expect(rules.module?.path).toBe(POLICY);
  outdir = mkdtempSync(join(tmpdir(), "ts-rules-bundle-"));
  const inject = writeRulesModuleInject(rules.module as NonNullable<ValidatedRules["module"]>);
  // The stack's builds for the http function (index.mjs and its chunks, re2.mjs), with the module injected.
  const [own, ...rest] = bundleBuilds("http", outdir);
  await Promise.all([build({ ...own, inject: [inject], logLevel: "error" }), ...rest.map((b) => build(b))]);
  copyFileSync(writeRulesForBundling(rules), join(outdir, "rules.json"));

  extension = createServer((req, res) => {
    const secretId = new URL(req.url ?? "/", "http://localhost").searchParams.get("secretId");
    if (req.headers["x-aws-parameters-secrets-token"] !== "session-token" || secretId !== "webhook")
      return void res.writeHead(404).end();
    res.end(JSON.stringify({ SecretString: JSON.stringify({ type: "bearer", current: TOKEN }) }));
  });
  await new Promise<void>((resolve) => extension.listen(0, "127.0.0.1", resolve));
  Object.assign(process.env, {
    SAIL_BASE_URL: "https://acme.api.identitynow.com",
    WEBHOOK_CREDENTIALS_SECRET_ID: "webhook",
    QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/never-used",
    RULES_VERSION: rules.version,
    PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String((extension.address() as AddressInfo).port),
    AWS_SESSION_TOKEN: "session-token",
    POWERTOOLS_LOG_LEVEL: "INFO",
  });
  delete process.env.RULES_PATH; // rules.json beside index.mjs, as in Lambda
  delete process.env.ISC_CREDENTIALS_SECRET_ID;
  ({ handler } = (await import(pathToFileURL(join(outdir, "index.mjs")).href)) as {
    handler: typeof handler;
  });
}, 60_000);

afterAll(async () => {
  process.env = saved;
  extension?.closeAllConnections();
  await new Promise<void>((resolve) => (extension ? extension.close(() => resolve()) : resolve()));
});

function sync(items: Array<Record<string, unknown>>): Record<string, unknown> {
  const b = body("sync");
  delete b._metadata.callbackURL;
  delete b._metadata.secret;
  b.requestedItems = items;
  return b;
}

async function answer(
  payload: unknown,
  through = handler,
): Promise<{ status: number; output: Record<string, unknown>; logs: string[] }> {
  const logs: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    logs.push(String(chunk));
    return true;
  });
  try {
    const result = await through(event(payload), {} as Context);
    return { status: result.statusCode, output: JSON.parse(result.body), logs };
  } finally {
    spy.mockRestore();
  }
}

describe("a synthesized TypeScript rules module in the http function's bundle", () => {
  it("ships the module inside the bundle: no .ts file, RE2 beside it for `matches`", () => {
    const files = readdirSync(outdir);
    expect(files).toContain("index.mjs");
    expect(files).toContain("re2.mjs");
    expect(files.filter((f) => f.endsWith(".ts"))).toEqual([]);
  });

  it("answers with the module's async predicate (frozen item), from the payload", async () => {
    const result = await answer(
      sync([{ id: "i1", name: "Engineering Access", type: "ACCESS_PROFILE", operation: "Add" }]),
    );
    expect(result.status).toBe(200);
    expect(result.output).toEqual({
      approved: false,
      comment: "Engineering Access is frozen this week.",
      approver: "svc-isc-responder",
    });
  });

  it("answers with `matches` (RE2 from re2.mjs) and the module's custom decision", async () => {
    const result = await answer(
      sync([{ id: "i3", name: "Wiki", type: "ENTITLEMENT", operation: "Add", comment: "for CHG-1234" }]),
    );
    expect(result.output).toEqual({
      approved: true,
      comment: "Change ticket found for 1 item(s).",
      approver: "svc-isc-responder",
    });
  });

  it("rules needing context it cannot read fall back, with the reason logged and the module's version", async () => {
    const result = await answer(sync([{ id: "i2", name: "Wiki", type: "ENTITLEMENT", operation: "Add" }]));
    expect(result.output).toMatchObject({ approved: false, comment: "Denied for safety." });
    const decided = result.logs
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      })
      .find((line) => line.fallbackReason !== undefined);
    expect(decided?.fallbackReason).toMatch(/context/);
    expect(decided?.rulesVersion).toBe(rules.version);
  });
});

describe("cdk synth with rulesFile: policy.ts", () => {
  it("bundles the module into the http and worker functions; the synthesized http handler answers with its predicate", async () => {
    const {
      stack,
      app,
      outdir: cdkOut,
    } = await buildApp(
      baseConfig({ rulesFile: POLICY, triggers: { preApproval: { enabled: true, delivery: "HTTP" } } }),
    );
    app.synth();
    const template = JSON.parse(readFileSync(join(cdkOut, `${stack.stackName}.template.json`), "utf8")) as {
      Resources: Record<string, { Properties?: { Code?: { S3Key: string } } }>;
      Outputs: Record<string, { Value: unknown }>;
    };
    expect(template.Outputs.RulesVersion?.Value).toBe(rules.version);
    // Code.S3Key is "<asset hash>.zip"; the bundle is in <outdir>/asset.<asset hash>.
    const assetOf = (fn: IConstruct) => {
      const key =
        template.Resources[stack.getLogicalId(fn.node.defaultChild as CfnElement)]?.Properties?.Code?.S3Key;
      return join(cdkOut, `asset.${String(key).replace(/\.zip$/, "")}`);
    };
    for (const fn of [stack.httpFunction, stack.workerFunction]) {
      const code = readdirSync(assetOf(fn))
        .filter((file) => file.endsWith(".mjs"))
        .map((file) => readFileSync(join(assetOf(fn), file), "utf8"))
        .join("\n");
      expect(code, fn.node.id).toContain("is frozen this week.");
    }
    const synthesized = (await import(
      pathToFileURL(join(assetOf(stack.httpFunction), "index.mjs")).href
    )) as {
      handler: typeof handler;
    };
    const result = await answer(
      sync([{ id: "i1", name: "Engineering Access", type: "ACCESS_PROFILE", operation: "Add" }]),
      synthesized.handler,
    );
    expect(result.output).toEqual({
      approved: false,
      comment: "Engineering Access is frozen this week.",
      approver: "svc-isc-responder",
    });
  }, 180_000);
});
