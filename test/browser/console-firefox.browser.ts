/**
 * The console in Firefox (Debian's firefox-esr, driven over WebDriver BiDi by puppeteer-core): the
 * page the Chromium test covers in depth must also work here: the live list, a detail view opened
 * from the keyboard, an invocation fired from the controls, no secret in the page.
 */
import { existsSync } from "node:fs";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryDecisionRecords } from "../../lib/adapters/local/memory-decision-records.ts";
import type { ConsoleServer } from "../../lib/console/server.ts";
import { startDevConsole } from "../../lib/console/start.ts";
import { DEFAULT_DIRECTORY_IDS as ID } from "../../lib/context/directory.ts";
import { type DevSession, startDev } from "../../lib/local/dev.ts";
import type { SampleResult } from "../../lib/local/samples.ts";

// biome-ignore lint/suspicious/noExplicitAny: the DOM is untyped here
type Dom = any;
declare const document: Dom;

const RULES = new URL("../../rules/example.yaml", import.meta.url).pathname;

function firefoxPath(): string {
  const path = process.env.FIREFOX_PATH ?? "/usr/bin/firefox-esr";
  if (!existsSync(path))
    throw new Error(`no Firefox at ${path}: apt-get install -y firefox-esr, or set FIREFOX_PATH`);
  return path;
}

let session: DevSession;
let server: ConsoleServer;
let browser: Browser;
let page: Page;
let samples: Promise<SampleResult[]>;

/**
 * Polls `fn` in the page until it returns true. puppeteer's waitForFunction builds its poller with
 * Function() inside the page, which the console's CSP (no unsafe-eval) rightly refuses in Firefox.
 */
async function waitFor<A>(fn: (arg: A) => unknown, arg?: A, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await page.evaluate(fn as (arg: unknown) => unknown, arg)) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${fn.toString().slice(0, 120)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  session = await startDev({
    rulesPath: RULES,
    log: () => {},
    logLevel: "silent",
    records: new MemoryDecisionRecords(),
  });
  let samplesStarted!: () => void;
  const started = new Promise<void>((resolve) => {
    samplesStarted = resolve;
  });
  samples = started.then(() => session.runSamples());
  server = await startDevConsole(session, session.records!, {}, { ready: samples });
  // Firefox's BiDi has no viewport emulation command: the window has the size (the phone layout is
  // checked in Chromium).
  browser = await puppeteer.launch({
    browser: "firefox",
    executablePath: firefoxPath(),
    headless: true,
    defaultViewport: null,
    args: ["--width=1280", "--height=900"],
  });
  page = await browser.newPage();
  page.setDefaultTimeout(20_000);
  await page.goto(server.url, { waitUntil: "domcontentloaded" });
  await waitFor(() => document.getElementById("connection")?.dataset.state === "live");
  samplesStarted();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await session?.close();
});

describe("the console in Firefox", () => {
  it("lists the sample invocations live and opens a detail view from the keyboard", async () => {
    const results = await samples;
    expect(results.every((r) => r.completed)).toBe(true);
    await waitFor(() => document.querySelectorAll("#decision-rows tr").length >= 8);
    await page.$$eval("#decision-rows tr", (rows) => {
      (rows.find((r) => (r as Dom).innerText.includes("deny-inactive-person")) as Dom).focus();
    });
    await page.keyboard.press("Enter");
    await waitFor(() => document.getElementById("detail-body")?.innerText.includes("Timeline"));
    const detail = await page.$eval("#detail-body", (body) => (body as Dom).innerText);
    expect(detail).toContain("deny-inactive-person");
    expect(detail).toContain("Context used");
    await page.keyboard.press("Escape");
    await waitFor(() => !(document.getElementById("detail") as Dom).open);
  });

  it("fires an invocation from the controls and sees it arrive", async () => {
    await page.select("#fire-trigger", "idn:access-request-pre-approval");
    await page.select("#fire-mode", "async");
    await page.select("#fire-person", ID.terry);
    await page.select("#fire-items", ID.wikiReader);
    await page.click("#fire-button");
    await waitFor(() => document.getElementById("fire-status")?.dataset.invocationId !== undefined);
    const fired = await page.$eval("#fire-status", (p) => (p as Dom).dataset.invocationId as string);
    await waitFor((id) => document.querySelector(`#decision-rows tr[data-id="${id}"]`) !== null, fired);
  });

  it("holds no secret in the page", async () => {
    const secrets = [
      session.bearerToken,
      session.sandbox.clientSecret,
      ...[...session.sandbox.state.invocations.values()].map((i) => i.secret),
    ];
    const html = await page.content();
    expect(secrets.length).toBeGreaterThan(9);
    for (const secret of secrets) expect(html.includes(secret)).toBe(false);
  });
});
