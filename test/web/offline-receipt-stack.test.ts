/**
 * Issue #16's "done when", end to end: batches anchored by the real pipeline on a development
 * chain and indexed (test/web/real-stack.ts), logged in the ledger log and cosigned over HTTP by
 * the demo's four witness servers (src/cli/demo-log.ts, 3 of 4), served by the real API app with
 * the log's bundles and the trust policy and no RPC for browsers. The portal verifies a receipt by
 * its code with no chain and names the cosigners; the same receipt, saved to a file, verifies
 * with `shafaf verify --policy` in a process that has no network at all; and `shafaf receipts
 * export --log-dir` writes receipts that do too.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import type { Browser } from "playwright-core";
import { createApp } from "../../src/api/create-app.ts";
import { command as receiptsCommand } from "../../src/cli/commands/receipts.ts";
import { command as verifyCommand } from "../../src/cli/commands/verify.ts";
import { startDemoLog, type DemoLog } from "../../src/cli/demo-log.ts";
import { indexedLogBatches } from "../../src/cli/ledger-log-follower.ts";
import { parseTrustPolicy } from "../../src/core/tlog-policy.ts";
import { verifyReceipt } from "../../src/core/verify-receipt.ts";
import { createLogBundleSource } from "../../src/log/log-bundle-source.ts";
import { syncLedgerLog } from "../../src/log/sync-ledger-log.ts";
import {
  buildOnce,
  collectErrors,
  launchChromium,
  listen,
  waitForPage,
  type PortalServer,
} from "./portal-server.ts";
import { startRealStack, type RealStack } from "./real-stack.ts";
import { runCommand } from "../audit/helpers.ts";

const root = path.resolve(import.meta.dirname, "../..");
const quiet = { info() {}, warn() {}, error() {} };

describe("an offline receipt end to end (pipeline, witnessed log, API, portal, shafaf verify)", function () {
  this.timeout(300_000);
  let stack: RealStack;
  let demoLog: DemoLog;
  let server: PortalServer;
  let browser: Browser;
  let dir: string;

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "shafaf-offline-e2e-"));
    stack = await startRealStack();
    demoLog = await startDemoLog({ dir: path.join(dir, "ledger-log") });
    const batches = (await indexedLogBatches(stack.index)).sort((a, b) => a.batchId - b.batchId);
    const synced = await syncLedgerLog({
      log: demoLog.log,
      batches,
      witnesses: demoLog.witnesses,
      knownSizes: new Map(),
    });
    expect(synced.cosign.filter((o) => o.ok)).to.have.length(4);
    const policyText = await readFile(demoLog.policyFile, "utf8");
    const { outDir } = await buildOnce();
    const { app } = createApp({
      index: stack.index,
      ledger: stack.ledger,
      verify: verifyReceipt,
      apiKeys: [],
      log: quiet,
      webRoot: outDir,
      rateLimit: false,
      logBundle: createLogBundleSource({
        log: demoLog.log,
        policy: parseTrustPolicy(policyText, demoLog.policyFile),
      }),
      trustPolicy: policyText,
    });
    server = await listen(app);
    browser = await launchChromium();
  });
  after(async function () {
    await browser?.close();
    await server?.close();
    await demoLog?.close();
    await stack?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("the portal verifies a receipt by its code with no RPC and names the four cosigners", async function () {
    const code = stack.codes.get(stack.batches.pension)![0]!;
    const page = await browser.newPage();
    const errors = collectErrors(page);
    await page.addInitScript(() => localStorage.setItem("shafaf.lang", "en"));
    await page.goto(`${server.url}/#/receipt`);
    await waitForPage(page);
    await page.fill("input[name=code]", code);
    await page.click("form.code-form button[type=submit]");
    await page.waitForSelector("#receipt-result [data-status]", { timeout: 30_000 });
    expect(await page.getAttribute("#receipt-result [data-status]", "data-status")).to.equal(
      "verified",
    );
    expect(await page.textContent("#receipt-result .witnessed")).to.match(
      /^Verified — cosigned by auditors, audit-court, employers, workers \(3 of 4 required\), checkpoint of /,
    );
    expect(errors).to.deep.equal([]);
    await page.close();
  });

  it("the same receipt, saved to a file, verifies with shafaf verify --policy and no network", async function () {
    const code = stack.codes.get(stack.batches.premium)![0]!;
    const res = await fetch(`${server.url}/api/v1/receipts/${code}`);
    expect(res.status).to.equal(200);
    const file = path.join(dir, "receipt.json");
    await writeFile(file, await res.text());
    let runner: string[] = ["unshare", "-rn"];
    try {
      await promisify(execFile)("unshare", ["-rn", "true"]);
    } catch {
      runner = []; // no user namespaces: still no --rpc, so no network is asked for
    }
    const [cmd, ...args] = [
      ...runner,
      process.execPath,
      "--import",
      "tsx",
      "src/cli/main.ts",
      "verify",
      file,
      "--policy",
      demoLog.policyFile,
    ];
    const { stdout } = await promisify(execFile)(cmd, args, { cwd: root });
    expect(stdout).to.match(
      /VERIFIED: this record is in the anchored batch: cosigned by auditors, audit-court, employers, workers \(3 of 4 required\), checkpoint of \d{4}-\d\d-\d\d /,
    );
  });

  it("with --rpc too, the chain is checked as well and both agree", async function () {
    const code = stack.codes.get(stack.batches.premium)![1]!;
    const file = path.join(dir, "receipt-both.json");
    await writeFile(file, await (await fetch(`${server.url}/api/v1/receipts/${code}`)).text());
    const run = await runCommand(verifyCommand, [
      file,
      "--policy",
      demoLog.policyFile,
      "--rpc",
      stack.chain.url,
      "--contract",
      stack.contract,
      "--json",
    ]);
    expect(run.code, run.stdout).to.equal(0);
    const result = JSON.parse(run.stdout) as {
      status: string;
      checks: { name: string; outcome: string }[];
      log?: { cosigners: { name: string }[] };
    };
    const passed = result.checks.filter((c) => c.outcome === "pass").map((c) => c.name);
    expect(passed).to.include.members(["log-quorum", "log-inclusion", "current", "nodes-agree"]);
    expect(result.log?.cosigners.map((c) => c.name)).to.deep.equal([
      "auditors",
      "audit-court",
      "employers",
      "workers",
    ]);
  });

  it("shafaf receipts export --log-dir writes receipts with their bundle, each verifying offline", async function () {
    await server.close(); // the export opens the ledger store itself (one process at a time)
    server = undefined as unknown as PortalServer;
    const dataDir = stack.ledger.dataDir;
    await stack.ledger.close();
    const out = path.join(dir, "export");
    const batch = String(stack.batches.pension);
    const run = await runCommand(receiptsCommand, [
      "export",
      "--batch",
      batch,
      "--out",
      out,
      "--format",
      "jsonl",
      "--data-dir",
      dataDir,
      "--log-dir",
      demoLog.log.dir,
      "--log-policy",
      demoLog.policyFile,
    ]);
    expect(run.code, run.stderr).to.equal(0);
    const lines = (await readFile(path.join(out, `batch-${batch}.receipts.jsonl`), "utf8"))
      .trim()
      .split("\n");
    expect(lines.length).to.be.greaterThan(0);
    for (const [i, line] of lines.entries()) {
      const f = path.join(dir, `exported-${i}.json`);
      await writeFile(f, line);
      const v = await runCommand(verifyCommand, [f, "--policy", demoLog.policyFile]);
      expect(v.code, v.stdout).to.equal(0);
    }
    const notLogged = await runCommand(receiptsCommand, [
      "export",
      "--batch",
      "99",
      "--out",
      out,
      "--data-dir",
      dataDir,
      "--log-dir",
      demoLog.log.dir,
    ]);
    expect(notLogged.code).to.not.equal(0);
    expect(notLogged.stderr).to.include("no log bundle for batch 99");
  });
});
