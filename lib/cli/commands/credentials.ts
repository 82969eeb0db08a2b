/**
 * `isc-responder credentials`: the webhook token secret. `revoke-previous` drops the previous token
 * at once (after a leak; docs/deploy.md), through Secrets Manager with the caller's AWS credentials.
 */
import type { RotationSecretsApi } from "../../subscriptions/rotation.ts";
import { type CliIo, type CommandGroup, parseCommandOptions, printJson, UsageError } from "../io.ts";

const HELP = [
  "usage: isc-responder credentials revoke-previous --secret-id <WebhookSecretArn> [--force]",
  "",
  "Writes a new AWSCURRENT version of the webhook secret without its previous token, so only the",
  "current one is accepted (each http container within its 60 s cache). After a leak: rotate first",
  "(aws secretsmanager rotate-secret --secret-id ...), wait for the rotation to finish, then run this.",
  "Refused while a rotation is unfinished (ISC may still send the previous token); --force overrides.",
  "AWS credentials and region: the usual AWS_* environment or profile.",
].join("\n");

/** `secrets` is injectable for tests; the default is Secrets Manager. */
export function credentialsGroup(secrets?: () => Promise<RotationSecretsApi>): CommandGroup {
  return {
    summary: "revoke the previous webhook token (after a leak)",
    async run(argv: string[], io: CliIo) {
      const [sub, ...rest] = argv;
      if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
        io.stdout(HELP);
        return sub === undefined ? 2 : 0;
      }
      if (sub !== "revoke-previous")
        throw new UsageError(`unknown subcommand "credentials ${sub}"\n\n${HELP}`);
      const options = parseCommandOptions(
        rest,
        { "secret-id": { type: "string" }, force: { type: "boolean" } },
        HELP,
        io,
      );
      if (options === undefined) return 0;
      const secretId = options["secret-id"];
      if (typeof secretId !== "string" || secretId === "")
        throw new UsageError(`--secret-id is required\n\n${HELP}`);
      const api =
        secrets === undefined
          ? (await import("../../subscriptions/aws-rotation-secrets.ts")).awsRotationSecrets()
          : await secrets();
      const { revokePreviousToken } = await import("../../subscriptions/revoke.ts");
      const result = await revokePreviousToken(api, secretId, { force: options.force === true });
      printJson(io, result);
      return 0;
    },
  };
}

export default credentialsGroup();
