import { expect } from "chai";
import fc from "fast-check";
import { DEFAULT_RATE_TABLE } from "../../src/core/rates.ts";
import { RECORD_COLUMNS } from "../../src/core/record.ts";
import { validateRecord, type RecordIssue } from "../../src/core/validate-record.ts";

const premium = (over: Record<string, string | undefined> = {}) => ({
  record_id: "W0012345678-140307-0001",
  period: "1403-07",
  national_id: "0012345679",
  workshop_code: "0012345678",
  insurance_no: "12345678",
  province: "IR-23",
  days: "30",
  wage_base: "100000000",
  worker_share: "7000000",
  employer_share: "20000000",
  unemployment_share: "3000000",
  hazard_share: "0",
  total: "30000000",
  paid_on: "1403-08-02",
  ...over,
});
const pension = (over: Record<string, string | undefined> = {}) => ({
  record_id: "P-1",
  period: "1403-07",
  national_id: "2740583311",
  pension_file: "PF900001",
  category: "retirement",
  province: "تهران",
  gross: "120000000",
  deductions: "6000000",
  net: "114000000",
  due_on: "1403-07-25",
  paid_on: "1403/07/27",
  ...over,
});

function issuesOf(r: ReturnType<typeof validateRecord>): RecordIssue[] {
  expect(r.ok).to.equal(false);
  return r.ok ? [] : r.issues;
}
const rules = (r: ReturnType<typeof validateRecord>) =>
  issuesOf(r).map((i) => `${i.field}:${i.rule}`);

describe("validateRecord", function () {
  describe("premium", function () {
    it("returns the typed record with canonical forms", function () {
      const r = validateRecord(
        "premium",
        premium({ national_id: "۰۰۱۲۳۴۵۶۷۹", province: "استان تهران", paid_on: "14030802" }),
      );
      expect(r.ok).to.equal(true);
      if (!r.ok) return;
      expect(r.record).to.deep.equal({
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
        paidOn: "1403-08-02",
      });
    });
    it("leaves optional fields out when empty", function () {
      const r = validateRecord("premium", premium({ paid_on: "" }));
      expect(r.ok && "paidOn" in r.record).to.equal(false);
    });
    it("reports every problem at once, with field, rule and a masked value", function () {
      const r = validateRecord(
        "premium",
        premium({
          national_id: "0012345678",
          days: "32",
          wage_base: "1.5",
          insurance_no: "1234",
          workshop_code: "12",
          province: "IR-31",
        }),
      );
      const issues = issuesOf(r);
      expect(issues.map((i) => `${i.field}:${i.rule}`)).to.have.members([
        "national_id:national-id.checksum",
        "days:days.range",
        "wage_base:amount.decimal",
        "insurance_no:insurance-no.format",
        "workshop_code:workshop-code.format",
        "province:province.unknown",
      ]);
      const nid = issues.find((i) => i.field === "national_id")!;
      expect(nid.value).to.equal("0********8");
      expect(issues.find((i) => i.field === "insurance_no")!.value).to.equal("**34");
      expect(issues.find((i) => i.field === "wage_base")!.value).to.not.contain("1.5");
      for (const i of issues) {
        expect(i.message).to.be.a("string").and.not.empty;
        expect(i.hint).to.be.a("string").and.not.empty;
        expect(JSON.stringify(i)).to.not.contain('0012345678"').and.not.contain('1234"');
      }
    });
    it("checks shares against the rate table and total against their sum", function () {
      expect(
        rules(validateRecord("premium", premium({ worker_share: "7000001", total: "30000001" }))),
      ).to.deep.equal(["worker_share:share.rate"]);
      expect(rules(validateRecord("premium", premium({ total: "30000001" })))).to.deep.equal([
        "total:total.sum",
      ]);
      expect(
        rules(
          validateRecord("premium", premium({ unemployment_share: "2999999", total: "29999999" })),
        ),
      ).to.deep.equal(["unemployment_share:share.rate"]);
      // unemployment 0 (not covered) and hazard 4 % are both consistent
      expect(
        validateRecord(
          "premium",
          premium({ unemployment_share: "0", hazard_share: "4000000", total: "31000000" }),
        ).ok,
      ).to.equal(true);
    });
    it("uses the table's rounding rule", function () {
      const row = premium({
        wage_base: "50",
        worker_share: "3",
        employer_share: "10",
        unemployment_share: "0",
        total: "13",
      });
      expect(rules(validateRecord("premium", row))).to.deep.equal(["worker_share:share.rate"]); // half-up gives 4
      expect(
        validateRecord("premium", row, { rates: { ...DEFAULT_RATE_TABLE, rounding: "floor" } }).ok,
      ).to.equal(true);
    });
    it("enforces the (unverified) wage limits only when asked", function () {
      const row = premium({
        wage_base: "1000",
        worker_share: "70",
        employer_share: "200",
        unemployment_share: "0",
        total: "270",
      });
      expect(validateRecord("premium", row).ok).to.equal(true);
      expect(rules(validateRecord("premium", row, { enforceWageLimits: true }))).to.deep.equal([
        "wage_base:wage.min",
      ]);
    });
    it("rejects a row of another period than the batch's", function () {
      expect(
        rules(validateRecord("premium", premium(), { expectedPeriod: "1403-08" })),
      ).to.deep.equal(["period:period.mismatch"]);
    });
    it("names missing required columns", function () {
      expect(
        rules(validateRecord("premium", premium({ national_id: undefined, total: "" }))),
      ).to.include.members(["national_id:required", "total:required"]);
    });
    it("requires a reason with supersedes", function () {
      expect(
        rules(validateRecord("premium", premium({ supersedes: "W0012345678-140307-0000" }))),
      ).to.deep.equal(["reason:reason.required"]);
      const ok = validateRecord(
        "premium",
        premium({ supersedes: "W0012345678-140307-0000", reason: "wage-correction" }),
      );
      expect(ok.ok && ok.record.supersedes).to.equal("W0012345678-140307-0000");
    });
  });

  describe("pension", function () {
    it("returns the typed record, accepting Persian category names", function () {
      const r = validateRecord("pension", pension({ category: "بازماندگان" }));
      expect(r.ok).to.equal(true);
      if (r.ok) {
        expect(r.record.category).to.equal("survivors");
        expect(r.record.province).to.equal("IR-23");
        expect(r.record.paidOn).to.equal("1403-07-27");
        expect(r.record.net).to.equal(114_000_000n);
      }
    });

    it("reads category names typed with Arabic yeh and kaf (Windows keyboards, cp1256 Excel)", function () {
      const arabicYeh = "\u0628\u0627\u0632\u0646\u0634\u0633\u062A\u06AF\u064A"; // بازنشستگي
      const r = validateRecord("pension", pension({ category: arabicYeh }));
      expect(r.ok && r.record.category).to.equal("retirement");
      const withKaf = "\u0627\u0632\u0643\u0627\u0631\u0627\u0641\u062A\u0627\u062F\u06AF\u064A"; // ازكارافتادگي
      const d = validateRecord("pension", pension({ category: withKaf }));
      expect(d.ok && d.record.category).to.equal("disability");
    });
    it("requires net = gross − deductions, existing dates and a known category", function () {
      expect(rules(validateRecord("pension", pension({ net: "114000001" })))).to.deep.equal([
        "net:net.difference",
      ]);
      expect(rules(validateRecord("pension", pension({ due_on: "1403-07-31" })))).to.deep.equal([
        "due_on:date.no-such-date",
      ]);
      expect(rules(validateRecord("pension", pension({ category: "widow" })))).to.deep.equal([
        "category:category.unknown",
      ]);
      expect(rules(validateRecord("pension", pension({ deductions: "-1" })))).to.include(
        "deductions:amount.sign",
      );
    });
  });

  it("never throws on arbitrary input (property)", function () {
    const anyField = fc.option(fc.oneof(fc.string(), fc.stringMatching(/^[0-9۰-۹.,e+-]{0,45}$/)), {
      nil: undefined,
    });
    const columns = [...new Set([...RECORD_COLUMNS.premium, ...RECORD_COLUMNS.pension])];
    fc.assert(
      fc.property(
        fc.constantFrom("premium" as const, "pension" as const),
        fc.dictionary(fc.constantFrom(...columns), anyField),
        (kind, fields) => {
          const r = validateRecord(kind, fields);
          if (!r.ok) for (const i of r.issues) expect(i.field).to.be.a("string");
        },
      ),
      { numRuns: 300 },
    );
  });
});
