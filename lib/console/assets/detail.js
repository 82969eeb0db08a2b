// The detail view of one decision record: decision, explanation, context used and reads, timeline.
import {
  badge,
  compact,
  el,
  facts,
  items,
  ms,
  people,
  relative,
  section,
  table,
  triggerName,
} from "./dom.js";

/** A trigger output as one line per field ("comment: ..."), text only. */
function outputFields(output) {
  if (output === null || output === undefined) return null;
  return el(
    "div",
    { className: "output" },
    Object.entries(output).map(([key, value]) =>
      el(
        "div",
        {},
        el("span", { className: "field" }, `${key}: `),
        typeof value === "string" ? value : compact(value),
      ),
    ),
  );
}

export function renderRecord(record) {
  const d = record.decision;
  const received = Date.parse(record.timings.receivedAt);
  const parts = [];
  parts.push(
    section(
      "Decision",
      facts([
        ["Trigger", triggerName(record.triggerId)],
        ["Mode", record.mode],
        ["Invocation", el("code", {}, record.invocationId)],
        ["Access request", record.accessRequestId ? el("code", {}, record.accessRequestId) : undefined],
        ["Requested for", people(record.people)],
        ["Requested by", record.requestedBy ? people([record.requestedBy]) : undefined],
        ["Items", items(record.items)],
        ["Decision", el("div", {}, badge(d.label), outputFields(d.output))],
        [
          "ISC got",
          record.answer.by === "shadow"
            ? `${compact(record.answer.output)} (shadow mode${record.answer.differs ? ": differs from the rules" : ""})`
            : "the rules' decision",
        ],
        ["Fallback", d.fallback ? `yes: ${d.fallbackReason || "the rules could not decide"}` : "no"],
      ]),
    ),
  );
  parts.push(
    section(
      "Explanation",
      facts([
        ["Rule", el("code", {}, d.ruleId)],
        ["Kind", d.kind],
        ["Rules version", el("code", {}, d.rulesVersion)],
        ["Rules evaluated", d.rulesEvaluated],
        [
          "Evaluation",
          d.evaluationMicros === undefined ? undefined : `${Number(d.evaluationMicros).toFixed(1)} µs`,
        ],
      ]),
      el("h4", {}, "Matched conditions"),
      d.matched.length === 0
        ? el("p", { className: "hint" }, "none (the default or fallback decided)")
        : el(
            "ul",
            { className: "matched" },
            d.matched.map((m) => el("li", {}, el("code", {}, m))),
          ),
      d.notEnforced?.length
        ? [
            el("h4", {}, "Matched but not enforced"),
            el(
              "ul",
              { className: "matched" },
              d.notEnforced.map((n) => el("li", {}, el("code", {}, n.ruleId), `: ${n.matched.join("; ")}`)),
            ),
          ]
        : null,
      d.actions?.length ? [el("h4", {}, "Actions"), el("p", {}, d.actions.map(compact).join("; "))] : null,
    ),
  );
  const used = d.contextUsed || [];
  const context = record.context;
  parts.push(
    section(
      "Context used",
      used.length === 0
        ? el("p", { className: "hint" }, "The deciding rule used no context.")
        : table(
            ["Source", "Id", "Fields", "From", "Read"],
            used.map((u) => [
              u.source,
              el("code", {}, u.id),
              el("code", {}, compact(u.fields)),
              u.from === "cache" ? "cache" : u.from === "api" ? "API" : "-",
              ms(u.ms),
            ]),
          ),
      context
        ? [
            facts([
              ["Needed", (context.needs || []).join(", ") || "nothing"],
              ["Cache hits", context.cacheHits],
              ["Read time", ms(context.ms)],
              ["Failure", context.failure ? compact(context.failure) : undefined],
              ["Data", context.dataOmitted ? `omitted: ${context.dataOmitted}` : undefined],
            ]),
            el("h4", {}, "Reads"),
            context.reads.length === 0
              ? el("p", { className: "hint" }, "No request to ISC (payload or cache).")
              : el(
                  "ul",
                  { className: "matched" },
                  context.reads.map((r) => el("li", {}, el("code", {}, compact(r)))),
                ),
          ]
        : null,
    ),
  );
  const timeline = record.timeline || [];
  parts.push(
    section(
      "Timeline",
      facts([
        ["Received", `${record.timings.receivedAt}`],
        ["Decided", `${record.timings.decidedAt} (${ms(record.timings.decisionMs)} after receipt)`],
        ["Deadline", record.timings.deadline],
        ["Completed", record.timings.completedAt],
        [
          "Outcome",
          `${record.completion.outcome}${record.completion.reason ? `: ${record.completion.reason}` : ""}`,
        ],
        ["Deliveries", record.completion.attempts],
        ["Actions run", record.completion.actions?.join(", ")],
      ]),
      timeline.length === 0
        ? null
        : table(
            ["At", "", "Event", "Detail"],
            timeline.map((t) => [t.at, relative(t.at, received), t.event, t.detail || ""]),
          ),
    ),
  );
  return el("article", {}, parts);
}
