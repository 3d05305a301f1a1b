/**
 * `npm run screenshots`: every page of the portal at 360 px and 1280 px, in Persian and English,
 * with headless Chromium against the real test stack (dev chain, real pipeline, indexer, API):
 * overview, batches, a batch an auditor disputes (findings published), a corrected batch, its
 * correction, the receipt page empty and with each kind of result (confirmed, disputed,
 * corrected), and About. PNGs go to test-output/screenshots/pages/ (git-ignored), named
 * `<page>-<lang>-<width>.png` (and `…-partN.png`, screen-sized parts of a tall page), for a person
 * to read.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { launchChromium, SCREENSHOT_DIR } from "../test/web/portal-server.ts";
import { startRealStack } from "../test/web/real-stack.ts";

const OUT = path.join(SCREENSHOT_DIR, "pages");
const WIDTHS = [360, 1280] as const;
const LANGS = ["fa", "en"] as const;
/** Height of the parts a tall page is cut into. */
const SLICE = 1000;

const stack = await startRealStack();
const server = await stack.serve(stack.chain.url);
const browser = await launchChromium();
mkdirSync(OUT, { recursive: true });
const code = (batchId: number) => stack.codes.get(batchId)![0]!;
const { batches } = stack;
const pages: { name: string; hash: string; receipt?: string; open?: boolean }[] = [
  { name: "overview", hash: "#/" },
  { name: "batches", hash: "#/batches" },
  { name: "batch-disputed", hash: `#/batches/${batches.contested}` },
  // The same with every fold ("technical details", tables) open.
  { name: "batch-disputed-open", hash: `#/batches/${batches.contested}`, open: true },
  { name: "batch-superseded", hash: `#/batches/${batches.disputed}` },
  { name: "batch-correction", hash: `#/batches/${batches.correction}` },
  { name: "batch-confirmed", hash: `#/batches/${batches.pension}` },
  { name: "receipt", hash: "#/receipt" },
  { name: "receipt-confirmed", hash: "#/receipt", receipt: code(batches.pension) },
  { name: "receipt-disputed", hash: "#/receipt", receipt: code(batches.contested) },
  { name: "receipt-superseded", hash: "#/receipt", receipt: code(batches.disputed) },
  {
    name: "receipt-disputed-open",
    hash: "#/receipt",
    receipt: code(batches.contested),
    open: true,
  },
  { name: "about", hash: "#/about" },
];
let taken = 0;
try {
  for (const lang of LANGS) {
    for (const width of WIDTHS) {
      const context = await browser.newContext({ viewport: { width, height: 900 } });
      await context.addInitScript((l) => localStorage.setItem("shafaf.lang", l), lang);
      const page = await context.newPage();
      for (const p of pages) {
        await page.goto("about:blank"); // a fresh page load, even when only the hash is the same
        await page.goto(`${server.url}/${p.hash}`);
        await page.waitForSelector("main h1");
        await page.waitForFunction(() => document.querySelector('main [role="status"]') === null);
        if (p.receipt !== undefined) {
          await page.fill("input[name=code]", p.receipt);
          await page.click(".code-form button[type=submit]");
          await page.waitForSelector("#receipt-result section.result");
        }
        if (p.open === true)
          await page.evaluate(() => {
            for (const d of document.querySelectorAll("details")) d.open = true;
          });
        const base = path.join(OUT, `${p.name}-${lang}-${width}`);
        await page.screenshot({ path: `${base}.png`, fullPage: true });
        taken++;
        // A tall page is also cut into screen-sized parts, readable at full size.
        const height = await page.evaluate(() => document.documentElement.scrollHeight);
        if (height > SLICE * 1.25)
          for (let y = 0, n = 1; y < height; y += SLICE, n++)
            await page.screenshot({
              path: `${base}-part${n}.png`,
              fullPage: true,
              clip: { x: 0, y, width, height: Math.min(SLICE, height - y) },
            });
      }
      await context.close();
    }
  }
  process.stdout.write(`${taken} screenshots in ${OUT}\n`);
} finally {
  await browser.close();
  await server.close();
  await stack.stop();
}
