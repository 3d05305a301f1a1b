/**
 * Receipts on demand: a real artifact (real records, salts, leaf hashes and tree) in a temp
 * data directory, locators in a real LevelDB, receipts assembled and checked by core's verifier.
 */
import { expect } from "chai";
import { cp, mkdtemp, readFile, rm, unlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { newReceiptCode } from "../../src/core/receipt-code.ts";
import { verifyReceipt } from "../../src/core/verify-receipt.ts";
import type { BatchArtifactDescriptor } from "../../src/store/batch-artifact.ts";
import {
  openLedgerStore,
  type BatchEntry,
  type LedgerStore,
  type StoredReceipt,
} from "../../src/store/ledger-store.ts";
import { ReceiptAssemblyError } from "../../src/store/receipt-assembler.ts";
import {
  decodeRecordOffsets,
  encodeRecordOffsets,
  scanRecordOffsets,
} from "../../src/store/record-offsets.ts";
import { CONTRACT, anchor, makeBatch, type Made } from "./on-demand-fixture.ts";

const trust = (made: Made) => ({ root: made.root, chainId: 31337, contract: CONTRACT });

async function thrown(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  return undefined;
}

describe("receipts on demand (LedgerStore)", function () {
  let dataDir: string;
  let store: LedgerStore;

  beforeEach(async function () {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "shafaf-ondemand-"));
    store = await openLedgerStore(dataDir);
  });

  afterEach(async function () {
    await store.close().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  });

  it("assembles every receipt of a batch from its artifact, and each verifies against the root", async function () {
    const made = await makeBatch(store, 1, 37);
    await anchor(store, made);
    for (let i = 0; i < made.codes.length; i++) {
      const receipt = await store.getReceiptByCode(made.codes[i]!);
      expect(receipt, `receipt ${i}`).to.not.equal(undefined);
      expect(receipt!.code).to.equal(made.codes[i]);
      expect(receipt!.batchId).to.equal(1);
      expect((receipt!.record as { recordId: string }).recordId).to.equal(`B1-R${i}`);
      expect((await verifyReceipt(receipt, trust(made))).status).to.equal("verified");
    }
    expect(await store.getReceiptByCode(newReceiptCode(new Uint8Array(17)))).to.equal(undefined);
  });

  it("stores nothing per receipt but a locator: no receipt!, no breceipt! keys", async function () {
    const made = await makeBatch(store, 1, 5);
    await anchor(store, made);
    await store.close();
    const { Level } = await import("level");
    const db = new Level<string, unknown>(path.join(dataDir, "ledger"), { valueEncoding: "json" });
    const prefixes = new Map<string, number>();
    for await (const key of db.keys()) {
      const p = key.slice(0, key.indexOf("!"));
      prefixes.set(p, (prefixes.get(p) ?? 0) + 1);
    }
    await db.close();
    expect(Object.fromEntries(prefixes)).to.deep.equal({
      batch: 1,
      job: 1,
      loc: 5,
      manifest: 1,
      record: 5,
      subject: 5,
    });
    store = await openLedgerStore(dataDir);
    expect(await store.getReceiptByCode(made.codes[4]!)).to.not.equal(undefined);
  });

  it("finds a located receipt only once its job is complete", async function () {
    const made = await makeBatch(store, 1, 3);
    await store.writeReceiptLocators(made.entry, [
      { index: 0, code: made.codes[0]!, subject: made.subjects[0]!, recordId: "B1-R0" },
    ]);
    expect(await store.getReceiptByCode(made.codes[0]!)).to.equal(undefined);
    expect(await store.listReceiptsBySubject(made.subjects[0]!)).to.deep.equal([]);
    await anchor(store, made);
    expect(await store.getReceiptByCode(made.codes[0]!)).to.not.equal(undefined);
  });

  it("lists a batch's receipts in input order with paging, and its codes", async function () {
    const made = await makeBatch(store, 3, 10);
    await anchor(store, made);
    const all = await store.listReceiptsOfBatch(3);
    expect(all.map((r) => r.code)).to.deep.equal(made.codes);
    const page = await store.listReceiptsOfBatch(3, { after: 6, limit: 2 });
    expect(page.map((r) => r.code)).to.deep.equal(made.codes.slice(7, 9));
    expect(await store.listReceiptsOfBatch(3, { after: 9, limit: 5 })).to.deep.equal([]);
    const codes: string[] = [];
    for await (const c of store.iterateReceiptCodesOfBatch(3)) codes.push(c.code);
    expect(codes).to.deep.equal(made.codes);
  });

  it("reads both layouts: a stored receipt (old batch) and located ones (new batch) side by side", async function () {
    const made = await makeBatch(store, 2, 6);
    await anchor(store, made);
    const subject = made.subjects[0]!;
    const old: StoredReceipt = { format: "shafaf-receipt/1", batchId: 1, code: "OLD-1" };
    await store.writeReceipts(
      { ...made.entry, batchId: 1, receipts: undefined } as unknown as BatchEntry,
      [{ index: 0, code: "OLD-1", subject, recordId: "OLD-R0", receipt: old }],
    );
    expect(await store.getReceiptByCode("OLD-1")).to.deep.equal(old);
    const mine = await store.listReceiptsBySubject(subject);
    expect(mine.map((r) => `${String(r.batchId)}:${String(r.code)}`)).to.deep.equal([
      "1:OLD-1",
      `2:${made.codes[0]}`,
      `2:${made.codes[3]}`,
    ]);
    expect(await store.listReceiptsOfBatch(1)).to.deep.equal([old]);
  });

  it("says the store is damaged when an index names a code that has no receipt and no locator", async function () {
    const made = await makeBatch(store, 1, 3);
    await anchor(store, made);
    await store.close();
    const { Level } = await import("level");
    const db = new Level<string, unknown>(path.join(dataDir, "ledger"), { valueEncoding: "json" });
    await db.del(`loc!${made.codes[0]!}`);
    await db.close();
    store = await openLedgerStore(dataDir);
    const error = await thrown(store.listReceiptsBySubject(made.subjects[0]!));
    expect(String(error)).to.match(/the store is damaged/);
  });

  it("reads an artifact written before records.idx (offsets found by one scan)", async function () {
    const made = await makeBatch(store, 1, 12);
    await anchor(store, made);
    const dir = path.join(store.batchesDir, made.jobId);
    const descriptor = JSON.parse(
      await readFile(path.join(dir, "artifact.json"), "utf8"),
    ) as BatchArtifactDescriptor;
    delete descriptor.files["records.idx"];
    await writeFile(path.join(dir, "artifact.json"), JSON.stringify(descriptor));
    await unlink(path.join(dir, "records.idx"));
    const receipt = await store.getReceiptByCode(made.codes[11]!);
    expect((await verifyReceipt(receipt, trust(made))).status).to.equal("verified");
  });

  it("refuses to hand out a receipt from a damaged record (one amount changed)", async function () {
    const made = await makeBatch(store, 1, 4);
    await anchor(store, made);
    const file = path.join(store.batchesDir, made.jobId, "records.jsonl");
    const text = await readFile(file, "utf8");
    // Same length, so the offsets still point at line starts: only the leaf check can catch it.
    await writeFile(file, text.replace('"total":"3002000"', '"total":"3002001"'));
    const error = await thrown(store.getReceiptByCode(made.codes[2]!));
    expect(error).to.be.instanceOf(ReceiptAssemblyError);
    expect((error as Error).message).to.match(/does not verify against the anchored root/);
    expect((error as ReceiptAssemblyError).code).to.equal("store.receipt.artifact");
    expect((error as Error).message).to.not.match(/3002/);
    expect(await store.getReceiptByCode(made.codes[1]!)).to.not.equal(undefined);
  });

  it("refuses an artifact whose root is not the anchored batch's", async function () {
    const made = await makeBatch(store, 1, 4);
    await anchor(store, made);
    // Another batch's artifact (another root) in place of the anchored one's.
    const other = await makeBatch(store, 2, 4);
    const dir = path.join(store.batchesDir, made.jobId);
    await rm(dir, { recursive: true });
    await cp(path.join(store.batchesDir, other.jobId), dir, { recursive: true });
    await store.close();
    store = await openLedgerStore(dataDir);
    const error = await thrown(store.getReceiptByCode(made.codes[0]!));
    expect(error).to.be.instanceOf(ReceiptAssemblyError);
    expect((error as Error).message).to.match(/does not belong to batch 1/);
  });

  it("refuses a locator that points at another record's line", async function () {
    const made = await makeBatch(store, 1, 4);
    await anchor(store, made);
    await store.writeReceiptLocators(made.entry, [
      { index: 3, code: made.codes[0]!, subject: made.subjects[0]!, recordId: "B1-R0" },
    ]);
    const error = await thrown(store.getReceiptByCode(made.codes[0]!));
    expect(error).to.be.instanceOf(ReceiptAssemblyError);
    expect((error as Error).message).to.match(/not the one its index points at/);
  });

  it("keeps several batches' trees in a cache bounded in bytes (least recently used out)", async function () {
    await store.close();
    store = await openLedgerStore(dataDir, { receiptCacheBytes: 1 });
    const a = await makeBatch(store, 1, 8);
    const b = await makeBatch(store, 2, 8);
    await anchor(store, a);
    await anchor(store, b);
    for (let round = 0; round < 3; round++) {
      for (const m of [a, b]) {
        const r = await store.getReceiptByCode(m.codes[round]!);
        expect((await verifyReceipt(r, trust(m))).status).to.equal("verified");
      }
    }
  });
});

describe("records.idx (shafaf-record-offsets/1)", function () {
  const offsets = Float64Array.from([0, 10, 25, 40]);

  it("reads the committed vectors: the valid file, and refuses each corrupted one", async function () {
    const v = JSON.parse(
      await readFile(path.join(import.meta.dirname, "../vectors/record-offsets-1.json"), "utf8"),
    ) as {
      recordsJsonlHex: string;
      recordCount: number;
      offsets: number[];
      recordsIdxHex: string;
      corrupted: { name: string; hex: string; error: string }[];
    };
    const bytes = (h: string) => new Uint8Array(Buffer.from(h.slice(2), "hex"));
    const jsonl = bytes(v.recordsJsonlHex);
    const decoded = decodeRecordOffsets(bytes(v.recordsIdxHex), v.recordCount, jsonl.length);
    expect([...decoded]).to.deep.equal(v.offsets);
    for (let i = 0; i < v.recordCount; i++) {
      const line = Buffer.from(jsonl.subarray(decoded[i], decoded[i + 1])).toString("utf8");
      expect((JSON.parse(line) as { index: number }).index).to.equal(i);
    }
    expect(v.corrupted).to.have.length.greaterThan(5);
    for (const c of v.corrupted) {
      expect(() => decodeRecordOffsets(bytes(c.hex), v.recordCount, jsonl.length), c.name).to.throw(
        RangeError,
        c.error,
      );
    }
    const dir = await mkdtemp(path.join(os.tmpdir(), "shafaf-idx-"));
    try {
      await writeFile(path.join(dir, "records.jsonl"), jsonl);
      const scanned = await scanRecordOffsets(path.join(dir, "records.jsonl"), v.recordCount);
      expect([...scanned]).to.deep.equal(v.offsets);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("round-trips, and matches a scan of the file it indexes", async function () {
    const bytes = encodeRecordOffsets(offsets);
    expect(Buffer.from(bytes.subarray(0, 8)).toString("latin1")).to.equal("SHAFAFRO");
    expect(bytes.length).to.equal(16 + 8 * 4);
    expect([...decodeRecordOffsets(bytes, 3, 40)]).to.deep.equal([0, 10, 25, 40]);
    const dir = await mkdtemp(path.join(os.tmpdir(), "shafaf-idx-"));
    try {
      const file = path.join(dir, "records.jsonl");
      await writeFile(file, "a".repeat(9) + "\n" + "b".repeat(14) + "\n" + "c".repeat(14) + "\n");
      expect([...(await scanRecordOffsets(file, 3))]).to.deep.equal([...offsets]);
      expect(String(await thrown(scanRecordOffsets(file, 2)))).to.match(/more than 2 lines/);
      expect(String(await thrown(scanRecordOffsets(file, 4)))).to.match(/has 3 lines/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("rejects a corrupted file with the failed check named", function () {
    const good = encodeRecordOffsets(offsets);
    const corrupt = (edit: (b: Uint8Array) => void): Uint8Array => {
      const b = new Uint8Array(good);
      edit(b);
      return b;
    };
    const cases: [Uint8Array, number, number, RegExp][] = [
      [corrupt((b) => (b[0] = 0)), 3, 40, /bad magic/],
      [corrupt((b) => (b[8] = 2)), 3, 40, /unsupported version 2/],
      [good, 4, 40, /3 records, the artifact has 4/],
      [good.subarray(0, good.length - 1), 3, 40, /too short|length/],
      [corrupt((b) => (b[16 + 8 * 2] = 5)), 3, 40, /offset 2 does not increase/],
      [corrupt((b) => (b[16] = 1)), 3, 40, /offset 1 does not increase|first offset/],
      [good, 3, 41, /last offset is not the file length 41/],
    ];
    for (const [bytes, n, size, message] of cases) {
      expect(() => decodeRecordOffsets(bytes, n, size)).to.throw(RangeError, message);
    }
  });
});
