#!/usr/bin/env node
// The CLI is TypeScript; tsx runs it without a build step so `npx isc-responder` works right after `npm ci`.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../lib/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
