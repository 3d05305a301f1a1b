/**
 * Test helpers: the built portal served by the real API (`createApp`) on 127.0.0.1:0, and a
 * headless Debian Chromium. Nothing here runs at import time.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import type { VerifyReceiptFn } from "../../src/api/app-deps.ts";
import { createApp } from "../../src/api/create-app.ts";
import { buildWeb, type BuildWebResult } from "../../src/cli/build-web.ts";
import { fixtureIndex, fixtureLedger, type PortalFixture } from "./portal-fixtures.ts";

export const CHROMIUM = "/usr/bin/chromium";
export const SCREENSHOT_DIR = path.resolve(import.meta.dirname, "../../test-output/screenshots");

let built: Promise<BuildWebResult> | undefined;

/** Builds the portal once per test run, into a temporary folder (never into the source tree). */
export function buildOnce(): Promise<BuildWebResult> {
  // SHAFAF_WEB_MINIFY=0 keeps function names readable (the history bench's BENCH_PROFILE).
  built ??= buildWeb({
    outDir: mkdtempSync(path.join(tmpdir(), "shafaf-web-")),
    minify: process.env.SHAFAF_WEB_MINIFY !== "0",
  });
  return built;
}

export interface PortalServer {
  url: string;
  close(): Promise<void>;
}

const quietLog = { info() {}, warn() {}, error() {} };

/** Serves a request handler on 127.0.0.1 at a free port. */
export async function listen(handler: RequestListener): Promise<PortalServer> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The real API app over recorded views (no receipts), serving the built portal at `/`. */
export async function startPortalServer(options: {
  fixture: PortalFixture;
  verify: VerifyReceiptFn;
}): Promise<PortalServer> {
  const { outDir } = await buildOnce();
  const { app } = createApp({
    index: fixtureIndex(options.fixture),
    ledger: fixtureLedger(new Map()),
    verify: options.verify,
    apiKeys: [],
    log: quietLog,
    webRoot: outDir,
    rateLimit: false,
  });
  return listen(app);
}

/** Headless Debian Chromium with the flags this machine needs (no background network). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
      "--no-first-run",
    ],
  });
}

/** Collects console errors, uncaught exceptions and failed requests of a page. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("requestfailed", (req) =>
    errors.push(`requestfailed: ${req.url()} ${req.failure()?.errorText ?? ""}`),
  );
  return errors;
}

/** Waits until the route has rendered: main holds an h1 and no loading status. */
export async function waitForPage(page: Page): Promise<void> {
  await page.waitForSelector("main h1");
  await page.waitForFunction(
    () => document.querySelector('main [role="status"]')?.textContent?.includes("…") !== true,
  );
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

interface AxeResult {
  violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[];
}

/** axe-core's WCAG 2.1 A/AA rules on the page; the serious and critical violations. */
export async function runAxe(page: Page): Promise<AxeResult["violations"]> {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as { axe: { run(ctx: Document, opts: object): Promise<AxeResult> } }
    ).axe;
    return axe.run(document, {
      runOnly: {
        type: "tag",
        values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"],
      },
    });
  });
  return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** How far the page scrolls sideways (0 when it fits). Tables scroll inside their own region. */
export function sidewaysOverflow(page: Page): Promise<number> {
  return page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
}
