/**
 * `shafaf-ledger-records/1` (docs/spec/ledger-records-v1.md) against its committed vectors: the
 * valid file parses to its records and is what the writer writes; every corrupted file is refused
 * with the words the vector names; a property: any set of records, sorted, round-trips, and any
 * single flipped byte of the file is refused.
 */
import { expect } from "chai";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import path from "node:path";
import { hexToBytes } from "../../src/core/hex.ts";
import {
  formatLedgerRecords,
  LedgerRecordsError,
  parseLedgerRecords,
  type LedgerRecord,
} from "../../src/core/ledger-records.ts";

const vectors = JSON.parse(
  readFileSync(path.resolve(import.meta.dirname, "../vectors/ledger-records-1.json"), "utf8"),
) as {
  records: LedgerRecord[];
  fileHex: string;
  corrupted: { name: string; hex: string; error: string }[];
};

describe("ledger records (shafaf-ledger-records/1)", function () {
  describe("parseLedgerRecords", function () {
    it("reads the valid vector to its records, which the writer writes byte for byte", function () {
      const bytes = hexToBytes(vectors.fileHex);
      expect(parseLedgerRecords(bytes, "v")).to.deep.equal(vectors.records);
      expect(Buffer.from(formatLedgerRecords(vectors.records)).equals(Buffer.from(bytes))).to.equal(
        true,
      );
    });

    for (const c of vectors.corrupted)
      it(`refuses ${c.name}: "${c.error}"`, function () {
        expect(() => parseLedgerRecords(hexToBytes(c.hex), "v"))
          .to.throw(LedgerRecordsError, c.error)
          .with.property("code", "ledger-records.format");
      });
  });

  describe("formatLedgerRecords", function () {
    it("refuses records out of order (the writer's output always parses)", function () {
      const [a, b] = vectors.records;
      expect(() => formatLedgerRecords([b!, a!])).to.throw(LedgerRecordsError, "ascending");
    });

    it("round-trips any sorted records, and refuses the file with any one bit flipped", function () {
      const key = fc.string({ minLength: 1, maxLength: 12 });
      fc.assert(
        fc.property(
          fc.uniqueArray(fc.tuple(key, fc.jsonValue()), { selector: ([k]) => k, maxLength: 8 }),
          fc.nat(),
          (entries, at) => {
            const enc = new TextEncoder();
            const sorted = [...entries].sort(([x], [y]) =>
              Buffer.compare(Buffer.from(enc.encode(x)), Buffer.from(enc.encode(y))),
            );
            const records: LedgerRecord[] = sorted.map(([k, v]) => ({
              table: "ledger",
              key: k,
              value: JSON.parse(JSON.stringify(v)) as unknown,
            }));
            const bytes = formatLedgerRecords(records);
            expect(parseLedgerRecords(bytes, "p")).to.deep.equal(records);
            const bad = new Uint8Array(bytes);
            bad[at % bad.length] = bad[at % bad.length]! ^ 0x01;
            expect(() => parseLedgerRecords(bad, "p")).to.throw(LedgerRecordsError);
          },
        ),
        { numRuns: 200 },
      );
    });
  });
});
