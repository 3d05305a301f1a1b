/**
 * "Check my receipt" end to end: a real development chain with the real TransparencyLedger, a
 * batch of pension records committed with core (salted leaves, Merkle tree, receipts), anchored
 * and attested on chain; the real API app serving the portal and the receipts; real Chromium
 * verifying in the page against the chain's JSON-RPC. Also the portal's getBatch reader against
 * the real contract.
 */
import { expect } from "chai";
import { Contract, JsonRpcProvider, NonceManager, randomBytes } from "ethers";
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import type { StoredReceipt } from "../../src/api/app-deps.ts";
import { loadLedgerArtifact } from "../../src/chain/artifact.ts";
import { deployLedger } from "../../src/chain/deploy-ledger.ts";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import { devWallet } from "../../src/chain/signer.ts";
import { bytesToHex, type Hex } from "../../src/core/hex.ts";
import { leafHash, leafValues } from "../../src/core/leaf.ts";
import { buildMerkleTree } from "../../src/core/merkle-tree.ts";
import { subjectPseudonym } from "../../src/core/pseudonym.ts";
import { buildReceipt, type Receipt } from "../../src/core/receipt.ts";
import { newReceiptCode, parseReceiptCode } from "../../src/core/receipt-code.ts";
import type { PensionRecord } from "../../src/core/record.ts";
import { validateRecord } from "../../src/core/validate-record.ts";
import { verifyReceipt } from "../../src/core/verify-receipt.ts";
import {
  ChainReadError,
  readAttestationCounts,
  readChainBatch,
} from "../../src/web/chain-batch.ts";
import { buildPortalFixture } from "./portal-fixtures.ts";
import {
  SCREENSHOT_DIR,
  collectErrors,
  launchChromium,
  startPortalServer,
  waitForPage,
  type PortalServer,
} from "./portal-server.ts";

const NATIONAL_IDS = ["0012345679", "1234567891", "2740583311"];

interface Anchored {
  contract: string;
  receipts: Receipt[];
  root: string;
  txHash: string;
  blockNumber: number;
}

function pensionRecords(n: number): PensionRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const gross = 120_000_000 + i * 1_000_000;
    const deductions = 4_000_000 + i * 10_000;
    const result = validateRecord("pension", {
      record_id: `P-1403-07-${String(i + 1).padStart(4, "0")}`,
      period: "1403-07",
      national_id: NATIONAL_IDS[i % NATIONAL_IDS.length],
      pension_file: String(5_000_000 + i),
      category: ["retirement", "disability", "survivors"][i % 3],
      province: `IR-${String(i % 31).padStart(2, "0")}`,
      gross: String(gross),
      deductions: String(deductions),
      net: String(gross - deductions),
      due_on: "1403-07-25",
      paid_on: i === 2 ? "1403-08-03" : "1403-07-24",
    });
    if (!result.ok)
      throw new Error(`fixture record ${i} is invalid: ${JSON.stringify(result.issues)}`);
    return result.record;
  });
}

/** Deploys the ledger, commits 12 pension records, anchors the root and attests it. */
async function anchorBatch(chain: DevChain): Promise<Anchored> {
  const provider = new JsonRpcProvider(chain.url, 31337, { staticNetwork: true });
  const admin = new NonceManager(devWallet(0).connect(provider));
  const anchorer = devWallet(1).connect(provider);
  const auditor = devWallet(2).connect(provider);
  const { address } = await deployLedger({
    signer: admin,
    admin: devWallet(0).address,
    adminDelaySeconds: 0,
    anchorers: [anchorer.address],
    auditors: [auditor.address],
    pausers: [],
  });
  const key = randomBytes(32);
  const records = pensionRecords(12);
  const values = records.map((record) =>
    leafValues(record, {
      salt: bytesToHex(randomBytes(32)),
      subject: subjectPseudonym(key, record.nationalId),
    }),
  );
  const hashes = new Uint8Array(values.length * 32);
  values.forEach((v, i) => hashes.set(leafHash(v), i * 32));
  const tree = buildMerkleTree(hashes);
  const total = records.reduce((sum, r) => sum + r.net, 0n);
  const { abi } = await loadLedgerArtifact();
  const ledger = new Contract(address, abi, anchorer);
  const tx = (await ledger.getFunction("anchorBatch")(
    tree.root,
    1,
    140307,
    records.length,
    total,
    bytesToHex(randomBytes(32)),
    0,
    bytesToHex(randomBytes(32)),
  )) as { wait(): Promise<{ hash: string; blockNumber: number }> };
  const mined = await tx.wait();
  const attest = (await new Contract(address, abi, auditor).getFunction("attest")(
    1,
    1,
    bytesToHex(randomBytes(32)),
  )) as { wait(): Promise<unknown> };
  await attest.wait();
  const receipts = records.map((record, index) =>
    buildReceipt({
      chainId: 31337,
      contract: address,
      batchId: 1,
      tree,
      index,
      record,
      values: values[index]!,
      anchor: { txHash: mined.hash, blockNumber: mined.blockNumber },
      code: newReceiptCode((n) => randomBytes(n)),
    }),
  );
  provider.destroy();
  return {
    contract: address.toLowerCase(),
    receipts,
    root: tree.root,
    txHash: mined.hash,
    blockNumber: mined.blockNumber,
  };
}

function portalFixtureFor(anchored: Anchored) {
  const fixture = buildPortalFixture({ chainId: 31337, contract: anchored.contract });
  const batch = fixture.batches[0]!;
  Object.assign(batch, {
    kind: "pension",
    period: "1403-07",
    root: anchored.root,
    recordCount: anchored.receipts.length,
    txHash: anchored.txHash,
    blockNumber: anchored.blockNumber,
  });
  return fixture;
}

const coreCode = (text: string): string | undefined => {
  const parsed = parseReceiptCode(text);
  return parsed.ok ? parsed.code : undefined;
};

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

describe("check my receipt (real chain, real API app, Chromium)", function () {
  this.timeout(180_000);
  let chain: DevChain;
  let anchored: Anchored;
  let server: PortalServer;
  let browser: Browser;

  before(async function () {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    chain = await startDevChain();
    anchored = await anchorBatch(chain);
    const stored = new Map<string, StoredReceipt>(
      anchored.receipts.map((r) => [r.code, r as unknown as StoredReceipt]),
    );
    server = await startPortalServer({
      fixture: portalFixtureFor(anchored),
      verify: verifyReceipt,
      receipts: stored,
      rpcUrl: chain.url,
      parseReceiptCode: coreCode,
    });
    browser = await launchChromium();
  });

  after(async function () {
    await browser?.close();
    await server?.close();
    await chain?.stop();
  });

  describe("readChainBatch (the portal's own getBatch reader)", function () {
    it("reads the anchored batch and its attestation counts from the contract", async function () {
      const batch = await readChainBatch(chain.url, anchored.contract, 1n);
      expect(batch.root).to.equal(anchored.root);
      expect(batch.kind).to.equal(1);
      expect(batch.period).to.equal(140307);
      expect(batch.recordCount).to.equal(12n);
      expect(batch.supersededBy).to.equal(0n);
      expect(batch.anchorer).to.equal(devWallet(1).address.toLowerCase());
      expect(await readAttestationCounts(chain.url, anchored.contract, 1n)).to.deep.equal({
        confirmations: 1n,
        disputes: 0n,
      });
    });
    it("names an unknown batch, an address without code and an unreachable node", async function () {
      const unknown = await readChainBatch(chain.url, anchored.contract, 2n).catch(
        (e: unknown) => e,
      );
      expect(unknown).to.be.instanceOf(ChainReadError);
      expect((unknown as ChainReadError).unknownBatch).to.equal(true);
      const nobody = await readChainBatch(chain.url, "0x" + "12".repeat(20), 1n).catch(
        (e: unknown) => e,
      );
      expect((nobody as Error).message).to.include("no contract code");
      const down = await readChainBatch("http://127.0.0.1:9", anchored.contract, 1n).catch(
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
      const receipt = anchored.receipts[0]!;
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
      expect(await page.textContent("#receipt-result h2")).to.equal("رسید شما معتبر است.");
      expect(await page.textContent("#receipt-result .auditors")).to.include("۱ تأیید و ۰ اعتراض");
      expect(await page.evaluate(() => document.activeElement?.tagName)).to.equal("H2");
      const mine = (await page.textContent(".my-record")) ?? "";
      expect(mine).to.include(receipt.record.nationalId);
      expect(mine).to.include("مهر ۱۴۰۳");
      // The chain was read directly (eth_call to the RPC), and the record never left the page.
      expect(
        posted.some((p) => p.startsWith(`POST ${chain.url}`) && p.includes("eth_call")),
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
      const tampered = structuredClone(anchored.receipts[1]!) as Receipt & {
        record: { net: string; gross: string };
      };
      tampered.record.net = String(BigInt(tampered.record.net) + 1_000_000n);
      tampered.record.gross = String(BigInt(tampered.record.gross) + 1_000_000n);
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
      const flipped = structuredClone(anchored.receipts[2]!);
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

      const elsewhere = structuredClone(anchored.receipts[3]!);
      elsewhere.batchId = 7;
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

      const code = anchored.receipts[0]!.code;
      const last = code.at(-1);
      const typo = code.slice(0, -1) + (last === "0" ? "1" : "0");
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

  describe("when the chain cannot be read", function () {
    it("the same valid receipt is inconclusive, and says the chain was not read", async function () {
      const offline = await startPortalServer({
        fixture: portalFixtureFor(anchored),
        verify: verifyReceipt,
        rpcUrl: "http://127.0.0.1:9",
      });
      try {
        const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
        const page = await context.newPage();
        await page.addInitScript(() => localStorage.setItem("shafaf.lang", "en"));
        await page.goto(offline.url + "/#/receipt");
        await waitForPage(page);
        await chooseFile(page, "receipt.json", JSON.stringify(anchored.receipts[4]));
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
});
