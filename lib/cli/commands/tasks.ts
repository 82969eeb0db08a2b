/** `isc-responder tasks`: clear a pending task through the task status API. */

import { clearPendingTaskPatch } from "../../isc/client.ts";
import { type TaskCompletionStatus, TaskCompletionStatusSchema } from "../../isc/schemas.ts";
import { commandGroup, requiredOption, stringOption } from "../command-group.ts";
import { printJson, UsageError } from "../io.ts";

const STATUSES = TaskCompletionStatusSchema.options;

export default commandGroup("tasks", "update a task status (clear a pending task)", {
  "update-status": {
    usage: `update-status <taskId> --status ${STATUSES.join("|")} [--completed ISO]`,
    summary: "set completionStatus and completed (PATCH /beta/task-status/{id}); completed defaults to now",
    options: { status: { type: "string" }, completed: { type: "string" } },
    positionals: 1,
    async run(args, { io, client, callOptions }) {
      // The docs' own example writes "Error": accept any case.
      const status = requiredOption(args, "status").toUpperCase();
      if (!(STATUSES as readonly string[]).includes(status)) {
        throw new UsageError(`--status must be one of ${STATUSES.join(", ")}`);
      }
      const completed = stringOption(args, "completed");
      if (completed !== undefined && Number.isNaN(Date.parse(completed))) {
        throw new UsageError("--completed must be an ISO-8601 date-time");
      }
      const operations = clearPendingTaskPatch({
        completionStatus: status as TaskCompletionStatus,
        ...(completed === undefined ? {} : { completed: new Date(completed).toISOString() }),
      });
      printJson(
        io,
        await client().updateTaskStatus(args.positionals[0] as string, operations, callOptions()),
      );
      return 0;
    },
  },
  get: {
    usage: "get <taskId>",
    summary: "show a task status (GET /beta/task-status/{id})",
    positionals: 1,
    async run(args, { io, client, callOptions }) {
      printJson(io, await client().getTaskStatus(args.positionals[0] as string, callOptions()));
      return 0;
    },
  },
});
