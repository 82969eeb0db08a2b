/** `isc-responder campaigns`: complete a past-due certification campaign. */
import { commandGroup, stringOption } from "../command-group.ts";
import { printJson, UsageError } from "../io.ts";

export default commandGroup("campaigns", "complete a certification campaign", {
  complete: {
    usage: "complete <campaignId> [--auto-complete-action APPROVE|REVOKE] [--v3]",
    summary: "complete a past-due campaign (POST /beta/campaigns/{id}/complete, or /v3 with --v3)",
    options: { "auto-complete-action": { type: "string" }, v3: { type: "boolean" } },
    positionals: 1,
    async run(args, { io, client, callOptions }) {
      const action = stringOption(args, "auto-complete-action")?.toUpperCase();
      if (action !== undefined && action !== "APPROVE" && action !== "REVOKE") {
        throw new UsageError("--auto-complete-action must be APPROVE or REVOKE");
      }
      const campaignId = args.positionals[0] as string;
      const apiVersion = args.values.v3 === true ? "v3" : "beta";
      await client().completeCampaign(
        campaignId,
        action === undefined ? {} : { autoCompleteAction: action },
        {
          ...callOptions(),
          apiVersion,
        },
      );
      printJson(io, { accepted: true, campaignId, apiVersion, autoCompleteAction: action ?? "APPROVE" });
      return 0;
    },
  },
});
