import { expect } from "chai";
import fc from "fast-check";
import { normalizeDigits, toPersianDigits } from "../../src/core/digits.ts";
import { checkJalaliDate, jalaliDateOf, jalaliToGregorianDate } from "../../src/core/jalali.ts";
import { checkRials, formatRials, MAX_UINT128, parseRials } from "../../src/core/money.ts";
import { checkNationalId, maskNationalId } from "../../src/core/national-id.ts";
import { parsePeriod, periodFromNumber, periodToNumber } from "../../src/core/period.ts";
import { parseProvince, PROVINCES } from "../../src/core/province.ts";

describe("digits", function () {
  it("normalizes Persian and Arabic-Indic digits and keeps everything else", function () {
    expect(normalizeDigits("۱۴۰۳-۰۷ ٠١٢٣٤٥٦٧٨٩ abc")).to.equal("1403-07 0123456789 abc");
    expect(toPersianDigits("1403")).to.equal("۱۴۰۳");
  });
});

describe("checkNationalId", function () {
  it("accepts DOMAIN.md's valid examples, in any digits", function () {
    for (const id of ["0012345679", "1234567891", "2740583311", "۰۰۱۲۳۴۵۶۷۹", " 2740583311 "]) {
      expect(checkNationalId(id).ok, id).to.equal(true);
    }
  });
  it("rejects DOMAIN.md's invalid examples by checksum", function () {
    for (const id of ["0012345678", "1234567890", "2740583310"]) {
      expect(checkNationalId(id)).to.deep.equal({ ok: false, problem: "checksum" });
    }
  });
  it("rejects the ten repdigits even though 1111111111 passes the arithmetic", function () {
    for (let d = 0; d <= 9; d++) {
      expect(checkNationalId(String(d).repeat(10))).to.deep.equal({
        ok: false,
        problem: "repdigit",
      });
    }
  });
  it("rejects wrong lengths and non-digits", function () {
    for (const id of ["", "123456789", "00123456790", "00123-5679", "001234567a"]) {
      expect(checkNationalId(id)).to.deep.equal({ ok: false, problem: "format" });
    }
  });
  it("has exactly one valid check digit for every nine-digit prefix (property)", function () {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{9}$/), (prefix) => {
        const valid = [..."0123456789"].filter((d) => checkNationalId(prefix + d).ok);
        const rep = /^(\d)\1{8}$/.test(prefix) ? 1 : 0;
        expect(valid.length).to.be.oneOf([1 - rep, 1]);
      }),
      { numRuns: 300 },
    );
  });
  it("masks all but the first and last digit", function () {
    expect(maskNationalId("0012345679")).to.equal("0********9");
  });
});

describe("checkJalaliDate", function () {
  it("accepts the three layouts in any digits and returns YYYY-MM-DD", function () {
    expect(checkJalaliDate("1403-07-02")).to.deep.equal({ ok: true, date: "1403-07-02" });
    expect(checkJalaliDate("1403/7/2")).to.deep.equal({ ok: true, date: "1403-07-02" });
    expect(checkJalaliDate("14030702")).to.deep.equal({ ok: true, date: "1403-07-02" });
    expect(checkJalaliDate("۱۴۰۳/۰۷/۰۲")).to.deep.equal({ ok: true, date: "1403-07-02" });
  });
  it("rejects days that do not exist", function () {
    expect(checkJalaliDate("1403-07-31").ok).to.equal(false); // Mehr has 30 days
    expect(checkJalaliDate("1404-12-30").ok).to.equal(false); // 1404 is a common year
    expect(checkJalaliDate("1403-12-30").ok).to.equal(true); // 1403 is a leap year
    expect(checkJalaliDate("1403-00-10").ok).to.equal(false);
    expect(checkJalaliDate("1403-13-01").ok).to.equal(false);
  });
  it("rejects mixed separators, two-digit years and years out of range", function () {
    expect(checkJalaliDate("1403-07/02")).to.deep.equal({ ok: false, problem: "format" });
    expect(checkJalaliDate("03-07-02")).to.deep.equal({ ok: false, problem: "format" });
    expect(checkJalaliDate("1299-01-01")).to.deep.equal({ ok: false, problem: "year-range" });
  });
  it("converts to Gregorian and reads instants in Tehran time (UTC+03:30)", function () {
    expect(jalaliToGregorianDate("1403-01-01").toISOString().slice(0, 10)).to.equal("2024-03-20");
    // 2024-03-19T21:00Z is 00:30 on 1 Farvardin 1403 in Tehran.
    expect(jalaliDateOf(new Date("2024-03-19T21:00:00Z"))).to.equal("1403-01-01");
    expect(jalaliDateOf(new Date("2024-03-19T20:00:00Z"))).to.equal("1402-12-29");
  });
});

describe("period", function () {
  it("parses the common spellings into YYYY-MM", function () {
    for (const p of ["1403-07", "1403/07", "1403-7", "140307", "۱۴۰۳-۰۷"])
      expect(parsePeriod(p), p).to.equal("1403-07");
  });
  it("rejects impossible months and malformed input", function () {
    for (const p of ["1403-13", "1403-00", "14037", "1403-07-01", "", "1403--07"])
      expect(parsePeriod(p), p).to.equal(undefined);
  });
  it("round-trips through the on-chain YYYYMM number (property)", function () {
    fc.assert(
      fc.property(fc.integer({ min: 1300, max: 1600 }), fc.integer({ min: 1, max: 12 }), (y, m) => {
        const p = `${y}-${String(m).padStart(2, "0")}`;
        expect(periodToNumber(p)).to.equal(y * 100 + m);
        expect(periodFromNumber(periodToNumber(p))).to.equal(p);
      }),
    );
    expect(() => periodToNumber("1403-7")).to.throw(RangeError);
    expect(() => periodFromNumber(140313)).to.throw(RangeError);
  });
});

describe("parseProvince", function () {
  it("knows all 31 codes IR-00 … IR-30 with unique names", function () {
    expect(PROVINCES.map((p) => p.code)).to.deep.equal(
      Array.from({ length: 31 }, (_, i) => `IR-${String(i).padStart(2, "0")}`),
    );
    for (const p of PROVINCES) {
      expect(parseProvince(p.fa)).to.equal(p.code);
      expect(parseProvince(p.en)).to.equal(p.code);
    }
  });
  it("accepts codes loosely and names with Arabic letter variants and the word استان", function () {
    expect(parseProvince("ir-23")).to.equal("IR-23");
    expect(parseProvince("IR23")).to.equal("IR-23");
    expect(parseProvince("IR-۲۳")).to.equal("IR-23");
    expect(parseProvince("استان تهران")).to.equal("IR-23");
    expect(parseProvince("كرمان")).to.equal("IR-08"); // Arabic kaf
    expect(parseProvince("سيستان و بلوچستان")).to.equal("IR-11"); // Arabic yeh
    expect(parseProvince("آذربایجان‌شرقی")).to.equal("IR-03"); // ZWNJ
  });
  it("rejects unknown provinces", function () {
    for (const p of ["IR-31", "IR-99", "Atlantis", "", "IR-"])
      expect(parseProvince(p), p).to.equal(undefined);
  });
});

describe("parseRials", function () {
  it("parses integer Rials in any digits with well-formed grouping", function () {
    expect(parseRials("71661840")).to.equal(71661840n);
    expect(parseRials("۷۱٬۶۶۱٬۸۴۰")).to.equal(71661840n);
    expect(parseRials("1,234,567")).to.equal(1234567n);
    expect(parseRials("0")).to.equal(0n);
    expect(parseRials("000123")).to.equal(123n);
  });
  it("names the problem with decimals, exponents, signs, bad grouping and overflow", function () {
    const cases: [string, string][] = [
      ["1.5", "decimal"],
      ["12.0", "decimal"],
      ["۱۲٫۵", "decimal"],
      ["1e6", "exponent"],
      ["1E+6", "exponent"],
      ["-5", "sign"],
      ["+5", "sign"],
      ["1,23,456", "grouping"],
      ["12,34", "grouping"],
      ["", "empty"],
      ["12 345", "format"],
      ["0x10", "format"],
      [(MAX_UINT128 + 1n).toString(), "overflow"],
      ["9".repeat(100), "overflow"],
    ];
    for (const [text, problem] of cases)
      expect(checkRials(text), text).to.deep.equal({ ok: false, problem });
    expect(checkRials(MAX_UINT128.toString())).to.deep.equal({ ok: true, value: MAX_UINT128 });
    expect(checkRials("-5", { allowNegative: true })).to.deep.equal({ ok: true, value: -5n });
    expect(() => parseRials("1.5")).to.throw(RangeError, /decimal/);
  });
  it("round-trips every uint128 through formatRials (property)", function () {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_UINT128 }), (v) => {
        expect(parseRials(formatRials(v))).to.equal(v);
        expect(parseRials(v.toString())).to.equal(v);
      }),
    );
  });
});
