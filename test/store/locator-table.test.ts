/**
 * The reader handoff's formats against their committed vectors (test/vectors/locators-1.json,
 * published-batches-1.json): every valid table answers its lookups, every corrupted table and list
 * is refused with the check its vector names; plus properties over random batches and a sealed
 * table read back through the data key.
 */
import { expect } from "chai";
import fc from "fast-check";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { hexToBytes } from "../../src/core/hex.ts";
import { newReceiptCode } from "../../src/core/receipt-code.ts";
import { createLocatorIndex, writeBatchLocators } from "../../src/store/batch-locators.ts";
import {
  bytesSource,
  encodeLocatorTable,
  locatorDigest,
  LocatorTableError,
  openLocatorTable,
} from "../../src/store/locator-table.ts";
import { parsePublishedBatches, PublishedListError } from "../../src/store/published-batches.ts";
import { dataKeyOf, isSealed, PrivateFileError } from "../../src/store/private-store.ts";
import type { BatchArtifact } from "../../src/store/batch-artifact.ts";

const vectors = async <T>(name: string): Promise<T> =>
  JSON.parse(await readFile(path.join(import.meta.dirname, "../vectors", name), "utf8")) as T;

interface LocatorVectors {
  block: number;
  recordCount: number;
  receiptCodes: { codes: string[]; digests: string[]; tableHex: string; absent: string[] };
  subjects: {
    subjects: string[];
    tableHex: string;
    lines: Record<string, number[]>;
    absent: string[];
  };
  corrupted: { name: string; hex: string; error: string; lookup?: string }[];
}

const code = () => newReceiptCode((n) => new Uint8Array(randomBytes(n)));

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe("locator tables (shafaf-locators/1)", function () {
  let v: LocatorVectors;
  before(async function () {
    v = await vectors<LocatorVectors>("locators-1.json");
  });

  it("reproduces the committed tables byte for byte", function () {
    expect(
      Buffer.from(encodeLocatorTable("receipt-code", v.receiptCodes.codes, { block: v.block })),
    ).to.deep.equal(Buffer.from(hexToBytes(v.receiptCodes.tableHex)));
    expect(
      Buffer.from(encodeLocatorTable("subject", v.subjects.subjects, { block: v.block })),
    ).to.deep.equal(Buffer.from(hexToBytes(v.subjects.tableHex)));
    v.receiptCodes.codes.forEach((c, i) =>
      expect(Buffer.from(locatorDigest("receipt-code", c)).toString("hex")).to.equal(
        v.receiptCodes.digests[i]!.slice(2),
      ),
    );
  });

  it("finds the line of every code of the vector table and no absent code", function () {
    const t = openLocatorTable(bytesSource(hexToBytes(v.receiptCodes.tableHex)), {
      file: "receipts.loc",
      kind: "receipt-code",
      recordCount: v.recordCount,
    });
    v.receiptCodes.codes.forEach((c, i) =>
      expect(t.find(locatorDigest("receipt-code", c))).to.equal(i),
    );
    for (const c of v.receiptCodes.absent)
      expect(t.find(locatorDigest("receipt-code", c))).to.equal(undefined);
  });

  it("finds every line of each subject, across blocks, and none of an absent one", function () {
    const t = openLocatorTable(bytesSource(hexToBytes(v.subjects.tableHex)), {
      file: "subjects.loc",
      kind: "subject",
      recordCount: v.recordCount,
    });
    for (const [subject, lines] of Object.entries(v.subjects.lines))
      expect(t.findAll(locatorDigest("subject", subject))).to.deep.equal(lines);
    for (const s of v.subjects.absent)
      expect(t.findAll(locatorDigest("subject", s))).to.deep.equal([]);
  });

  it("refuses every corrupted table with the check its vector names", function () {
    expect(v.corrupted.length).to.be.greaterThan(10);
    for (const c of v.corrupted) {
      const error = thrown(() => {
        const t = openLocatorTable(bytesSource(hexToBytes(c.hex)), {
          file: "receipts.loc",
          kind: "receipt-code",
          recordCount: v.recordCount,
        });
        expect(c.lookup, `${c.name} opened`).to.be.a("string");
        t.find(locatorDigest("receipt-code", c.lookup!));
      });
      expect(error, c.name).to.be.instanceOf(LocatorTableError);
      expect((error as LocatorTableError).shortMessage, c.name).to.include(c.error);
      expect((error as LocatorTableError).code).to.equal("store.locators");
    }
  });

  it("property: every code of a random batch is found at its line, and a code from another batch is not", function () {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 70 }), (n, block) => {
        const codes = Array.from({ length: n }, code);
        const t = openLocatorTable(
          bytesSource(encodeLocatorTable("receipt-code", codes, { block })),
          { file: "t", kind: "receipt-code", recordCount: n },
        );
        codes.forEach((c, i) => expect(t.find(locatorDigest("receipt-code", c))).to.equal(i));
        expect(t.find(locatorDigest("receipt-code", code()))).to.equal(undefined);
      }),
      { numRuns: 40 },
    );
  });

  it("property: a subject's lines are exactly the lines that carry it, whatever the block size", function () {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 200 }),
        fc.integer({ min: 1, max: 9 }),
        (people, block) => {
          const subjects = people.map((p) => `0x${String(p).padStart(64, "0")}`);
          const t = openLocatorTable(
            bytesSource(encodeLocatorTable("subject", subjects, { block })),
            {
              file: "t",
              kind: "subject",
              recordCount: subjects.length,
            },
          );
          for (let p = 0; p <= 6; p++) {
            const s = `0x${String(p).padStart(64, "0")}`;
            expect(t.findAll(locatorDigest("subject", s))).to.deep.equal(
              subjects.flatMap((x, i) => (x === s ? [i] : [])),
            );
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it("refuses a batch whose receipt codes repeat (two lines would answer one code)", function () {
    const c = code();
    expect(() => encodeLocatorTable("receipt-code", [c, code(), c])).to.throw(/same/);
  });

  describe("in an artifact folder (writeBatchLocators, createLocatorIndex)", function () {
    let dir: string;
    beforeEach(async function () {
      dir = await mkdtemp(path.join(os.tmpdir(), "shafaf-locators-"));
    });
    afterEach(async function () {
      await rm(dir, { recursive: true, force: true });
    });

    /** An artifact as writeBatchLocators reads it: its records' codes and subjects. */
    const artifactOf = (jobId: string, codes: string[]): BatchArtifact =>
      ({
        dir: path.join(dir, jobId),
        descriptor: { jobId, recordCount: codes.length },
        async *records() {
          await Promise.resolve();
          for (let i = 0; i < codes.length; i++)
            yield {
              index: i,
              code: codes[i]!,
              salt: "0x",
              subject: `0x${String(i % 4).padStart(64, "0")}`,
              source: { file: "f", line: i + 2 },
              record: { recordId: `R${i}` },
            };
        },
        *recordKeys() {
          for (let first = 0; first < codes.length; first += 64) {
            const lines = codes.slice(first, first + 64).map((_, k) => first + k);
            yield {
              first,
              codes: lines.map((i) => codes[i]!),
              subjects: lines.map((i) => `0x${String(i % 4).padStart(64, "0")}`),
              recordIds: lines.map((i) => `R${i}`),
            };
          }
        },
      }) as unknown as BatchArtifact;

    it("seals both tables with the data key (0600), and reads them back only with it", async function () {
      const { mkdir, stat } = await import("node:fs/promises");
      const key = dataKeyOf(new Uint8Array(randomBytes(32)));
      const jobId = "a".repeat(64);
      await mkdir(path.join(dir, jobId));
      const codes = Array.from({ length: 150 }, code);
      const ids: string[] = [];
      await writeBatchLocators(artifactOf(jobId, codes), key, (records) => {
        ids.push(...records.map((r) => r.recordId));
        return Promise.resolve();
      });
      expect(ids).to.deep.equal(codes.map((_, i) => `R${i}`));
      for (const f of ["receipts.loc", "subjects.loc"]) {
        const file = path.join(dir, jobId, f);
        expect(isSealed(await readFile(file)), f).to.equal(true);
        expect((await stat(file)).mode & 0o777, f).to.equal(0o600);
        // No code appears in the file, sealed or not.
        expect((await readFile(file)).toString("latin1")).to.not.include(codes[0]!);
      }
      const batch = { batchId: 1, jobId, recordCount: codes.length };
      const index = createLocatorIndex({ batchesDir: dir, dataKey: key, allowPlain: false });
      codes.forEach((c, i) => expect(index.locate(c, [batch])?.index).to.equal(i));
      expect(index.subjectLines(`0x${"0".repeat(63)}1`, [batch]).map((h) => h.index)).to.deep.equal(
        codes.flatMap((_, i) => (i % 4 === 1 ? [i] : [])),
      );
      index.close();
      const keyless = createLocatorIndex({ batchesDir: dir, allowPlain: false });
      const error = thrown(() => keyless.locate(codes[0]!, [batch]));
      expect(error).to.be.instanceOf(PrivateFileError);
      expect((error as PrivateFileError).code).to.equal("store.private.no-key");
      keyless.close();
    });

    it("keeps a table already written (idempotent), and a damaged one is refused by name", async function () {
      const { mkdir } = await import("node:fs/promises");
      const jobId = "b".repeat(64);
      await mkdir(path.join(dir, jobId));
      const codes = Array.from({ length: 10 }, code);
      await writeBatchLocators(artifactOf(jobId, codes), undefined);
      const file = path.join(dir, jobId, "receipts.loc");
      const first = await readFile(file);
      await writeBatchLocators(artifactOf(jobId, codes), undefined);
      expect(await readFile(file)).to.deep.equal(first);
      await writeFile(file, first.subarray(0, first.length - 1));
      const index = createLocatorIndex({ batchesDir: dir, allowPlain: true });
      const error = thrown(() => index.locate(codes[0]!, [{ batchId: 1, jobId, recordCount: 10 }]));
      expect(error).to.be.instanceOf(LocatorTableError);
      expect(String((error as Error).message)).to.include("shafaf data publish");
      const missing = thrown(() =>
        index.locate(codes[0]!, [{ batchId: 2, jobId: "c".repeat(64), recordCount: 10 }]),
      );
      expect(missing).to.be.instanceOf(LocatorTableError);
      expect((missing as LocatorTableError).shortMessage).to.include("missing (batch 2)");
      index.close();
    });
  });
});

describe("published batches (shafaf-published/1)", function () {
  interface PublishedVectors {
    valid: { text: string; batchIds: number[] };
    corrupted: { name: string; text: string; error: string }[];
  }
  let v: PublishedVectors;
  before(async function () {
    v = await vectors<PublishedVectors>("published-batches-1.json");
  });

  it("reads the valid list", function () {
    const list = parsePublishedBatches(v.valid.text, "published.json");
    expect(list.batches.map((b) => b.batchId)).to.deep.equal(v.valid.batchIds);
    expect(list.batches[1]!.scheme).to.equal("shafaf-tree/2");
  });

  it("refuses every corrupted list with the check its vector names", function () {
    for (const c of v.corrupted) {
      const error = thrown(() => parsePublishedBatches(c.text, "published.json"));
      expect(error, c.name).to.be.instanceOf(PublishedListError);
      expect((error as PublishedListError).shortMessage, c.name).to.include(c.error);
    }
  });
});
