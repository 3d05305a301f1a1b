/**
 * The writer's own lookups (`openLedgerStore`: `shafaf receipts show`, `shafaf verify --data-dir`,
 * `shafaf start`) through the merged locator tables the readers use, on real data directories
 * (LevelDB in a temp dir, real batch artifacts, plain and sealed): the writer answers every code, subject and unknown code as
 * a reader of the same list does, and reads one table per range, not one per batch — from the
 * lookup right after the publish that merged, with a batch stored in LevelDB (v1 locators), a
 * superseding batch that repeats the codes of the one it corrects, batches published after the
 * last merge and one complete but not yet published.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { newReceiptCode } from "../../src/core/receipt-code.ts";
import { readBatchArtifact } from "../../src/store/batch-artifact.ts";
import { writeBatchLocators } from "../../src/store/batch-locators.ts";
import { openLedgerStore, type LedgerStore } from "../../src/store/ledger-store.ts";
import { readPublishedBatches } from "../../src/store/published-batches.ts";
import { openPublishedStore, type PublishedStore } from "../../src/store/published-store.ts";
import { dataKeyOf, type DataKey } from "../../src/store/private-store.ts";
import { sealDataDirectory } from "../../src/store/seal-data-dir.ts";
import { anchor, CONTRACT, makeBatch, type Made } from "./on-demand-fixture.ts";

const unknownCode = (): string => newReceiptCode((n) => new Uint8Array(randomBytes(n)));
const NOBODY = "0x" + "f".repeat(64);

for (const sealed of [false, true]) {
  describe(`the writer's lookups through merged locator tables (${sealed ? "sealed" : "plain"})`, function () {
    this.timeout(180_000);
    let dataDir: string;
    let key: DataKey | undefined;
    let writer: LedgerStore | undefined;
    const readers: PublishedStore[] = [];

    beforeEach(async function () {
      dataDir = await mkdtemp(path.join(os.tmpdir(), "shafaf-writer-locators-"));
      key = sealed ? dataKeyOf(new Uint8Array(randomBytes(32))) : undefined;
      writer = await openLedgerStore(dataDir, { dataKey: key });
      await writer.bindChain({ chainId: 31337, contract: CONTRACT });
    });
    afterEach(async function () {
      for (const r of readers.splice(0)) await r.close();
      await writer?.close();
      await rm(dataDir, { recursive: true, force: true });
    });

    const reader = async (): Promise<PublishedStore> => {
      const r = await openPublishedStore(dataDir, { dataKey: key, refreshMs: 0 });
      readers.push(r);
      return r;
    };
    /** The artifact sealed (as `shafaf data encrypt` does) when the directory is. */
    const seal = async (): Promise<void> => {
      if (key !== undefined) await sealDataDirectory(dataDir, key);
    };
    /** A batch anchored as the pipeline does: its tables, its record ids, complete. */
    async function add(
      batchId: number,
      count: number,
      options: Parameters<typeof makeBatch>[3] = {},
    ): Promise<Made> {
      const made = await makeBatch(writer!, batchId, count, options);
      const artifact = await readBatchArtifact(path.join(writer!.batchesDir, made.jobId));
      await writeBatchLocators(artifact!, key, (records) =>
        writer!.writeRecordIds(made.entry, records),
      );
      await seal();
      await writer!.completeJob(made.job, { ...made.entry, locators: "files" });
      return made;
    }
    /** The tables the writer looks in for one unknown code and one unknown subject. */
    async function readsOfUnknown(): Promise<{ ranges: number; batches: number }> {
      const before = writer!.lookupStats();
      expect(await writer!.getReceiptByCode(unknownCode())).to.equal(undefined);
      const mid = writer!.lookupStats();
      expect(await writer!.listReceiptsBySubject(NOBODY)).to.deep.equal([]);
      const after = writer!.lookupStats();
      // A code and a subject look in the same tables.
      expect(after.rangeTableReads - mid.rangeTableReads).to.equal(
        mid.rangeTableReads - before.rangeTableReads,
      );
      expect(after.batchTableReads - mid.batchTableReads).to.equal(
        mid.batchTableReads - before.batchTableReads,
      );
      return {
        ranges: mid.rangeTableReads - before.rangeTableReads,
        batches: mid.batchTableReads - before.batchTableReads,
      };
    }
    /**
     * Every code of `made` and unknown codes, and every subject's receipts when the reader's list
     * holds every batch the writer has (`subjects`): the writer's answer is the reader's.
     */
    async function sameAsReader(
      r: PublishedStore,
      made: readonly Made[],
      subjects = true,
    ): Promise<void> {
      for (const m of made)
        for (const c of m.codes) {
          const fromWriter = await writer!.getReceiptByCode(c);
          expect(fromWriter, c).to.not.equal(undefined);
          expect(JSON.stringify(fromWriter), c).to.equal(
            JSON.stringify(await r.getReceiptByCode(c)),
          );
        }
      for (let i = 0; i < 5; i++) {
        const c = unknownCode();
        expect(await writer!.getReceiptByCode(c)).to.equal(undefined);
        expect(await r.getReceiptByCode(c)).to.equal(undefined);
      }
      if (subjects)
        for (const s of new Set(made.flatMap((m) => m.subjects))) {
          const fromWriter = await writer!.listReceiptsBySubject(s);
          expect(fromWriter.length).to.be.greaterThan(0);
          expect(JSON.stringify(fromWriter)).to.equal(
            JSON.stringify(await r.listReceiptsBySubject(s)),
          );
        }
    }

    it("answers every code, subject and unknown code as a reader, one table per range, over 27 batches", async function () {
      const made: Made[] = [];
      made.push(await add(1, 4));
      // Batch 2: anchored by an older version (locators as LevelDB keys); publish gives it tables.
      const v1 = await makeBatch(writer!, 2, 5);
      await seal();
      await anchor(writer!, v1);
      made.push(v1);
      for (let b = 3; b <= 7; b++) made.push(await add(b, 3 + (b % 4)));
      expect(await readsOfUnknown()).to.deep.equal({ ranges: 0, batches: 6 }); // batch 2: LevelDB
      await writer!.publish();
      expect(await readsOfUnknown()).to.deep.equal({ ranges: 0, batches: 7 });
      made.push(await add(8, 4));
      expect(await readsOfUnknown()).to.deep.equal({ ranges: 0, batches: 8 });
      expect((await writer!.publish()).merged).to.deep.equal([[1, 8]]);
      // The lookup right after the publish that merged reads the new range.
      expect(await readsOfUnknown()).to.deep.equal({ ranges: 1, batches: 0 });
      await sameAsReader(await reader(), made);
      for (let b = 9; b <= 26; b++) {
        // Batch 12 corrects batch 4 and repeats its codes: the newest batch answers them.
        made.push(
          await add(b, 3, b === 12 ? { codes: made[3]!.codes.slice(0, 2), supersedes: 4 } : {}),
        );
        await writer!.publish();
      }
      const list = (await readPublishedBatches(dataDir))!;
      expect(list.merged!.map((m) => [m.first, m.last])).to.deep.equal([
        [1, 16],
        [17, 24],
      ]);
      expect(list.batches.find((b) => b.batchId === 4)!.supersededBy).to.equal(12);
      expect(await readsOfUnknown()).to.deep.equal({ ranges: 2, batches: 2 });
      const r = await reader();
      await sameAsReader(r, made);
      for (const c of made[3]!.codes.slice(0, 2))
        expect((await writer!.getReceiptByCode(c))!["batchId"]).to.equal(12);
      expect((await writer!.getReceiptByCode(made[3]!.codes[2]!))!["batchId"]).to.equal(4);
      // Batch 27: complete, not published yet — the writer finds it, the reader not yet.
      const late = await add(27, 3);
      expect(await readsOfUnknown()).to.deep.equal({ ranges: 2, batches: 3 });
      expect((await writer!.getReceiptByCode(late.codes[0]!))!["batchId"]).to.equal(27);
      expect(await r.getReceiptByCode(late.codes[0]!)).to.equal(undefined);
      await writer!.publish();
      await sameAsReader(r, [...made, late]);
      // A writer opened again reads the list's ranges from the start.
      await writer!.close();
      writer = await openLedgerStore(dataDir, { dataKey: key });
      await sameAsReader(r, [...made, late]);
      expect(await readsOfUnknown()).to.deep.equal({ ranges: 2, batches: 3 });
    });

    it("leaves out a range that a batch completed since falls in, until the next publish", async function () {
      const made: Made[] = [];
      for (const b of [1, 2, 3, 4, 5, 6, 7, 9]) made.push(await add(b, 4));
      expect((await writer!.publish()).merged).to.deep.equal([[1, 9]]);
      expect(await readsOfUnknown()).to.deep.equal({ ranges: 1, batches: 0 });
      const r = await reader();
      await sameAsReader(r, made);
      // Batch 8 completes late, inside 1–9: the range's table does not have it.
      const late = await add(8, 4);
      expect(await readsOfUnknown()).to.deep.equal({ ranges: 0, batches: 9 });
      for (const c of late.codes)
        expect((await writer!.getReceiptByCode(c))!["batchId"], c).to.equal(8);
      await sameAsReader(r, made, false); // subjects: batch 8 is not the reader's yet
      // The next publish merges 1–8 anew (batch 9 waits for 7 more).
      expect((await writer!.publish()).merged).to.deep.equal([[1, 8]]);
      expect(await readsOfUnknown()).to.deep.equal({ ranges: 1, batches: 1 });
      await sameAsReader(r, [...made, late]);
    });

    it("answers through the batches' own tables when a range's table is missing", async function () {
      const made: Made[] = [];
      for (let b = 1; b <= 8; b++) made.push(await add(b, 4));
      await writer!.publish();
      const r = await reader(); // holds the range's tables open
      await writer!.close();
      const list = (await readPublishedBatches(dataDir))!;
      await rm(path.join(dataDir, list.merged![0]!.receipts));
      writer = await openLedgerStore(dataDir, { dataKey: key });
      expect(await readsOfUnknown()).to.deep.equal({ ranges: 0, batches: 8 });
      await sameAsReader(r, made);
    });
  });
}
