/** `isc-responder triggers`: the tenant's event triggers. */
import { commandGroup, integerOption, stringOption } from "../command-group.ts";
import { printJson } from "../io.ts";

export default commandGroup("triggers", "list the tenant's triggers", {
  list: {
    usage: "list [--filters EXPR] [--limit N] [--offset N] [--full]",
    summary: "list triggers (GET /beta/triggers); --full includes their input/output schemas",
    options: {
      filters: { type: "string" },
      limit: { type: "string" },
      offset: { type: "string" },
      full: { type: "boolean" },
    },
    async run(args, { io, client, callOptions }) {
      const filters = stringOption(args, "filters");
      const limit = integerOption(args, "limit", 0, 250);
      const offset = integerOption(args, "offset");
      const triggers = await client().listTriggers(
        {
          ...(filters === undefined ? {} : { filters }),
          ...(limit === undefined ? {} : { limit }),
          ...(offset === undefined ? {} : { offset }),
        },
        callOptions(),
      );
      printJson(
        io,
        args.values.full === true
          ? triggers
          : triggers.map(({ id, name, type, description }) => ({ id, name, type, description })),
      );
      return 0;
    },
  },
});
