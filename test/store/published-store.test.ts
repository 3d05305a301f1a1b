/**
 * The reader side of the handoff against a real ledger store (LevelDB in a temp dir) held open by
 * the writer: readers answer from the published files only, pick up a newly published batch
 * without a restart, never serve a batch that is complete but not yet published, migrate old
 * data directories (locators in LevelDB) once through `publish`, and keep serving the last good
 * list when the list file is damaged.
 */
import { expect } from "chai";
import { Level } from "level";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { verifyReceipt } from "../../src/core/verify-receipt.ts";
import { readBatchArtifact } from "../../src/store/batch-artifact.ts";
import { hasBatchLocators, writeBatchLocators } from "../../src/store/batch-locators.ts";
import { openLedgerStore, type LedgerStore } from "../../src/store/ledger-store.ts";
import { PUBLISHED_FILE } from "../../src/store/published-batches.ts";
import {
  needsPublishing,
  openPublishedStore,
  type PublishedStore,
} from "../../src/store/published-store.ts";
import { CONTRACT, anchor, makeBatch, type Made } from "./on-demand-fixture.ts";

/** A batch anchored as the pipeline does now: tables, record ids, complete (not yet published). */
async function anchorWithTables(store: LedgerStore, made: Made): Promise<void> {
  const artifact = await readBatchArtifact(path.join(store.batchesDir, made.jobId));
  await writeBatchLocators(artifact!, undefined, (records) =>
    store.writeRecordIds(made.entry, records),
  );
  await store.completeJob(made.job, { ...made.entry, locators: "files" });
}

describe("published store (the readers' side of a data directory)", function () {
  let dataDir: string;
  let writer: LedgerStore;
  const readers: PublishedStore[] = [];
  const reader = async () => {
    const r = await openPublishedStore(dataDir, { refreshMs: 0 });
    readers.push(r);
    return r;
  };

  beforeEach(async function () {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "shafaf-published-"));
    writer = await openLedgerStore(dataDir);
    await writer.bindChain({ chainId: 31337, contract: CONTRACT });
  });
  afterEach(async function () {
    for (const r of readers.splice(0)) await r.close();
    await writer.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("answers every receipt of a published batch while the writer holds LevelDB, identical to the writer's", async function () {
    const made = await makeBatch(writer, 1, 23);
    await anchorWithTables(writer, made);
    await writer.publish();
    const [a, b] = [await reader(), await reader()];
    for (const code of made.codes) {
      const fromWriter = await writer.getReceiptByCode(code);
      const fromA = await a.getReceiptByCode(code);
      expect(JSON.stringify(fromA)).to.equal(JSON.stringify(fromWriter));
      expect(JSON.stringify(await b.getReceiptByCode(code))).to.equal(JSON.stringify(fromA));
      const verdict = await verifyReceipt(fromA, {
        root: made.root,
        chainId: 31337,
        contract: CONTRACT,
      });
      expect(verdict.status).to.equal("verified");
    }
    expect(await a.getReceiptByCode("0000-0000-0000-0000-0000-0000-000")).to.equal(undefined);
    // The subject index: a person's receipts, in line order (people repeat every 3 records).
    const mine = await a.listReceiptsBySubject(made.subjects[1]!);
    expect(mine.map((r) => r.code)).to.deep.equal(made.codes.filter((_, i) => i % 3 === 1));
    expect(JSON.stringify(mine)).to.equal(
      JSON.stringify(await writer.listReceiptsBySubject(made.subjects[1]!)),
    );
    // Nothing per receipt went into LevelDB but the record-id index: no loc!, no subject! keys.
    await writer.close();
    const db = new Level<string, unknown>(path.join(dataDir, "ledger"), { valueEncoding: "json" });
    const kinds = new Set<string>();
    for await (const key of db.keys()) kinds.add(key.slice(0, key.indexOf("!")));
    await db.close();
    writer = await openLedgerStore(dataDir);
    expect([...kinds].sort()).to.deep.equal(["batch", "job", "manifest", "meta", "record"]);
  });

  it("serves a batch once it is published, not when it is only complete in LevelDB", async function () {
    const first = await makeBatch(writer, 1, 5);
    await anchorWithTables(writer, first);
    await writer.publish();
    const r = await reader();
    expect(r.batches().map((b) => b.batchId)).to.deep.equal([1]);
    const second = await makeBatch(writer, 2, 7);
    await anchorWithTables(writer, second); // killed here: complete, tables written, not published
    expect(await writer.getReceiptByCode(second.codes[0]!)).to.not.equal(undefined);
    expect(await r.getReceiptByCode(second.codes[0]!)).to.equal(undefined);
    await writer.publish(); // the next run publishes
    const got = await r.getReceiptByCode(second.codes[3]!);
    expect(got?.batchId).to.equal(2);
    expect(r.batches().map((b) => b.batchId)).to.deep.equal([1, 2]);
  });

  it("migrates an old data directory once: batches whose locators live only in LevelDB get their tables", async function () {
    const old = await makeBatch(writer, 1, 11);
    await anchor(writer, old); // the layout before the tables: loc!/subject!/record! keys
    expect(hasBatchLocators(path.join(writer.batchesDir, old.jobId))).to.equal(false);
    const r = await reader();
    expect(r.batches()).to.deep.equal([]);
    expect(await r.getReceiptByCode(old.codes[0]!)).to.equal(undefined);
    expect(needsPublishing(dataDir), "serve warns: never published").to.equal(true);
    const done = await writer.publish();
    expect(needsPublishing(dataDir)).to.equal(false);
    expect(done).to.deep.include({ published: 1, migrated: [1], skipped: [] });
    expect(hasBatchLocators(path.join(writer.batchesDir, old.jobId))).to.equal(true);
    expect((await writer.getBatch(1))?.locators).to.equal("files");
    for (const code of old.codes)
      expect(JSON.stringify(await r.getReceiptByCode(code))).to.equal(
        JSON.stringify(await writer.getReceiptByCode(code)),
      );
    // Idempotent: a second publish migrates nothing.
    expect((await writer.publish()).migrated).to.deep.equal([]);
  });

  it("keeps serving the last good list when the list file is damaged, and says why", async function () {
    const made = await makeBatch(writer, 1, 4);
    await anchorWithTables(writer, made);
    await writer.publish();
    const r = await reader();
    const file = path.join(dataDir, PUBLISHED_FILE);
    const good = await readFile(file, "utf8");
    await writeFile(file, good.replace('"batchId":1', '"batchId":"1"'));
    expect((await r.getReceiptByCode(made.codes[0]!))?.batchId).to.equal(1);
    expect(r.lastError?.message).to.include("batchId");
    // A reader that opens on a damaged list refuses to start, by name.
    let error: unknown;
    try {
      await openPublishedStore(dataDir);
    } catch (e) {
      error = e;
    }
    expect((error as { code?: string }).code).to.equal("store.published");
  });
});
