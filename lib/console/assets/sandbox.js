// The sandbox panel (npm start only): fire a test invocation, fault injection, the sandbox's invocations.
import { $, api, badge, cell, el, ms, time, triggerName } from "./dom.js";

function option(value, text) {
  return el("option", { value }, text);
}

export async function loadSandbox() {
  $("sandbox").hidden = false;
  try {
    const choices = await api("/api/sandbox/choices");
    $("fire-person").replaceChildren(
      ...choices.people.map((p) => option(p.id, p.status ? `${p.name} (${p.status})` : p.name)),
    );
    $("fire-items").replaceChildren(...choices.items.map((i) => option(i.id, `${i.name} (${i.type})`)));
    if ($("fire-items").options.length > 0) $("fire-items").options[0].selected = true;
    showFaults(await api("/api/sandbox/faults"));
  } catch (error) {
    $("fire-status").textContent = `the sandbox did not answer: ${error.message}`;
  }
  loadSandboxInvocations();
  setInterval(() => {
    if (document.visibilityState === "visible") loadSandboxInvocations();
  }, 3000);
}

function showFaults(state) {
  $("faults-enabled").checked = state.enabled;
  $("faults-rate").value = String(state.rate);
  $("faults-target").value = state.target;
  const injected = Object.entries(state.injected || {})
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(", ");
  $("faults-status").textContent =
    `${state.enabled ? `on, rate ${state.rate}, ${state.target}` : "off"}; injected so far: ${injected || "none"}`;
  $("faults-status").dataset.enabled = String(state.enabled);
}

let loadingInvocations = false;
export async function loadSandboxInvocations() {
  if (loadingInvocations) return;
  loadingInvocations = true;
  try {
    const body = await api("/api/sandbox/invocations");
    const counts = body.counts || {};
    $("sandbox-counts").textContent =
      `(pending ${counts.PENDING || 0}, completed ${counts.COMPLETED || 0}, failed ${counts.FAILED || 0})`;
    $("sandbox-rows").replaceChildren(
      ...body.invocations.map((i) =>
        el(
          "tr",
          { dataset: { id: i.id } },
          cell("Created", el("time", { datetime: i.created }, time(i.created))),
          cell("Id", el("code", {}, i.id)),
          cell("Trigger", triggerName(i.triggerId)),
          cell("Mode", i.mode),
          cell(
            "Status",
            badge(i.status === "COMPLETED" ? "approve" : i.status === "FAILED" ? "deny" : "warn", i.status),
          ),
          cell("Latency", ms(i.latencyMs)),
          cell("Completions", i.completions.map((c) => `${c.httpStatus} ${c.result}`).join(", ") || "-"),
          cell("Error", i.error || i.deliveryError || ""),
        ),
      ),
    );
  } catch {
    // The next tick tries again.
  } finally {
    loadingInvocations = false;
  }
}

$("fire").addEventListener("submit", async (event) => {
  event.preventDefault();
  const itemIds = [...$("fire-items").selectedOptions].map((o) => o.value);
  if (itemIds.length === 0) {
    $("fire-status").textContent = "choose at least one item";
    return;
  }
  const request = {
    triggerId: $("fire-trigger").value,
    mode: $("fire-mode").value,
    personId: $("fire-person").value,
    itemIds,
    operation: $("fire-operation").value,
  };
  const comment = $("fire-comment").value.trim();
  if (comment) request.comment = comment;
  $("fire-button").disabled = true;
  $("fire-status").textContent = "firing…";
  try {
    const { result } = await api("/api/sandbox/invocations", { method: "POST", body: request });
    $("fire-status").textContent =
      `invocation ${result.invocationId}: ${result.decision} (${result.completed ? "completed" : `NOT completed: ${result.problem || "?"}`}${result.latencyMs === undefined ? "" : `, ${result.latencyMs} ms`})`;
    $("fire-status").dataset.invocationId = result.invocationId;
  } catch (error) {
    $("fire-status").textContent = `not fired: ${error.message}`;
  } finally {
    $("fire-button").disabled = false;
    loadSandboxInvocations();
  }
});

$("faults").addEventListener("submit", async (event) => {
  event.preventDefault();
  const rate = Number($("faults-rate").value);
  try {
    showFaults(
      await api("/api/sandbox/faults", {
        method: "PUT",
        body: {
          enabled: $("faults-enabled").checked,
          rate: Number.isFinite(rate) ? Math.min(1, Math.max(0, rate)) : 0.2,
          target: $("faults-target").value,
        },
      }),
    );
  } catch (error) {
    $("faults-status").textContent = `not changed: ${error.message}`;
  }
});
