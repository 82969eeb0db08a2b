/**
 * RFC 6902 JSON Patch on a copy: the caller's document is untouched, so a patch that fails halfway
 * never leaves half-applied state. Errors are HttpReply 400s naming the operation index and path.
 */
import { badRequest, isPlainObject } from "./http.ts";

export interface PatchOperation {
  op: "add" | "remove" | "replace" | "move" | "copy" | "test";
  path: string;
  value?: unknown;
  from?: string;
}

const OPS = new Set(["add", "remove", "replace", "move", "copy", "test"]);

/** Validates the shape of a patch document (array of {op, path, value?, from?}). */
export function parsePatch(body: unknown, allowed: ReadonlySet<string> = OPS): PatchOperation[] {
  if (!Array.isArray(body) || body.length === 0) {
    throw badRequest("The request body must be a non-empty JSON Patch array");
  }
  return body.map((raw, index) => {
    if (!isPlainObject(raw) || typeof raw.op !== "string" || typeof raw.path !== "string") {
      throw badRequest(`Patch operation [${index}] needs string "op" and "path"`);
    }
    if (!allowed.has(raw.op)) throw badRequest(`Patch operation [${index}]: op "${raw.op}" is not supported`);
    if ((raw.op === "add" || raw.op === "replace" || raw.op === "test") && !("value" in raw)) {
      throw badRequest(`Patch operation [${index}] (${raw.op}) needs a "value"`);
    }
    if ((raw.op === "move" || raw.op === "copy") && typeof raw.from !== "string") {
      throw badRequest(`Patch operation [${index}] (${raw.op}) needs a "from"`);
    }
    return raw as unknown as PatchOperation;
  });
}

/** "/a/b~1c" → ["a", "b/c"] */
export function pointerTokens(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw badRequest(`"${pointer.slice(0, 100)}" is not a JSON pointer`);
  return pointer
    .slice(1)
    .split("/")
    .map((token) => token.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function parentOf(doc: unknown, tokens: string[], pointer: string): { parent: unknown; key: string } {
  let node = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[Number(token)];
    else if (isPlainObject(node)) node = node[token];
    else node = undefined;
    if (node === undefined) throw badRequest(`Path "${pointer}" does not exist`);
  }
  return { parent: node, key: tokens[tokens.length - 1]! };
}

function get(doc: unknown, pointer: string): unknown {
  let node = doc;
  for (const token of pointerTokens(pointer)) {
    if (Array.isArray(node)) node = node[Number(token)];
    else if (isPlainObject(node) && Object.hasOwn(node, token)) node = node[token];
    else node = undefined;
    if (node === undefined) throw badRequest(`Path "${pointer}" does not exist`);
  }
  return node;
}

function remove(doc: unknown, pointer: string): unknown {
  const tokens = pointerTokens(pointer);
  if (tokens.length === 0) throw badRequest("The whole document cannot be removed");
  const { parent, key } = parentOf(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    const index = Number(key);
    if (!Number.isInteger(index) || index < 0 || index >= parent.length) {
      throw badRequest(`Path "${pointer}" does not exist`);
    }
    return parent.splice(index, 1)[0];
  }
  if (!isPlainObject(parent) || !Object.hasOwn(parent, key))
    throw badRequest(`Path "${pointer}" does not exist`);
  const old = parent[key];
  delete parent[key];
  return old;
}

function add(doc: unknown, pointer: string, value: unknown, replace: boolean): unknown {
  const tokens = pointerTokens(pointer);
  if (tokens.length === 0) return value;
  const { parent, key } = parentOf(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    const index = key === "-" ? parent.length : Number(key);
    const max = replace ? parent.length - 1 : parent.length;
    if (!Number.isInteger(index) || index < 0 || index > max)
      throw badRequest(`Path "${pointer}" does not exist`);
    parent.splice(index, replace ? 1 : 0, value);
  } else if (isPlainObject(parent)) {
    if (replace && !Object.hasOwn(parent, key)) throw badRequest(`Path "${pointer}" does not exist`);
    parent[key] = value;
  } else {
    throw badRequest(`Path "${pointer}" does not exist`);
  }
  return doc;
}

/** Applies the patch to a deep copy of `doc` and returns the copy. */
export function applyPatch<T>(doc: T, operations: readonly PatchOperation[]): T {
  let result: unknown = structuredClone(doc);
  for (const operation of operations) {
    switch (operation.op) {
      case "add":
        result = add(result, operation.path, structuredClone(operation.value), false);
        break;
      case "replace":
        result = add(result, operation.path, structuredClone(operation.value), true);
        break;
      case "remove":
        remove(result, operation.path);
        break;
      case "move": {
        const value = remove(result, operation.from!);
        result = add(result, operation.path, value, false);
        break;
      }
      case "copy":
        result = add(result, operation.path, structuredClone(get(result, operation.from!)), false);
        break;
      case "test":
        if (JSON.stringify(get(result, operation.path)) !== JSON.stringify(operation.value)) {
          throw badRequest(`Test of "${operation.path}" failed`);
        }
        break;
    }
  }
  return result as T;
}
