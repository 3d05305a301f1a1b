import { readFileSync } from "node:fs";
import { expect } from "chai";
import fc from "fast-check";
import { InvalidInputError } from "../../src/core/errors.ts";
import { bytesToHex, hexToBytes } from "../../src/core/hex.ts";
import {
  ledgerLogEntry,
  parseLedgerLogEntry,
  type LedgerLogBatch,
} from "../../src/core/ledger-log-entry.ts";
import { hashLeaf } from "../../src/core/rfc6962.ts";

interface Vectors {
  valid: { name: string; batch: LedgerLogBatch; entry: string; text: string; leafHash: string }[];
  invalid: { name: string; entry: string; field: string }[];
}
const vectors = JSON.parse(
  readFileSync(new URL("../vectors/log-entry-1.json", import.meta.url), "utf8"),
) as Vectors;

function refusal(f: () => unknown): InvalidInputError {
  try {
    f();
  } catch (error) {
    expect(error).to.be.instanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  expect.fail("expected an InvalidInputError");
}

describe("ledgerLogEntry (shafaf-log-entry/1)", function () {
  describe("committed vectors", function () {
    for (const v of vectors.valid) {
      it(`${v.name}: gives the committed bytes and leaf hash, and parses back`, function () {
        const bytes = ledgerLogEntry(v.batch);
        expect(bytesToHex(bytes)).to.equal(v.entry);
        expect(new TextDecoder().decode(bytes)).to.equal(v.text);
        expect(bytesToHex(hashLeaf(bytes))).to.equal(v.leafHash);
        const parsed = parseLedgerLogEntry(bytes);
        expect(parsed.format).to.equal("shafaf-log-entry/1");
        expect(parsed.batchId).to.equal(v.batch.batchId);
        expect(parsed.contract).to.equal(v.batch.contract.toLowerCase());
      });
    }
    for (const v of vectors.invalid) {
      it(`${v.name}: is refused, naming ${v.field}`, function () {
        expect(refusal(() => parseLedgerLogEntry(hexToBytes(v.entry))).field).to.equal(v.field);
      });
    }
  });

  it("names the field of a bad batch", function () {
    const base = vectors.valid[0]!.batch;
    expect(refusal(() => ledgerLogEntry({ ...base, batchId: 0 })).field).to.equal("batchId");
    expect(refusal(() => ledgerLogEntry({ ...base, total: "-1" })).field).to.equal("total");
    expect(refusal(() => ledgerLogEntry({ ...base, root: "0x12" })).field).to.equal("root");
    expect(refusal(() => ledgerLogEntry({ ...base, period: "1403-13" })).field).to.equal("period");
    expect(refusal(() => ledgerLogEntry({ ...base, supersedes: 1 })).field).to.equal("supersedes");
  });

  it("every valid batch round-trips, and any batch change changes the bytes", function () {
    const hex = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => bytesToHex(b) as string);
    const batch = fc.record({
      chainId: fc.integer({ min: 1, max: 2 ** 40 }),
      contract: fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => bytesToHex(b) as string),
      batchId: fc.integer({ min: 2, max: 2 ** 40 }),
      scheme: fc.constantFrom("shafaf-tree/1" as const, "shafaf-tree/2" as const),
      kind: fc.constantFrom("premium" as const, "pension" as const),
      period: fc.constantFrom("1403-01", "1404-12"),
      root: hex,
      manifestHash: hex,
      idempotencyKey: hex,
      recordCount: fc.nat(),
      total: fc.bigInt({ min: 0n, max: 2n ** 128n }).map(String),
      supersedes: fc.option(fc.constant(1), { nil: null }),
      txHash: hex,
    });
    fc.assert(
      fc.property(batch, (b) => {
        const bytes = ledgerLogEntry(b);
        const { format: _f, ...back } = parseLedgerLogEntry(bytes);
        expect(back).to.deep.equal(b);
        const other = ledgerLogEntry({ ...b, recordCount: b.recordCount + 1 });
        expect(bytesToHex(other)).to.not.equal(bytesToHex(bytes));
      }),
    );
  });
});
