/** Long-running commands (dev, serve) stop on the CLI's abort signal or on Ctrl-C / SIGTERM. */
import type { CliIo } from "./io.ts";

export function waitForStop(io: CliIo): Promise<string> {
  return new Promise((resolve) => {
    const done = (reason: string) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      io.signal?.removeEventListener("abort", onAbort);
      resolve(reason);
    };
    const onInt = () => done("SIGINT");
    const onTerm = () => done("SIGTERM");
    const onAbort = () => done("abort");
    if (io.signal?.aborted) {
      resolve("abort");
      return;
    }
    io.signal?.addEventListener("abort", onAbort, { once: true });
    process.once("SIGINT", onInt);
    process.once("SIGTERM", onTerm);
  });
}
