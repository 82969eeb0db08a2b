/** `isc-responder role-insights`: request role insights generation and follow it. */
import { ResponderError } from "../../errors.ts";
import { realSleep } from "../../isc/timing.ts";
import { commandGroup, integerOption } from "../command-group.ts";
import { printJson } from "../io.ts";

const DONE = new Set(["COMPLETED", "FAILED"]);

export default commandGroup("role-insights", "request role insights generation", {
  generate: {
    usage: "generate [--wait] [--timeout SECONDS] [--interval SECONDS]",
    summary: "POST /beta/role-insights/requests; --wait polls until COMPLETED or FAILED",
    details: [
      "  --wait              poll GET /beta/role-insights/requests/{id} until COMPLETED or FAILED",
      "  --timeout SECONDS   give up waiting after this long (default 300)",
      "  --interval SECONDS  longest time between polls (default 5; the first polls come sooner)",
      "",
      "While waiting, each poll's status goes to stderr; the request prints to stdout at the end.",
    ],
    options: { wait: { type: "boolean" }, timeout: { type: "string" }, interval: { type: "string" } },
    async run(args, { io, client, callOptions }) {
      const timeoutSeconds = integerOption(args, "timeout", 1, 86_400) ?? 300;
      const intervalSeconds = integerOption(args, "interval", 0, 3_600) ?? 5;
      const deadline = Date.now() + timeoutSeconds * 1000;
      const options = { ...callOptions(), deadline };
      const started = Date.now();
      let request = await client().createRoleInsightsRequest(options);
      if (args.values.wait === true) {
        let polls = 0;
        while (!DONE.has(request.status)) {
          // 1, 2, 4 s, then the interval: a request done in 2 s is seen at once, not after 5.
          const delayMs = Math.min(intervalSeconds * 1000, 1000 * 2 ** polls);
          polls++;
          io.stderr(
            `role insights request ${request.id}: ${request.status} after ${Math.round((Date.now() - started) / 1000)} s; next check in ${delayMs / 1000} s`,
          );
          if (Date.now() + delayMs > deadline) {
            throw new ResponderError(
              "ROLE_INSIGHTS_TIMEOUT",
              `role insights request ${request.id} is still ${request.status} after ${timeoutSeconds} s`,
              { httpStatus: 504 },
            );
          }
          await realSleep(delayMs, io.signal);
          request = await client().getRoleInsightsRequest(request.id, options);
        }
      }
      printJson(io, request);
      return request.status === "FAILED" ? 1 : 0;
    },
  },
  get: {
    usage: "get <id>",
    summary: "show a role insights request (GET /beta/role-insights/requests/{id})",
    positionals: 1,
    async run(args, { io, client, callOptions }) {
      printJson(io, await client().getRoleInsightsRequest(args.positionals[0] as string, callOptions()));
      return 0;
    },
  },
});
