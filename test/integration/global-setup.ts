/**
 * Starts moto_server (Python moto, a real AWS API emulator) on a free loopback port for the
 * integration tests and stops it afterwards. Tests read its URL from AWS_ENDPOINT_URL.
 */
import { type ChildProcess, spawn } from "node:child_process";
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

export async function setup(): Promise<void> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  moto = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  moto.once("error", () => {});
  await waitUntilUp(url, Date.now() + 30_000);
  process.env.AWS_ENDPOINT_URL = url;
  process.env.AWS_REGION = "us-east-1";
  process.env.AWS_ACCESS_KEY_ID = "testing";
  process.env.AWS_SECRET_ACCESS_KEY = "testing";
}

export async function teardown(): Promise<void> {
  moto?.kill("SIGTERM");
}
