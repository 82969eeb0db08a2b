/**
 * The console in a real browser (headless Chromium through puppeteer-core): npm start's runtime in
 * process with its console, the sample invocations arriving live, a detail view opened from the
 * keyboard, an invocation fired from the controls, faults toggled, a cross-site attempt refused, no
 * secret anywhere in the page, readable on a phone. Writes the README's two screenshots.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryDecisionRecords } from "../../lib/adapters/local/memory-decision-records.ts";
import type { ConsoleServer } from "../../lib/console/server.ts";
import { startDevConsole } from "../../lib/console/start.ts";
import { DEFAULT_DIRECTORY_IDS as ID } from "../../lib/context/directory.ts";
import { type DevSession, startDev } from "../../lib/local/dev.ts";
import type { SampleResult } from "../../lib/local/samples.ts";

// The browser's globals, for the functions puppeteer runs in the page (this tsconfig has no DOM lib).
// biome-ignore lint/suspicious/noExplicitAny: the DOM is untyped here
type Dom = any;
declare const document: Dom;
declare const getComputedStyle: Dom;

const IMAGES = fileURLToPath(new URL("../../docs/images/", import.meta.url));
const RULES = fileURLToPath(new URL("../../rules/example.yaml", import.meta.url));

function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (!existsSync(path))
    throw new Error(`no Chromium at ${path}: apt-get install -y chromium, or set CHROMIUM_PATH`);
  return path;
}

let session: DevSession;
let server: ConsoleServer;
let browser: Browser;
let page: Page;
let samples: Promise<SampleResult[]>;

const rowCount = () => page.$$eval("#decision-rows tr", (rows) => rows.length);

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
  // The console's controls wait for the samples, as in npm start.
  samples = started.then(() => session.runSamples());
  server = await startDevConsole(session, session.records!, {}, { ready: samples });
  browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [...(process.getuid?.() === 0 ? ["--no-sandbox"] : []), "--disable-gpu", "--disable-dev-shm-usage"],
  });
  page = await browser.newPage();
  page.setDefaultTimeout(20_000);
  await page.setViewport({ width: 1280, height: 900 });
  // Screenshots without the new-row highlight half faded.
  await page.emulateMediaFeatures([{ name: "prefers-reduced-motion", value: "reduce" }]);
  await page.goto(server.url, { waitUntil: "domcontentloaded" });
  await page.waitForFunction(() => document.getElementById("connection")?.dataset.state === "live");
  samplesStarted();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await session?.close();
});

describe("the console in Chromium", () => {
  it("lists the sample invocations as they arrive, with their decisions", async () => {
    const results = await samples;
    expect(results.every((r) => r.completed)).toBe(true);
    await page.waitForFunction(() => document.querySelectorAll("#decision-rows tr").length >= 8);
    const texts = await page.$$eval("#decision-rows tr", (rows) => rows.map((r) => (r as Dom).innerText));
    for (const r of results) {
      expect(texts.some((t) => t.includes(r.ruleId.replace(" (fallback)", "")))).toBe(true);
    }
    const all = texts.join("\n");
    for (const mode of ["sync", "async", "dynamic", "eventbridge"]) expect(all).toContain(mode);
    expect(all).toContain("Terry Terminated");
    expect(all).toContain("deny-sod-violation");
    await mkdir(IMAGES, { recursive: true });
    await page.screenshot({ path: `${IMAGES}console-list.png` });
  });

  it("filters by decision and by person", async () => {
    await page.select("#filter-decision", "deny");
    await page.click("#filters button[type=submit]");
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll("#decision-rows tr")].length > 0 &&
        [...document.querySelectorAll("#decision-rows tr")].every((r) => r.querySelector(".badge.deny")),
    );
    await page.select("#filter-decision", "");
    await page.type("#filter-person", "terry");
    await page.click("#filters button[type=submit]");
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll("#decision-rows tr")];
      return rows.length === 1 && rows[0]!.innerText.includes("Terry Terminated");
    });
    await page.$eval("#filter-person", (input) => {
      (input as Dom).value = "";
    });
    await page.click("#filters button[type=submit]");
    await page.waitForFunction(() => document.querySelectorAll("#decision-rows tr").length >= 8);
  });

  it("opens a detail view from the keyboard and closes it with Escape", async () => {
    const id = await page.$$eval("#decision-rows tr", (rows) => {
      const row = rows.find((r) => (r as Dom).innerText.includes("deny-sod-violation")) as Dom;
      row.focus();
      return row.dataset.id;
    });
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => (document.getElementById("detail") as Dom).open);
    await page.waitForFunction(() =>
      document.getElementById("detail-body")!.innerText.includes("Matched conditions"),
    );
    const detail = await page.$eval("#detail-body", (body) => (body as Dom).innerText);
    expect(detail).toContain("deny-sod-violation");
    expect(detail).toContain("Rules version");
    expect(detail).toMatch(/\bsha256:/);
    expect(detail).toContain("Context used");
    expect(detail).toMatch(/\b(API|cache)\b/);
    expect(detail).toContain("Timeline");
    expect(detail).toContain("received");
    await page.screenshot({ path: `${IMAGES}console-detail.png` });
    await page.keyboard.press("Escape");
    await page.waitForFunction(() => !(document.getElementById("detail") as Dom).open);
    // Focus goes back to the row it was opened from.
    expect(await page.evaluate(() => (document.activeElement as Dom)?.dataset.id)).toBe(id);
  });

  it("fires an invocation from the controls and sees it arrive", async () => {
    const before = await rowCount();
    await page.select("#fire-trigger", "idn:access-request-pre-approval");
    await page.select("#fire-mode", "async");
    await page.select("#fire-person", ID.terry);
    await page.select("#fire-items", ID.wikiReader);
    await page.click("#fire-button");
    await page.waitForFunction(
      () => document.getElementById("fire-status")!.dataset.invocationId !== undefined,
    );
    const fired = await page.$eval("#fire-status", (p) => (p as Dom).dataset.invocationId!);
    expect(await page.$eval("#fire-status", (p) => p.textContent)).toContain("completed");
    await page.waitForFunction(
      (id) => document.querySelector(`#decision-rows tr[data-id="${id}"]`) !== null,
      {},
      fired,
    );
    expect(await rowCount()).toBe(before + 1);
    const row = await page.$eval(`#decision-rows tr[data-id="${fired}"]`, (r) => (r as Dom).innerText);
    expect(row).toContain("deny-inactive-person");
    // The sandbox's status list shows it completed.
    await page.waitForFunction(
      (id) => document.querySelector(`#sandbox-rows tr[data-id="${id}"]`)?.textContent?.includes("COMPLETED"),
      {},
      fired,
    );
  });

  it("turns fault injection on and off", async () => {
    await page.click("#faults-enabled");
    await page.click("#faults-button");
    await page.waitForFunction(() => document.getElementById("faults-status")!.dataset.enabled === "true");
    expect(await page.$eval("#faults-status", (p) => p.textContent)).toContain("on, rate 0.2");
    await page.click("#faults-enabled");
    await page.click("#faults-button");
    await page.waitForFunction(() => document.getElementById("faults-status")!.dataset.enabled === "false");
  });

  it("refuses a control request from another site's page", async () => {
    const other = await browser.newPage();
    try {
      // The sandbox's origin stands in for another site: a CSRF form post and a fetch without the token.
      await other.goto(`${session.sandbox.baseUrl}/sandbox/health`);
      const before = session.sandbox.state.invocations.size;
      // A request the console would carry out, had it come from its own page.
      const valid = {
        triggerId: "idn:access-request-pre-approval",
        mode: "sync",
        personId: ID.ed,
        itemIds: [ID.wikiReader],
      };
      const statuses = await other.evaluate(
        async (target, request) => {
          const body = JSON.stringify(request);
          // A "simple" request goes out without a preflight; the console refuses it (no token) and its
          // Cross-Origin-Resource-Policy keeps even the opaque reply from the other page.
          const simple = await fetch(target, {
            method: "POST",
            mode: "no-cors",
            body,
            headers: { "content-type": "text/plain" },
          }).then(
            (r) => r.type,
            () => "blocked",
          );
          const cors = await fetch(target, {
            method: "POST",
            body,
            headers: { "content-type": "application/json" },
          }).then(
            (r) => r.status,
            () => "blocked",
          );
          return [simple, cors];
        },
        `${server.url}api/sandbox/invocations`,
        valid,
      );
      expect(statuses).toEqual(["blocked", "blocked"]);
      // Give a request that got through the time to be fired: none did.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(session.sandbox.state.invocations.size).toBe(before);
    } finally {
      await other.close();
    }
  });

  it("holds no secret in the page: not the webhook token, the client secret or any invocation secret", async () => {
    const secrets = [
      session.bearerToken,
      session.sandbox.clientSecret,
      ...[...session.sandbox.state.invocations.values()].map((i) => i.secret),
    ];
    expect(secrets.length).toBeGreaterThan(9);
    // Open a detail too, so its content is in the DOM.
    await page.focus("#decision-rows tr");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.getElementById("detail-body")!.innerText.includes("Timeline"));
    const html = await page.content();
    const text = await page.evaluate(() => document.body.innerText);
    for (const secret of secrets) {
      expect(html.includes(secret)).toBe(false);
      expect(text.includes(secret)).toBe(false);
    }
    expect(html).not.toMatch(/Bearer [A-Za-z0-9]{20,}/);
    await page.keyboard.press("Escape");
  });

  it("is readable on a phone: no sideways scrolling, rows as labelled cards", async () => {
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
    await page.waitForFunction(() => document.documentElement.scrollWidth <= 392);
    const label = await page.$eval("#decision-rows tr td", (td) => getComputedStyle(td, "::before").content);
    expect(label).toBe('"Time"');
    await page.setViewport({ width: 1280, height: 900 });
  });
});
