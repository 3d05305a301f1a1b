/**
 * Core's verifyDocument bundled for the browser (esbuild, platform browser, as the portal is) and
 * run in headless Chromium on every committed v2 receipt and person-proof vector; then the time
 * to verify one person proof in the page (goal: < 50 ms), printed.
 */
import path from "node:path";
import { readFileSync } from "node:fs";
import { expect } from "chai";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import type * as VerifyDocumentModule from "../../src/core/verify-document.ts";
import { bytesToHex } from "../../src/core/hex.ts";
import { documentFixture, largeBatchPersonProof } from "../../scripts/vectors/documents-v2.ts";
import { collectErrors, launchChromium, listen, type PortalServer } from "./portal-server.ts";

const root = path.resolve(import.meta.dirname, "../..");

/** A person proof out of a 100,000-record batch of 31 provinces, with its trust. */
function largeCase(): { document: unknown; root: string; vrfPublicKey: string } {
  const f = documentFixture();
  const { tree, proof } = largeBatchPersonProof(f, 100_000);
  return { document: proof, root: tree.root, vrfPublicKey: bytesToHex(f.vrfKey.publicKey) };
}
const vectors = (name: string): string =>
  readFileSync(path.join(root, "test/vectors", name), "utf8");

declare global {
  interface Window {
    core: typeof VerifyDocumentModule;
  }
}

describe("person proofs verified in Chromium (core bundled for the browser)", function () {
  this.timeout(120_000);
  let server: PortalServer;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  before(async function () {
    const bundle = await build({
      stdin: {
        contents: 'export * from "./src/core/verify-document.ts";',
        resolveDir: root,
        loader: "ts",
      },
      bundle: true,
      format: "esm",
      platform: "browser",
      write: false,
      logLevel: "silent",
    });
    const js = bundle.outputFiles[0]!.text;
    const files: Record<string, [string, string]> = {
      "/": [
        "text/html",
        '<!doctype html><meta charset="utf-8"><script type="module">import * as core from "/core.js"; window.core = core; document.body.dataset.ready = "1";</script><body></body>',
      ],
      "/core.js": ["text/javascript", js],
      "/person-proof-1.json": ["application/json", vectors("person-proof-1.json")],
      "/receipt-v2.json": ["application/json", vectors("receipt-v2.json")],
      "/large.json": ["application/json", JSON.stringify(largeCase())],
    };
    server = await listen((req, res) => {
      const f = files[req.url ?? ""];
      if (req.url === "/favicon.ico") {
        res.writeHead(204).end();
        return;
      }
      if (f === undefined) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": f[0] }).end(f[1]);
    });
    browser = await launchChromium();
    page = await browser.newPage();
    errors = collectErrors(page);
    await page.goto(server.url);
    await page.waitForSelector("body[data-ready]", { state: "attached" });
  });

  after(async function () {
    await browser?.close();
    await server?.close();
  });

  it("agrees with every committed v2 receipt and person-proof vector", async function () {
    const mismatches = await page.evaluate(async () => {
      const out: string[] = [];
      for (const file of ["/person-proof-1.json", "/receipt-v2.json"]) {
        const v = (await (await fetch(file)).json()) as {
          cases: {
            name: string;
            document: unknown;
            trust: never;
            status: string;
            failedChecks: string[];
          }[];
        };
        for (const c of v.cases) {
          const r = await window.core.verifyDocument(c.document, c.trust);
          const failed = r.checks.filter((x) => x.outcome !== "pass").map((x) => x.name);
          if (r.status !== c.status || JSON.stringify(failed) !== JSON.stringify(c.failedChecks))
            out.push(`${file} ${c.name}: ${r.status} ${failed.join(",")}`);
        }
      }
      return out;
    });
    expect(mismatches).to.deep.equal([]);
    expect(errors).to.deep.equal([]);
  });

  for (const [label, source] of [
    ["the vector person proof (19-record batch, 4 provinces, 3 records)", "vector"],
    ["a person proof out of a 100,000-record batch (31 provinces, 3 records)", "large"],
  ] as const) {
    it(`verifies ${label} in the page within the 50 ms goal (figure printed)`, async function () {
      // A fresh page: the first verification pays for compiling the WebAssembly Keccak too.
      const fresh = await browser.newPage();
      await fresh.goto(server.url);
      await fresh.waitForSelector("body[data-ready]", { state: "attached" });
      const t = await fresh.evaluate(async (which) => {
        let doc: unknown;
        let trust: { root: string; vrfPublicKey: string };
        if (which === "vector") {
          const v = (await (await fetch("/person-proof-1.json")).json()) as {
            root: string;
            vrfPublicKey: string;
            cases: { name: string; document: unknown }[];
          };
          doc = v.cases.find((c) => c.name === "valid-range")!.document;
          trust = { root: v.root, vrfPublicKey: v.vrfPublicKey };
        } else {
          const v = (await (await fetch("/large.json")).json()) as {
            document: unknown;
            root: string;
            vrfPublicKey: string;
          };
          doc = v.document;
          trust = { root: v.root, vrfPublicKey: v.vrfPublicKey };
        }
        const t0 = performance.now();
        const first = window.core.verifyDocumentOffline(doc, trust);
        const cold = performance.now() - t0;
        const warm: number[] = [];
        for (let i = 0; i < 21; i++) {
          const s = performance.now();
          window.core.verifyDocumentOffline(doc, trust);
          warm.push(performance.now() - s);
        }
        warm.sort((a, b) => a - b);
        return { status: first.status, cold, median: warm[10]!, max: warm[20]! };
      }, source);
      await fresh.close();
      console.log(
        `      Chromium, ${label}: first ${t.cold.toFixed(1)} ms, then median ${t.median.toFixed(1)} ms (max ${t.max.toFixed(1)} ms of 21)`,
      );
      expect(t.status).to.equal("verified");
      expect(t.median).to.be.below(50);
    });
  }
});
