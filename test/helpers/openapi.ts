/**
 * Validates requests and responses against the official OpenAPI subset in
 * test/fixtures/isc-reference/openapi (beta, v1 per-service, v3 campaign completion; $refs resolved).
 * Shared by the client conformance tests and the sandbox conformance tests.
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

interface SpecFile {
  file: string;
  /** Path prefix of the spec's server URL (`/beta`, `/v3`, or none for the v1 per-service spec). */
  prefix: string;
}

const SPECS: SpecFile[] = [
  { file: "beta-triggers-and-related.json", prefix: "/beta" },
  { file: "v1-triggers.json", prefix: "" },
  { file: "v3-campaign-complete.json", prefix: "/v3" },
];

type JsonObject = Record<string, unknown>;

export interface OpenApiOperation {
  method: string;
  /** Full path template, prefix included: `/beta/trigger-subscriptions/{id}`. */
  template: string;
  spec: string;
  operation: JsonObject;
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
  for (const { file, prefix } of SPECS) {
    const spec = JSON.parse(readFileSync(`${OPENAPI_DIR}/${file}`, "utf8")) as {
      paths: Record<string, JsonObject>;
    };
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
          operation: operation as JsonObject,
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

/** Every documented operation (for coverage checks). */
export function listOperations(): ReadonlyArray<Pick<OpenApiOperation, "method" | "template" | "spec">> {
  return load().map(({ method, template, spec }) => ({ method, template, spec }));
}

/** OpenAPI 3.0 schema → JSON Schema (draft-07-ish) for ajv. */
export function toJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (typeof schema !== "object" || schema === null) return schema;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "nullable" || key === "example" || key === "examples" || key.startsWith("x-")) continue;
    if (key === "properties" && typeof value === "object" && value !== null) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, toJsonSchema(sub)]));
      continue;
    }
    out[key === "oneOf" ? "anyOf" : key] = toJsonSchema(value);
  }
  if ((schema as JsonObject).nullable === true) {
    // Enums listing null already allow it; others get an explicit null branch.
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    return { anyOf: [out, { type: "null" }] };
  }
  return out;
}

function validatorFor(schema: object): ValidateFunction {
  let validate = compiled.get(schema);
  if (validate === undefined) {
    validate = ajv.compile(toJsonSchema(schema) as object);
    compiled.set(schema, validate);
  }
  return validate;
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
  const parameters = (op.operation.parameters ?? []) as Array<{
    in: string;
    name: string;
    schema?: object;
    required?: boolean;
  }>;
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
      errors.push(...errorsOf(validatorFor(parameter.schema), value, `${where} query ${name}`));
  }
  for (const parameter of parameters) {
    if (parameter.in === "query" && parameter.required && !query.has(parameter.name)) {
      errors.push(`${where}: missing query parameter ${parameter.name}`);
    }
  }
  const requestBody = op.operation.requestBody as
    | { required?: boolean; content?: Record<string, { schema?: object }> }
    | undefined;
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
  if (schema) errors.push(...errorsOf(validatorFor(schema), body, `${where} body`));
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
  const response = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
  if (response === undefined) return [`${where}: status not documented`];
  const schema = response.content?.["application/json"]?.schema;
  if (schema === undefined)
    return body === undefined || body === "" ? [] : [`${where}: the spec defines no body`];
  return errorsOf(validatorFor(schema), body, `${where} body`);
}
