import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { expect } from "chai";
import { AbiCoder, keccak256 } from "ethers";
import { bytesToHex, type Hex } from "../../src/core/hex.ts";
import {
  encodeLeaf,
  fieldsHash,
  LEAF_ENCODING,
  leafHash,
  leafHashes,
  leafValues,
  recordIdHash,
} from "../../src/core/leaf.ts";
import { subjectPseudonym } from "../../src/core/pseudonym.ts";
import type { PensionRecord, PremiumRecord } from "../../src/core/record.ts";
import { recordAmount } from "../../src/core/record-amount.ts";

const premium: PremiumRecord = {
  kind: "premium",
  recordId: "W0012345678-140307-0001",
  period: "1403-07",
  nationalId: "0012345679",
  workshopCode: "0012345678",
  insuranceNo: "12345678",
  province: "IR-23",
  days: 30,
  wageBase: 100_000_000n,
  workerShare: 7_000_000n,
  employerShare: 20_000_000n,
  unemploymentShare: 3_000_000n,
  hazardShare: 0n,
  total: 30_000_000n,
};
const pension: PensionRecord = {
  kind: "pension",
  recordId: "P-1",
  period: "1403-12",
  nationalId: "2740583311",
  pensionFile: "PF900001",
  category: "survivors",
  province: "IR-10",
  gross: 120_000_000n,
  deductions: 6_000_000n,
  net: 114_000_000n,
  dueOn: "1403-12-25",
  paidOn: "1403-12-27",
  supersedes: "P-0",
  reason: "wrong-deduction",
};
const salt: Hex = `0x${"ab".repeat(32)}`;
const key = new Uint8Array(32).fill(7);
const coder = AbiCoder.defaultAbiCoder();

describe("leaf", function () {
  it("hashes the record id with its domain: keccak256(abi.encode('shafaf/record-id/v1', id))", function () {
    expect(recordIdHash("P-1")).to.equal(
      keccak256(coder.encode(["string", "string"], ["shafaf/record-id/v1", "P-1"])),
    );
  });
  it("computes fieldsHash exactly as the leaf-encoding spec in the README says (premium and pension)", function () {
    expect(fieldsHash(premium, salt)).to.equal(
      keccak256(
        coder.encode(
          [
            "string",
            "bytes32",
            "string",
            "string",
            "string",
            "string",
            "uint256",
            "uint256",
            "uint256",
            "uint256",
            "uint256",
            "uint256",
            "string",
            "string",
            "string",
          ],
          [
            "shafaf/premium-fields/v1",
            salt,
            "0012345679",
            "0012345678",
            "12345678",
            "IR-23",
            30,
            100_000_000n,
            7_000_000n,
            20_000_000n,
            3_000_000n,
            0n,
            "",
            "",
            "",
          ],
        ),
      ),
    );
    expect(fieldsHash(pension, salt)).to.equal(
      keccak256(
        coder.encode(
          [
            "string",
            "bytes32",
            "string",
            "string",
            "string",
            "string",
            "uint256",
            "uint256",
            "string",
            "string",
            "string",
            "string",
          ],
          [
            "shafaf/pension-fields/v1",
            salt,
            "2740583311",
            "PF900001",
            "survivors",
            "IR-10",
            120_000_000n,
            6_000_000n,
            "1403-12-25",
            "1403-12-27",
            "P-0",
            "wrong-deduction",
          ],
        ),
      ),
    );
  });
  it("changes fieldsHash with the salt and with every field", function () {
    const base = fieldsHash(premium, salt);
    expect(fieldsHash(premium, `0x${"ac".repeat(32)}`)).to.not.equal(base);
    expect(fieldsHash({ ...premium, days: 29 }, salt)).to.not.equal(base);
    expect(fieldsHash({ ...premium, paidOn: "1403-08-01" }, salt)).to.not.equal(base);
    expect(fieldsHash({ ...premium, hazardShare: 1n }, salt)).to.not.equal(base);
  });
  it("builds the tuple (recordIdHash, kind, period, amount, fieldsHash, subject, salt)", function () {
    const subject = subjectPseudonym(key, premium.nationalId);
    const v = leafValues(premium, { salt, subject });
    expect(v).to.deep.equal([
      recordIdHash(premium.recordId),
      0n,
      140307n,
      30_000_000n,
      fieldsHash(premium, salt),
      subject,
      salt,
    ]);
    const p = leafValues(pension, { salt, subject });
    expect(p[1]).to.equal(1n);
    expect(p[2]).to.equal(140312n);
    expect(p[3]).to.equal(recordAmount(pension));
    expect(() => leafValues(premium, { salt: "0x12", subject })).to.throw(RangeError);
  });
  it("hashes leaves like StandardMerkleTree (keccak256(keccak256(abi.encode(values))))", function () {
    const v = leafValues(premium, { salt, subject: subjectPseudonym(key, premium.nationalId) });
    expect(bytesToHex(encodeLeaf(v))).to.equal(coder.encode([...LEAF_ENCODING], [...v]));
    const oz = StandardMerkleTree.of([v as unknown as bigint[]], [...LEAF_ENCODING]);
    expect(bytesToHex(leafHash(v))).to.equal(oz.leafHash(v as unknown as bigint[]));
    expect(bytesToHex(leafHashes([v, v]).subarray(32))).to.equal(bytesToHex(leafHash(v)));
  });
  it("rejects tuples that do not fit the encoding", function () {
    const v = leafValues(premium, { salt, subject: subjectPseudonym(key, premium.nationalId) });
    expect(() => encodeLeaf([v[0], 256n, v[2], v[3], v[4], v[5], v[6]])).to.throw(
      RangeError,
      /uint8/,
    );
    expect(() => encodeLeaf([v[0], 0n, 1n << 32n, v[3], v[4], v[5], v[6]])).to.throw(
      RangeError,
      /uint32/,
    );
    expect(() => encodeLeaf([v[0], 0n, v[2], -1n, v[4], v[5], v[6]])).to.throw(RangeError);
  });
});

describe("subjectPseudonym", function () {
  it("is HMAC-SHA256(key, 'shafaf/subject/v1\\0' ‖ nationalId), stable per key and ID", async function () {
    const { createHmac } = await import("node:crypto");
    const expected = `0x${createHmac("sha256", key)
      .update("shafaf/subject/v1\u0000" + "0012345679")
      .digest("hex")}`;
    expect(subjectPseudonym(key, "0012345679")).to.equal(expected);
    expect(subjectPseudonym(key, "۰۰۱۲۳۴۵۶۷۹")).to.equal(expected);
    expect(subjectPseudonym(new Uint8Array(32).fill(8), "0012345679")).to.not.equal(expected);
  });
  it("refuses short keys and invalid national IDs", function () {
    expect(() => subjectPseudonym(new Uint8Array(16), "0012345679")).to.throw(
      RangeError,
      /32 bytes/,
    );
    expect(() => subjectPseudonym(key, "0012345678")).to.throw(RangeError, /checksum/);
  });
});
