/**
 * `GET /api/v1/receipts/{code}` for a `shafaf-tree/2` batch served from its tiles: the real ledger
 * store (artifact, tiles, locators, written as the anchor job writes them), the real index store,
 * the real app on 127.0.0.1:0. The store assembles the receipt from tile windows verified as they
 * are folded (each against the verified window above it, up to the anchored root) and the route
 * checks that root against the chain-indexed one. These tests show that this still refuses what
 * a full verification of the proof refused: a level-0 tile changed where only the proof could
 * see it (a sibling's byte), and a store whose root is not the indexed one.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import type { ApiLog } from "../../src/api/app-deps.ts";
import { createApp } from "../../src/api/create-app.ts";
import { startServer, type RunningServer } from "../../src/api/start-server.ts";
import { keccak256 } from "../../src/core/keccak.ts";
import { bytesToHex, type Hex } from "../../src/core/hex.ts";
import { recordToJson } from "../../src/core/receipt.ts";
import { newReceiptCode } from "../../src/core/receipt-code.ts";
import type { PremiumRecord } from "../../src/core/record.ts";
import { createSumTreeBatchCollector } from "../../src/core/sum-tree-batch.ts";
import { verifyDocument } from "../../src/core/verify-document.ts";
import { createBatchArtifactWriter } from "../../src/store/batch-artifact.ts";
import { writeBatchTiles } from "../../src/store/batch-tiles.ts";
import { hexKey, openIndexStore, type WritableIndexStore } from "../../src/store/index-store.ts";
import {
  openLedgerStore,
  type BatchEntry,
  type LedgerStore,
} from "../../src/store/ledger-store.ts";

const CONTRACT = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
const hex = (n: number) => bytesToHex(new Uint8Array(randomBytes(n)));

function nationalId(n: number): string {
  const body = String(100_000_000 + n).slice(-9);
  let s = 0;
  for (let i = 0; i < 9; i++) s += Number(body[i]) * (10 - i);
  const r = s % 11;
  return body + String(r < 2 ? r : 11 - r);
}

/** A 600-record batch in two provinces (level-0 tiles of 256), anchored as batch `batchId`. */
async function v2Batch(ledger: LedgerStore, batchId: number) {
  const count = 600;
  const records: PremiumRecord[] = [];
  const salts: Hex[] = [];
  const batch = createSumTreeBatchCollector("premium");
  for (let i = 0; i < count; i++) {
    const total = 30_000_000n + BigInt(i) * 1000n;
    records.push({
      kind: "premium",
      recordId: `P-${i}`,
      period: "1403-07",
      nationalId: nationalId(i + 1),
      workshopCode: String(1_000_000_000 + (i % 50)),
      insuranceNo: String(10_000_000 + i),
      province: i % 2 === 0 ? "IR-07" : "IR-23",
      days: 30,
      wageBase: (total * 10n) / 3n,
      workerShare: (total * 7n) / 30n,
      employerShare: (total * 20n) / 30n,
      unemploymentShare: total - (total * 7n) / 30n - (total * 20n) / 30n,
      hazardShare: 0n,
      total,
    });
    salts.push(hex(32));
    batch.push(records[i]!, Buffer.from(salts[i]!.slice(2), "hex"));
  }
  const keys = new Uint8Array(randomBytes(32 * count));
  const tree = batch.build(keys);
  const jobId = randomBytes(32).toString("hex");
  const writer = await createBatchArtifactWriter(ledger.batchesDir, jobId);
  const codes: string[] = [];
  for (let i = 0; i < count; i++) {
    codes.push(newReceiptCode((n) => new Uint8Array(randomBytes(n))));
    await writer.append({
      index: i,
      code: codes[i]!,
      salt: salts[i]!,
      subject: hex(32),
      source: { file: "test.csv", line: i + 2 },
      record: recordToJson(records[i]!),
    });
  }
  const manifestBytes = new TextEncoder().encode('{"format":"test"}');
  const facts = {
    kind: "premium" as const,
    period: "1403-07",
    recordCount: count,
    total: records.reduce((a, r) => a + r.total, 0n).toString(),
    root: tree.root,
    manifestHash: bytesToHex(keccak256(manifestBytes)),
    idempotencyKey: hex(32),
    supersedes: null,
    reason: null,
  };
  const { dir } = await writer.commit({
    manifestBytes,
    keys,
    descriptor: {
      scheme: "shafaf-tree/2",
      vrfKeyId: hex(32),
      lanes: tree.lanes.map(String),
      ...facts,
      createdAt: new Date().toISOString(),
    },
  });
  await writeBatchTiles(dir, tree, keys);
  const entry: BatchEntry = {
    format: "shafaf-batch-entry/1",
    batchId,
    jobId,
    chainId: 31337,
    contract: CONTRACT,
    ...facts,
    supersededBy: null,
    txHash: hex(32),
    blockNumber: 2,
    blockHash: hex(32),
    anchoredAt: 1_727_000_000,
    receipts: "on-demand",
    scheme: "shafaf-tree/2",
  };
  await ledger.writeReceiptLocators(
    entry,
    codes.map((code, index) => ({ index, code, subject: hex(32), recordId: `P-${index}` })),
  );
  await ledger.completeJob(
    {
      format: "shafaf-job/1",
      jobId,
      state: "complete",
      ...facts,
      createdAt: new Date().toISOString(),
      batchId,
    },
    entry,
  );
  return { dir, codes, entry, lanes: tree.lanes.map(String) };
}

describe("GET /api/v1/receipts/{code} of a shafaf-tree/2 batch (verified once, by the route)", function () {
  this.timeout(60_000);
  let work: string;
  let ledger: LedgerStore;
  let index: WritableIndexStore;
  let running: RunningServer;
  let good: Awaited<ReturnType<typeof v2Batch>>;
  let misindexed: Awaited<ReturnType<typeof v2Batch>>;
  const logs: string[] = [];

  before(async function () {
    work = await mkdtemp(path.join(os.tmpdir(), "shafaf-api-receipts-v2-"));
    ledger = await openLedgerStore(work);
    good = await v2Batch(ledger, 1);
    misindexed = await v2Batch(ledger, 2);
    index = await openIndexStore(path.join(work, "index"));
    await index.initialize({
      chainId: 31337,
      contract: CONTRACT,
      genesisHash: hex(32),
      deployBlock: 1,
      confirmations: 0,
    });
    const tx = index.begin();
    tx.at({ number: 2, hash: hex(32), parentHash: hex(32) });
    for (const [b, root] of [
      [good, good.entry.root],
      // batch 2 as the chain has it: another root than the store's artifact
      [misindexed, hex(32)],
    ] as const)
      tx.put("batches", hexKey(b.entry.batchId), {
        scheme: "shafaf-tree/2",
        lanes: b.lanes,
        vrfKeyId: hex(32),
        batchId: b.entry.batchId,
        kind: "premium",
        period: "1403-07",
        root,
        recordCount: b.entry.recordCount,
        total: b.entry.total,
        manifestHash: b.entry.manifestHash,
        idempotencyKey: b.entry.idempotencyKey,
        headAfter: hex(32),
        anchorer: CONTRACT,
        anchoredAt: 1_727_000_000,
        txHash: b.entry.txHash,
        blockNumber: 2,
        blockHash: hex(32),
        supersedes: null,
        supersededBy: null,
        status: "anchored",
        attestations: [],
        manifest: { status: "missing" },
      });
    await index.commit(tx, { cursor: { number: 2, hash: hex(32) }, keepFrom: 0 });
    const log: ApiLog = {
      info: (e, f = {}) => logs.push(e + JSON.stringify(f)),
      warn: (e, f = {}) => logs.push(e + JSON.stringify(f)),
      error: (e, f = {}) => logs.push(e + JSON.stringify(f)),
    };
    const api = createApp({
      index,
      ledger,
      verify: verifyDocument,
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
    await rm(work, { recursive: true, force: true });
  });

  const get = (code: string) => fetch(`${running.url}/api/v1/receipts/${code}`);

  it("serves a receipt that verifies against the indexed root, chain and contract", async function () {
    const r = await get(good.codes[41]!);
    expect(r.status).to.equal(200);
    const receipt = (await r.json()) as { format: string; code: string };
    expect(receipt.format).to.equal("shafaf-receipt/2");
    expect(receipt.code).to.equal(good.codes[41]);
    const v = await verifyDocument(receipt, {
      root: good.entry.root,
      chainId: 31337,
      contract: CONTRACT,
    });
    expect(v.status).to.equal("verified");
  });

  it("refuses (500 receipt-integrity) a receipt whose batch the index roots elsewhere", async function () {
    const r = await get(misindexed.codes[3]!);
    expect(r.status).to.equal(500);
    expect(((await r.json()) as { type: string }).type).to.match(/receipt-integrity$/);
    expect(logs.some((l) => l.startsWith("receipt-integrity"))).to.equal(true);
  });

  it("refuses a receipt whose proof a changed level-0 tile breaks (a sibling's byte, not the leaf's)", async function () {
    // Leaf 3's sibling (leaf 2) of province IR-07 changed in its level-0 tile: leaf 3 still
    // matches its own entry, the store's checks pass, and its proof no longer leads to the root.
    const tile = path.join(good.dir, "tiles/private/IR-07/tile/0/000");
    const bytes = await readFile(tile);
    const entryBytes = bytes.length / 256;
    const changed = Buffer.from(bytes);
    changed[2 * entryBytes] = changed[2 * entryBytes]! ^ 0xff;
    await writeFile(tile, changed);
    // a fresh store: nothing of the tile is cached
    await running.close();
    await index.close();
    await ledger.close();
    ledger = await openLedgerStore(work);
    index = await openIndexStore(path.join(work, "index"));
    const api = createApp({
      index,
      ledger,
      verify: verifyDocument,
      apiKeys: [],
      log: { info() {}, warn() {}, error: (e) => logs.push(e) },
      rateLimit: false,
    });
    running = await startServer({ api, port: 0, graceMs: 1_000 });
    try {
      // the leaf at batch index 3 of IR-07 (the first 300 leaves): found by its line
      const artifactLeaf3 = await codeOfLeaf(good.dir, good.codes, 3);
      const before = logs.length;
      const r = await get(artifactLeaf3);
      expect(r.status).to.equal(500);
      expect(await r.text()).to.match(/receipt-integrity/);
      // refused once, logged as the same alarm: the changed window does not fold to its node in
      // the tile above, so the store never hands out a node of it
      expect(logs.slice(before)).to.deep.equal(["receipt-integrity"]);
      // every leaf of that level-0 tile is refused, not only the changed one's neighbour
      expect((await get(await codeOfLeaf(good.dir, good.codes, 200))).status).to.equal(500);
      // a leaf of the next level-0 tile (its proof takes level 8 from the level-1 tile) is served
      expect((await get(await codeOfLeaf(good.dir, good.codes, 280))).status).to.equal(200);
    } finally {
      await writeFile(tile, bytes);
    }
  });
});

/** The receipt code of the record at leaf `leaf` (lines.bin maps lines to leaves). */
async function codeOfLeaf(dir: string, codes: string[], leaf: number): Promise<string> {
  const lines = await readFile(path.join(dir, "tiles/private/lines.bin"));
  for (let line = 0; line < codes.length; line++)
    if (lines.readUInt32BE(4 * line) === leaf) return codes[line]!;
  throw new Error(`no line for leaf ${leaf}`);
}
