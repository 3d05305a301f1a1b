import { expect } from "chai";
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from "node:fs/promises";
import { createHash } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { keccak256, toUtf8Bytes } from "ethers";
import {
  openLedgerStore,
  LedgerStoreError,
  type BatchEntry,
  type JobRecord,
  type LedgerStore,
  type ReceiptWrite,
} from "../../src/store/ledger-store.ts";
import {
  createBatchArtifactWriter,
  readBatchArtifact,
  removeStaleArtifactTemps,
  BatchArtifactError,
  type ArtifactRecordLine,
} from "../../src/store/batch-artifact.ts";
import { decodeRecordOffsets } from "../../src/store/record-offsets.ts";

const JOB = "a".repeat(64);
const MANIFEST = toUtf8Bytes('{"format":"shafaf-manifest/1","recordCount":3}');
const MANIFEST_HASH = keccak256(MANIFEST);

function line(index: number): ArtifactRecordLine {
  return {
    index,
    code: `CODE${index}`,
    salt: "0x" + String(index).padStart(64, "0"),
    subject: "0x" + "ab".repeat(32),
    source: { file: "in.csv", line: index + 2 },
    record: { kind: "premium", recordId: `R-${index}`, period: "1403-07", total: "1000" },
  };
}

function job(state: JobRecord["state"], extra: Partial<JobRecord> = {}): JobRecord {
  return {
    format: "shafaf-job/1",
    jobId: JOB,
    state,
    kind: "premium",
    period: "1403-07",
    root: "0x" + "11".repeat(32),
    manifestHash: MANIFEST_HASH,
    idempotencyKey: "0x" + "22".repeat(32),
    recordCount: 3,
    total: "3000",
    supersedes: null,
    reason: null,
    createdAt: "2026-01-01T00:00:00.000Z",
    ...extra,
  };
}

function batchEntry(batchId: number, extra: Partial<BatchEntry> = {}): BatchEntry {
  return {
    format: "shafaf-batch-entry/1",
    batchId,
    jobId: JOB,
    chainId: 31337,
    contract: "0x" + "cc".repeat(20),
    kind: "premium",
    period: "1403-07",
    root: "0x" + "11".repeat(32),
    manifestHash: MANIFEST_HASH,
    idempotencyKey: "0x" + "22".repeat(32),
    recordCount: 3,
    total: "3000",
    supersedes: null,
    supersededBy: null,
    reason: null,
    txHash: "0x" + "33".repeat(32),
    blockNumber: 5,
    blockHash: "0x" + "44".repeat(32),
    anchoredAt: 1_700_000_000,
    ...extra,
  };
}

function receipts(batchId: number, subjects: string[]): ReceiptWrite[] {
  return subjects.map((subject, index) => ({
    index,
    code: `B${batchId}-CODE${index}`,
    subject,
    recordId: `R-${index}`,
    receipt: { format: "shafaf-receipt/1", batchId, index, recordId: `R-${index}` },
  }));
}

async function writeArtifact(batchesDir: string, jobId = JOB, count = 3): Promise<string> {
  const w = await createBatchArtifactWriter(batchesDir, jobId);
  for (let i = 0; i < count; i++) await w.append(line(i));
  const { dir } = await w.commit({
    manifestBytes: MANIFEST,
    tree: new Uint8Array([1, 2, 3, 4]),
    descriptor: {
      kind: "premium",
      period: "1403-07",
      recordCount: count,
      total: "3000",
      root: "0x" + "11".repeat(32),
      manifestHash: MANIFEST_HASH,
      idempotencyKey: "0x" + "22".repeat(32),
      supersedes: null,
      reason: null,
      createdAt: "2026-01-01T00:00:00.000Z",
    },
  });
  return dir;
}

describe("LedgerStore", function () {
  let dataDir: string;
  let store: LedgerStore;

  beforeEach(async function () {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "shafaf-store-"));
    store = await openLedgerStore(dataDir);
  });

  afterEach(async function () {
    await store.close().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  });

  describe("openLedgerStore", function () {
    it("refuses a second opener of the same data directory with a clear error", async function () {
      let error: unknown;
      try {
        await openLedgerStore(dataDir);
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(LedgerStoreError);
      expect((error as Error).message).to.match(/in use by another shafaf process/);
    });

    it("keeps what was written across a close and reopen", async function () {
      await store.putJob(job("prepared"));
      await store.close();
      store = await openLedgerStore(dataDir);
      expect((await store.getJob(JOB))?.state).to.equal("prepared");
    });
  });

  describe("receipts stored whole (data directories from before receipts on demand)", function () {
    it("finds a receipt by code, by subject (batch then input order) and by batch", async function () {
      const alice = "0x" + "aa".repeat(32);
      const bob = "0x" + "bb".repeat(32);
      await store.writeReceipts(batchEntry(2), receipts(2, [alice, bob, alice]));
      await store.writeReceipts(batchEntry(1), receipts(1, [bob, alice]));

      expect(await store.getReceiptByCode("B2-CODE1")).to.deep.equal({
        format: "shafaf-receipt/1",
        batchId: 2,
        index: 1,
        recordId: "R-1",
      });
      expect(await store.getReceiptByCode("nope")).to.equal(undefined);
      expect(await store.getReceiptByCode("")).to.equal(undefined);

      const ofAlice = await store.listReceiptsBySubject(alice.toUpperCase().replace("0X", "0x"));
      expect(ofAlice.map((r) => [r.batchId, r.index])).to.deep.equal([
        [1, 1],
        [2, 0],
        [2, 2],
      ]);
      expect(await store.listReceiptsBySubject("0x" + "cd".repeat(32))).to.deep.equal([]);

      const ofBatch2 = await store.listReceiptsOfBatch(2);
      expect(ofBatch2.map((r) => r.index)).to.deep.equal([0, 1, 2]);
      const page = await store.listReceiptsOfBatch(2, { after: 0, limit: 1 });
      expect(page.map((r) => r.index)).to.deep.equal([1]);
      const codes: string[] = [];
      for await (const c of store.iterateReceiptCodesOfBatch(2)) codes.push(`${c.index}:${c.code}`);
      expect(codes).to.deep.equal(["0:B2-CODE0", "1:B2-CODE1", "2:B2-CODE2"]);
    });

    it("writes receipts idempotently (a resumed job rewrites the same keys)", async function () {
      const s = "0x" + "aa".repeat(32);
      await store.writeReceipts(batchEntry(1), receipts(1, [s, s]));
      await store.writeReceipts(batchEntry(1), receipts(1, [s, s]));
      expect(await store.listReceiptsOfBatch(1)).to.have.length(2);
      expect(await store.listReceiptsBySubject(s)).to.have.length(2);
    });
  });

  describe("record ids", function () {
    it("binds record ids per kind and period", async function () {
      await store.writeReceipts(batchEntry(7), receipts(7, ["0x" + "aa".repeat(32)]));
      expect(await store.hasRecordId("premium", "1403-07", "R-0")).to.equal(true);
      expect(await store.hasRecordId("premium", "1403-08", "R-0")).to.equal(false);
      expect(await store.hasRecordId("pension", "1403-07", "R-0")).to.equal(false);
      expect(await store.getRecordIds("premium", "1403-07", ["R-9", "R-0"])).to.deep.equal([
        undefined,
        { batchId: 7, code: "B7-CODE0" },
      ]);
    });

    it("rejects record ids that would break the key space", async function () {
      let error: unknown;
      try {
        await store.hasRecordId("premium", "1403-07", "a!b");
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(LedgerStoreError);
    });
  });

  describe("jobs and batches", function () {
    it("completes a job atomically and marks the batch it supersedes", async function () {
      await store.completeJob(job("complete", { batchId: 1 }), batchEntry(1));
      await store.completeJob(
        job("complete", { jobId: "b".repeat(64), batchId: 2 }),
        batchEntry(2, {
          jobId: "b".repeat(64),
          supersedes: 1,
          manifestHash: "0x" + "55".repeat(32),
        }),
      );
      expect((await store.getBatch(1))?.supersededBy).to.equal(2);
      expect((await store.getBatch(2))?.supersededBy).to.equal(null);
      expect((await store.listBatches()).map((b) => b.batchId)).to.deep.equal([1, 2]);
      expect((await store.listJobs()).map((j) => j.jobId)).to.deep.equal([JOB, "b".repeat(64)]);
      expect(await store.getBatch(0)).to.equal(undefined);
      expect(await store.getBatch(3)).to.equal(undefined);
    });

    it("orders batches numerically past 9 (fixed-width keys)", async function () {
      for (const id of [10, 9, 100, 2]) await store.completeJob(job("complete"), batchEntry(id));
      expect((await store.listBatches()).map((b) => b.batchId)).to.deep.equal([2, 9, 10, 100]);
    });

    it("binds the data directory to one chain and contract", async function () {
      await store.bindChain({ chainId: 31337, contract: "0x" + "CC".repeat(20) });
      await store.bindChain({ chainId: 31337, contract: "0x" + "cc".repeat(20) });
      let error: unknown;
      try {
        await store.bindChain({ chainId: 31337, contract: "0x" + "dd".repeat(20) });
      } catch (e) {
        error = e;
      }
      expect((error as Error).message).to.match(
        /belongs to contract 0xcccc.* use another --data-dir/,
      );
    });

    it("binds the genesis too: adopts it on an older binding, then refuses another", async function () {
      const contract = "0x" + "cc".repeat(20);
      await store.bindChain({ chainId: 31337, contract });
      await store.bindChain({ chainId: 31337, contract, genesisHash: "0x" + "AA".repeat(32) });
      expect((await store.getChainBinding())?.genesisHash).to.equal("0x" + "aa".repeat(32));
      let error: unknown;
      try {
        await store.bindChain({ chainId: 31337, contract, genesisHash: "0x" + "bb".repeat(32) });
      } catch (e) {
        error = e;
      }
      expect((error as Error).message).to.match(/genesis 0xaaaa.*genesis 0xbbbb.*--data-dir/);
    });

    it("never lets another job's batch take a batch id it holds", async function () {
      await store.completeJob(job("complete"), batchEntry(1));
      await store.completeJob(job("complete"), batchEntry(1)); // the same job again: idempotent
      let error: unknown;
      try {
        await store.completeJob(
          job("complete", { jobId: "b".repeat(64) }),
          batchEntry(1, { jobId: "b".repeat(64), root: "0x" + "ee".repeat(32) }),
        );
      } catch (e) {
        error = e;
      }
      expect((error as Error).message).to.match(/batch 1 of this data directory is job aaaa/);
      expect((await store.getBatch(1))?.jobId).to.equal(JOB);
    });
  });

  describe("getBatchArtifact and getManifestByHash", function () {
    it("returns the committed artifact of an anchored batch, and its manifest by hash", async function () {
      await writeArtifact(store.batchesDir);
      await store.completeJob(job("complete", { batchId: 1 }), batchEntry(1));
      const artifact = await store.getBatchArtifact(1);
      expect(artifact?.descriptor.recordCount).to.equal(3);
      expect(Array.from(artifact!.tree)).to.deep.equal([1, 2, 3, 4]);
      const lines: ArtifactRecordLine[] = [];
      for await (const l of artifact!.records()) lines.push(l);
      expect(lines).to.deep.equal([line(0), line(1), line(2)]);

      const m = await store.getManifestByHash(MANIFEST_HASH);
      expect(m?.batchId).to.equal(1);
      expect(m?.manifest).to.deep.equal({ format: "shafaf-manifest/1", recordCount: 3 });
      expect(await store.getManifestByHash("0x" + "00".repeat(32))).to.equal(undefined);
      expect(await store.getManifestByHash("not a hash")).to.equal(undefined);
      expect(await store.getBatchArtifact(2)).to.equal(undefined);
    });
  });
});

describe("batch artifact", function () {
  let dir: string;
  beforeEach(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), "shafaf-artifact-"));
  });
  afterEach(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it("is invisible until committed, and leaves only the final directory", async function () {
    const w = await createBatchArtifactWriter(dir, JOB);
    await w.append(line(0));
    expect(await readBatchArtifact(path.join(dir, JOB))).to.equal(undefined);
    await w.abort();
    expect(await readdir(dir)).to.deep.equal([]);
    await writeArtifact(dir);
    expect(await readdir(dir)).to.deep.equal([JOB]);
    expect((await readdir(path.join(dir, JOB))).sort()).to.deep.equal([
      "artifact.json",
      "manifest.json",
      "records.idx",
      "records.jsonl",
      "tree.bin",
    ]);
  });

  it("writes each line as its JSON and records.idx as each line's byte offset, across flushes", async function () {
    // Persian text (2 bytes per character in UTF-8), an emoji (4 bytes, 2 code units), and lines
    // of every size up to one longer than a flush, so lines straddle every buffer boundary.
    const lines = Array.from({ length: 2500 }, (_, i) => {
      const l = line(i);
      const text = i === 1234 ? "۱".repeat(1_300_000) : "تهران 😀 ".repeat(i % 97);
      // Record ids read from their bytes (plain, Persian) and parsed (escaped); a record without
      // its kind first.
      const recordId = [`R-${i}`, `R-${i}-تهران`, `R-${i} "q" \\`][i % 3]!;
      const { kind, ...rest } = l.record;
      const record = i % 11 === 0 ? { ...rest, recordId } : { kind: kind!, ...rest, recordId };
      return { ...l, record: { ...record, note: text, quote: 'a "b" \\ c\n' } };
    });
    const w = await createBatchArtifactWriter(dir, JOB);
    for (const l of lines) await w.append(l);
    const { dir: final } = await w.commit({
      manifestBytes: MANIFEST,
      tree: new Uint8Array([1]),
      descriptor: {
        kind: "premium",
        period: "1403-07",
        recordCount: lines.length,
        total: "0",
        root: "0x" + "11".repeat(32),
        manifestHash: MANIFEST_HASH,
        idempotencyKey: "0x" + "22".repeat(32),
        supersedes: null,
        reason: null,
        createdAt: "2026-01-01T00:00:00.000Z",
      },
    });
    const texts = lines.map((l) => JSON.stringify(l) + "\n");
    const file = await readFile(path.join(final, "records.jsonl"));
    expect(file.equals(Buffer.from(texts.join(""), "utf8"))).to.equal(true);
    const offsets = decodeRecordOffsets(
      new Uint8Array(await readFile(path.join(final, "records.idx"))),
      lines.length,
      file.length,
    );
    let at = 0;
    texts.forEach((t, i) => {
      expect(offsets[i], `line ${i}`).to.equal(at);
      at += Buffer.byteLength(t, "utf8");
    });
    const artifact = await readBatchArtifact(final);
    let n = 0;
    for await (const read of artifact!.records()) expect(read).to.deep.equal(lines[n++]);
    expect(n).to.equal(lines.length);
    // recordKeys (the locator pass): the same codes, subjects and record ids, in order.
    const keys: [string, string, string][] = [];
    for (const chunk of artifact!.recordKeys()) {
      expect(chunk.first).to.equal(keys.length);
      chunk.codes.forEach((c, k) => keys.push([c, chunk.subjects[k]!, chunk.recordIds[k]!]));
    }
    expect(keys).to.deep.equal(lines.map((l) => [l.code, l.subject, l.record["recordId"]]));
  });

  it("rejects lines out of order and a record count that does not match", async function () {
    const w = await createBatchArtifactWriter(dir, JOB);
    let error: unknown;
    try {
      await w.append(line(1));
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(BatchArtifactError);
    await w.abort();
  });

  it("detects a damaged manifest, tree or records file", async function () {
    for (const [file, damage] of [
      ["manifest.json", "{}"],
      ["tree.bin", "x"],
    ] as const) {
      const d = await writeArtifact(dir, file === "tree.bin" ? "c".repeat(64) : "d".repeat(64));
      await writeFile(path.join(d, file), damage);
      let error: unknown;
      try {
        await readBatchArtifact(d);
      } catch (e) {
        error = e;
      }
      expect((error as Error).message, file).to.match(/damaged|does not hash/);
    }
    const d = await writeArtifact(dir, "e".repeat(64));
    const text = await readFile(path.join(d, "records.jsonl"), "utf8");
    await writeFile(path.join(d, "records.jsonl"), text.replace("R-1", "R-X"));
    const artifact = await readBatchArtifact(d);
    let error: unknown;
    try {
      for await (const _ of artifact!.records()) void _;
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).to.match(/damaged/);
    error = undefined;
    try {
      for (const _ of artifact!.recordKeys()) void _;
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(BatchArtifactError);
    expect((error as Error).message).to.match(/damaged/);
  });

  it("reads the locator keys of a line not as the writer writes it by parsing it, and refuses a wrong index or a missing key", async function () {
    const d = await writeArtifact(dir, "e".repeat(64));
    const file = path.join(d, "records.jsonl");
    const original = await readFile(file, "utf8");
    /** records.jsonl replaced by `text`, with artifact.json's sha256 and size made to match. */
    const rewrite = async (text: string): Promise<void> => {
      const bytes = Buffer.from(text, "utf8");
      await writeFile(file, bytes);
      const desc = JSON.parse(await readFile(path.join(d, "artifact.json"), "utf8")) as {
        files: Record<string, { sha256: string; bytes: number }>;
      };
      desc.files["records.jsonl"] = {
        sha256: createHash("sha256").update(bytes).digest("hex"),
        bytes: bytes.length,
      };
      await writeFile(path.join(d, "artifact.json"), JSON.stringify(desc));
    };
    const keysOf = async (): Promise<string[][]> => {
      const out: string[][] = [];
      for (const c of (await readBatchArtifact(d))!.recordKeys())
        c.codes.forEach((code, k) => out.push([code, c.subjects[k]!, c.recordIds[k]!]));
      return out;
    };
    const errorOf = async (): Promise<Error | undefined> => {
      try {
        await keysOf();
      } catch (e) {
        return e as Error;
      }
      return undefined;
    };
    // Members in another order, spaces, CRLF line ends and no final newline: parsed.
    const lines = original
      .trimEnd()
      .split("\n")
      .map((t) => JSON.parse(t) as ArtifactRecordLine);
    await rewrite(
      lines
        .map((l) =>
          JSON.stringify(
            { record: l.record, subject: l.subject, code: l.code, index: l.index },
            null,
            1,
          ).replace(/\n/g, " "),
        )
        .join("\r\n"),
    );
    expect(await keysOf()).to.deep.equal(
      lines.map((l) => [l.code, l.subject, l.record["recordId"]]),
    );
    await rewrite(original.replace('"index":1,', '"index":7,'));
    expect((await errorOf())?.message).to.match(/records\.jsonl:2: index 7, expected 1/);
    await rewrite(original.replace('"recordId":"R-2"', '"recordId":2'));
    expect(await errorOf()).to.be.instanceOf(BatchArtifactError);
    expect((await errorOf())?.message).to.match(/records\.jsonl:3: .*code, subject or record id/);
  });

  it("refuses an artifact of another format version", async function () {
    const d = await writeArtifact(dir);
    const desc = JSON.parse(await readFile(path.join(d, "artifact.json"), "utf8")) as Record<
      string,
      unknown
    >;
    await writeFile(
      path.join(d, "artifact.json"),
      JSON.stringify({ ...desc, format: "shafaf-batch/9" }),
    );
    let error: unknown;
    try {
      await readBatchArtifact(d);
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).to.match(/shafaf-batch\/9.*reads shafaf-batch\/1/);
  });

  it("removes stale temporary directories but never a committed artifact", async function () {
    await writeArtifact(dir);
    await mkdir(path.join(dir, `${JOB}.tmp-123-abcd`));
    await mkdir(path.join(dir, `${"f".repeat(64)}.tmp-1-ff`));
    expect(await removeStaleArtifactTemps(dir, JOB)).to.equal(1);
    expect((await readdir(dir)).sort()).to.deep.equal([JOB, `${"f".repeat(64)}.tmp-1-ff`]);
    expect(await removeStaleArtifactTemps(dir)).to.equal(1);
    expect(await readdir(dir)).to.deep.equal([JOB]);
  });
});
