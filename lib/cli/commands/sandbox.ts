/**
 * `isc-responder sandbox`: runs the local ISC tenant until Ctrl+C, printing what a client needs
 * (base URL, client id and secret as SAIL_* exports, seeded task and campaign ids, the directory
 * context reads are served from).
 */
import type { Directory } from "../../context/directory.ts";
import type { FaultKind, FaultOptions } from "../../sandbox/index.ts";
import { FAULT_KINDS } from "../../sandbox/state.ts";
import { type CliIo, type CommandGroup, parseCommandOptions, UsageError } from "../io.ts";

const HELP = `usage: isc-responder sandbox [options]

Runs a local ISC tenant on loopback (see docs/sandbox.md) until Ctrl+C.

options:
  --port N             port to listen on (default 0: a random free port)
  --host H             address to listen on (default 127.0.0.1)
  --client-id ID       client id to accept (default: generated)
  --client-secret S    client secret to accept (default: generated)
  --rate-limit N       requests per 10 s per client id per API version (default 100; 0 = no limit)
  --directory FILE     identities, items, sources, governance groups, SoD policies and access
                       requests to serve (JSON or YAML; default: the built-in Acme directory)
  --print-directory    print the directory (default or --directory) as YAML and exit: a starting
                       point for your own file
  --context-latency N  delay in ms before each context read is answered (default 0)
  --denied-scopes LIST comma-separated scopes the client lacks (context reads needing one get 403)
  --fault-rate R       probability 0..1 that a request gets an injected fault (default 0)
  --fault-kinds LIST   comma-separated: status429,status500,status503,slow,drop,tokenExpiry (default: all)
  --fault-target T     which requests may get a fault: all (default), context-reads or others
  --fault-seed N       seed of the fault PRNG, for reproducible runs
  --slow-ms N          delay of a "slow" fault (default 2000)
  --token-ttl N        token lifetime in seconds (default 749)
  --no-experimental-header
                       accept experimental calls (versioned role insights) without X-SailPoint-Experimental
  --verbose            log every request on stderr
  -h, --help           this help`;

function numberOption(
  value: string | undefined,
  option: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed) || parsed < min || parsed > max) {
    throw new UsageError(`${option} must be a number between ${min} and ${max}`);
  }
  return parsed;
}

function waitForStop(io: CliIo): Promise<string> {
  return new Promise((resolve) => {
    if (io.signal !== undefined) {
      if (io.signal.aborted) resolve("abort");
      else io.signal.addEventListener("abort", () => resolve("abort"), { once: true });
      return;
    }
    const stop = (name: string) => () => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      resolve(name);
    };
    const onInt = stop("SIGINT");
    const onTerm = stop("SIGTERM");
    process.once("SIGINT", onInt);
    process.once("SIGTERM", onTerm);
  });
}

const FAULT_TARGETS: Record<string, NonNullable<FaultOptions["target"]> | undefined> = {
  all: "all",
  "context-reads": "contextReads",
  others: "otherRequests",
};

async function loadDirectory(file: string | undefined, io: CliIo): Promise<Directory> {
  const { defaultDirectory, loadDirectoryFile } = await import("../../context/directory.ts");
  if (file === undefined) return defaultDirectory();
  const { resolve } = await import("node:path");
  // A ValidationError names the file, each path and line: the CLI prints it as is.
  return loadDirectoryFile(resolve(io.cwd, file));
}

function describeDirectory(directory: Directory): string {
  const items = directory.requestableItems().length;
  const { file } = directory;
  return [
    `${file.name ?? directory.origin}${file.name !== undefined && file.name !== directory.origin ? ` (${directory.origin})` : ""}: ${directory.identities().length} identities`,
    `${items} items`,
    `${directory.sources().length} sources`,
    `${directory.workgroups().length} governance groups`,
    `${file.sodPolicies?.length ?? 0} SoD policies`,
    `${file.accessRequests?.length ?? 0} access requests`,
  ].join(", ");
}

const command: CommandGroup = {
  summary: "run the local ISC tenant sandbox",
  async run(argv, io) {
    const values = parseCommandOptions(
      argv,
      {
        port: { type: "string" },
        host: { type: "string" },
        "client-id": { type: "string" },
        "client-secret": { type: "string" },
        "rate-limit": { type: "string" },
        "fault-rate": { type: "string" },
        "fault-kinds": { type: "string" },
        "fault-target": { type: "string" },
        directory: { type: "string" },
        "print-directory": { type: "boolean" },
        "context-latency": { type: "string" },
        "denied-scopes": { type: "string" },
        "fault-seed": { type: "string" },
        "slow-ms": { type: "string" },
        "token-ttl": { type: "string" },
        "no-experimental-header": { type: "boolean" },
        verbose: { type: "boolean" },
      },
      HELP,
      io,
    );
    if (values === undefined) return 0;
    const str = (name: string): string | undefined => values[name] as string | undefined;
    const port = numberOption(str("port"), "--port", 0, 65_535);
    const rateLimit = numberOption(str("rate-limit"), "--rate-limit", 0, 1_000_000);
    const faultRate = numberOption(str("fault-rate"), "--fault-rate", 0, 1);
    const seed = numberOption(str("fault-seed"), "--fault-seed", 0, 2 ** 32 - 1);
    const slowMs = numberOption(str("slow-ms"), "--slow-ms", 0, 600_000);
    const tokenTtl = numberOption(str("token-ttl"), "--token-ttl", 1, 86_400);
    const contextLatency = numberOption(str("context-latency"), "--context-latency", 0, 600_000);
    const target = FAULT_TARGETS[str("fault-target") ?? "all"];
    if (target === undefined) throw new UsageError("--fault-target must be all, context-reads or others");
    const deniedScopes = (str("denied-scopes") ?? "")
      .split(",")
      .map((scope) => scope.trim())
      .filter((scope) => scope !== "");
    let faults: FaultOptions | undefined;
    if (faultRate !== undefined && faultRate > 0) {
      faults = { rate: faultRate };
      const kinds = str("fault-kinds");
      if (kinds !== undefined) {
        faults.kinds = {};
        for (const kind of kinds.split(",").map((k) => k.trim())) {
          if (!FAULT_KINDS.includes(kind as FaultKind)) {
            throw new UsageError(`--fault-kinds: unknown kind "${kind}" (use ${FAULT_KINDS.join(", ")})`);
          }
          faults.kinds[kind as FaultKind] = 1;
        }
      }
      if (seed !== undefined) faults.seed = seed;
      if (target !== "all") faults.target = target;
      if (slowMs !== undefined) faults.slowMs = slowMs;
    }

    const directory = await loadDirectory(str("directory"), io);
    if (values["print-directory"]) {
      const { stringify } = await import("yaml");
      io.stdout(stringify(directory.file, { lineWidth: 0 }));
      return 0;
    }

    const { startSandbox } = await import("../../sandbox/index.ts");
    const sandbox = await startSandbox({
      directory,
      ...(contextLatency === undefined ? {} : { contextLatencyMs: contextLatency }),
      ...(deniedScopes.length === 0 ? {} : { deniedScopes }),
      ...(port === undefined ? {} : { port }),
      ...(str("host") === undefined ? {} : { host: str("host")! }),
      ...(str("client-id") === undefined ? {} : { clientId: str("client-id")! }),
      ...(str("client-secret") === undefined ? {} : { clientSecret: str("client-secret")! }),
      ...(rateLimit === undefined
        ? {}
        : { rateLimit: rateLimit === 0 ? false : { requests: rateLimit, windowMs: 10_000 } }),
      ...(faults === undefined ? {} : { faults }),
      ...(tokenTtl === undefined ? {} : { tokenTtlSeconds: tokenTtl }),
      ...(values["no-experimental-header"] ? { requireExperimentalHeader: false } : {}),
      ...(values.verbose ? { log: (line: string) => io.stderr(line) } : {}),
      eventBridgeSink: (event) => {
        io.stderr(
          `[sandbox] EventBridge event ${String(event["detail-type"])} (no bus in the CLI sandbox: dropped)`,
        );
      },
    });
    const { seeded } = sandbox.state;
    io.stdout(
      [
        `ISC sandbox listening on ${sandbox.baseUrl}`,
        "",
        `export SAIL_BASE_URL=${sandbox.baseUrl}`,
        `export SAIL_CLIENT_ID=${sandbox.clientId}`,
        `export SAIL_CLIENT_SECRET=${sandbox.clientSecret}`,
        "",
        `token:             POST ${sandbox.baseUrl}/oauth/token (grant_type=client_credentials)`,
        `pending tasks:     ${seeded.taskIds.join(" ")}`,
        `past-due campaign: ${seeded.pastDueCampaignId}`,
        `active campaign:   ${seeded.activeCampaignId}`,
        `rate limit:        ${rateLimit === 0 ? "off" : `${rateLimit ?? 100} requests per 10 s per client id per API version`}`,
        `faults:            ${faults === undefined ? "off" : `rate ${faults.rate}${faults.kinds ? ` (${Object.keys(faults.kinds).join(",")})` : ""}${target === "all" ? "" : ` on ${str("fault-target")}`}`}`,
        `directory:         ${describeDirectory(directory)}`,
        `context reads:     GET ${sandbox.baseUrl}/v2025/identities?filters=id in ("...") and the other reads in docs/sandbox.md${contextLatency ? ` (${contextLatency} ms each)` : ""}`,
        ...(deniedScopes.length === 0 ? [] : [`denied scopes:     ${deniedScopes.join(" ")}`]),
        "",
        "Press Ctrl+C to stop.",
      ].join("\n"),
    );
    const reason = await waitForStop(io);
    await sandbox.close();
    io.stderr(`sandbox stopped (${reason})`);
    return 0;
  },
};
export default command;
