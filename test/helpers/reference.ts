/** Where the ISC reference data used by tests lives (a copy kept in the repo: see its README). */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const REFERENCE_DIR = fileURLToPath(new URL("../fixtures/isc-reference/", import.meta.url));
export const EXAMPLES_DIR = `${REFERENCE_DIR}examples/`;

/** Parses one of the reference examples, e.g. `http-async-pre-approval.request.json`. */
export function loadExample<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(`${EXAMPLES_DIR}${name}`, "utf8")) as T;
}
