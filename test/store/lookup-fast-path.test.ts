/**
 * Receipt and person-proof lookups of `shafaf serve`'s published store, against real files (the
 * ledger store in a temp dir, artifacts, tiles, locator tables, published.json written as the
 * anchor job writes them):
 *
 * - the answers assembled from the tiles are, byte for byte, those built from the batch's whole
 *   tree in memory (core's builder, the reference: untouched by the lookups' shortcuts);
 * - every code is found through the fast path — the locator tables, `records.idx`, the stored
 *   tiles — with no fallback: a test that fails if a lookup silently takes a slow path.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import type { SumTree } from "../../src/core/build-sum-tree.ts";
import { bytesToHex, hexToBytes, type Hex } from "../../src/core/hex.ts";
import { keccak256 } from "../../src/core/keccak.ts";
import { recordFromJson, recordToJson } from "../../src/core/receipt.ts";
import { newReceiptCode } from "../../src/core/receipt-code.ts";
import { buildReceiptV2 } from "../../src/core/receipt-v2.ts";
import type { PremiumRecord } from "../../src/core/record.ts";
import { createSumTreeBatchCollector } from "../../src/core/sum-tree-batch.ts";
import { readBatchArtifact, createBatchArtifactWriter } from "../../src/store/batch-artifact.ts";
import { writeBatchLocators } from "../../src/store/batch-locators.ts";
import { writeBatchTiles } from "../../src/store/batch-tiles.ts";
import {
  openLedgerStore,
  type BatchEntry,
  type LedgerStore,
} from "../../src/store/ledger-store.ts";
import { openPublishedStore, type PublishedStore } from "../../src/store/published-store.ts";

const CONTRACT = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
const hex = (n: number) => bytesToHex(new Uint8Array(randomBytes(n)));

function nationalId(n: number): string {
  const body = String(100_000_000 + n).slice(-9);
  let s = 0;
  for (let i = 0; i < 9; i++) s += Number(body[i]) * (10 - i);
  const r = s % 11;
  return body + String(r < 2 ? r : 11 - r);
}

interface Batch {
  entry: BatchEntry;
  tree: SumTree;
  records: PremiumRecord[];
  salts: Hex[];
  keys: Uint8Array;
  codes: string[];
  /** Leaf index of each line. */
  leafOf: number[];
}

/**
 * A `shafaf-tree/2` batch of `count` records in 5 provinces (a person with two records every
 * fourth record), anchored as the anchor job does it: artifact, tiles, locator tables, record ids,
 * complete; `publish()` afterwards lists it.
 */
async function v2Batch(ledger: LedgerStore, batchId: number, count: number): Promise<Batch> {
  const records: PremiumRecord[] = [];
  const salts: Hex[] = [];
  const collector = createSumTreeBatchCollector("premium");
  for (let i = 0; i < count; i++) {
    const total = 30_000_000n + BigInt(i % 97) * 1000n;
    records.push({
      kind: "premium",
      recordId: `B${batchId}-${i}`,
      period: "1403-07",
      nationalId: nationalId(batchId * 10_000 + i + 1),
      workshopCode: String(1_000_000_000 + (i % 50)),
      insuranceNo: String(10_000_000 + i),
      province: `IR-${String(((i * 7) % 5) * 3 + 1).padStart(2, "0")}`,
      days: 30,
      wageBase: (total * 10n) / 3n,
      workerShare: (total * 7n) / 30n,
      employerShare: (total * 20n) / 30n,
      unemploymentShare: total - (total * 7n) / 30n - (total * 20n) / 30n,
      hazardShare: 0n,
      total,
    });
    salts.push(hex(32));
    collector.push(records[i]!, hexToBytes(salts[i]!));
  }
  const keys = new Uint8Array(randomBytes(32 * count));
  // a second record of the same person, in the same province (records i and i − 5 share one)
  for (let i = 5; i < count; i += 4) keys.copyWithin(32 * i, 32 * (i - 5), 32 * (i - 4));
  const tree = collector.build(keys);
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
  const artifact = await readBatchArtifact(dir);
  await writeBatchLocators(artifact!, undefined, (ids) => ledger.writeRecordIds(entry, ids));
  entry.locators = "files";
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
  const leafOf: number[] = new Array<number>(count);
  for (let leaf = 0; leaf < count; leaf++) leafOf[tree.inputIndex!(leaf)] = leaf;
  return { entry, tree, records, salts, keys, codes, leafOf };
}

/** A record as an opening carries it: read back from its JSON form (the key order of the reader). */
const opened = (r: PremiumRecord) => recordFromJson(recordToJson(r))!;

/** The receipt of line `i` built from the batch's whole tree in memory (verified as it is built). */
function referenceReceipt(b: Batch, i: number) {
  return buildReceiptV2({
    chainId: b.entry.chainId,
    contract: b.entry.contract,
    batchId: b.entry.batchId,
    code: b.codes[i]!,
    tree: b.tree,
    index: b.leafOf[i]!,
    record: opened(b.records[i]!),
    salt: hexToBytes(b.salts[i]!),
  });
}

/** A person's material from the tree in memory: its proof, and its records in leaf order. */
function referencePerson(b: Batch, key: Uint8Array) {
  const proof = b.tree.personProof(key, b.entry.batchId);
  const records = b.tree.indicesOf(key).map((leaf) => {
    const line = b.tree.inputIndex!(leaf);
    return { record: recordToJson(opened(b.records[line]!)), salt: b.salts[line]! };
  });
  return { chainId: b.entry.chainId, contract: b.entry.contract, proof, records };
}

describe("published store lookups (fast path, answers as from the tree in memory)", function () {
  this.timeout(120_000);
  let work: string;
  let ledger: LedgerStore;
  const batches: Batch[] = [];
  let store: PublishedStore;

  before(async function () {
    work = await mkdtemp(path.join(os.tmpdir(), "shafaf-lookup-fast-path-"));
    ledger = await openLedgerStore(work);
    await ledger.bindChain({ chainId: 31337, contract: CONTRACT });
    for (const [id, count] of [
      [1, 700],
      [2, 300],
      [3, 1100],
    ] as const)
      batches.push(await v2Batch(ledger, id, count));
    await ledger.publish();
    await ledger.close();
    store = await openPublishedStore(work);
  });
  after(async function () {
    await store?.close();
    await rm(work, { recursive: true, force: true });
  });

  it("gives receipts and person proofs byte for byte as built from the batch's tree in memory", async function () {
    for (const b of batches) {
      for (let i = 0; i < b.codes.length; i += 23) {
        const got = await store.getReceiptByCode(b.codes[i]!);
        expect(JSON.stringify(got), `batch ${b.entry.batchId} line ${i}`).to.equal(
          JSON.stringify(referenceReceipt(b, i)),
        );
        const key = b.keys.subarray(32 * i, 32 * i + 32);
        const person = await store.getPersonBatch(b.entry.batchId, key);
        expect(JSON.stringify(person), `person of line ${i}`).to.equal(
          JSON.stringify(referencePerson(b, key)),
        );
      }
      // a person with two records in the batch, and one with none
      const twice = b.keys.subarray(32 * 9, 32 * 10);
      expect(referencePerson(b, twice).records).to.have.length(2);
      expect(JSON.stringify(await store.getPersonBatch(b.entry.batchId, twice))).to.equal(
        JSON.stringify(referencePerson(b, twice)),
      );
      const nobody = new Uint8Array(32).fill(0x42);
      expect(JSON.stringify(await store.getPersonBatch(b.entry.batchId, nobody))).to.equal(
        JSON.stringify(referencePerson(b, nobody)),
      );
    }
  });

  it("finds every code through the locator tables, records.idx and the stored tiles: no fallback", async function () {
    const fresh = await openPublishedStore(work);
    try {
      let n = 0;
      for (const b of batches)
        for (let i = 0; i < b.codes.length; i += 7) {
          const receipt = await fresh.getReceiptByCode(b.codes[i]!);
          expect(receipt?.code).to.equal(b.codes[i]);
          n++;
        }
      for (const b of batches) await fresh.getPersonBatch(b.entry.batchId, b.keys.subarray(0, 32));
      expect(fresh.lookupStats()).to.deep.equal({
        batchesOpened: batches.length,
        lineScans: 0,
        tileRebuilds: 0,
        receipts: n,
        personProofs: batches.length,
        codesLocated: n,
        codesNotFound: 0,
        missRefreshes: 0,
      });
      // The counters count: a code no table has, once the list may be looked at again, is a
      // miss that made the store look at the list.
      await new Promise((r) => setTimeout(r, 150));
      expect(await fresh.getReceiptByCode("0000-0000-0000-0000-0000-0000-000")).to.equal(undefined);
      const after = fresh.lookupStats();
      expect(after.codesNotFound).to.equal(1);
      expect(after.missRefreshes).to.equal(1);
    } finally {
      await fresh.close();
    }
  });

  it("counts a batch whose tiles had to be written from its artifact as it was opened", async function () {
    const b = batches[1]!;
    const dir = path.join(work, "batches", b.entry.jobId);
    await rm(path.join(dir, "tiles"), { recursive: true, force: true });
    const fresh = await openPublishedStore(work);
    try {
      const receipt = await fresh.getReceiptByCode(b.codes[5]!);
      expect(JSON.stringify(receipt)).to.equal(JSON.stringify(referenceReceipt(b, 5)));
      expect(fresh.lookupStats()).to.include({ batchesOpened: 1, tileRebuilds: 1, lineScans: 0 });
    } finally {
      await fresh.close();
    }
  });
});
