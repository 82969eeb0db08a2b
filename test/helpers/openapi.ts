/**
 * Validates requests and responses against the official OpenAPI subsets in
 * test/fixtures/isc-reference/openapi: the trigger APIs (beta, v1 per-service, v3 campaign
 * completion; $refs already resolved in the files) and the context reads (v2025, v3; these keep their
 * `$ref`s into their own `components`). Shared by the client and the sandbox conformance tests.
 *
 * A context spec is added to ajv whole, under its own id, and its schemas' `#/components/...` refs
 * are rewritten to `<id>#/components/...`, so ajv resolves them;
 * parameter, request body and response objects that are `$ref`s are followed here.
 *
 * OpenAPI 3.0 is not JSON Schema: `nullable: true` becomes `anyOf [schema, {type: null}]`, and
 * doc-only keywords (example, x-*) are dropped. `oneOf` is checked as `anyOf`: the spec's branches
 * overlap (Trigger.exampleInput lists identical pre-approval and dynamic-approver input schemas), so
 * a real example would match two branches and fail `oneOf`.
 */
import { readFileSync } from "node:fs";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { REFERENCE_DIR } from "./reference.ts";

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export const OPENAPI_DIR = process.env.ISC_OPENAPI_DIR ?? `${REFERENCE_DIR}openapi`;

/** `triggers`: the trigger APIs and actions; `context`: the reads that give rules their context. */
export type SpecGroup = "triggers" | "context";

interface SpecFile {
  file: string;
  /** Path prefix of the spec's server URL (`/beta`, `/v3`, or none for the v1 per-service spec). */
  prefix: string;
  group: SpecGroup;
}

const SPECS: SpecFile[] = [
  { file: "beta-triggers-and-related.json", prefix: "/beta", group: "triggers" },
  { file: "v1-triggers.json", prefix: "", group: "triggers" },
  { file: "v3-campaign-complete.json", prefix: "/v3", group: "triggers" },
  { file: "v2025-context-reads.json", prefix: "/v2025", group: "context" },
  { file: "v3-context-reads.json", prefix: "/v3", group: "context" },
];

/** Base URI of a spec file inside ajv. */
const specId = (file: string) => `https://isc-reference.test/openapi/${file}`;

type JsonObject = Record<string, unknown>;

export interface OpenApiOperation {
  method: string;
  /** Full path template, prefix included: `/beta/trigger-subscriptions/{id}`. */
  template: string;
  spec: string;
  group: SpecGroup;
  operation: JsonObject;
  /** The whole spec file (to follow `#/components/...` references). */
  document: JsonObject;
  pattern: RegExp;
  params: number;
}

let operations: OpenApiOperation[] | undefined;
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
addFormats(ajv);
for (const name of ["int32", "int64", "comma-separated"]) ajv.addFormat(name, true);
const compiled = new WeakMap<object, ValidateFunction>();

function load(): OpenApiOperation[] {
  if (operations !== undefined) return operations;
  const list: OpenApiOperation[] = [];
  for (const { file, prefix, group } of SPECS) {
    const spec = JSON.parse(readFileSync(`${OPENAPI_DIR}/${file}`, "utf8")) as {
      paths: Record<string, JsonObject>;
    };
    ajv.addSchema({ ...(toJsonSchema(spec, specId(file)) as JsonObject), $id: specId(file) });
    for (const [path, item] of Object.entries(spec.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (typeof operation !== "object" || operation === null || !("responses" in operation)) continue;
        const template = `${prefix}${path}`;
        const source = template
          .split("/")
          .map((segment) =>
            /^\{.+\}$/.test(segment) ? "[^/]+" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
          )
          .join("/");
        list.push({
          method: method.toUpperCase(),
          template,
          spec: file,
          group,
          operation: operation as JsonObject,
          document: spec as unknown as JsonObject,
          pattern: new RegExp(`^${source}$`),
          params: (template.match(/\{/g) ?? []).length,
        });
      }
    }
  }
  // Literal segments win over parameters (`/trigger-subscriptions/validate-filter` before `/{id}`).
  list.sort((a, b) => a.params - b.params);
  operations = list;
  return list;
}

/** The documented operation for a method and a URL or path (query ignored), or undefined. */
export function findOperation(method: string, url: string): OpenApiOperation | undefined {
  const path = new URL(url, "http://placeholder").pathname;
  return load().find((op) => op.method === method.toUpperCase() && op.pattern.test(path));
}

/**
 * Every documented operation of a group (for coverage checks); default the trigger APIs, as before
 * the context specs were added.
 */
export function listOperations(
  group: SpecGroup | "all" = "triggers",
): ReadonlyArray<Pick<OpenApiOperation, "method" | "template" | "spec">> {
  return load()
    .filter((op) => group === "all" || op.group === group)
    .map(({ method, template, spec }) => ({ method, template, spec }));
}

/**
 * OpenAPI 3.0 schema → JSON Schema (draft-07-ish) for ajv. With `refBase`, local refs
 * (`#/components/...`) become `<refBase>#/components/...`, the spec ajv holds under that id.
 */
export function toJsonSchema(schema: unknown, refBase = ""): unknown {
  if (Array.isArray(schema)) return schema.map((item) => toJsonSchema(item, refBase));
  if (typeof schema !== "object" || schema === null) return schema;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "nullable" || key === "example" || key === "examples" || key.startsWith("x-")) continue;
    if (key === "properties" && typeof value === "object" && value !== null) {
      out[key] = Object.fromEntries(
        Object.entries(value).map(([name, sub]) => [name, toJsonSchema(sub, refBase)]),
      );
      continue;
    }
    if (key === "$ref" && typeof value === "string" && value.startsWith("#")) {
      out[key] = `${refBase}${value}`;
      continue;
    }
    out[key === "oneOf" ? "anyOf" : key] = toJsonSchema(value, refBase);
  }
  if ((schema as JsonObject).nullable === true) {
    // Enums listing null already allow it; others get an explicit null branch.
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    return { anyOf: [out, { type: "null" }] };
  }
  return out;
}

function validatorFor(schema: object, op: OpenApiOperation): ValidateFunction {
  let validate = compiled.get(schema);
  if (validate === undefined) {
    validate = ajv.compile(toJsonSchema(schema, specId(op.spec)) as object);
    compiled.set(schema, validate);
  }
  return validate;
}

/** Follows a Reference Object (`{$ref: "#/components/parameters/limit"}`) inside its spec. */
function deref<T>(op: OpenApiOperation, value: T): T {
  let current: unknown = value;
  for (let hops = 0; hops < 10; hops++) {
    const ref = (current as { $ref?: unknown } | null)?.$ref;
    if (typeof ref !== "string" || !ref.startsWith("#/")) return current as T;
    current = ref
      .slice(2)
      .split("/")
      .map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"))
      .reduce<unknown>((node, part) => (node as JsonObject | undefined)?.[part], op.document);
    if (current === undefined) throw new Error(`${op.spec}: unresolved reference ${ref}`);
  }
  throw new Error(`${op.spec}: reference chain too long`);
}

function errorsOf(validate: ValidateFunction, value: unknown, where: string): string[] {
  if (validate(value)) return [];
  return (validate.errors ?? []).map(
    (error) => `${where}${error.instancePath || ""} ${error.message ?? "invalid"}`,
  );
}

export interface RequestExtras {
  /** The Content-Type header sent (checked against the documented media types when given). */
  contentType?: string;
  /** The headers sent (lower-case names, as node gives them): the spec's required headers must be there. */
  headers?: Record<string, string | string[] | undefined>;
}

/** Errors of a request against the spec ([] = conforms): the operation exists, query, media type, body. */
export function validateRequest(
  method: string,
  url: string,
  body: unknown,
  extras: RequestExtras = {},
): string[] {
  const op = findOperation(method, url);
  if (op === undefined)
    return [
      `${method.toUpperCase()} ${new URL(url, "http://placeholder").pathname}: no such operation in the spec`,
    ];
  const errors: string[] = [];
  const where = `${op.method} ${op.template}`;
  const parameters = ((op.operation.parameters ?? []) as object[]).map((parameter) =>
    deref(op, parameter as { in: string; name: string; schema?: object; required?: boolean }),
  );
  const query = new URL(url, "http://placeholder").searchParams;
  for (const name of new Set(query.keys())) {
    const parameter = parameters.find((p) => p.in === "query" && p.name === name);
    if (parameter === undefined) {
      errors.push(`${where}: unknown query parameter ${name}`);
      continue;
    }
    const raw = query.get(name) ?? "";
    const type = (parameter.schema as { type?: string } | undefined)?.type;
    const value =
      type === "integer"
        ? Number(raw)
        : type === "boolean"
          ? raw === "true"
            ? true
            : raw === "false"
              ? false
              : raw
          : raw;
    if (parameter.schema)
      errors.push(...errorsOf(validatorFor(parameter.schema, op), value, `${where} query ${name}`));
  }
  for (const parameter of parameters) {
    if (parameter.in === "query" && parameter.required && !query.has(parameter.name)) {
      errors.push(`${where}: missing query parameter ${parameter.name}`);
    }
    if (
      extras.headers !== undefined &&
      parameter.in === "header" &&
      parameter.required &&
      extras.headers[parameter.name.toLowerCase()] === undefined
    ) {
      errors.push(`${where}: missing header ${parameter.name}`);
    }
  }
  const requestBody = deref(
    op,
    op.operation.requestBody as
      | { required?: boolean; content?: Record<string, { schema?: object }> }
      | undefined,
  );
  if (requestBody === undefined) {
    if (body !== undefined) errors.push(`${where}: the spec defines no request body`);
    return errors;
  }
  if (body === undefined) {
    if (requestBody.required) errors.push(`${where}: the request body is required`);
    return errors;
  }
  const mediaTypes = Object.keys(requestBody.content ?? {});
  const mediaType = extras.contentType?.split(";")[0]?.trim() ?? mediaTypes[0];
  if (mediaType === undefined || !mediaTypes.includes(mediaType)) {
    errors.push(`${where}: media type ${String(mediaType)} is not one of ${mediaTypes.join(", ")}`);
    return errors;
  }
  const schema = requestBody.content?.[mediaType]?.schema;
  if (schema) errors.push(...errorsOf(validatorFor(schema, op), body, `${where} body`));
  return errors;
}

/** Errors of a response against the spec ([] = conforms): the status is documented and the body matches. */
export function validateResponse(method: string, url: string, status: number, body: unknown): string[] {
  const op = findOperation(method, url);
  if (op === undefined)
    return [
      `${method.toUpperCase()} ${new URL(url, "http://placeholder").pathname}: no such operation in the spec`,
    ];
  const where = `${op.method} ${op.template} ${status}`;
  const responses = op.operation.responses as Record<
    string,
    { content?: Record<string, { schema?: object }> }
  >;
  const response = deref(
    op,
    responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default,
  );
  if (response === undefined) return [`${where}: status not documented`];
  const schema = response.content?.["application/json"]?.schema;
  if (schema === undefined)
    return body === undefined || body === "" ? [] : [`${where}: the spec defines no body`];
  return errorsOf(validatorFor(schema, op), body, `${where} body`);
}
