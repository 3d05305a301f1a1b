/**
 * The printed history key, certificates' printable pages and «بررسی گواهی» / "Check a
 * certificate" in headless Chromium on the demo-like stack (history-stack.ts: real chain,
 * pipeline, indexer, API, portal). The QR codes are decoded from Chromium screenshots with jsQR
 * and compared with payloads computed here independently (the key from the stack's VRF seed, the
 * certificate QR from the downloaded file). The key typed back opens the history; a one-character
 * typo is refused naming its group; a key under another VRF key is refused; a missing month's
 * certificate is printed, then dropped on the check page and verified; corrupted and foreign files
 * are refused in words. axe-core clean, usable at 360 px and at 200 % zoom.
 */
import { expect } from "chai";
import { deflateSync } from "fflate";
import jsQRModule from "jsqr";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { certificateQrOf, formatCertificateQr } from "../../src/core/certificate-qr.ts";
import { formatHistoryKey } from "../../src/core/history-key.ts";
import { personVrfInput } from "../../src/core/person-key.ts";
import { vrfProve, vrfSecretKey } from "../../src/core/vrf.ts";
import { createLedgerClient } from "../../src/chain/ledger-client.ts";
import { createRpc } from "../../src/chain/rpc.ts";
import { formatTimestamp, localDigits } from "../../src/web/format.ts";
import {
  DEMO_CODE,
  HISTORY_PERIODS,
  MISSING_PERIODS,
  historyKeyOf,
  startHistoryStack,
  type HistoryStack,
} from "./history-stack.ts";
import {
  collectErrors,
  launchChromium,
  runAxe,
  SCREENSHOT_DIR,
  sidewaysOverflow,
  type PortalServer,
} from "./portal-server.ts";

// jsqr is CommonJS whose types declare an ES default export; both shapes are callable at run time.
const jsQR = ((jsQRModule as unknown as { default?: unknown }).default ??
  jsQRModule) as typeof jsQRModule.default;

/** Decodes the QR code in `selector` from a Chromium screenshot of it. */
async function decodeQr(page: Page, selector: string): Promise<{ data: string; version: number }> {
  // A screenshot of the area, as a camera would see it (an element screenshot of an SVG inside a
  // right-to-left page comes out shifted in Chromium).
  await page.locator(selector).scrollIntoViewIfNeeded();
  const box = (await page.locator(selector).boundingBox())!;
  const png = await page.screenshot({
    clip: { x: box.x - 8, y: box.y - 8, width: box.width + 16, height: box.height + 16 },
  });
  const pixels = await page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const c = canvas.getContext("2d")!;
    c.drawImage(img, 0, 0);
    const data = c.getImageData(0, 0, canvas.width, canvas.height);
    return { w: data.width, h: data.height, rgba: Array.from(data.data) };
  }, png.toString("base64"));
  const code = jsQR(new Uint8ClampedArray(pixels.rgba), pixels.w, pixels.h);
  if (code === null) throw new Error(`no QR code could be read in ${selector}`);
  return { data: code.data, version: code.version };
}

/**
 * Usable zoomed: no sideways scrolling at 200 % page zoom of a 1280-pixel window (640 CSS px), nor
 * with 200 % text at 720 px (as test/web/portal.test.ts checks every page). Back to 360 px after.
 */
async function fitsZoomed(page: Page, what: string): Promise<void> {
  await page.setViewportSize({ width: 640, height: 400 });
  expect(await sidewaysOverflow(page), `${what} at 640 px`).to.be.at.most(0);
  await page.setViewportSize({ width: 720, height: 900 });
  await page.evaluate(() => {
    document.documentElement.style.fontSize = "200%";
  });
  expect(await sidewaysOverflow(page), `${what} at 200 % text`).to.be.at.most(0);
  await page.evaluate(() => {
    document.documentElement.style.fontSize = "";
  });
  await page.setViewportSize({ width: 360, height: 740 });
}

/** Pages in a PDF (Chromium's print output: one page tree, its /Count). */
const pdfPages = (pdf: Buffer): number =>
  Number(/\/Type\s*\/Pages\b[^>]*?\/Count (\d+)/.exec(pdf.toString("latin1"))?.[1] ?? 0);

describe("Printed history key and certificates (Chromium, demo-like v2 stack)", function () {
  this.timeout(300_000);
  let stack: HistoryStack;
  let server: PortalServer;
  let browser: Browser;
  let context: BrowserContext;
  const out = mkdtempSync(path.join(tmpdir(), "shafaf-print-web-"));
  let certificateFile = "";

  before(async function () {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    stack = await startHistoryStack();
    server = await stack.serve();
    browser = await launchChromium();
    context = await browser.newContext({
      viewport: { width: 360, height: 740 },
      acceptDownloads: true,
    });
  });
  after(async function () {
    await context?.close();
    await browser?.close();
    await server?.close();
    await stack?.stop();
    rmSync(out, { recursive: true, force: true });
  });

  async function open(lang: "fa" | "en", route: string): Promise<{ page: Page; errors: string[] }> {
    const page = await context.newPage();
    const errors = collectErrors(page);
    await page.addInitScript((l) => localStorage.setItem("shafaf.lang", l), lang);
    await page.goto(`${server.url}/#/${route}`);
    await page.waitForSelector("main h1");
    return { page, errors };
  }

  async function signIn(lang: "fa" | "en", personId: string) {
    const opened = await open(lang, "history");
    await opened.page.fill('input[name="personId"]', personId);
    await opened.page.fill('input[name="code"]', DEMO_CODE);
    await opened.page.click('form.history-login button[type="submit"]');
    await opened.page.waitForSelector(".history-summary", { timeout: 60_000 });
    return opened;
  }

  const statuses = (page: Page) =>
    page.$$eval("li.history-month", (items) =>
      items.map((li) => [
        (li as HTMLElement).dataset["period"],
        (li as HTMLElement).dataset["status"],
      ]),
    );
  const expectedMissing = HISTORY_PERIODS.map((p) => [
    p,
    MISSING_PERIODS.includes(p) ? "absent" : "recorded",
  ]);

  it("prints the history key: numbered groups and a QR code that decodes to the key; Persian, 360 px, axe clean; nothing stored or in the URL", async function () {
    const { page, errors } = await signIn("fa", stack.persons.missing);
    await page.click("button.print-key");
    await page.waitForSelector(".history-key-sheet .qr-code");
    const expected = historyKeyOf(stack, stack.persons.missing);
    const groups = await page.$$eval(".key-groups .key-group", (l) => l.map((x) => x.textContent));
    expect(groups.join("-")).to.equal(expected);
    expect(groups).to.have.length(39);
    const qr = await decodeQr(page, ".history-key-sheet .qr-code");
    expect(qr.data).to.equal(expected);
    console.log(
      `      history key: ${expected.length} characters, QR version ${qr.version} (alphanumeric, level M)`,
    );
    expect(await page.textContent("main h1")).to.equal("کلید سوابق بیمهٔ من");
    expect(await page.textContent(".sheet-warning")).to.include("رمز کارت بانکی");
    expect(await page.getAttribute("html", "dir")).to.equal("rtl");
    expect(await sidewaysOverflow(page)).to.be.at.most(0);
    expect((await runAxe(page)).map((v) => `${v.id}: ${v.help}`)).to.deep.equal([]);
    await page.screenshot({
      path: path.join(SCREENSHOT_DIR, "history-key-fa-360.png"),
      fullPage: true,
    });
    await fitsZoomed(page, "history key sheet");
    // The key is a secret: not in the URL, not in the history, not in any storage.
    const compact = expected.replace(/-/g, "");
    const leaks = await page.evaluate(
      (needles) => {
        const stores = [
          location.href,
          JSON.stringify({ ...localStorage }),
          JSON.stringify({ ...sessionStorage }),
        ];
        return needles.filter((n) => stores.some((s) => s.toUpperCase().includes(n)));
      },
      [compact.slice(0, 20), expected.slice(0, 20)],
    );
    expect(leaks).to.deep.equal([]);
    // Printed: the chrome and the toolbar are hidden; the sheet is one A4 page, and one A5 page
    // at most two.
    await page.emulateMedia({ media: "print" });
    expect(await page.isVisible(".site-header")).to.equal(false);
    expect(await page.isVisible(".print-toolbar")).to.equal(false);
    await page.emulateMedia({ media: null });
    const a4 = await page.pdf({ format: "A4" });
    const a5 = await page.pdf({ format: "A5" });
    console.log(`      history key sheet: ${pdfPages(a4)} A4 page(s), ${pdfPages(a5)} A5 page(s)`);
    expect(pdfPages(a4)).to.equal(1);
    expect(pdfPages(a5)).to.be.at.most(2);
    // Back: the history as it was.
    await page.click(".print-toolbar .button-secondary");
    await page.waitForSelector(".history-summary");
    expect(await statuses(page)).to.deep.equal(expectedMissing);
    // A missing month's printable page in Persian.
    await page.click(
      `li.history-month[data-period="${MISSING_PERIODS[1]}"] button.print-certificate`,
    );
    await page.waitForSelector(".certificate-sheet .qr-code");
    expect(await page.textContent("main h1")).to.equal("گواهی: ماهی بدون سابقهٔ بیمه");
    expect(await page.textContent(".cert-statement")).to.equal(
      `در دفتر سازمان هیچ سابقهٔ حق بیمه برای این شخص در مرداد ۱۴۰۳ ثبت نشده است (دستهٔ ${localDigits(String(stack.batches.get(MISSING_PERIODS[1]!)), "fa")}).`,
    );
    expect(await sidewaysOverflow(page)).to.be.at.most(0);
    expect((await runAxe(page)).map((v) => `${v.id}: ${v.help}`)).to.deep.equal([]);
    await page.screenshot({
      path: path.join(SCREENSHOT_DIR, "certificate-fa-360.png"),
      fullPage: true,
    });
    expect(errors).to.deep.equal([]);
    await page.close();
  });

  it("the key typed back opens the history; a one-character typo is refused naming its group; a key of another VRF key is refused", async function () {
    const { page, errors } = await open("en", "history");
    const key = historyKeyOf(stack, stack.persons.missing);
    const groups = key.split("-");
    // One character of group 7 mistyped.
    const g = groups[6]!;
    const typo = [...groups];
    typo[6] = g.slice(0, 2) + (g[2] === "7" ? "8" : "7") + g.slice(3);
    await page.fill('textarea[name="historyKey"]', typo.join(" "));
    await page.click("form.history-key-form button[type=submit]");
    await page.waitForSelector(".history-key-form .error-text:not([hidden])");
    expect(await page.textContent(".history-key-form .error-text")).to.include(
      "Group 7 has a typo",
    );
    expect(await page.getAttribute('textarea[name="historyKey"]', "aria-invalid")).to.equal("true");
    expect((await runAxe(page)).map((v) => `${v.id}: ${v.help}`)).to.deep.equal([]);
    await fitsZoomed(page, "history page with the key form");
    expect(await page.$("li.history-month")).to.equal(null);

    // A well-formed key whose proof was made under another VRF key: refused by the chain check.
    const other = formatHistoryKey({
      personId: stack.persons.missing,
      proof: vrfProve(
        vrfSecretKey(new Uint8Array(32).fill(7)),
        personVrfInput(stack.persons.missing),
      ),
    });
    await page.fill('textarea[name="historyKey"]', other);
    await page.click("form.history-key-form button[type=submit]");
    await page.waitForFunction(() =>
      document.querySelector(".history-key-form .error-text")?.textContent?.includes("not issued"),
    );
    expect(await page.$("li.history-month")).to.equal(null);

    // Typed as a person would: lower case, spaces, in lines of four groups.
    const typed = groups.map((x, i) => x.toLowerCase() + ((i + 1) % 4 === 0 ? "\n" : " ")).join("");
    await page.fill('textarea[name="historyKey"]', typed);
    await page.click("form.history-key-form button[type=submit]");
    await page.waitForSelector(".history-summary", { timeout: 60_000 });
    expect(await statuses(page)).to.deep.equal(expectedMissing);
    // The field was cleared, the form hidden; nothing in the URL.
    expect(await page.inputValue('textarea[name="historyKey"]')).to.equal("");
    expect(await page.isVisible("form.history-key-form")).to.equal(false);
    expect(page.url()).to.equal(`${server.url}/#/history`);
    expect(errors).to.deep.equal([]);
    await page.close();
  });

  it("a missing month's certificate: printable page with a QR code bound to the downloaded file, the person shown as chosen; one A4 page; axe clean", async function () {
    const { page, errors } = await signIn("en", stack.persons.missing);
    const missing = `li.history-month[data-period="${MISSING_PERIODS[0]}"]`;
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.click(`${missing} button:not(.print-certificate)`),
    ]);
    certificateFile = path.join(out, download.suggestedFilename());
    await download.saveAs(certificateFile);
    const text = await readFile(certificateFile, "utf8");
    const cert = JSON.parse(text) as Record<string, unknown>;
    const expectedQr = formatCertificateQr(certificateQrOf(cert));

    await page.click(`${missing} button.print-certificate`);
    await page.waitForSelector(".certificate-sheet .qr-code");
    expect(await page.textContent("main h1")).to.equal(
      "Certificate: a month without an insurance record",
    );
    const batch = stack.batches.get(MISSING_PERIODS[0]!)!;
    expect(await page.textContent(".cert-statement")).to.equal(
      `The organization's ledger holds no premium record for this person in Khordad 1403 (batch ${batch}).`,
    );
    const qr = await decodeQr(page, ".certificate-sheet .qr-code");
    expect(qr.data).to.equal(expectedQr);
    expect(qr.data).to.match(new RegExp(`^SHAFAF-CERT/1:${batch}:PREMIUM:1403-03:ABSENCE:`));
    // The person as chosen: partly hidden by default, in full, or not at all.
    const id = stack.persons.missing;
    expect(await page.textContent(".cert-who")).to.equal(`${id[0]}********${id[9]}`);
    await page.check(".cert-who-choice input[value=none]");
    expect(await page.textContent(".cert-who")).to.include("not shown");
    expect(await page.textContent(".certificate-sheet")).not.to.include(id);
    await page.check(".cert-who-choice input[value=full]");
    expect(await page.textContent(".cert-who")).to.equal(id);
    await page.waitForFunction(
      () => !document.querySelector(".cert-fields")?.textContent?.includes("Loading"),
    );
    expect(await page.textContent(".certificate-sheet")).to.include(
      `shafaf verify ${path.basename(certificateFile)}`,
    );
    expect(await sidewaysOverflow(page)).to.be.at.most(0);
    await fitsZoomed(page, "certificate sheet");
    expect((await runAxe(page)).map((v) => `${v.id}: ${v.help}`)).to.deep.equal([]);
    await page.screenshot({
      path: path.join(SCREENSHOT_DIR, "certificate-en-360.png"),
      fullPage: true,
    });
    await page.emulateMedia({ media: "print" });
    expect(await page.isVisible(".cert-who-choice")).to.equal(false);
    await page.emulateMedia({ media: null });
    const a4 = await page.pdf({ format: "A4" });
    console.log(`      certificate sheet: ${pdfPages(a4)} A4 page(s), QR version ${qr.version}`);
    expect(pdfPages(a4)).to.equal(1);

    // Measured: why the QR carries a digest, not the certificate.
    const recorded = `li.history-month[data-status="recorded"]`;
    await page.click(".print-toolbar .button-secondary");
    const [kept] = await Promise.all([
      page.waitForEvent("download"),
      page.click(`${recorded} button:not(.print-certificate)`),
    ]);
    const rangeFile = path.join(out, `range-${kept.suggestedFilename()}`);
    await kept.saveAs(rangeFile);
    for (const [name, file] of [
      ["absence", certificateFile],
      ["range", rangeFile],
    ] as const) {
      const raw = await readFile(file);
      const compact = Buffer.from(JSON.stringify(JSON.parse(raw.toString("utf8"))));
      console.log(
        `      ${name} certificate: ${raw.length} bytes as downloaded, ${compact.length} compact, ${deflateSync(compact, { level: 9 }).length} deflated (a version-40-L QR code holds 2953)`,
      );
    }
    expect(errors).to.deep.equal([]);
    await page.close();
  });

  it("«بررسی گواهی»: the certificate dropped on the page verifies, and matches its printout's QR text; at 360 px and 200 % zoom, axe clean", async function () {
    const text = await readFile(certificateFile, "utf8");
    const qrText = formatCertificateQr(certificateQrOf(JSON.parse(text)));
    for (const [lang, viewport, scale] of [
      ["fa", { width: 360, height: 740 }, 1],
      ["en", { width: 640, height: 400 }, 2], // a 1280 × 800 window at 200 % zoom
    ] as const) {
      const zoomed = await browser.newContext({ viewport, deviceScaleFactor: scale });
      const page = await zoomed.newPage();
      const errors = collectErrors(page);
      await page.addInitScript((l) => localStorage.setItem("shafaf.lang", l), lang);
      await page.goto(`${server.url}/#/certificate`);
      await page.waitForSelector("main h1");
      expect(await page.getAttribute('#site-nav a[href="#/certificate"]', "aria-current")).to.equal(
        "page",
      );
      await page.fill('textarea[name="printoutQr"]', qrText);
      // Dropped as a file from the desktop would be.
      await page.evaluate(
        ({ body, name }) => {
          const dt = new DataTransfer();
          dt.items.add(new File([body], name, { type: "application/json" }));
          document
            .querySelector(".drop-zone")!
            .dispatchEvent(
              new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }),
            );
        },
        { body: text, name: path.basename(certificateFile) },
      );
      await page.waitForSelector(".cert-result", { timeout: 60_000 });
      expect(await page.getAttribute(".cert-result", "data-status")).to.equal("verified");
      expect(await page.getAttribute(".cert-printout", "data-printout")).to.equal("match");
      const verdict = (await page.textContent(".cert-verdict")) ?? "";
      if (lang === "en")
        expect(verdict).to.equal(
          `The ledger holds no premium record for ${stack.persons.missing} in Khordad 1403, as of batch ${stack.batches.get(MISSING_PERIODS[0]!)}: proven against the blockchain.`,
        );
      else expect(verdict).to.include("اثبات شد");
      // The anchoring time, decoded by the page from getBatchV2's raw words, is the one ethers'
      // ABI decoder reads.
      const anchored = await createLedgerClient({
        rpc: createRpc({ url: stack.chain.url }),
        address: stack.contract,
      }).getBatchV2(stack.batches.get(MISSING_PERIODS[0]!)!);
      expect(anchored.anchoredAt).to.be.greaterThan(1_600_000_000);
      expect(await page.textContent(".cert-result")).to.include(
        lang === "en"
          ? `Batch recorded on the blockchain: ${formatTimestamp(anchored.anchoredAt, "en")}.`
          : formatTimestamp(anchored.anchoredAt, "fa"),
      );
      expect(await sidewaysOverflow(page)).to.be.at.most(0);
      expect((await runAxe(page)).map((v) => `${v.id}: ${v.help}`)).to.deep.equal([]);
      await page.screenshot({
        path: path.join(SCREENSHOT_DIR, `certificate-check-${lang}-${viewport.width}.png`),
        fullPage: true,
      });
      await fitsZoomed(page, `certificate check (${lang})`);
      expect(errors).to.deep.equal([]);
      await zoomed.close();
    }
  });

  it("refuses, in words: a corrupted certificate, another file than the printed one, a receipt, a file that is not JSON", async function () {
    const text = await readFile(certificateFile, "utf8");
    const cert = JSON.parse(text) as { vrf: { proof: string }; personId: string };
    const { page, errors } = await open("en", "certificate");
    const choose = async (name: string, body: string) => {
      const file = path.join(out, name);
      await writeFile(file, body);
      await page.evaluate(() => document.getElementById("certificate-result")?.replaceChildren());
      await page.setInputFiles('input[name="certificate"]', file);
    };

    // One byte of the VRF proof changed.
    const bad = structuredClone(cert);
    bad.vrf.proof = bad.vrf.proof.slice(0, -2) + (bad.vrf.proof.endsWith("00") ? "01" : "00");
    await choose("corrupted.json", JSON.stringify(bad));
    await page.waitForSelector(".cert-result");
    expect(await page.getAttribute(".cert-result", "data-status")).to.equal("failed");
    expect(await page.textContent(".cert-result h2")).to.equal(
      "Refused ✗: this certificate does not match the ledger",
    );
    expect(await page.textContent(".cert-failed")).to.include(
      "Was the person's key made with the organization's key for this identifier?",
    );

    // Another person's identifier put in the file.
    const other = structuredClone(cert);
    other.personId = stack.persons.complete;
    await choose("other-person.json", JSON.stringify(other));
    await page.waitForSelector(".cert-result");
    expect(await page.getAttribute(".cert-result", "data-status")).to.equal("failed");

    // The genuine file, but the printout's QR names another file.
    const qr = formatCertificateQr(certificateQrOf(JSON.parse(text)));
    const otherDigest = qr.slice(0, -2) + (qr.endsWith("00") ? "10" : "00");
    await page.fill('textarea[name="printoutQr"]', otherDigest);
    await choose("genuine.json", text);
    await page.waitForSelector(".cert-result");
    expect(await page.getAttribute(".cert-result", "data-status")).to.equal("verified");
    expect(await page.getAttribute(".cert-printout", "data-printout")).to.equal("mismatch");
    // Text that is not a certificate QR at all.
    await page.fill('textarea[name="printoutQr"]', "hello");
    await choose("genuine-again.json", text);
    await page.waitForSelector(
      "#" +
        (await page.getAttribute('textarea[name="printoutQr"]', "id"))! +
        "-error:not([hidden])",
    );
    await page.fill('textarea[name="printoutQr"]', "");

    const refusal = async () => {
      await page.waitForSelector(".drop-zone .error-text:not([hidden])");
      return page.textContent(".drop-zone .error-text");
    };
    await choose("receipt.json", JSON.stringify({ format: "shafaf-receipt/2", batchId: 1 }));
    expect(await refusal()).to.equal(
      "This is a receipt, not a certificate: check it on «Check my receipt».",
    );
    await choose("notes.txt", "these are my notes");
    expect(await refusal()).to.equal(
      "This file is not a certificate: it cannot be read as a Shafaf file.",
    );
    await choose("other.json", JSON.stringify({ format: "something-else/1" }));
    expect(await refusal()).to.include("not a Shafaf certificate");
    expect(await page.$(".cert-result")).to.equal(null);
    expect(errors).to.deep.equal([]);
    await page.close();
  });
});
