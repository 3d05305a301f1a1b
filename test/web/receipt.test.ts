/**
 * "Check my receipt" and the pages on the real stack (test/web/real-stack.ts): a dev chain with
 * the real TransparencyLedger, batches anchored by the real pipeline, attested, corrected and
 * indexed into real LevelDB stores, served by the real API app; Chromium verifies receipts in the
 * page against the chain's JSON-RPC. Also the portal's own getBatch reader against the contract.
 */
import { expect } from "chai";
import { randomBytes } from "ethers";
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { devWallet } from "../../src/chain/signer.ts";
import { toPersianDigits } from "../../src/core/digits.ts";
import type { Hex } from "../../src/core/hex.ts";
import type { Receipt } from "../../src/core/receipt.ts";
import { newReceiptCode } from "../../src/core/receipt-code.ts";
import {
  ChainReadError,
  readAttestationCounts,
  readChainBatch,
} from "../../src/web/chain-batch.ts";
import {
  SCREENSHOT_DIR,
  collectErrors,
  launchChromium,
  runAxe,
  sidewaysOverflow,
  waitForPage,
  type PortalServer,
} from "./portal-server.ts";
import { startRealStack, type RealStack } from "./real-stack.ts";

async function resultOf(page: Page): Promise<{ status: string; checks: Record<string, string> }> {
  await page.waitForSelector("#receipt-result [data-status]", { timeout: 30_000 });
  const status = (await page.getAttribute("#receipt-result [data-status]", "data-status")) ?? "";
  const pairs = await page.$$eval("#receipt-result li[data-check]", (items) =>
    items.map((li): [string, string] => [
      li.getAttribute("data-check") ?? "",
      li.getAttribute("data-ok") ?? "",
    ]),
  );
  return { status, checks: Object.fromEntries(pairs) };
}

async function chooseFile(page: Page, name: string, text: string): Promise<void> {
  await page.setInputFiles("input[type=file]", {
    name,
    mimeType: "application/json",
    buffer: Buffer.from(text),
  });
}

describe("portal on the real stack (pipeline, indexer, LevelDB, API app, dev chain, Chromium)", function () {
  this.timeout(240_000);
  let stack: RealStack;
  let server: PortalServer;
  let browser: Browser;

  /** The receipt of a code, as the API hands it out (JSON). */
  async function receiptOf(code: string): Promise<Receipt> {
    const res = await fetch(`${server.url}/api/v1/receipts/${code}`);
    expect(res.status, `GET /receipts/${code}`).to.equal(200);
    return (await res.json()) as Receipt;
  }
  function code(batchId: number, i: number): string {
    return stack.codes.get(batchId)![i]!;
  }

  before(async function () {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    stack = await startRealStack();
    server = await stack.serve(stack.chain.url);
    browser = await launchChromium();
  });

  after(async function () {
    await browser?.close();
    await server?.close();
    await stack?.stop();
  });

  describe("readChainBatch (the portal's own getBatch reader)", function () {
    it("reads the anchored batch and its attestation counts from the contract", async function () {
      const id = BigInt(stack.batches.pension);
      const batch = await readChainBatch(stack.chain.url, stack.contract, id);
      const indexed = (await stack.index.getBatch(stack.batches.pension))!;
      expect(batch.root).to.equal(indexed.root);
      expect(batch.kind).to.equal(1);
      expect(batch.period).to.equal(140307);
      expect(batch.recordCount).to.equal(40n);
      expect(batch.totalAmount.toString()).to.equal(indexed.total);
      expect(batch.supersededBy).to.equal(0n);
      expect(batch.anchorer).to.equal(devWallet(1).address.toLowerCase());
      expect(await readAttestationCounts(stack.chain.url, stack.contract, id)).to.deep.equal({
        confirmations: 2n,
        disputes: 0n,
      });
      const old = await readChainBatch(
        stack.chain.url,
        stack.contract,
        BigInt(stack.batches.disputed),
      );
      expect(old.supersededBy).to.equal(BigInt(stack.batches.correction));
    });
    it("names an unknown batch, an address without code and an unreachable node", async function () {
      const unknown = await readChainBatch(stack.chain.url, stack.contract, 99n).catch(
        (e: unknown) => e,
      );
      expect(unknown).to.be.instanceOf(ChainReadError);
      expect((unknown as ChainReadError).unknownBatch).to.equal(true);
      const nobody = await readChainBatch(stack.chain.url, "0x" + "12".repeat(20), 1n).catch(
        (e: unknown) => e,
      );
      expect((nobody as Error).message).to.include("no contract code");
      const down = await readChainBatch("http://127.0.0.1:9", stack.contract, 1n).catch(
        (e: unknown) => e,
      );
      expect((down as ChainReadError).retryable).to.equal(true);
    });
  });

  describe("in the browser", function () {
    it("is served with a CSP that lets the page compile core's WebAssembly keccak", async function () {
      const csp = (await fetch(server.url + "/")).headers.get("content-security-policy") ?? "";
      const scriptSrc = csp.split(";").find((d) => d.trim().startsWith("script-src")) ?? "";
      expect(scriptSrc, "script-src must not allow inline script or eval").to.not.match(
        /'unsafe-inline'|'unsafe-eval'/,
      );
      expect(
        scriptSrc,
        "src/api/security-headers.ts: script-src needs 'wasm-unsafe-eval', or Chromium refuses to compile " +
          "core's keccak (WebAssembly) and every receipt check in the portal stops with an internal error",
      ).to.include("'wasm-unsafe-eval'");
    });

    it("a valid receipt code, typed loosely in Persian, verifies against the chain and shows the record only here", async function () {
      const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
      const page = await context.newPage();
      const errors = collectErrors(page);
      const posted: string[] = [];
      page.on("request", (req) => {
        if (req.method() !== "GET")
          posted.push(`${req.method()} ${req.url()} ${req.postData() ?? ""}`);
      });
      await page.addInitScript(() => localStorage.setItem("shafaf.lang", "fa"));
      await page.goto(server.url + "/#/receipt");
      await waitForPage(page);
      const receipt = await receiptOf(code(stack.batches.pension, 0));
      await page.fill("input[name=code]", receipt.code.toLowerCase().replace(/-/g, " "));
      await page.click("form.code-form button[type=submit]");
      const { status, checks } = await resultOf(page);
      expect(status, JSON.stringify(checks)).to.equal("verified");
      for (const name of [
        "format",
        "proof",
        "anchored-root",
        "chain",
        "contract",
        "current",
        "attestations",
        "amount",
        "fields",
      ]) {
        expect(checks[name], name).to.equal("true");
      }
      expect(await page.textContent("#receipt-result h2")).to.equal(
        "رسید شما معتبر است و حسابرس این دسته را تأیید کرده است.",
      );
      expect(await page.textContent("#receipt-result .auditors")).to.include("۲ تأیید و ۰ اعتراض");
      expect(await page.evaluate(() => document.activeElement?.tagName)).to.equal("H2");
      const mine = (await page.textContent(".my-record")) ?? "";
      expect(mine).to.include(toPersianDigits(receipt.record.nationalId));
      expect(mine).to.include("مهر ۱۴۰۳");
      // The chain was read directly (eth_call to the RPC), and the record never left the page.
      expect(
        posted.some((p) => p.startsWith(`POST ${stack.chain.url}`) && p.includes("eth_call")),
      ).to.equal(true);
      for (const p of posted) expect(p).to.not.include(receipt.record.nationalId);
      expect(posted.filter((p) => p.includes("/api/"))).to.deep.equal([]);
      await page.screenshot({
        path: path.join(SCREENSHOT_DIR, "receipt-verified-fa.png"),
        fullPage: true,
      });
      expect(errors).to.deep.equal([]);
      await context.close();
    });

    it("a receipt file with a changed amount fails and names the amount check (English)", async function () {
      const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
      const page = await context.newPage();
      const errors = collectErrors(page);
      const uploads: string[] = [];
      page.on("request", (req) => {
        if (req.method() === "POST" && req.url().startsWith(server.url)) uploads.push(req.url());
      });
      await page.addInitScript(() => localStorage.setItem("shafaf.lang", "en"));
      await page.goto(server.url + "/#/receipt");
      await waitForPage(page);
      const tampered = (await receiptOf(code(stack.batches.premium, 1))) as Receipt & {
        record: { total: string; employerShare: string };
      };
      tampered.record.total = String(BigInt(tampered.record.total) + 1_000_000n);
      tampered.record.employerShare = String(BigInt(tampered.record.employerShare) + 1_000_000n);
      await chooseFile(page, "receipt.json", JSON.stringify(tampered));
      const { status, checks } = await resultOf(page);
      expect(status).to.equal("failed");
      expect(checks["amount"]).to.equal("false");
      const item = page.locator('#receipt-result li[data-check="amount"]');
      expect(await item.textContent()).to.include("Does the amount match the fingerprint?");
      expect(await item.textContent()).to.match(/^✗ No/);
      expect(await item.textContent()).to.include("expected");
      expect(await page.textContent("#receipt-result h2")).to.equal(
        "This receipt did NOT pass the check.",
      );
      expect(uploads, "the file must not be uploaded").to.deep.equal([]);
      await page.screenshot({
        path: path.join(SCREENSHOT_DIR, "receipt-failed-en.png"),
        fullPage: true,
      });
      expect(errors).to.deep.equal([]);
      await context.close();
    });

    it("a dropped receipt with one flipped proof bit fails on the proof; a receipt for another batch fails on the chain", async function () {
      const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
      const page = await context.newPage();
      await page.addInitScript(() => localStorage.setItem("shafaf.lang", "en"));
      await page.goto(server.url + "/#/receipt");
      await waitForPage(page);
      const flipped = await receiptOf(code(stack.batches.pension, 2));
      const p0 = flipped.proof[0]!;
      flipped.proof[0] = (p0.slice(0, -1) + (p0.endsWith("0") ? "1" : "0")) as Hex;
      await page.evaluate((text) => {
        const data = new DataTransfer();
        data.items.add(new File([text], "receipt.json", { type: "application/json" }));
        document
          .querySelector(".drop-zone")!
          .dispatchEvent(
            new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }),
          );
      }, JSON.stringify(flipped));
      let outcome = await resultOf(page);
      expect(outcome.status).to.equal("failed");
      expect(outcome.checks["proof"]).to.equal("false");

      const elsewhere = await receiptOf(code(stack.batches.pension, 3));
      elsewhere.batchId = 77;
      await chooseFile(page, "receipt.json", JSON.stringify(elsewhere));
      await page.waitForFunction(
        () => document.querySelector('#receipt-result li[data-check="batch-exists"]') !== null,
      );
      outcome = await resultOf(page);
      expect(outcome.status).to.equal("failed");
      expect(outcome.checks["batch-exists"]).to.equal("false");
      await context.close();
    });

    it("says plainly when a file is not a receipt, or a code is mistyped or unknown", async function () {
      const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
      const page = await context.newPage();
      const errors = collectErrors(page);
      await page.addInitScript(() => localStorage.setItem("shafaf.lang", "en"));
      await page.goto(server.url + "/#/receipt");
      await waitForPage(page);
      await chooseFile(page, "photo.json", "\u0089PNG not json");
      await page.waitForSelector("input[type=file][aria-invalid=true]");
      expect(await page.textContent(".drop-zone .error-text")).to.include("not a receipt");

      const real = code(stack.batches.premium, 0);
      const last = real.at(-1);
      const typo = real.slice(0, -1) + (last === "0" ? "1" : "0");
      await page.fill("input[name=code]", typo);
      await page.click("form.code-form button[type=submit]");
      await page.waitForSelector("input[name=code][aria-invalid=true]");
      expect(await page.textContent(".code-form .error-text")).to.include("mistyped");

      const unknown = newReceiptCode((n) => randomBytes(n));
      await page.fill("input[name=code]", unknown);
      await page.click("form.code-form button[type=submit]");
      await page.waitForFunction(
        () =>
          document.querySelector(".code-form .error-text")?.textContent?.includes("No receipt") ===
          true,
      );
      expect(await page.getAttribute("input[name=code]", "aria-invalid")).to.equal("true");
      expect(errors.filter((e) => !e.includes("404"))).to.deep.equal([]);
      await context.close();
    });
  });

  describe("a superseded batch and an unreachable chain", function () {
    it("a receipt of a corrected batch is inconclusive and says a correction exists", async function () {
      const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
      const page = await context.newPage();
      await page.addInitScript(() => localStorage.setItem("shafaf.lang", "fa"));
      await page.goto(server.url + "/#/receipt");
      await waitForPage(page);
      await page.fill("input[name=code]", code(stack.batches.disputed, 0));
      await page.click("form.code-form button[type=submit]");
      const { status, checks } = await resultOf(page);
      expect(status).to.equal("inconclusive");
      expect(checks["current"]).to.equal("null");
      expect(checks["anchored-root"]).to.equal("true");
      expect(await page.textContent("#receipt-result .auditors")).to.include("۰ تأیید و ۱ اعتراض");
      await context.close();
    });

    it("explains a corrected receipt in Persian, with a link to the correcting batch", async function () {
      const context = await browser.newContext({ viewport: { width: 360, height: 800 } });
      const page = await context.newPage();
      await page.addInitScript(() => localStorage.setItem("shafaf.lang", "fa"));
      await page.goto(server.url + "/#/receipt");
      await waitForPage(page);
      await page.fill("input[name=code]", code(stack.batches.disputed, 0));
      await page.click("form.code-form button[type=submit]");
      await resultOf(page);
      const result = page.locator("#receipt-result section.result");
      expect(await result.getAttribute("data-verdict")).to.equal("superseded");
      expect(await result.locator("h2").textContent()).to.equal(
        "رکورد شما ثبت شده، اما این دسته بعداً اصلاح شده است.",
      );
      const fa = (n: number) => toPersianDigits(String(n));
      const body = (await result.textContent()) ?? "";
      expect(body).to.include(`دستهٔ ${fa(stack.batches.correction)} را جایگزین آن کرده است`);
      expect(body).to.not.match(/[A-Za-z]{3,}/); // no English sentence on the Persian page
      const link = result.locator(`a[href="#/batches/${stack.batches.correction}"]`);
      expect(await link.textContent()).to.equal(`دیدن دستهٔ اصلاحی ${fa(stack.batches.correction)}`);
      // The "is it current" check says it in Persian too, and is not marked as English.
      const current = page.locator('li[data-check="current"] .check-detail');
      expect(await current.textContent()).to.equal(
        `دستهٔ ${fa(stack.batches.disputed)} با دستهٔ ${fa(stack.batches.correction)} اصلاح شده است.`,
      );
      expect(await current.getAttribute("lang")).to.equal(null);
      expect(await runAxe(page)).to.deep.equal([]);
      expect(await sidewaysOverflow(page)).to.equal(0);
      await link.click();
      await page.waitForFunction(
        (id) => location.hash === `#/batches/${id}`,
        stack.batches.correction,
      );
      await context.close();
    });
  });

  describe("a disputed batch", function () {
    it("a receipt in a disputed batch gets no green verdict, and says what the named auditor found", async function () {
      const context = await browser.newContext({ viewport: { width: 360, height: 800 } });
      const page = await context.newPage();
      const errors = collectErrors(page);
      await page.addInitScript(() => localStorage.setItem("shafaf.lang", "fa"));
      await page.goto(server.url + "/#/receipt");
      await waitForPage(page);
      await page.fill("input[name=code]", code(stack.batches.contested, 0));
      await page.click("form.code-form button[type=submit]");
      const { status } = await resultOf(page);
      expect(status).to.equal("verified"); // the receipt itself is genuine…
      const result = page.locator("#receipt-result section.result");
      expect(await result.getAttribute("data-verdict")).to.equal("disputed");
      expect(await result.getAttribute("class")).to.not.include("result-verified"); // …but not green
      expect(await result.locator("h2").textContent()).to.equal(
        "رکورد شما در زنجیره ثبت شده، اما حسابرس به این دسته اعتراض کرده است.",
      );
      const findings = result.locator("section.findings");
      expect(await findings.count()).to.equal(1);
      const text = (await findings.textContent()) ?? "";
      expect(text).to.include("یافته‌های دیوان محاسبات"); // the auditor by name, not address
      expect(text).to.include("جمع دسته فرق دارد."); // the failed total check, in words
      expect(text).to.include("یک رکورد از این دسته"); // one record differs…
      expect(text).to.include("رکورد جایگاه ۳: کسورات، مستمری خالص تغییر کرده است"); // …by position and field
      expect(text).to.not.match(/\b[0-9]{4,}\b/); // no amount, no ID
      expect(await runAxe(page)).to.deep.equal([]);
      expect(await sidewaysOverflow(page)).to.equal(0);
      expect(errors).to.deep.equal([]);
      await context.close();
    });

    it("a batch whose report is not published says so honestly", async function () {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      await page.addInitScript(() => localStorage.setItem("shafaf.lang", "en"));
      await page.goto(server.url + `/#/batches/${stack.batches.disputed}`);
      await waitForPage(page);
      await page.waitForSelector("section.findings");
      const text = (await page.textContent("section.findings")) ?? "";
      expect(text).to.include("What Supreme Audit Court found");
      expect(text).to.include("The auditor's report is not published on this site");
      expect(await page.textContent("main")).to.include(
        `This batch was corrected by batch ${stack.batches.correction}.`,
      );
      await context.close();
    });

    it("the overview marks the disputed month's figures and links to the batch", async function () {
      const context = await browser.newContext({ viewport: { width: 360, height: 800 } });
      const page = await context.newPage();
      await page.addInitScript(() => localStorage.setItem("shafaf.lang", "fa"));
      await page.goto(server.url + "/#/");
      await waitForPage(page);
      const note = page.locator(".banner-warn");
      expect(await note.textContent()).to.include("حسابرس به آن‌ها اعتراض کرده است");
      expect(await note.locator(`a[href="#/batches/${stack.batches.contested}"]`).count()).to.equal(
        1,
      );
      const flagged = page.locator(".chart-row.chart-flagged");
      expect(await flagged.count()).to.equal(1);
      expect(await flagged.textContent()).to.include("آذر ۱۴۰۳");
      expect(await flagged.textContent()).to.include("مورد اعتراض");
      expect(await page.textContent(".card-warn")).to.include("در دسته‌های مورد اعتراض است");
      // Chart labels are body-sized text at 360 px, not a scaled-down drawing.
      const sizes = await page.evaluate(() => ({
        label: parseFloat(getComputedStyle(document.querySelector(".chart-label")!).fontSize),
        body: parseFloat(getComputedStyle(document.body).fontSize),
      }));
      expect(sizes.label).to.be.at.least(sizes.body);
      expect(await runAxe(page)).to.deep.equal([]);
      expect(await sidewaysOverflow(page)).to.equal(0);
      await context.close();
    });
  });

  describe("an unreachable chain", function () {
    it("a browser that refuses WebAssembly gets an inconclusive result that says why, not a failure", async function () {
      const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
      const page = await context.newPage();
      // A string, not a function: tsx would wrap a named function in a helper the page lacks.
      await page.addInitScript(`
        localStorage.setItem("shafaf.lang", "en");
        const refuse = () => { throw new WebAssembly.CompileError("WebAssembly is disabled in this browser"); };
        Object.defineProperty(WebAssembly, "Module", { value: refuse });
        Object.defineProperty(WebAssembly, "Instance", { value: refuse });
      `);
      await page.goto(server.url + "/#/receipt");
      await waitForPage(page);
      await chooseFile(
        page,
        "receipt.json",
        JSON.stringify(await receiptOf(code(stack.batches.pension, 5))),
      );
      const { status, checks } = await resultOf(page);
      expect(status).to.equal("inconclusive");
      expect(checks).to.deep.equal({ browser: "null" });
      expect(await page.textContent("#receipt-result")).to.include("blocks WebAssembly");
      await context.close();
    });

    it("the same valid receipt is inconclusive when the chain's RPC cannot be reached", async function () {
      const offline = await stack.serve("http://127.0.0.1:9");
      try {
        const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
        const page = await context.newPage();
        await page.addInitScript(() => localStorage.setItem("shafaf.lang", "en"));
        await page.goto(offline.url + "/#/receipt");
        await waitForPage(page);
        await chooseFile(
          page,
          "receipt.json",
          JSON.stringify(await receiptOf(code(stack.batches.pension, 4))),
        );
        const { status, checks } = await resultOf(page);
        expect(status).to.equal("inconclusive");
        expect(checks["chain-read"]).to.equal("null");
        expect(checks["proof"]).to.equal("true");
        expect(await page.textContent("#receipt-result h2")).to.equal(
          "The check could not be completed.",
        );
        await context.close();
      } finally {
        await offline.close();
      }
    });
  });

  describe("pages over real indexed data", function () {
    for (const lang of ["fa", "en"] as const) {
      it(`overview, batches and a batch render in ${lang} without console errors`, async function () {
        const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
        const page = await context.newPage();
        const errors = collectErrors(page);
        await page.addInitScript((l) => localStorage.setItem("shafaf.lang", l), lang);
        await page.goto(server.url + "/#/");
        await waitForPage(page);
        expect(await page.locator('.chart[role="img"]').count()).to.equal(2);
        await page.goto(server.url + "/#/batches");
        await waitForPage(page);
        expect(await page.locator("table tbody tr").count()).to.equal(5);
        const statuses = (await page.locator("table tbody tr .badge").allTextContents()).join(" ");
        expect(statuses).to.include(lang === "fa" ? "اصلاح‌شده" : "Corrected");
        expect(statuses).to.include(lang === "fa" ? "تأییدشده" : "Confirmed");
        await page.goto(server.url + `/#/batches/${stack.batches.pension}`);
        await waitForPage(page);
        const provinces = page.locator("table", {
          has: page.locator("caption", {
            hasText: lang === "fa" ? "جمع به تفکیک استان" : "Totals by province",
          }),
        });
        expect(await provinces.locator("tbody tr").count()).to.equal(2); // IR-23 and IR-10, 20 people each
        expect(await page.textContent("main")).to.include(lang === "fa" ? "تهران" : "Tehran");
        await page.screenshot({
          path: path.join(SCREENSHOT_DIR, `real-batch-${lang}.png`),
          fullPage: true,
        });
        expect(errors).to.deep.equal([]);
        await context.close();
      });
    }
  });
});
