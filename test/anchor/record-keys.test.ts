import { expect } from "chai";
import fc from "fast-check";
import { createRecordKeys, nodeSubjectPseudonym } from "../../src/anchor/record-keys.ts";
import { subjectPseudonym } from "../../src/core/pseudonym.ts";
import type { PremiumRecord } from "../../src/core/kinds/premium/premium.ts";

/** A valid national ID from its first nine digits (check digit computed). */
function nationalId(nine: string): string {
  let s = 0;
  for (let i = 0; i < 9; i++) s += Number(nine[i]) * (10 - i);
  const r = s % 11;
  return nine + String(r < 2 ? r : 11 - r);
}

describe("record-keys", function () {
  describe("nodeSubjectPseudonym", function () {
    it("is core's subjectPseudonym for national IDs and foreign identifiers (property)", function () {
      const id = fc.oneof(
        fc
          .stringMatching(/^[0-9]{9}$/)
          .map(nationalId)
          .filter((n) => !/^(\d)\1{9}$/.test(n)),
        fc.constantFrom("foreign:123456789012", "insured:12345678:AFG", "insured:1234567890:IRQ"),
      );
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 32, maxLength: 64 }), id, (key, nid) => {
          expect(nodeSubjectPseudonym(key, nid)).to.equal(subjectPseudonym(key, nid));
        }),
        { numRuns: 200 },
      );
    });

    it("refuses what core refuses: a short key, a bad check digit, a malformed foreign id", function () {
      const key = new Uint8Array(32).fill(1);
      expect(() => nodeSubjectPseudonym(new Uint8Array(31), "0012345679")).to.throw(RangeError);
      expect(() => nodeSubjectPseudonym(key, "0012345678")).to.throw(RangeError, /check|checksum/);
      expect(() => nodeSubjectPseudonym(key, "foreign:12")).to.throw(RangeError);
      expect(() => subjectPseudonym(key, "foreign:12")).to.throw(RangeError);
    });
  });

  describe("createRecordKeys", function () {
    it("gives the salt as hex and as the same 32 bytes, drawn from the random source in order", function () {
      let next = 0;
      const random = (n: number) => Uint8Array.from({ length: n }, () => next++ & 0xff);
      const key = new Uint8Array(32).fill(3);
      const keys = createRecordKeys(key, random);
      const record = { nationalId: "0012345679" } as PremiumRecord;
      const a = keys.keyOf(record);
      const b = keys.keyOf(record);
      expect(a.salt).to.equal(`0x${Buffer.from(a.saltBytes).toString("hex")}`);
      expect([...a.saltBytes]).to.deep.equal(Array.from({ length: 32 }, (_, i) => i));
      expect([...b.saltBytes]).to.deep.equal(Array.from({ length: 32 }, (_, i) => 32 + i));
      expect(a.subject).to.equal(subjectPseudonym(key, "0012345679"));
    });

    it("refuses a pseudonym key shorter than 32 bytes before any record", function () {
      expect(() => createRecordKeys(new Uint8Array(16))).to.throw(RangeError);
    });
  });
});
