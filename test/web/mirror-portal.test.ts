/**
 * The portal from a static mirror (Chromium): the mirror is exported from the real API (real
 * index store, real tiled ledger log cosigned 3 of 4) and served under a path prefix by a plain
 * static file server that knows nothing of Shafaf. The overview, the batches list (and its kind filter) and a batch
 * page render from the mirror's files with no failed request; a receipt file carrying its log
 * bundle verifies offline against the mirror's trust-policy.txt; a receipt code cannot be looked
 * up (a mirror holds no receipts) and the page says so, without asking for it.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import type { Browser, Page } from "playwright-core";
import { formatCheckpoint } from "../../src/core/checkpoint.ts";
import { ledgerLogEntry } from "../../src/core/ledger-log-entry.ts";
import {
  cosignatureV1Signer,
  ed25519NoteSigner,
  ed25519PublicKey,
  formatVerifierKey,
  signNote,
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
} from "../../src/core/signed-note.ts";
import { parseTrustPolicy } from "../../src/core/tlog-policy.ts";
import { indexedLogBatches } from "../../src/cli/ledger-log-follower.ts";
import { createLogBundleSource, type LogBundleOf } from "../../src/log/log-bundle-source.ts";
import { createLogRouter } from "../../src/log/log-routes.ts";
import { openTiledLog } from "../../src/log/tiled-log.ts";
import { exportMirror } from "../../src/mirror/export-mirror.ts";
import { serveDataset, type Served } from "../api/api-fixture.ts";
import {
  buildOnce,
  collectErrors,
  launchChromium,
  listen,
  waitForPage,
  type PortalServer,
} from "./portal-server.ts";

const ORIGIN = "sso.example/ledger-log";
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
};

/**
 * A static file server and nothing else: GET `<prefix><file>` for a file under `root`, or 404.
 * The mirror sits under a prefix, as on a shared host or a CDN folder.
 */
function staticFiles(root: string, prefix = "/site/") {
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (!url.pathname.startsWith(prefix)) return void res.writeHead(404).end();
    const under = url.pathname.slice(prefix.length - 1);
    const rel = under === "/" ? "/index.html" : under;
    const file = path.join(root, path.normalize(decodeURIComponent(rel)));
    if (!file.startsWith(root + path.sep)) return void res.writeHead(404).end();
    readFile(file).then(
      (bytes) => {
        res.writeHead(200, {
          "content-type": TYPES[path.extname(file)] ?? "application/octet-stream",
        });
        res.end(bytes);
      },
      () => res.writeHead(404).end(),
    );
  };
}

describe("the portal from a static mirror (Chromium, a plain static server)", function () {
  this.timeout(180_000);
  let s: Served;
  let work: string;
  let mirror: PortalServer;
  let browser: Browser;
  let batchCount: number;
  let pensionCount: number;
  let source: LogBundleOf;
  const requested: string[] = [];

  before(async function () {
    const logSeed = randomBytes(32);
    const witnesses = [0, 1, 2, 3].map((i) => {
      const seed = randomBytes(32);
      const name = `w${i}.example/witness`;
      return {
        short: `w${i}`,
        signer: cosignatureV1Signer(name, seed),
        vkey: formatVerifierKey(name, SIG_TYPE_COSIGNATURE_V1, ed25519PublicKey(seed)),
      };
    });
    const policyText = [
      `log ${formatVerifierKey(ORIGIN, SIG_TYPE_ED25519, ed25519PublicKey(logSeed))}`,
      ...witnesses.map((w) => `witness ${w.short} ${w.vkey}`),
      `group institutions 3 ${witnesses.map((w) => w.short).join(" ")}`,
      "quorum institutions",
      "",
    ].join("\n");
    work = mkdtempSync(path.join(tmpdir(), "shafaf-mirror-web-"));
    const logDir = path.join(work, "log");
    const log = await openTiledLog({
      dir: logDir,
      origin: ORIGIN,
      signer: ed25519NoteSigner(ORIGIN, logSeed),
    });
    s = await serveDataset(
      {
        logRouter: createLogRouter({ dir: logDir }),
        trustPolicy: policyText,
        logBundle: (id) => source(id),
      },
      { v2: true },
    );
    const batches = (await indexedLogBatches(s.index)).sort((a, b) => a.batchId - b.batchId);
    batchCount = batches.length;
    pensionCount = batches.filter((b) => b.kind === "pension").length;
    await log.append(batches.map(ledgerLogEntry));
    const note = formatCheckpoint({
      origin: ORIGIN,
      size: log.size(),
      rootHash: log.rootHash(),
      extensions: [],
    });
    await log.publishCheckpoint(
      signNote(note, [ed25519NoteSigner(ORIGIN, logSeed), ...witnesses.map((w) => w.signer)]),
    );
    source = createLogBundleSource({ log, policy: parseTrustPolicy(policyText) });
    const site = path.join(work, "site");
    await exportMirror({
      source: {
        async get(p) {
          const res = await fetch(s.url + p);
          if (res.status === 404) return undefined;
          if (!res.ok) throw new Error(`GET ${p}: ${res.status}`);
          return new Uint8Array(await res.arrayBuffer());
        },
      },
      out: site,
      webRoot: (await buildOnce()).outDir,
    });
    mirror = await listen(staticFiles(site));
    browser = await launchChromium();
  });
  after(async function () {
    await browser?.close();
    await mirror?.close();
    await s?.close();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  async function open(hash: string): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage();
    const errors = collectErrors(page);
    page.on("response", (r) => {
      requested.push(new URL(r.url()).pathname);
      if (r.status() >= 400) errors.push(`HTTP ${r.status()} ${r.url()}`);
    });
    await page.addInitScript(() => localStorage.setItem("shafaf.lang", "en"));
    await page.goto(`${mirror.url}/site/${hash}`);
    await waitForPage(page);
    return { page, errors };
  }

  it("renders the overview from the mirror's files, asking no API", async function () {
    const { page, errors } = await open("#/");
    expect(await page.textContent("main h1"))
      .to.be.a("string")
      .and.not.equal("");
    expect(await page.locator("main .error, main [role=alert]").count()).to.equal(0);
    expect(errors).to.deep.equal([]);
    expect(requested).to.include("/site/api/v1/stats.json");
    expect(requested.filter((p) => !p.startsWith("/site/"))).to.deep.equal([]);
    await page.close();
  });

  it("lists every batch, filters by kind, and opens a batch page", async function () {
    const { page, errors } = await open("#/batches");
    const rows = page.locator("table tbody tr");
    expect(await rows.count()).to.equal(batchCount);
    await page.selectOption("select[name=kind]", "pension");
    await page.click("button[type=submit]");
    await page.waitForFunction(() => location.hash.includes("kind=pension"));
    await waitForPage(page);
    expect(await rows.count()).to.equal(pensionCount);
    await page.goto(`${mirror.url}/site/#/batches/1`);
    await waitForPage(page);
    expect(await page.textContent("main h1")).to.equal("Batch 1");
    const view = s.dataset.batches.find((b) => b.view.batchId === 1)!.view;
    const technical = (await page.locator("details.technical").allTextContents()).join("\n");
    expect(technical).to.include(view.root);
    expect(errors).to.deep.equal([]);
    await page.close();
  });

  it("verifies a receipt file offline against the mirror's trust policy", async function () {
    const { code } = s.dataset.batches.find((b) => b.view.batchId === 1)!.receipts[0]!;
    const receipt = (await (await fetch(`${s.url}/api/v1/receipts/${code}`)).json()) as object;
    expect(receipt).to.have.property("log");
    const { page, errors } = await open("#/receipt");
    await page.setInputFiles("input[type=file]", {
      name: "receipt.json",
      mimeType: "application/json",
      buffer: Buffer.from(JSON.stringify(receipt)),
    });
    await page.waitForSelector("#receipt-result [data-status]", { timeout: 30_000 });
    const status = await page.getAttribute("#receipt-result [data-status]", "data-status");
    const checks = Object.fromEntries(
      await page.$$eval("#receipt-result li[data-check]", (items) =>
        items.map((li): [string, string] => [
          li.getAttribute("data-check") ?? "",
          li.getAttribute("data-ok") ?? "",
        ]),
      ),
    );
    expect(status, JSON.stringify(checks)).to.equal("verified");
    expect(checks["log-quorum"]).to.equal("true");
    expect(checks["log-inclusion"]).to.equal("true");
    expect(requested).to.include("/site/trust-policy.txt");
    expect(errors).to.deep.equal([]);
    await page.close();
  });

  it("says a mirror holds no receipts when a code is looked up, and asks nothing for it", async function () {
    const { code } = s.dataset.batches.find((b) => b.view.batchId === 1)!.receipts[0]!;
    const { page, errors } = await open("#/receipt");
    await page.fill("input[name=code]", code);
    await page.click("form.code-form button[type=submit]");
    await page.waitForFunction(
      () =>
        document.querySelector(".code-form .error-text")?.textContent?.includes("mirror") === true,
    );
    expect(requested.filter((p) => p.includes("receipt"))).to.deep.equal([]);
    expect(errors).to.deep.equal([]);
    await page.close();
  });
});
