import { expect } from "chai";
import fc from "fast-check";
import { keccak256 } from "../../src/core/keccak.ts";
import type { PensionRecord } from "../../src/core/kinds/pension/pension.ts";
import type { PremiumRecord } from "../../src/core/kinds/premium/premium.ts";
import { recordFromJson, recordToJson } from "../../src/core/receipt.ts";
import type { LedgerRecord } from "../../src/core/record.ts";
import {
  RECORD_COMMITMENT_DOMAIN,
  recordJsonCommitment,
  sumTreeRecordFields,
} from "../../src/core/sum-tree-record.ts";

/** docs/spec/tree-v2.md §3.1 written the plain way: sort the keys of the JSON record, stringify. */
function referenceCommitment(record: LedgerRecord, salt: Uint8Array): Uint8Array {
  const json = recordToJson(record) as Record<string, unknown>;
  const text = `{${Object.keys(json)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${JSON.stringify(json[k])}`)
    .join(",")}}`;
  const utf8 = new TextEncoder().encode(text);
  const pre = new Uint8Array(33 + utf8.length);
  pre[0] = RECORD_COMMITMENT_DOMAIN;
  pre.set(salt, 1);
  pre.set(utf8, 33);
  return keccak256(pre);
}

/** Text that JSON must escape or encode on several bytes: quotes, controls, Persian, surrogates. */
const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom('"', "\\", "\u0000\n\t", "تهران «مرکزی»", "\ud800", "x\udfffy", "😀", ""),
);
const amount = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

const premium = fc.record(
  {
    kind: fc.constant("premium" as const),
    recordId: hostileText,
    period: hostileText,
    nationalId: hostileText,
    workshopCode: hostileText,
    insuranceNo: hostileText,
    province: hostileText,
    days: fc.integer({ min: 0, max: 31 }),
    wageBase: amount,
    workerShare: amount,
    employerShare: amount,
    unemploymentShare: amount,
    hazardShare: amount,
    total: amount,
    paidOn: hostileText,
    supersedes: hostileText,
    reason: hostileText,
  },
  { requiredKeys: ["kind", "recordId", "period", "nationalId", "province", "days", "total"] },
) as fc.Arbitrary<PremiumRecord>;

const pension = fc.record(
  {
    kind: fc.constant("pension" as const),
    recordId: hostileText,
    period: hostileText,
    nationalId: hostileText,
    pensionFile: hostileText,
    category: fc.constantFrom("retirement", "disability", "survivors"),
    province: hostileText,
    gross: amount,
    deductions: amount,
    net: amount,
    dueOn: hostileText,
    paidOn: hostileText,
    supersedes: fc.option(hostileText, { nil: undefined }),
    reason: fc.option(hostileText, { nil: undefined }),
  },
  { requiredKeys: ["kind", "recordId", "period", "nationalId", "gross", "deductions", "net"] },
) as fc.Arbitrary<PensionRecord>;

/** The same record with its keys inserted in another order (a reader may build it so). */
function reordered(record: LedgerRecord): LedgerRecord {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(record).reverse())
    out[k] = (record as unknown as Record<string, unknown>)[k];
  return out as unknown as LedgerRecord;
}

describe("sumTreeRecordFields", function () {
  it("commits to the sorted canonical JSON of the record, byte for byte (property)", function () {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.oneof(premium, pension), fc.uint8Array({ minLength: 32, maxLength: 32 })),
          {
            minLength: 1,
            maxLength: 8,
          },
        ),
        (rows) => {
          // Several records in a row: records of one shape, of another shape, keys reordered,
          // optional keys present, absent or undefined — the key order cached between records
          // must never leak into the next one.
          for (const [record, salt] of rows) {
            for (const r of [record, reordered(record), record]) {
              let want: Uint8Array;
              try {
                want = referenceCommitment(r, salt);
              } catch {
                continue;
              }
              let got: Uint8Array;
              try {
                got = sumTreeRecordFields(r, salt).commitment;
              } catch (error) {
                // Only the amount lanes may refuse (a missing lane); the reference does not check them.
                expect(error).to.be.instanceOf(Error);
                continue;
              }
              expect(Buffer.from(got).toString("hex")).to.equal(Buffer.from(want).toString("hex"));
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("leaves out undefined fields exactly as the JSON record does", function () {
    const salt = new Uint8Array(32).fill(5);
    const base: PremiumRecord = {
      kind: "premium",
      recordId: "P-1",
      period: "1403-07",
      nationalId: "0012345679",
      workshopCode: "1000000000",
      insuranceNo: "10000000",
      province: "IR-23",
      days: 30,
      wageBase: 100_000_000n,
      workerShare: 7_000_000n,
      employerShare: 20_000_000n,
      unemploymentShare: 3_000_000n,
      hazardShare: 0n,
      total: 30_000_000n,
    };
    const withUndefined = { ...base, paidOn: undefined, reason: undefined };
    const a = sumTreeRecordFields(base, salt).commitment;
    const b = sumTreeRecordFields(withUndefined as unknown as PremiumRecord, salt).commitment;
    expect(Buffer.from(b).equals(Buffer.from(a))).to.equal(true);
    expect(Buffer.from(a).equals(Buffer.from(referenceCommitment(base, salt)))).to.equal(true);
    const paid = sumTreeRecordFields({ ...base, paidOn: "1403-08-02" }, salt).commitment;
    expect(Buffer.from(paid).equals(Buffer.from(a))).to.equal(false);
  });
});

describe("recordJsonCommitment", function () {
  const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

  it("is the commitment of the typed record for every JSON record recordFromJson accepts (property)", function () {
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.oneof(premium, pension),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.boolean(),
        (record, salt, reverse) => {
          // as an artifact line holds it: JSON text of recordToJson, parsed (keys in any order)
          const json = JSON.parse(JSON.stringify(recordToJson(record))) as Record<string, unknown>;
          const line = reverse ? Object.fromEntries(Object.entries(json).reverse()) : json;
          const typed = recordFromJson(line);
          if (typed === undefined) return;
          let want: Uint8Array;
          try {
            want = sumTreeRecordFields(typed, salt).commitment;
          } catch {
            return; // a missing amount lane: the typed path refuses, nothing to compare
          }
          accepted++;
          expect(hex(recordJsonCommitment(line, salt))).to.equal(hex(want));
        },
      ),
      { numRuns: 300 },
    );
    expect(accepted).to.be.greaterThan(0);
  });

  it("differs when one byte of the record or the salt differs", function () {
    const salt = new Uint8Array(32).fill(7);
    const json = {
      kind: "premium",
      recordId: "P-1",
      period: "1403-07",
      nationalId: "0012345679",
      province: "IR-23",
      days: 30,
      total: "30000000",
    };
    const c = hex(recordJsonCommitment(json, salt));
    expect(hex(recordJsonCommitment({ ...json, total: "30000001" }, salt))).to.not.equal(c);
    const other = salt.slice();
    other[31] = 8;
    expect(hex(recordJsonCommitment(json, other))).to.not.equal(c);
    expect(() => recordJsonCommitment(json, salt.subarray(1))).to.throw(RangeError);
  });
});
