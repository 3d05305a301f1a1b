/**
 * Merged locator tables end to end, on a real data directory (LevelDB in a temp dir, real batch
 * artifacts): the writer's `publish` merges and names the ranges in `published.json`, readers
 * answer every receipt and subject exactly as the writer does, a reader that read the list before
 * a merge keeps answering, and a `shafaf data publish` killed with SIGKILL in the middle of a
 * merge leaves a directory that serves correctly, whose next publish completes the merge.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { readBatchArtifact } from "../../src/store/batch-artifact.ts";
import { writeBatchLocators, type LocatorDamage } from "../../src/store/batch-locators.ts";
import { openLedgerStore, type LedgerStore } from "../../src/store/ledger-store.ts";
import { mergedLayout } from "../../src/store/locator-merge.ts";
import { LocatorTableError } from "../../src/store/locator-table.ts";
import { PUBLISHED_FILE, readPublishedBatches } from "../../src/store/published-batches.ts";
import { openPublishedStore, type PublishedStore } from "../../src/store/published-store.ts";
import { CONTRACT, makeBatch, type Made } from "./on-demand-fixture.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** A batch anchored as the pipeline does: tables, record ids, complete (not yet published). */
async function anchorWithTables(store: LedgerStore, made: Made): Promise<void> {
  const artifact = await readBatchArtifact(path.join(store.batchesDir, made.jobId));
  await writeBatchLocators(artifact!, undefined, (records) =>
    store.writeRecordIds(made.entry, records),
  );
  await store.completeJob(made.job, { ...made.entry, locators: "files" });
}

describe("merged locator tables in a data directory (publish → serve)", function () {
  this.timeout(120_000);
  let dataDir: string;
  let writer: LedgerStore | undefined;
  const readers: PublishedStore[] = [];
  const reader = async (refreshMs = 0) => {
    const r = await openPublishedStore(dataDir, { refreshMs });
    readers.push(r);
    return r;
  };

  beforeEach(async function () {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "shafaf-merge-store-"));
    writer = await openLedgerStore(dataDir);
    await writer.bindChain({ chainId: 31337, contract: CONTRACT });
  });
  afterEach(async function () {
    for (const r of readers.splice(0)) await r.close();
    await writer?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  /**
   * Every receipt of `made` from `r`, against the writer's; and every subject's receipts when the
   * reader's list holds every batch the writer has (`subjects`).
   */
  async function sameAsWriter(r: PublishedStore, made: Made[], subjects = true): Promise<void> {
    for (const m of made) {
      for (const c of m.codes) {
        const fromReader = await r.getReceiptByCode(c);
        expect(fromReader, c).to.not.equal(undefined);
        expect(JSON.stringify(fromReader)).to.equal(
          JSON.stringify(await writer!.getReceiptByCode(c)),
        );
      }
    }
    expect(await r.getReceiptByCode("0000-0000-0000-0000-0000-0000-000")).to.equal(undefined);
    if (subjects)
      for (const s of new Set(made.flatMap((m) => m.subjects)))
        expect(JSON.stringify(await r.listReceiptsBySubject(s))).to.equal(
          JSON.stringify(await writer!.listReceiptsBySubject(s)),
        );
  }

  it("publish merges every 8 batches; readers answer as the writer, before and after the merge", async function () {
    const made: Made[] = [];
    for (let b = 1; b <= 7; b++) {
      made.push(await makeBatch(writer!, b, 5 + b));
      await anchorWithTables(writer!, made.at(-1));
    }
    const first = await writer!.publish();
    expect(first.merged).to.deep.equal([]);
    expect(JSON.parse(await readFile(path.join(dataDir, PUBLISHED_FILE), "utf8")).format).to.equal(
      "shafaf-published/1",
    );
    const before = await reader(3_600_000); // reads the list once, and not again for an hour
    await sameAsWriter(before, made);
    made.push(await makeBatch(writer!, 8, 9));
    await anchorWithTables(writer!, made.at(-1));
    const second = await writer!.publish();
    expect(second.merged).to.deep.equal([[1, 8]]);
    const list = (await readPublishedBatches(dataDir))!;
    expect(list.format).to.equal("shafaf-published/2");
    expect(list.merged!.map((m) => [m.first, m.last])).to.deep.equal([[1, 8]]);
    // The reader of the older list answers still (its batch tables were not touched).
    await sameAsWriter(before, made.slice(0, 7), false);
    const after = await reader();
    await sameAsWriter(after, made);
    // Batches 9–16: a second range, then both merged into 1–16; the old range's files are kept
    // for the grace, and a reader holding 1–8 answers through them.
    for (let b = 9; b <= 15; b++) {
      made.push(await makeBatch(writer!, b, 4));
      await anchorWithTables(writer!, made.at(-1));
    }
    await writer!.publish();
    const holding = await reader(3_600_000);
    await sameAsWriter(holding, made);
    made.push(await makeBatch(writer!, 16, 4));
    await anchorWithTables(writer!, made.at(-1));
    expect((await writer!.publish()).merged).to.deep.equal([[1, 16]]);
    const now = (await readPublishedBatches(dataDir))!;
    expect(now.merged!.map((m) => [m.first, m.last])).to.deep.equal([[1, 16]]);
    for (const f of [list.merged![0]!.receipts, list.merged![0]!.subjects])
      expect(existsSync(path.join(dataDir, f)), f).to.equal(true);
    await sameAsWriter(holding, made.slice(0, 15), false);
    await sameAsWriter(after, made); // refreshMs 0: it picked up 1–16
    // Publishing again changes nothing: the same range, the same files.
    expect((await writer!.publish()).merged).to.deep.equal([]);
    expect((await readPublishedBatches(dataDir))!.merged).to.deep.equal(now.merged);
  });

  it("a merge that fails (a damaged batch table) does not hold back the publication", async function () {
    const made: Made[] = [];
    for (let b = 1; b <= 8; b++) {
      made.push(await makeBatch(writer!, b, 5));
      await anchorWithTables(writer!, made.at(-1));
    }
    const table = path.join(writer!.batchesDir, made[2]!.jobId, "subjects.loc");
    await writeFile(table, (await readFile(table)).subarray(0, 40));
    const result = await writer!.publish();
    expect(result.mergeError).to.be.instanceOf(LocatorTableError);
    expect(result.merged).to.deep.equal([]);
    const list = (await readPublishedBatches(dataDir))!;
    expect(list.batches.map((b) => b.batchId)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(list.merged).to.equal(undefined);
    await sameAsWriter(await reader(), made, false);
  });

  it("a merged table damaged inside a block: serve's reader answers from the batches' own tables and warns once", async function () {
    const made: Made[] = [];
    for (let b = 1; b <= 9; b++) {
      made.push(await makeBatch(writer!, b, 5));
      await anchorWithTables(writer!, made.at(-1));
    }
    expect((await writer!.publish()).merged).to.deep.equal([[1, 8]]);
    const range = (await readPublishedBatches(dataDir))!.merged![0]!;
    // The answers through the whole table, before the damage.
    const whole = await reader();
    const want = new Map<string, string>();
    for (const c of made.flatMap((m) => m.codes))
      want.set(c, JSON.stringify(await whole.getReceiptByCode(c)));
    for (const p of new Set(made.flatMap((m) => m.subjects)))
      want.set(p, JSON.stringify(await whole.listReceiptsBySubject(p)));
    // The top byte of the middle entry's digest (40 entries, one block): the header, directory,
    // fence and top check out, so the list is taken; the block fails when a lookup reads it.
    const file = path.join(dataDir, range.receipts);
    const bytes = await readFile(file);
    const at = mergedLayout(8, 40, 64, 64).entriesAt + 20 * 24;
    bytes[at] = bytes[at]! ^ 0x80;
    await writeFile(file, bytes);
    const warned: LocatorDamage[] = [];
    const r = await openPublishedStore(dataDir, {
      refreshMs: 0,
      onLocatorDamage: (d) => warned.push(d),
    });
    readers.push(r);
    expect(r.lastError).to.equal(undefined);
    for (const c of made.flatMap((m) => m.codes)) {
      const receipt = await r.getReceiptByCode(c);
      expect(receipt?.code, c).to.equal(c);
      expect(JSON.stringify(receipt), c).to.equal(want.get(c));
    }
    for (const p of new Set(made.flatMap((m) => m.subjects)))
      expect(JSON.stringify(await r.listReceiptsBySubject(p)), p).to.equal(want.get(p));
    expect(await r.getReceiptByCode("0000-0000-0000-0000-0000-0000-000")).to.equal(undefined);
    await sameAsWriter(r, made);
    expect(warned).to.deep.equal([
      { file: range.receipts, first: 1, last: 8, code: "store.locators" },
    ]);
    expect(r.locatorStats().damaged).to.deep.equal([range.receipts]);
    // The subjects' table of the range is whole: still read merged (one read, not 8).
    const before = r.locatorStats();
    await r.listReceiptsBySubject(made[0]!.subjects[0]!);
    const after = r.locatorStats();
    expect(after.rangeTableReads - before.rangeTableReads).to.equal(1);
    expect(after.batchTableReads - before.batchTableReads).to.equal(1);
  });

  for (const step of ["locator-merge-write", "locator-merge"] as const) {
    it(`a data publish killed with SIGKILL mid-merge (${step}) leaves a directory that serves; the next publish completes it`, async function () {
      const made: Made[] = [];
      for (let b = 1; b <= 4; b++) {
        made.push(await makeBatch(writer!, b, 6));
        await anchorWithTables(writer!, made.at(-1));
      }
      await writer!.publish();
      for (let b = 5; b <= 9; b++) {
        made.push(await makeBatch(writer!, b, 6));
        await anchorWithTables(writer!, made.at(-1));
      }
      await writer!.close();
      writer = undefined;
      const publish = (env: Record<string, string> = {}) =>
        spawnSync(process.execPath, ["bin/shafaf.js", "data", "publish", "--data-dir", dataDir], {
          cwd: ROOT,
          env: { ...process.env, ...env },
          encoding: "utf8",
        });
      const killed = publish({ SHAFAF_TEST_CRASH_AT: step });
      expect(killed.signal, killed.stderr).to.equal("SIGKILL");
      // The list is the one before: 4 batches, no range; the leftovers are named by nothing.
      const list = (await readPublishedBatches(dataDir))!;
      expect(list.batches.map((b) => b.batchId)).to.deep.equal([1, 2, 3, 4]);
      expect(list.merged).to.equal(undefined);
      expect((await readdir(path.join(dataDir, "locators"))).length).to.be.greaterThan(0);
      writer = await openLedgerStore(dataDir);
      const r = await reader();
      await sameAsWriter(r, made.slice(0, 4), false);
      expect(await r.getReceiptByCode(made[5]!.codes[0]!)).to.equal(undefined);
      await writer.close();
      writer = undefined;
      const done = publish();
      expect(done.status, done.stderr).to.equal(0);
      expect(done.stdout).to.include("merged the locator tables of batches 1–8");
      const now = (await readPublishedBatches(dataDir))!;
      expect(now.merged!.map((m) => [m.first, m.last])).to.deep.equal([[1, 8]]);
      const names = await readdir(path.join(dataDir, "locators"));
      expect(names.filter((n) => n.includes(".tmp-"))).to.deep.equal([]);
      for (const m of now.merged!)
        for (const f of [m.receipts, m.subjects]) expect(names).to.include(path.basename(f));
      writer = await openLedgerStore(dataDir);
      await sameAsWriter(r, made); // the same reader, the new list
    });
  }
});
