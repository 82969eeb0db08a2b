// Shared by the console page's modules: building elements from text only, the API, formatting.

export const TRIGGERS = {
  "idn:access-request-pre-approval": "pre-approval",
  "idn:access-request-dynamic-approver": "dynamic approver",
};
export const $ = (id) => document.getElementById(id);
const token = document.querySelector('meta[name="console-token"]').getAttribute("content");

/** An element with text children only: strings become text nodes, so nothing is parsed as HTML. */
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "className") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Number.POSITIVE_INFINITY)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
  }
  return node;
}

export async function api(path, options) {
  const init = Object.assign({ headers: {} }, options || {});
  if (init.body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.headers["x-console-token"] = token;
    init.body = JSON.stringify(init.body);
  }
  const response = await fetch(path, init);
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const message = body?.error?.message ? body.error.message : `HTTP ${response.status}`;
    throw new Error(message);
  }
  return body;
}

export const triggerName = (id) => TRIGGERS[id] || id;
export const people = (list) => (list || []).map((p) => p.name || p.id).join(", ") || "-";
export const items = (list) =>
  (list || [])
    .map(
      (item) =>
        `${item.operation === "Remove" ? "− " : ""}${item.name || item.id}${item.type ? ` (${item.type})` : ""}`,
    )
    .join(", ") || "-";

export function time(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso || "-");
  const sameDay = date.toDateString() === new Date().toDateString();
  const clock = date.toLocaleTimeString([], { hour12: false });
  return sameDay ? clock : `${date.toLocaleDateString()} ${clock}`;
}

export function ms(value) {
  if (typeof value !== "number" || !Number.isFinite(value)) return "-";
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
}

export function badge(label, text) {
  return el("span", { className: `badge ${label}` }, text || label);
}

// One wrapper per cell: on a phone the cell is a two-column grid (label, content).
export function cell(label, ...children) {
  return el("td", { "data-label": label }, el("div", {}, ...children));
}

export function facts(pairs) {
  return el(
    "dl",
    { className: "facts" },
    pairs
      .filter(([, value]) => value !== undefined && value !== null && value !== "")
      .map(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]),
  );
}

export function section(title, ...content) {
  return el("section", {}, el("h3", {}, title), ...content);
}

export function compact(value) {
  if (value === undefined) return "";
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

export function table(headers, body) {
  return el(
    "div",
    { className: "table-wrap" },
    el(
      "table",
      {},
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          headers.map((h) => el("th", { scope: "col" }, h)),
        ),
      ),
      el(
        "tbody",
        {},
        body.map((cells) =>
          el(
            "tr",
            {},
            cells.map((value, i) => el("td", { "data-label": headers[i] }, el("div", {}, value))),
          ),
        ),
      ),
    ),
  );
}

export function relative(at, start) {
  const t = Date.parse(at);
  return Number.isFinite(t) && Number.isFinite(start) ? `+${Math.max(0, t - start)} ms` : "";
}
