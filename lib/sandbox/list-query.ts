/**
 * ISC list parameters: `limit` (0..250, default 250; some lists stop at 50), `offset`, `count`
 * (X-Total-Count), `filters` of the form
 * `field eq "value"` joined by `and` (also `in ("a","b")`), `sorters` (`name` or `-name`).
 * An unsupported filter is a 400, as ISC answers.
 */
import { badRequest } from "./http.ts";

type Predicate = (item: Record<string, unknown>) => boolean;

const TERM = /^\s*([A-Za-z][\w.]*)\s+(eq|in)\s+(.+?)\s*$/i;

function parseValue(text: string): string {
  const match = /^"((?:\\.|[^"\\])*)"$/.exec(text.trim());
  if (!match) throw badRequest(`Invalid filter value ${text.slice(0, 60)}: quote it with double quotes`);
  return match[1]!.replace(/\\(.)/g, "$1");
}

function fieldOf(item: Record<string, unknown>, field: string): unknown {
  let node: unknown = item;
  for (const key of field.split(".")) {
    node = typeof node === "object" && node !== null ? (node as Record<string, unknown>)[key] : undefined;
  }
  return node;
}

export function parseFilters(filters: string | null, allowedFields: readonly string[]): Predicate {
  if (filters === null || filters.trim() === "") return () => true;
  const predicates = filters.split(/\s+and\s+/i).map((term): Predicate => {
    const match = TERM.exec(term);
    if (!match) throw badRequest(`Invalid filter "${term.slice(0, 100)}": expected field eq "value"`);
    const [, field, op, rawValue] = match as unknown as [string, string, string, string];
    if (!allowedFields.includes(field)) {
      throw badRequest(`Filtering on "${field}" is not supported; use one of ${allowedFields.join(", ")}`);
    }
    if (op.toLowerCase() === "eq") {
      const value = parseValue(rawValue);
      return (item) => fieldOf(item, field) === value;
    }
    const list = /^\((.*)\)$/.exec(rawValue.trim());
    if (!list) throw badRequest(`Invalid filter "${term.slice(0, 100)}": in needs ("a", "b")`);
    const values = new Set(list[1]!.split(",").map(parseValue));
    return (item) => values.has(fieldOf(item, field) as string);
  });
  return (item) => predicates.every((predicate) => predicate(item));
}

function intParam(params: URLSearchParams, name: string, fallback: number, max: number): number {
  const raw = params.get(name);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value > max)
    throw badRequest(`Query parameter ${name} must be an integer 0..${max}`);
  return value;
}

/** Filters, sorts and pages `items` per the query string; returns the page and the total before paging. */
export function listQuery<T extends object>(
  items: readonly T[],
  params: URLSearchParams,
  allowedFilterFields: readonly string[],
  allowedSorters: readonly string[] = [],
  options: { maxLimit?: number } = {},
): { page: T[]; total: number } {
  const maxLimit = options.maxLimit ?? 250;
  const limit = intParam(params, "limit", maxLimit, maxLimit);
  const offset = intParam(params, "offset", 0, Number.MAX_SAFE_INTEGER);
  const predicate = parseFilters(params.get("filters"), allowedFilterFields);
  let selected = items.filter((item) => predicate(item as Record<string, unknown>));
  const sorters = params.get("sorters");
  if (sorters !== null && sorters.trim() !== "") {
    const keys = sorters.split(",").map((raw) => {
      const descending = raw.trim().startsWith("-");
      const field = raw.trim().replace(/^[-+]/, "");
      if (!allowedSorters.includes(field)) throw badRequest(`Sorting on "${field}" is not supported`);
      return { field, descending };
    });
    selected = [...selected].sort((a, b) => {
      for (const { field, descending } of keys) {
        const x = String(fieldOf(a as Record<string, unknown>, field) ?? "");
        const y = String(fieldOf(b as Record<string, unknown>, field) ?? "");
        if (x !== y) return (x < y ? -1 : 1) * (descending ? -1 : 1);
      }
      return 0;
    });
  }
  return { page: selected.slice(offset, offset + limit), total: selected.length };
}

/** `count=true` asks for X-Total-Count; anything but true/false is a 400. */
export function wantsCount(params: URLSearchParams): boolean {
  const raw = params.get("count");
  if (raw === null) return false;
  if (raw !== "true" && raw !== "false") throw badRequest("Query parameter count must be true or false");
  return raw === "true";
}
