/**
 * Merged locator tables (docs/spec/locator-merge-v1.md) and the list that names them
 * (published-batches-v2.md): the committed vectors (valid answered, every corruption refused by
 * the check it names), the merge policy's bounds, and — on real files in a temp dir, plain and
 * sealed — lookups through merged ranges identical to lookups through every batch's table, for
 * every code and subject, unknown ones, and codes present in several batches (newest first).
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { hexToBytes } from "../../src/core/hex.ts";
import { newReceiptCode } from "../../src/core/receipt-code.ts";
import {
  createLocatorIndex,
  locatorRole,
  type LocatorDamage,
} from "../../src/store/batch-locators.ts";
import {
  encodeMergedLocatorTable,
  mergedLayout,
  openMergedLocatorTable,
  type MergedBatch,
} from "../../src/store/locator-merge.ts";
import {
  MERGE_EVERY,
  planLocatorMerges,
  removeRetiredLocatorFiles,
  updateLocatorMerges,
} from "../../src/store/locator-merges.ts";
import {
  bytesSource,
  encodeLocatorTable,
  locatorDigest,
  LocatorTableError,
} from "../../src/store/locator-table.ts";
import {
  formatPublishedBatches,
  parsePublishedBatches,
  PublishedListError,
  type LocatorMerge,
  type PublishedBatch,
} from "../../src/store/published-batches.ts";
import { dataKeyOf, isSealed, sealBytes, type DataKey } from "../../src/store/private-store.ts";

const vectors = async <T>(name: string): Promise<T> =>
  JSON.parse(await readFile(path.join(import.meta.dirname, "../vectors", name), "utf8")) as T;

const code = () => newReceiptCode((n) => new Uint8Array(randomBytes(n)));

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

interface MergeVectors {
  block: number;
  fenceBlock: number;
  batches: MergedBatch[];
  receiptCodes: {
    tableHex: string;
    lookups: { code: string; batchId: number; line: number }[];
    absent: string[];
  };
  subjects: {
    tableHex: string;
    lines: Record<string, { batchId: number; line: number }[]>;
    absent: string[];
  };
  corrupted: { name: string; hex: string; error: string; lookup?: string }[];
}

describe("merged locator tables (shafaf-locator-merge/1)", function () {
  let v: MergeVectors;
  before(async function () {
    v = await vectors<MergeVectors>("locator-merge-1.json");
  });
  const open = (hex: string, kind: "receipt-code" | "subject") =>
    openMergedLocatorTable(bytesSource(hexToBytes(hex)), {
      file: "x.lm",
      kind,
      batches: v.batches,
    });

  it("answers every vector lookup: a code in both batches is the newer batch's", function () {
    const t = open(v.receiptCodes.tableHex, "receipt-code");
    const seen = new Set<number>();
    for (const l of v.receiptCodes.lookups) {
      const hit = t.find(locatorDigest("receipt-code", l.code));
      expect(hit, l.code).to.not.equal(undefined);
      expect({ batchId: v.batches[hit!.ordinal]!.batchId, line: hit!.line }).to.deep.equal({
        batchId: l.batchId,
        line: l.line,
      });
      seen.add(l.batchId);
    }
    expect([...seen].sort()).to.deep.equal([3, 5]);
    for (const c of v.receiptCodes.absent)
      expect(t.find(locatorDigest("receipt-code", c))).to.equal(undefined);
    const s = open(v.subjects.tableHex, "subject");
    for (const [subject, lines] of Object.entries(v.subjects.lines))
      expect(
        s.findAll(locatorDigest("subject", subject)).map((h) => ({
          batchId: v.batches[h.ordinal]!.batchId,
          line: h.line,
        })),
      ).to.deep.equal(lines);
    for (const a of v.subjects.absent)
      expect(s.findAll(locatorDigest("subject", a))).to.deep.equal([]);
  });

  it("refuses every corrupted table with the check its vector names", function () {
    expect(v.corrupted.length).to.be.greaterThan(15);
    for (const c of v.corrupted) {
      const error = thrown(() => {
        const t = open(c.hex, "receipt-code");
        expect(c.lookup, `${c.name} opened`).to.be.a("string");
        t.find(locatorDigest("receipt-code", c.lookup!));
      });
      expect(error, c.name).to.be.instanceOf(LocatorTableError);
      expect((error as LocatorTableError).shortMessage, c.name).to.include(c.error);
      expect((error as LocatorTableError).code).to.equal("store.locators");
    }
  });

  it("refuses a directory other than the published range (another batch list)", function () {
    const error = thrown(() =>
      openMergedLocatorTable(bytesSource(hexToBytes(v.receiptCodes.tableHex)), {
        file: "x.lm",
        kind: "receipt-code",
        batches: [v.batches[0]!],
      }),
    );
    expect((error as LocatorTableError).shortMessage).to.include(
      "2 batches, the published range has 1",
    );
  });

  it("refuses to encode entries out of order or past their batch", function () {
    const batches = [{ batchId: 1, jobId: "a".repeat(64), recordCount: 2 }];
    const d = locatorDigest("receipt-code", code());
    const twice = thrown(() =>
      encodeMergedLocatorTable("receipt-code", batches, [
        { digest: d, ordinal: 0, line: 0 },
        { digest: d, ordinal: 0, line: 1 },
      ]),
    );
    expect((twice as LocatorTableError).shortMessage).to.include("entry 1 is out of order");
    const past = thrown(() =>
      encodeMergedLocatorTable("receipt-code", batches, [
        { digest: d, ordinal: 0, line: 2 },
        { digest: locatorDigest("receipt-code", code()), ordinal: 0, line: 0 },
      ]),
    );
    expect((past as LocatorTableError).shortMessage).to.include("points past its batch");
  });
});

describe("published list, version 2 (shafaf-published/2)", function () {
  interface V2 {
    valid: { text: string; batchIds: number[]; merged: [number, number][] };
    corrupted: { name: string; text: string; error: string }[];
  }
  let v: V2;
  before(async function () {
    v = await vectors<V2>("published-batches-2.json");
  });

  it("reads the valid list and writes it back byte for byte", function () {
    const list = parsePublishedBatches(v.valid.text, "published.json");
    expect(list.format).to.equal("shafaf-published/2");
    expect(list.batches.map((b) => b.batchId)).to.deep.equal(v.valid.batchIds);
    expect(list.merged!.map((m) => [m.first, m.last])).to.deep.equal(v.valid.merged);
    expect(formatPublishedBatches(list)).to.equal(v.valid.text);
    // Without a range the writer writes version 1, which old readers read.
    const plain = formatPublishedBatches({ ...list, merged: [] });
    expect(JSON.parse(plain).format).to.equal("shafaf-published/1");
    expect(parsePublishedBatches(plain, "p").merged).to.equal(undefined);
  });

  it("refuses every corrupted list with the check its vector names", function () {
    for (const c of v.corrupted) {
      const error = thrown(() => parsePublishedBatches(c.text, "published.json"));
      expect(error, c.name).to.be.instanceOf(PublishedListError);
      expect((error as PublishedListError).shortMessage, c.name).to.include(c.error);
    }
  });
});

describe("merge policy (planLocatorMerges)", function () {
  const fact = (batchId: number): PublishedBatch => ({
    batchId,
    jobId: batchId.toString(16).padStart(64, "0"),
    kind: "premium",
    period: "1403-07",
    root: "0x" + "0".repeat(64),
    manifestHash: "0x" + "0".repeat(64),
    recordCount: 1,
    total: "0",
    supersedes: null,
    supersededBy: null,
    txHash: "0x" + "0".repeat(64),
    blockNumber: 1,
    blockHash: "0x" + "0".repeat(64),
    anchoredAt: 1,
  });

  it("publishing one batch at a time: fewer than K unmerged, ranges shrinking, O(n log n) rewrites", function () {
    let kept: LocatorMerge[] = [];
    let rewritten = 0;
    const listed: PublishedBatch[] = [];
    for (let n = 1; n <= 300; n++) {
      listed.push(fact(n));
      const plan = planLocatorMerges(listed, kept);
      kept = plan.ranges.map((r) => {
        const batches = r.flatMap((s) => s.batches);
        if (!(r.length === 1 && r[0]!.merge !== undefined)) rewritten += batches.length;
        return {
          first: batches[0]!.batchId,
          last: batches.at(-1).batchId,
          receipts: `locators/${n}.receipts.lm`,
          subjects: `locators/${n}.subjects.lm`,
        };
      });
      const sizes = kept.map((m) => m.last - m.first + 1);
      for (let i = 1; i < sizes.length; i++) expect(sizes[i]).to.be.lessThan(sizes[i - 1]!);
      expect(plan.unmerged.length).to.be.lessThan(MERGE_EVERY);
      expect(sizes.reduce((a, b) => a + b, 0) + plan.unmerged.length).to.equal(n);
      expect(kept.length).to.be.at.most(Math.max(0, Math.floor(Math.log2(n / MERGE_EVERY)) + 1));
      if (n === 120) expect(sizes).to.deep.equal([64, 32, 16, 8]);
    }
    // Each batch rewritten at most log2(n / K) + 1 times.
    expect(rewritten).to.be.at.most(300 * (Math.log2(300 / MERGE_EVERY) + 1));
  });
});

describe("lookups through merged ranges (real files)", function () {
  let dir: string;
  beforeEach(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), "shafaf-merge-"));
  });
  afterEach(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  /** A batch's two tables written as the anchor writes them, and its published facts. */
  async function batchOf(
    batchId: number,
    codes: string[],
    subjects: string[],
    key: DataKey | undefined,
  ): Promise<PublishedBatch> {
    const jobId = randomBytes(32).toString("hex");
    const folder = path.join(dir, "batches", jobId);
    await mkdir(folder, { recursive: true });
    for (const [kind, keys, file] of [
      ["receipt-code", codes, "receipts.loc"],
      ["subject", subjects, "subjects.loc"],
    ] as const) {
      const table = encodeLocatorTable(kind, keys);
      await writeFile(
        path.join(folder, file),
        key === undefined
          ? table
          : sealBytes(table, key, locatorRole(jobId, kind), { chunkBytes: 4096, compress: false }),
      );
    }
    return {
      batchId,
      jobId,
      kind: "premium",
      period: "1403-07",
      root: "0x" + "1".repeat(64),
      manifestHash: "0x" + "2".repeat(64),
      recordCount: codes.length,
      total: "0",
      supersedes: null,
      supersededBy: null,
      txHash: "0x" + "3".repeat(64),
      blockNumber: batchId,
      blockHash: "0x" + "4".repeat(64),
      anchoredAt: batchId,
    };
  }

  for (const sealed of [false, true]) {
    it(`answers every code and subject as the batch tables do, publish after publish (${sealed ? "sealed" : "plain"})`, async function () {
      this.timeout(60_000);
      const key = sealed ? dataKeyOf(new Uint8Array(randomBytes(32))) : undefined;
      const people = Array.from({ length: 5 }, () => "0x" + randomBytes(32).toString("hex"));
      const listed: PublishedBatch[] = [];
      const allCodes: string[] = [];
      let previous: { batches: PublishedBatch[]; merged: LocatorMerge[] } | undefined;
      const plainIndex = createLocatorIndex({
        batchesDir: path.join(dir, "batches"),
        dataKey: key,
        allowPlain: !sealed,
      });
      for (let b = 1; b <= 19; b++) {
        const n = 1 + ((b * 37) % 90);
        const codes = Array.from({ length: n }, code);
        // A correction (every 5th batch) repeats some codes of the batch before: the newest
        // batch answers them, through a range or not.
        if (b % 5 === 0)
          for (let i = 0; i < Math.min(n, 7); i++) codes[i] = allCodes[allCodes.length - 1 - i]!;
        const subjects = codes.map((_, i) => people[(i * b) % people.length]!);
        listed.push(await batchOf(b, codes, subjects, key));
        if (b % 5 === 0) {
          // …and supersedes it: the newest batch still answers (the list's supersede fields
          // play no part in the lookup, as before the merge).
          listed[b - 2]!.supersededBy = b;
          listed[b - 1]!.supersedes = b - 1;
        }
        allCodes.push(...codes.filter((c) => !allCodes.includes(c)));
        const { merged, written } = await updateLocatorMerges({
          dataDir: dir,
          dataKey: key,
          listed,
          previous,
        });
        if (b === 8) expect(written.map((m) => [m.first, m.last])).to.deep.equal([[1, 8]]);
        if (b === 16) expect(written.map((m) => [m.first, m.last])).to.deep.equal([[1, 16]]);
        if (b >= 8) expect(merged.length).to.be.greaterThan(0);
        for (const m of merged)
          for (const f of [m.receipts, m.subjects])
            expect(isSealed(await readFile(path.join(dir, f))), f).to.equal(sealed);
        previous = { batches: [...listed], merged };
        // A fresh reader of this list against the batch tables alone.
        const reader = createLocatorIndex({
          batchesDir: path.join(dir, "batches"),
          dataKey: key,
          allowPlain: !sealed,
        });
        reader.prepare(listed, merged);
        if (b % 5 === 0)
          expect(reader.locate(codes[0]!, listed, merged)?.batch.batchId).to.equal(b);
        for (const c of [...allCodes, code(), code()]) {
          const want = plainIndex.locate(c, listed);
          const got = reader.locate(c, listed, merged);
          expect(got?.batch.batchId, c).to.equal(want?.batch.batchId);
          expect(got?.index, c).to.equal(want?.index);
        }
        for (const p of [...people, "0x" + "9".repeat(64)]) {
          const want = plainIndex.subjectLines(p, listed).map((h) => [h.batch.batchId, h.index]);
          const got = reader.subjectLines(p, listed, merged).map((h) => [h.batch.batchId, h.index]);
          expect(got).to.deep.equal(want);
        }
        reader.close();
      }
      plainIndex.close();
    });
  }

  for (const sealed of [false, true]) {
    it(`a merged table damaged inside a block: that range answers from its batches' tables, warned once, the other ranges still merged (${sealed ? "sealed" : "plain"})`, async function () {
      this.timeout(60_000);
      const key = sealed ? dataKeyOf(new Uint8Array(randomBytes(32))) : undefined;
      const people = Array.from({ length: 5 }, () => "0x" + randomBytes(32).toString("hex"));
      const listed: PublishedBatch[] = [];
      const allCodes: string[] = [];
      for (let b = 1; b <= 26; b++) {
        const codes = Array.from({ length: 150 }, code);
        // A code repeated by a later batch (in the damaged range): the newest batch answers it.
        if (b === 9) codes[0] = allCodes[3]!;
        listed.push(
          await batchOf(
            b,
            codes,
            codes.map((_, i) => people[(i * b) % people.length]!),
            key,
          ),
        );
        allCodes.push(...codes.filter((c) => !allCodes.includes(c)));
      }
      const { merged } = await updateLocatorMerges({ dataDir: dir, dataKey: key, listed });
      expect(merged.map((m) => [m.first, m.last])).to.deep.equal([
        [1, 16],
        [17, 24],
      ]);
      // One byte inside an entry block of range 1–16's receipts table (its header, directory,
      // fence and top intact): the top byte of the middle entry's digest in a plain table, a
      // byte of a middle chunk (entries only) in a sealed one.
      const damagedFile = merged[0]!.receipts;
      const file = path.join(dir, damagedFile);
      const bytes = await readFile(file);
      const entries = 16 * 150;
      const at = sealed
        ? Math.floor(bytes.length / 2)
        : mergedLayout(16, entries, 64, 64).entriesAt + Math.floor(entries / 2) * 24;
      bytes[at] = bytes[at]! ^ 0x80;
      await writeFile(file, bytes);
      const scan = createLocatorIndex({
        batchesDir: path.join(dir, "batches"),
        dataKey: key,
        allowPlain: !sealed,
      });
      const warned: LocatorDamage[] = [];
      const reader = createLocatorIndex({
        batchesDir: path.join(dir, "batches"),
        dataKey: key,
        allowPlain: !sealed,
        onDamage: (d) => warned.push(d),
      });
      try {
        reader.prepare(listed, merged); // the header checks out: the list is taken
        expect(reader.locate(allCodes[3]!, listed, merged)?.batch.batchId).to.equal(9);
        for (const c of [...allCodes, code(), code()]) {
          const want = scan.locate(c, listed);
          const got = reader.locate(c, listed, merged);
          expect(got?.batch.batchId, c).to.equal(want?.batch.batchId);
          expect(got?.index, c).to.equal(want?.index);
        }
        for (const p of [...people, "0x" + "9".repeat(64)]) {
          const want = scan.subjectLines(p, listed).map((h) => [h.batch.batchId, h.index]);
          const got = reader.subjectLines(p, listed, merged).map((h) => [h.batch.batchId, h.index]);
          expect(got).to.deep.equal(want);
        }
        // Found by a lookup, told once, with the file and the check: no code, no subject.
        expect(warned).to.have.length(1);
        expect(warned[0]).to.deep.equal({
          file: damagedFile,
          first: 1,
          last: 16,
          code: sealed ? "store.private.tampered" : "store.locators",
        });
        expect(reader.stats().damaged).to.deep.equal([damagedFile]);
        // An unknown code reads range 17–24's merged table, the 16 batch tables of 1–16 and the
        // 2 unmerged batches'; an unknown subject both ranges' merged tables (theirs is whole).
        const before = reader.stats();
        expect(reader.locate(code(), listed, merged)).to.equal(undefined);
        const mid = reader.stats();
        expect(mid.rangeTableReads - before.rangeTableReads).to.equal(1);
        expect(mid.batchTableReads - before.batchTableReads).to.equal(18);
        expect(reader.subjectLines("0x" + "9".repeat(64), listed, merged)).to.deep.equal([]);
        const after = reader.stats();
        expect(after.rangeTableReads - mid.rangeTableReads).to.equal(2);
        expect(after.batchTableReads - mid.batchTableReads).to.equal(2);
        // The same list again (a batch added, say): the table stays unread, not told again.
        reader.prepare(listed, merged);
        expect(reader.locate(allCodes[0]!, listed, merged)?.batch.batchId).to.equal(1);
        expect(warned).to.have.length(1);
        // The fix the warning names: the file removed, a publish merges the range again; the
        // next list's table is read.
        await rm(file);
        const again = await updateLocatorMerges({
          dataDir: dir,
          dataKey: key,
          listed,
          previous: { batches: listed, merged },
        });
        expect(again.written.map((m) => [m.first, m.last])).to.deep.equal([[1, 16]]);
        reader.prepare(listed, again.merged);
        expect(reader.stats().damaged).to.deep.equal([]);
        const fixed = reader.stats();
        expect(reader.locate(code(), listed, again.merged)).to.equal(undefined);
        expect(reader.stats().rangeTableReads - fixed.rangeTableReads).to.equal(2);
        expect(reader.stats().batchTableReads - fixed.batchTableReads).to.equal(2);
        for (const c of allCodes)
          expect(reader.locate(c, listed, again.merged)?.index, c).to.equal(
            scan.locate(c, listed)?.index,
          );
      } finally {
        reader.close();
        scan.close();
      }
      // A closed index refuses (its error is not a damaged table's fallback).
      expect(thrown(() => reader.locate(allCodes[0]!, listed, merged))).to.be.instanceOf(
        LocatorTableError,
      );
      expect(warned).to.have.length(1);
    });
  }

  it("a merged table truncated after the reader opened it: its range answers from the batches' tables", async function () {
    const listed: PublishedBatch[] = [];
    const codes: string[] = [];
    for (let b = 1; b <= 8; b++) {
      const mine = Array.from({ length: 100 }, code);
      codes.push(...mine);
      listed.push(
        await batchOf(
          b,
          mine,
          mine.map(() => "0x" + "1".repeat(64)),
          undefined,
        ),
      );
    }
    const { merged } = await updateLocatorMerges({ dataDir: dir, dataKey: undefined, listed });
    const warned: LocatorDamage[] = [];
    const reader = createLocatorIndex({
      batchesDir: path.join(dir, "batches"),
      allowPlain: true,
      onDamage: (d) => warned.push(d),
    });
    try {
      reader.prepare(listed, merged);
      const file = path.join(dir, merged[0]!.receipts);
      await writeFile(file, (await readFile(file)).subarray(0, 2000));
      for (const [i, c] of codes.entries()) {
        const hit = reader.locate(c, listed, merged);
        expect([hit?.batch.batchId, hit?.index], c).to.deep.equal([
          Math.floor(i / 100) + 1,
          i % 100,
        ]);
      }
      expect(reader.locate(code(), listed, merged)).to.equal(undefined);
      expect(warned.map((d) => d.code)).to.deep.equal(["store.private.truncated"]);
    } finally {
      reader.close();
    }
  });

  it("in a sealed directory without the data key writes nothing and keeps the ranges still valid; with it, seals", async function () {
    const key = dataKeyOf(new Uint8Array(randomBytes(32)));
    const listed: PublishedBatch[] = [];
    for (let b = 1; b <= 9; b++)
      listed.push(
        await batchOf(b, [code(), code()], ["0x" + "1".repeat(64), "0x" + "2".repeat(64)], key),
      );
    const first = await updateLocatorMerges({
      dataDir: dir,
      dataKey: key,
      sealed: true,
      listed: listed.slice(0, 8),
    });
    expect(first.written.map((m) => [m.first, m.last])).to.deep.equal([[1, 8]]);
    const keyless = await updateLocatorMerges({
      dataDir: dir,
      dataKey: undefined,
      sealed: true,
      listed,
      previous: { batches: listed.slice(0, 8), merged: first.merged },
    });
    expect(keyless).to.deep.equal({ merged: first.merged, written: [] });
    // Batches 1–8 changed (another history): the range is dropped, none is written without the key.
    const other = [{ ...listed[0]!, jobId: "f".repeat(64) }, ...listed.slice(1)];
    expect(
      await updateLocatorMerges({
        dataDir: dir,
        dataKey: undefined,
        sealed: true,
        listed: other,
        previous: { batches: listed.slice(0, 8), merged: first.merged },
      }),
    ).to.deep.equal({ merged: [], written: [] });
    expect((await readdir(path.join(dir, "locators"))).length).to.equal(2);
  });

  it("after `data encrypt`: plain ranges are merged again sealed, and the plain files removed at once", async function () {
    const listed: PublishedBatch[] = [];
    for (let b = 1; b <= 8; b++)
      listed.push(await batchOf(b, [code()], ["0x" + "1".repeat(64)], undefined));
    const plain = await updateLocatorMerges({ dataDir: dir, dataKey: undefined, listed });
    // The directory is sealed now (its batch tables rewritten sealed by publish).
    const key = dataKeyOf(new Uint8Array(randomBytes(32)));
    for (const b of listed)
      for (const [kind, file] of [
        ["receipt-code", "receipts.loc"],
        ["subject", "subjects.loc"],
      ] as const) {
        const at = path.join(dir, "batches", b.jobId, file);
        await writeFile(
          at,
          sealBytes(await readFile(at), key, locatorRole(b.jobId, kind), { chunkBytes: 4096 }),
        );
      }
    const sealed = await updateLocatorMerges({
      dataDir: dir,
      dataKey: key,
      sealed: true,
      listed,
      previous: { batches: listed, merged: plain.merged },
    });
    expect(sealed.written.map((m) => [m.first, m.last])).to.deep.equal([[1, 8]]);
    const removed = await removeRetiredLocatorFiles(dir, plain.merged, sealed.merged, {
      sealed: true,
    });
    expect(removed.sort()).to.deep.equal(
      [plain.merged[0]!.receipts, plain.merged[0]!.subjects].map((f) => path.basename(f)).sort(),
    );
    for (const name of await readdir(path.join(dir, "locators")))
      expect(isSealed(await readFile(path.join(dir, "locators", name))), name).to.equal(true);
  });

  it("a named table that no longer opens is not kept: the next publish merges its range again (the fix its reader's error names)", async function () {
    const listed: PublishedBatch[] = [];
    const codes: string[] = [];
    for (let b = 1; b <= 8; b++) {
      codes.push(code());
      listed.push(await batchOf(b, [codes.at(-1)], ["0x" + "1".repeat(64)], undefined));
    }
    const first = await updateLocatorMerges({ dataDir: dir, dataKey: undefined, listed });
    // A damaged header (the block size): the reader refuses the list, and says to publish again.
    const file = path.join(dir, first.merged[0]!.receipts);
    const bytes = await readFile(file);
    bytes.writeUInt32LE(0, 20);
    await writeFile(file, bytes);
    const reader = createLocatorIndex({ batchesDir: path.join(dir, "batches"), allowPlain: true });
    try {
      const refused = thrown(() => reader.prepare(listed, first.merged));
      expect(refused).to.be.instanceOf(LocatorTableError);
      expect((refused as LocatorTableError).details).to.include("shafaf data publish");
      const again = await updateLocatorMerges({
        dataDir: dir,
        dataKey: undefined,
        listed,
        previous: { batches: listed, merged: first.merged },
      });
      expect(again.written.map((m) => [m.first, m.last])).to.deep.equal([[1, 8]]);
      expect(again.merged[0]!.receipts).to.not.equal(first.merged[0]!.receipts);
      reader.prepare(listed, again.merged);
      const hit = reader.locate(codes[4]!, listed, again.merged);
      expect(hit?.batch.batchId).to.equal(5);
    } finally {
      reader.close();
    }
  });

  it("in a sealed directory removes at once a plain table no list named (a plain publish killed before its list, then `data encrypt`)", async function () {
    const listed: PublishedBatch[] = [];
    for (let b = 1; b <= 8; b++)
      listed.push(await batchOf(b, [code()], ["0x" + "1".repeat(64)], undefined));
    // The range written by a plain publish killed before the list that would name it.
    const orphan = await updateLocatorMerges({ dataDir: dir, dataKey: undefined, listed });
    const names = [orphan.merged[0]!.receipts, orphan.merged[0]!.subjects].map((f) =>
      path.basename(f),
    );
    // The directory sealed since (no list names the range): a reader refuses plain tables there.
    const removed = await removeRetiredLocatorFiles(dir, [], [], { sealed: true });
    expect(removed.sort()).to.deep.equal(names.sort());
    expect(await readdir(path.join(dir, "locators"))).to.deep.equal([]);
  });

  it("removes retired files only after the grace (a reader holding them keeps answering), temporary ones at once", async function () {
    const listed: PublishedBatch[] = [];
    const codes: string[][] = [];
    let previous: { batches: PublishedBatch[]; merged: LocatorMerge[] } | undefined;
    const reader = createLocatorIndex({ batchesDir: path.join(dir, "batches"), allowPlain: true });
    let heldList: { batches: PublishedBatch[]; merged: LocatorMerge[] } | undefined;
    for (let b = 1; b <= 16; b++) {
      codes.push(Array.from({ length: 20 }, code));
      listed.push(
        await batchOf(
          b,
          codes.at(-1),
          codes.at(-1).map(() => "0x" + "1".repeat(64)),
          undefined,
        ),
      );
      const { merged } = await updateLocatorMerges({
        dataDir: dir,
        dataKey: undefined,
        listed,
        previous,
      });
      await removeRetiredLocatorFiles(dir, previous?.merged ?? [], merged, { sealed: false });
      previous = { batches: [...listed], merged };
      if (b === 8) {
        heldList = previous;
        reader.prepare(heldList.batches, heldList.merged);
      }
    }
    const old = heldList!.merged[0]!;
    // Retired at 16 (range 1–16 replaced 1–8): still there, for readers of the older list.
    expect(existsSync(path.join(dir, old.receipts))).to.equal(true);
    await writeFile(path.join(dir, "locators", ".x.lm.tmp-1-deadbeef"), "x");
    const now = Date.now() + 11 * 60_000;
    const removed = await removeRetiredLocatorFiles(dir, [], previous!.merged, {
      sealed: false,
      now,
    });
    expect(removed.sort()).to.deep.equal(
      [".x.lm.tmp-1-deadbeef", path.basename(old.receipts), path.basename(old.subjects)].sort(),
    );
    // The reader opened 1–8 when it read that list: it answers still.
    expect(
      reader.locate(codes[2]![5]!, heldList!.batches, heldList!.merged)?.batch.batchId,
    ).to.equal(3);
    reader.close();
    // What the current list names is never removed.
    for (const m of previous!.merged)
      expect(
        existsSync(path.join(dir, m.receipts)) && existsSync(path.join(dir, m.subjects)),
      ).to.equal(true);
    expect((await readdir(path.join(dir, "locators"))).length).to.equal(
      2 * previous!.merged.length,
    );
    const file = path.join(dir, previous!.merged[0]!.receipts);
    await utimes(file, 0, 0);
    expect((await stat(file)).mtimeMs).to.equal(0);
    await removeRetiredLocatorFiles(dir, [], previous!.merged, { sealed: false, now });
    expect(existsSync(file)).to.equal(true);
  });
});
