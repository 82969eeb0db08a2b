import type { CommandGroup } from "../io.ts";

// Placeholder until this command group lands.
const command: CommandGroup = {
  summary: "subscriptions",
  async run(_argv, io) {
    io.stderr("error: isc-responder subscriptions is not implemented yet");
    return 1;
  },
};
export default command;
