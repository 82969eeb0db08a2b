/**
 * Starts moto_server (Python moto, a real AWS API emulator) on a free loopback port for the
 * integration tests and stops it afterwards. Tests read its URL from AWS_ENDPOINT_URL.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";

let moto: ChildProcess | undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilUp(url: string, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    try {
      await fetch(`${url}/moto-api/`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`moto_server did not start at ${url}; install it with: pip install "moto[server]"`);
}

/**
 * moto's server app, run single-threaded. `moto_server` serves requests on threads and moto's
 * DynamoDB does not lock an item between a condition check and the write, so concurrent conditional
 * writes can both succeed there; real DynamoDB applies them atomically. Serving one request at a time
 * restores that guarantee, which the ledger's concurrency tests rely on. Falls back to `moto_server`.
 */
const SINGLE_THREADED_MOTO = `
import sys
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
run_simple(sys.argv[1], int(sys.argv[2]), DomainDispatcherApplication(create_backend_app), threaded=False)
`;

function startMoto(port: number): ChildProcess {
  const python = spawnSync("python3", ["-c", "import moto.moto_server.werkzeug_app, werkzeug"], {
    stdio: "ignore",
  });
  const child =
    python.status === 0
      ? spawn("python3", ["-c", SINGLE_THREADED_MOTO, "127.0.0.1", String(port)], {
          stdio: "ignore",
          env: { ...process.env, MOTO_PORT: String(port) },
        })
      : spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  child.once("error", () => {});
  return child;
}

export async function setup(): Promise<void> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  moto = startMoto(port);
  await waitUntilUp(url, Date.now() + 30_000);
  process.env.AWS_ENDPOINT_URL = url;
  process.env.AWS_REGION = "us-east-1";
  process.env.AWS_ACCESS_KEY_ID = "testing";
  process.env.AWS_SECRET_ACCESS_KEY = "testing";
}

export async function teardown(): Promise<void> {
  moto?.kill("SIGTERM");
}
