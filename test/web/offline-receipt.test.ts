/**
 * "Check my receipt" with no RPC configured (Chromium, the built portal, the real API app over
 * recorded views): receipts v1 and v2 carrying a log bundle (test/vectors/log-bundle-1.json)
 * verify against the trust policy the site publishes at /trust-policy.txt and show who cosigned,
 * in English and Persian; a corrupted bundle fails by the check's name; without a published
 * policy the bundle cannot be checked and the result says so. With an RPC configured the chain is
 * read as well. Then, with core bundled for the browser, every vector's verdict in the page and
 * the time to verify one bundled receipt, printed.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { createApp, type CreateAppOptions } from "../../src/api/create-app.ts";
import type * as PolicyModule from "../../src/core/verify-document-with-policy.ts";
import type * as TlogPolicyModule from "../../src/core/tlog-policy.ts";
import { verifyReceipt } from "../../src/core/verify-receipt.ts";
import { buildPortalFixture, fixtureIndex, fixtureLedger } from "./portal-fixtures.ts";
import {
  buildOnce,
  collectErrors,
  launchChromium,
  listen,
  waitForPage,
  type PortalServer,
} from "./portal-server.ts";

const root = path.resolve(import.meta.dirname, "../..");
interface BundleVectors {
  policy: string;
  cases: {
    name: string;
    document: Record<string, unknown>;
    vrfPublicKey?: string;
    expect: { status: string; failedChecks: string[] };
  }[];
}
const vectors = JSON.parse(
  readFileSync(path.join(root, "test/vectors/log-bundle-1.json"), "utf8"),
) as BundleVectors;
const doc = (name: string) => vectors.cases.find((c) => c.name === name)!.document;
const quiet = { info() {}, warn() {}, error() {} };

async function startSite(overrides: Partial<CreateAppOptions>): Promise<PortalServer> {
  const { outDir } = await buildOnce();
  const { app } = createApp({
    index: fixtureIndex(await buildPortalFixture()),
    ledger: fixtureLedger(new Map()),
    verify: verifyReceipt,
    apiKeys: [],
    log: quiet,
    webRoot: outDir,
    rateLimit: false,
    ...overrides,
  });
  return listen(app);
}

async function check(
  page: Page,
  document: unknown,
): Promise<{ status: string; checks: Record<string, string>; witnessed: string | null }> {
  await page.setInputFiles("input[type=file]", {
    name: "receipt.json",
    mimeType: "application/json",
    buffer: Buffer.from(JSON.stringify(document)),
  });
  await page.waitForSelector("#receipt-result [data-status]", { timeout: 30_000 });
  const status = (await page.getAttribute("#receipt-result [data-status]", "data-status")) ?? "";
  const pairs = await page.$$eval("#receipt-result li[data-check]", (items) =>
    items.map((li): [string, string] => [
      li.getAttribute("data-check") ?? "",
      li.getAttribute("data-ok") ?? "",
    ]),
  );
  const witnessed = await page
    .locator("#receipt-result .witnessed")
    .textContent({ timeout: 100 })
    .catch(() => null);
  return { status, checks: Object.fromEntries(pairs), witnessed };
}

describe("offline receipts in the portal (Chromium, no RPC, the site's trust policy)", function () {
  this.timeout(180_000);
  let browser: Browser;
  let site: PortalServer;
  let bare: PortalServer;
  let withRpc: PortalServer;

  before(async function () {
    browser = await launchChromium();
    site = await startSite({ trustPolicy: vectors.policy });
    bare = await startSite({});
    withRpc = await startSite({
      trustPolicy: vectors.policy,
      rpcUrlForBrowsers: "http://127.0.0.1:9",
    });
  });
  after(async function () {
    await browser?.close();
    await site?.close();
    await bare?.close();
    await withRpc?.close();
  });

  async function openReceiptPage(url: string, lang: "en" | "fa") {
    const page = await browser.newPage();
    const errors = collectErrors(page);
    await page.addInitScript((l) => localStorage.setItem("shafaf.lang", l), lang);
    await page.goto(`${url}/#/receipt`);
    await waitForPage(page);
    return { page, errors };
  }

  it("verifies a v1 and a v2 receipt by their bundles with no RPC, naming the cosigners (en)", async function () {
    const { page, errors } = await openReceiptPage(site.url, "en");
    for (const name of ["v1-valid", "v2-valid"]) {
      const r = await check(page, doc(name));
      expect(r.status, `${name}: ${JSON.stringify(r.checks)}`).to.equal("verified");
      expect(r.checks["log-quorum"]).to.equal("true");
      expect(r.checks["log-inclusion"]).to.equal("true");
      expect(r.checks["anchored-root"]).to.equal("true");
      expect(r.checks).to.not.have.property("chain-read");
      expect(r.witnessed, r.witnessed ?? "").to.match(
        /^Verified — cosigned by auditors, audit-court, employers, workers \(3 of 4 required\), checkpoint of Dey 11, 1404 AP, 3:30 AM \(Tehran time\)\.$/,
      );
    }
    expect(await page.textContent("#receipt-result")).to.include("Checked without the chain");
    expect(errors).to.deep.equal([]);
    await page.close();
  });

  it("says the same in Persian, with Persian digits", async function () {
    const { page, errors } = await openReceiptPage(site.url, "fa");
    const r = await check(page, doc("v1-quorum-exactly"));
    expect(r.status).to.equal("verified");
    expect(r.witnessed).to.include("تأیید شد — با هم‌امضای auditors، audit-court، employers");
    expect(r.witnessed).to.include("(۳ از ۴ لازم)");
    expect(errors).to.deep.equal([]);
    await page.close();
  });

  it("shows a corrupted bundle's failure by the check's name", async function () {
    const { page } = await openReceiptPage(site.url, "en");
    for (const [name, failed] of [
      ["tampered-cosignature", "log-cosignature"],
      ["quorum-not-met", "log-quorum"],
      ["unknown-log-key", "log-signature"],
      ["entry-root-not-logged", "anchored-root"],
      ["proof-other-index", "log-index"],
      ["stale-checkpoint", "log-size"],
    ] as const) {
      const r = await check(page, doc(name));
      expect(r.status, name).to.equal("failed");
      expect(r.checks[failed], `${name}: ${JSON.stringify(r.checks)}`).to.equal("false");
      expect(r.witnessed, name).to.equal(null);
      expect(await page.getAttribute(`li[data-check="${failed}"]`, "data-ok")).to.equal("false");
      expect(await page.textContent(`li[data-check="${failed}"]`)).to.match(/No/);
    }
    await page.close();
  });

  it("without a published trust policy, cannot check the bundle and says so (no verdict from it)", async function () {
    const { page } = await openReceiptPage(bare.url, "en");
    const r = await check(page, doc("v2-valid"));
    // Compared with this site's index instead (whose recorded batches are not the vectors').
    expect(r.status).to.not.equal("verified");
    expect(r.checks["trust-policy"]).to.equal("null");
    expect(r.checks["chain-read"]).to.equal("null");
    expect(r.witnessed).to.equal(null);
    await page.close();
  });

  it("with an RPC configured, reads the chain as well (an unreachable node leaves it inconclusive)", async function () {
    const { page } = await openReceiptPage(withRpc.url, "en");
    const r = await check(page, doc("v1-valid"));
    expect(r.checks["log-quorum"]).to.equal("true");
    expect(r.checks["chain-read"]).to.equal("null");
    expect(r.status).to.equal("inconclusive");
    await page.close();
  });

  it("gives every committed vector its verdict in the page, and verifies one in a few milliseconds (figure printed)", async function () {
    const bundle = await build({
      stdin: {
        contents:
          'export * from "./src/core/verify-document-with-policy.ts"; export { parseTrustPolicy } from "./src/core/tlog-policy.ts";',
        resolveDir: root,
        loader: "ts",
      },
      bundle: true,
      format: "esm",
      platform: "browser",
      write: false,
      logLevel: "silent",
    });
    const server = await listen((req, res) => {
      if (req.url === "/core.js") {
        res.writeHead(200, { "content-type": "text/javascript" });
        res.end(bundle.outputFiles[0]!.text);
      } else {
        res.writeHead(200, { "content-type": "text/html" });
        res.end(
          '<!doctype html><meta charset="utf-8"><script type="module">import * as core from "/core.js"; window.core = core; document.body.dataset.ready = "1";</script><body></body>',
        );
      }
    });
    const page = await browser.newPage();
    try {
      await page.goto(server.url);
      await page.waitForSelector("body[data-ready='1']", { state: "attached" });
      const timings = await page.evaluate(
        async ({ policy, docs }) => {
          const core = (
            globalThis as unknown as { core: typeof PolicyModule & typeof TlogPolicyModule }
          ).core;
          const p = core.parseTrustPolicy(policy);
          const out: Record<string, { status: string; medianMs: number }> = {};
          for (const [name, d] of Object.entries(docs)) {
            let status = "";
            const ms: number[] = [];
            for (let i = 0; i < 25; i++) {
              const t0 = performance.now();
              status = (await core.verifyDocumentWithPolicy(d, { policy: p })).status;
              ms.push(performance.now() - t0);
            }
            ms.sort((a, b) => a - b);
            out[name] = { status, medianMs: ms[12]! };
          }
          return out;
        },
        { policy: vectors.policy, docs: { v1: doc("v1-valid"), v2: doc("v2-valid") } },
      );
      // Every committed vector, in the page: its verdict and failed checks, as in Node.
      const verdicts = await page.evaluate(
        async ({ policy, cases }) => {
          const core = (
            globalThis as unknown as { core: typeof PolicyModule & typeof TlogPolicyModule }
          ).core;
          const p = core.parseTrustPolicy(policy);
          const out: Record<string, { status: string; failedChecks: string[] }> = {};
          for (const c of cases) {
            const r = await core.verifyDocumentWithPolicy(c.document, {
              policy: p,
              ...(c.vrfPublicKey === undefined ? {} : { vrfPublicKey: c.vrfPublicKey }),
            });
            out[c.name] = {
              status: r.status,
              failedChecks: r.checks.filter((x) => x.outcome === "fail").map((x) => x.name),
            };
          }
          return out;
        },
        { policy: vectors.policy, cases: vectors.cases },
      );
      for (const c of vectors.cases)
        expect(verdicts[c.name], c.name).to.deep.equal({
          status: c.expect.status,
          failedChecks: c.expect.failedChecks,
        });
      expect(timings.v1!.status).to.equal("verified");
      expect(timings.v2!.status).to.equal("verified");
      console.log(
        `      offline verification in Chromium (median of 25): v1 ${timings.v1!.medianMs.toFixed(2)} ms, v2 ${timings.v2!.medianMs.toFixed(2)} ms`,
      );
      expect(timings.v1!.medianMs).to.be.below(200);
      expect(timings.v2!.medianMs).to.be.below(200);
    } finally {
      await page.close();
      await server.close();
    }
  });
});
