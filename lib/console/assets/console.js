// isc-responder console page: the list, filters, live feed and detail dialog. Plain JavaScript
// modules, no framework, nothing fetched but this console's API. Every value from a record goes
// into the page as text (textContent), never as HTML.
import { renderRecord } from "./detail.js";
import { $, api, badge, cell, el, items, ms, people, time, triggerName } from "./dom.js";
import { loadSandbox, loadSandboxInvocations } from "./sandbox.js";

const rows = new Map();
let filters = { trigger: "", decision: "", person: "" };
let info = { live: false, sandbox: false, source: "" };
let opener = null;

function matches(row) {
  if (filters.trigger && row.triggerId !== filters.trigger) return false;
  if (filters.decision === "fallback" && !row.fallback) return false;
  if (filters.decision && filters.decision !== "fallback" && row.decision !== filters.decision) return false;
  if (filters.person) {
    const wanted = filters.person.toLowerCase();
    const found = (row.people || []).some(
      (p) => p.id === filters.person || (p.name || "").toLowerCase().includes(wanted),
    );
    if (!found) return false;
  }
  return true;
}

function rowElement(row) {
  const tr = el(
    "tr",
    {
      tabindex: 0,
      dataset: { id: row.invocationId },
      "aria-label": `${triggerName(row.triggerId)} ${row.mode}, ${people(row.people)}: ${row.decision}. Enter opens the details.`,
    },
    cell("Time", el("time", { datetime: row.decidedAt }, time(row.decidedAt))),
    cell("Trigger", triggerName(row.triggerId)),
    cell("Mode", row.mode),
    cell("Person", people(row.people)),
    cell("Items", items(row.items)),
    cell(
      "Decision",
      badge(row.decision),
      row.summary && row.summary !== row.decision
        ? el("span", { className: "decision-text" }, row.summary)
        : null,
      row.shadowAnswer
        ? el("span", { className: "decision-text" }, `shadow: ISC got ${row.shadowAnswer}`)
        : null,
    ),
    cell("Rule", el("code", {}, row.ruleId)),
    cell("Latency", ms(row.latencyMs)),
    cell("Completed", row.completed ? "yes" : badge("warn", row.outcome)),
    cell("Fallback", row.fallback ? badge("warn", "fallback") : "no"),
  );
  tr.addEventListener("click", () => openDetail(row.invocationId, tr));
  tr.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      openDetail(row.invocationId, tr);
    } else if (event.key === "ArrowDown" && tr.nextElementSibling) {
      event.preventDefault();
      tr.nextElementSibling.focus();
    } else if (event.key === "ArrowUp" && tr.previousElementSibling) {
      event.preventDefault();
      tr.previousElementSibling.focus();
    }
  });
  return tr;
}

function updateCount() {
  const n = rows.size;
  $("count").textContent = `(${n})`;
  $("empty").hidden = n > 0;
}

function renderList(list) {
  const body = $("decision-rows");
  rows.clear();
  body.replaceChildren(
    ...list.map((row) => {
      const tr = rowElement(row);
      rows.set(row.invocationId, tr);
      return tr;
    }),
  );
  updateCount();
}

// Rows that arrive while a list is being read are applied again after it (it may predate them).
let listing = false;
const arrivedDuringList = [];

function upsert(row) {
  if (listing) arrivedDuringList.push(row);
  if (!matches(row)) return;
  const body = $("decision-rows");
  const tr = rowElement(row);
  tr.classList.add("fresh");
  const previous = rows.get(row.invocationId);
  const hadFocus = previous !== undefined && previous === document.activeElement;
  if (previous) previous.remove();
  body.prepend(tr);
  rows.set(row.invocationId, tr);
  if (hadFocus) tr.focus();
  updateCount();
}

async function loadList() {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) if (value) query.set(key, value);
  listing = true;
  arrivedDuringList.length = 0;
  try {
    const body = await api(`/api/decisions?${query}`);
    listing = false;
    renderList(body.decisions);
    for (const row of arrivedDuringList.splice(0)) if (!rows.has(row.invocationId)) upsert(row);
  } catch (error) {
    $("connection").textContent = `could not list the decisions: ${error.message}`;
  } finally {
    listing = false;
  }
}

async function openDetail(id, from) {
  opener = from || document.activeElement;
  const dialog = $("detail");
  $("detail-title").textContent = `Invocation ${id}`;
  $("detail-body").replaceChildren(el("p", { role: "status" }, "loading…"));
  if (!dialog.open) dialog.showModal();
  $("detail-close").focus();
  try {
    const body = await api(`/api/decisions/${encodeURIComponent(id)}`);
    const own = body.records.filter((r) => r.invocationId === id);
    $("detail-body").replaceChildren(...(own.length > 0 ? own : body.records).map(renderRecord));
  } catch (error) {
    $("detail-body").replaceChildren(el("p", { role: "alert" }, `could not read it: ${error.message}`));
  }
}

$("detail-close").addEventListener("click", () => $("detail").close());
$("detail").addEventListener("close", () => {
  if (opener && document.contains(opener)) opener.focus();
  else rows.get($("detail-title").textContent.replace("Invocation ", ""))?.focus();
});

// ---------- filters ----------

$("filters").addEventListener("submit", (event) => {
  event.preventDefault();
  filters = {
    trigger: $("filter-trigger").value,
    decision: $("filter-decision").value,
    person: $("filter-person").value.trim(),
  };
  loadList();
});
$("refresh").addEventListener("click", () => loadList());

// ---------- live feed ----------

function connect() {
  const events = new EventSource("/api/events");
  events.addEventListener("hello", (event) => {
    const hello = JSON.parse(event.data);
    $("connection").textContent = hello.live ? "live" : "read-only: Refresh to see new records";
    $("connection").dataset.state = hello.live ? "live" : "static";
    // The first hello and every reconnection: the list catches up with what the stream missed.
    loadList();
  });
  events.addEventListener("decision", (event) => {
    upsert(JSON.parse(event.data));
    if (info.sandbox) loadSandboxInvocations();
  });
  events.addEventListener("error", () => {
    $("connection").textContent = "reconnecting…";
    $("connection").dataset.state = "reconnecting";
  });
}

// ---------- start ----------

(async () => {
  try {
    info = await api("/api/info");
    $("source").textContent = info.source;
  } catch (error) {
    $("connection").textContent = `the console did not answer: ${error.message}`;
    return;
  }
  connect();
  if (info.sandbox) loadSandbox();
})();
