/**
 * `GET /api/v1/receipts/{code}` on a batch anchored with receipts on demand: the real ledger store
 * (artifact + locators), the real index store written by the real indexer, the real app on
 * 127.0.0.1:0. The receipt is assembled, verified and served; from a damaged artifact nothing is
 * served, and neither the response nor the log carries personal data.
 */
import { expect } from "chai";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { ApiLog } from "../../src/api/app-deps.ts";
import { createApp } from "../../src/api/create-app.ts";
import { startServer, type RunningServer } from "../../src/api/start-server.ts";
import { verifyReceipt } from "../../src/core/verify-receipt.ts";
import { openIndexStore, type WritableIndexStore } from "../../src/store/index-store.ts";
import { openLedgerStore, type LedgerStore } from "../../src/store/ledger-store.ts";
import { CONTRACT, anchor, makeBatch, nationalId, type Made } from "../store/on-demand-fixture.ts";
import { indexScripted, ledgerHistory } from "../indexer/scripted-history.ts";

describe("GET /api/v1/receipts/{code} with receipts on demand", function () {
  let dir: string;
  let ledger: LedgerStore;
  let index: WritableIndexStore;
  let running: RunningServer;
  let made: Made;
  const logs: { event: string; fields: Record<string, unknown> }[] = [];

  before(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), "shafaf-api-ondemand-"));
    ledger = await openLedgerStore(dir);
    made = await makeBatch(ledger, 1, 20);
    await anchor(ledger, made);
    index = await openIndexStore(path.join(dir, "index"));
    // the index as the real indexer writes it from the batch's BatchAnchored event
    const e = made.entry;
    const history = await ledgerHistory(CONTRACT);
    history.anchorAt(
      e.blockNumber,
      1,
      e.kind === "premium" ? 0 : 1,
      Number(e.period.replace("-", "")),
      e.recordCount,
      BigInt(e.total),
      0,
      undefined,
      { root: e.root },
    );
    await indexScripted(history, index, {
      headBlock: e.blockNumber,
      confirmations: 0,
      fromBlock: 1,
    });
    const log: ApiLog = {
      info: (event, fields = {}) => logs.push({ event, fields }),
      warn: (event, fields = {}) => logs.push({ event, fields }),
      error: (event, fields = {}) => logs.push({ event, fields }),
    };
    const api = createApp({
      index,
      ledger,
      verify: verifyReceipt,
      apiKeys: [],
      log,
      rateLimit: false,
    });
    running = await startServer({ api, port: 0, graceMs: 1_000 });
  });

  after(async function () {
    await running?.close();
    await index?.close();
    await ledger?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("assembles, verifies and serves a receipt; the person's verifier accepts it", async function () {
    const code = made.codes[5]!;
    const r = await fetch(`${running.url}/api/v1/receipts/${code.toLowerCase()}`);
    expect(r.status).to.equal(200);
    const receipt = (await r.json()) as { code: string; batchId: number; root: string };
    expect(receipt.code).to.equal(code);
    expect(receipt.root).to.equal(made.root);
    const result = await verifyReceipt(receipt, {
      root: made.root,
      chainId: 31337,
      contract: CONTRACT,
    });
    expect(result.status).to.equal("verified");
  });

  it("serves nothing from a damaged artifact, and says nothing personal about it", async function () {
    const file = path.join(ledger.batchesDir, made.jobId, "records.jsonl");
    const text = await readFile(file, "utf8");
    // Record 7's total 3007000 → 3007001: same length, so only the leaf check can notice.
    await writeFile(file, text.replace('"total":"3007000"', '"total":"3007001"'));
    try {
      const r = await fetch(`${running.url}/api/v1/receipts/${made.codes[7]!}`);
      expect(r.status).to.equal(500);
      const body = await r.text();
      expect(body).to.not.include(nationalId(7 % 3));
      expect(body).to.not.include("3007");
      const logged = JSON.stringify(logs);
      expect(logged).to.include("store.receipt.artifact");
      expect(logged).to.not.include(nationalId(7 % 3));
      expect(logged).to.not.include(made.codes[7]!);
      // The other records of the batch are still served.
      expect((await fetch(`${running.url}/api/v1/receipts/${made.codes[8]!}`)).status).to.equal(
        200,
      );
    } finally {
      await writeFile(file, text);
    }
  });
});
