import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import { bytesToHex, hexToBytes, type Hex } from "../../src/core/hex.ts";
import { buildMerkleTree } from "../../src/core/merkle-tree.ts";
import { buildReceipt, recordFromJson, recordToJson } from "../../src/core/receipt.ts";
import { newReceiptCode } from "../../src/core/receipt-code.ts";
import { verifyReceipt } from "../../src/core/verify-receipt.ts";
import { fieldsHash, leafHashes, leafValues, leafHash } from "../../src/core/leaf.ts";
import {
  checkForeignCode,
  maskPersonId,
  nationalityCode,
  parsePersonId,
  personIdFromFields,
  personIdString,
} from "../../src/core/person-id.ts";
import { subjectPseudonym } from "../../src/core/pseudonym.ts";
import { validateRecord } from "../../src/core/validate-record.ts";
import { premiumShares } from "../../src/core/rates.ts";

const KEY = new Uint8Array(32).fill(7);

function premium(fields: Record<string, string>): Record<string, string> {
  const s = premiumShares(100_000_000n, 1403, { unemployment: false, hazardous: false });
  return {
    record_id: "R-1",
    period: "1403-07",
    national_id: "",
    workshop_code: "1234567890",
    insurance_no: "12345678",
    province: "IR-23",
    days: "30",
    wage_base: "100000000",
    worker_share: s.worker.toString(),
    employer_share: s.employer.toString(),
    unemployment_share: "0",
    hazard_share: "0",
    total: (s.worker + s.employer).toString(),
    ...fields,
  };
}

describe("person-id", function () {
  describe("personIdFromFields", function () {
    it("takes the national ID first, unchanged (v1 leaves and pseudonyms stay identical)", function () {
      const r = personIdFromFields({ national_id: "۰۰۱۲۳۴۵۶۷۹", foreign_id: "123456789012" });
      expect(r).to.deep.equal({ ok: true, id: { kind: "national-id", nationalId: "0012345679" } });
      expect(personIdString({ kind: "national-id", nationalId: "0012345679" })).to.equal(
        "0012345679",
      );
    });
    it("takes the foreign national code (12 digits) when there is no national ID", function () {
      const r = personIdFromFields({ foreign_id: "۱۲۳۴۵۶۷۸۹۰۱۲", nationality: "افغانی" });
      expect(r).to.deep.equal({ ok: true, id: { kind: "foreign-code", code: "123456789012" } });
    });
    it("falls back to insurance number + nationality for a foreigner without a code", function () {
      const r = personIdFromFields({ nationality: "افغانی", insurance_no: "12345678" });
      expect(r).to.deep.equal({
        ok: true,
        id: { kind: "insured-foreigner", insuranceNo: "12345678", nationality: "AFG" },
      });
    });
    it("rejects an Iranian without a national ID, an unknown nationality, a bad code", function () {
      expect(personIdFromFields({ nationality: "ایرانی", insurance_no: "12345678" })).to.include({
        ok: false,
        problem: "nationality.iranian",
      });
      expect(personIdFromFields({ nationality: "مریخی", insurance_no: "12345678" })).to.include({
        ok: false,
        problem: "nationality.unknown",
      });
      expect(personIdFromFields({ foreign_id: "12345" })).to.include({
        problem: "foreign-code.format",
      });
      expect(personIdFromFields({ foreign_id: "777777777777" })).to.include({
        problem: "foreign-code.repdigit",
      });
      expect(personIdFromFields({})).to.equal(undefined);
    });
  });

  describe("canonical strings", function () {
    it("round-trip through parsePersonId and refuse anything not canonical", function () {
      for (const s of ["0012345679", "foreign:123456789012", "insured:12345678:AFG"])
        expect(personIdString(parsePersonId(s)!)).to.equal(s);
      for (const s of [
        "0012345678",
        "foreign:12345678901",
        "foreign:۱۲۳۴۵۶۷۸۹۰۱۲",
        "insured:1234567:AFG",
        "insured:12345678:IRN",
        "insured:12345678:afg",
        "passport:X1",
      ])
        expect(parsePersonId(s), s).to.equal(undefined);
    });
    it("masks every kind without revealing more than a national ID's mask does", function () {
      expect(maskPersonId("0012345679")).to.equal("0********9");
      expect(maskPersonId("foreign:123456789012")).to.equal("foreign:1**********2");
      expect(maskPersonId("insured:12345678:AFG")).to.equal("insured:******78:AFG");
      expect(maskPersonId("foreign:12")).to.not.include("12");
    });
    it("knows nationalities in Persian (with Arabic letters and ZWNJ) and ISO codes", function () {
      expect(nationalityCode("افغاني")).to.equal("AFG");
      expect(nationalityCode(" پاکستانی ")).to.equal("PAK");
      expect(nationalityCode("IRQ")).to.equal("IRQ");
      expect(nationalityCode("xyz")).to.equal(undefined);
      expect(checkForeignCode("123456789012")).to.deep.equal({ ok: true, code: "123456789012" });
    });
  });

  describe("in records, pseudonyms and leaves", function () {
    it("validates a foreign worker's premium row and gives a distinct pseudonym", function () {
      const a = validateRecord("premium", premium({ foreign_id: "123456789012" }));
      const b = validateRecord("premium", premium({ nationality: "AFG" }));
      expect(a.ok && a.record.nationalId).to.equal("foreign:123456789012");
      expect(b.ok && b.record.nationalId).to.equal("insured:12345678:AFG");
      const pa = subjectPseudonym(KEY, "foreign:123456789012");
      const pb = subjectPseudonym(KEY, "insured:12345678:AFG");
      expect(pa).to.not.equal(pb);
      expect(() => subjectPseudonym(KEY, "foreign:1")).to.throw(RangeError);
      if (a.ok) {
        const values = leafValues(a.record, { salt: `0x${"11".repeat(32)}`, subject: pa });
        expect(leafHash(values)).to.have.length(32);
      }
    });
    it("reports a missing identifier with a hint about foreign_id, masked values only", function () {
      const r = validateRecord("premium", premium({}));
      expect(r.ok).to.equal(false);
      if (!r.ok) {
        const i = r.issues.find((x) => x.field === "national_id")!;
        expect(i.rule).to.equal("required");
        expect(i.hint).to.include("foreign_id");
      }
      const bad = validateRecord("premium", premium({ foreign_id: "98765432109" }));
      expect(!bad.ok && bad.issues.map((x) => [x.rule, x.value])).to.deep.equal([
        ["foreign-code.format", "foreign:***********"],
      ]);
    });
  });

  it("a foreign worker's receipt passes the receipt schema and verifies offline", async function () {
    const records = ["123456789012", ""].map((fid, i) => {
      const r = validateRecord(
        "premium",
        premium({ record_id: `F-${i}`, foreign_id: fid, nationality: "افغانی" }),
      );
      if (!r.ok) throw new Error(JSON.stringify(r.issues));
      return r.record;
    });
    const values = records.map((r, i) =>
      leafValues(r, {
        salt: bytesToHex(new Uint8Array(32).fill(i + 1)),
        subject: subjectPseudonym(KEY, r.nationalId),
      }),
    );
    const tree = buildMerkleTree(leafHashes(values));
    const contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    const schema = JSON.parse(
      readFileSync(
        path.resolve(import.meta.dirname, "../../schemas/receipt-1.schema.json"),
        "utf8",
      ),
    ) as object;
    const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);
    for (const index of [0, 1]) {
      const receipt = buildReceipt({
        chainId: 31337,
        contract,
        batchId: 1,
        tree,
        index,
        record: records[index]!,
        values: values[index]!,
        anchor: { txHash: bytesToHex(new Uint8Array(32).fill(9)), blockNumber: 5 },
        code: newReceiptCode((n) => new Uint8Array(n).fill(index + 3)),
      });
      expect(
        validate(JSON.parse(JSON.stringify(receipt))),
        JSON.stringify(validate.errors),
      ).to.equal(true);
      expect(recordFromJson(recordToJson(records[index]!))).to.deep.equal(records[index]);
      const r = await verifyReceipt(receipt, { root: tree.root, chainId: 31337, contract });
      expect(r.status, JSON.stringify(r.checks)).to.equal("verified");
    }
  });

  describe("committed vectors (test/vectors/person-id-1.json)", function () {
    const v = JSON.parse(
      readFileSync(path.resolve(import.meta.dirname, "../vectors/person-id-1.json"), "utf8"),
    ) as {
      pseudonymKey: Hex;
      salt: Hex;
      premiumBase: Record<string, string>;
      valid: {
        fields: Record<string, string>;
        canonical: string;
        masked: string;
        subject: Hex;
        fieldsHash: Hex;
        leafHash: Hex;
      }[];
      invalidFields: { fields: Record<string, string>; field: string; problem: string }[];
      invalidCanonical: string[];
    };
    const key = hexToBytes(v.pseudonymKey);

    it("every valid vector: canonical string, mask, pseudonym (HMAC of the spec's bytes), fields and leaf hash", function () {
      for (const e of v.valid) {
        const fields = { ...v.premiumBase, national_id: "", ...e.fields };
        const p = personIdFromFields(fields);
        expect(p?.ok && personIdString(p.id), e.canonical).to.equal(e.canonical);
        expect(maskPersonId(e.canonical)).to.equal(e.masked);
        const independent = bytesToHex(
          hmac(sha256, key, new TextEncoder().encode("shafaf/subject/v1\u0000" + e.canonical)),
        );
        expect(subjectPseudonym(key, e.canonical)).to.equal(e.subject).and.equal(independent);
        const r = validateRecord("premium", fields);
        if (!r.ok) throw new Error(JSON.stringify(r.issues));
        expect(fieldsHash(r.record, v.salt)).to.equal(e.fieldsHash);
        expect(
          bytesToHex(leafHash(leafValues(r.record, { salt: v.salt, subject: e.subject }))),
        ).to.equal(e.leafHash);
      }
    });

    it("every invalid vector is refused with its problem, and every corrupted canonical string", function () {
      for (const e of v.invalidFields) {
        const p = personIdFromFields({ ...v.premiumBase, ...e.fields });
        expect(p, JSON.stringify(e.fields)).to.deep.equal({
          ok: false,
          field: e.field,
          problem: e.problem,
        });
      }
      for (const s of v.invalidCanonical) {
        expect(parsePersonId(s), s).to.equal(undefined);
        expect(() => subjectPseudonym(key, s), s).to.throw(RangeError);
      }
    });
  });
});
