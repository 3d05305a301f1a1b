import { expect } from "chai";
import {
  formatInteger,
  formatJalaliDate,
  formatPeriod,
  formatTimestamp,
  localDigits,
  parseDecimal,
  parsePeriodInput,
  provinceName,
} from "../../src/web/format.ts";
import { MESSAGES, message } from "../../src/web/messages.ts";

const placeholders = (text: string): string[] =>
  [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).sort();

describe("portal messages", function () {
  it("Persian and English have the same keys and the same placeholders", function () {
    expect(Object.keys(MESSAGES.fa).sort()).to.deep.equal(Object.keys(MESSAGES.en).sort());
    for (const key of Object.keys(MESSAGES.en) as (keyof typeof MESSAGES.en)[]) {
      expect(placeholders(MESSAGES.fa[key]), key).to.deep.equal(placeholders(MESSAGES.en[key]));
      expect(MESSAGES.fa[key].trim(), key).to.not.equal("");
    }
  });
  it("Persian text is Persian (except names that are the same in both)", function () {
    const same = new Set(["check_other"]);
    for (const [key, text] of Object.entries(MESSAGES.fa)) {
      if (same.has(key) || key === "switchTo" || key === "switchToLabel") continue;
      expect(/[\u0600-\u06ff]/.test(text), `${key}: ${text}`).to.equal(true);
    }
  });
  it("fills placeholders and leaves unknown ones visible", function () {
    expect(message("fa", "batchTitle", { id: "۱۲" })).to.equal("دستهٔ ۱۲");
    expect(message("en", "batchTitle", {})).to.equal("Batch {id}");
  });
  it("says «کمتر از ۱۰ نفر» / fewer than 10 people for suppressed cells", function () {
    expect(MESSAGES.fa.suppressed).to.equal("کمتر از ۱۰ نفر");
    expect(MESSAGES.en.suppressed).to.equal("fewer than 10 people");
  });
});

describe("portal formatting", function () {
  it("writes Persian digits in Persian and groups thousands", function () {
    expect(localDigits("1403-07", "fa")).to.equal("۱۴۰۳-۰۷");
    expect(localDigits("1403-07", "en")).to.equal("1403-07");
    expect(formatInteger("1234567", "fa")).to.equal("۱٬۲۳۴٬۵۶۷");
    expect(formatInteger("1234567", "en")).to.equal("1,234,567");
    expect(formatInteger(340282366920938463463374607431768211455n, "en")).to.equal(
      "340,282,366,920,938,463,463,374,607,431,768,211,455",
    );
  });
  it("shows a non-canonical amount as given rather than guessing", function () {
    expect(formatInteger("12.5", "en")).to.equal("12.5");
    expect(parseDecimal("007")).to.equal(undefined);
    expect(parseDecimal("")).to.equal(undefined);
    expect(parseDecimal("0")).to.equal(0n);
  });
  it("names Jalali months in both languages", function () {
    expect(formatPeriod("1403-07", "fa")).to.equal("مهر ۱۴۰۳");
    expect(formatPeriod("1403-07", "en")).to.equal("Mehr 1403");
    expect(formatPeriod("1403-12", "en")).to.equal("Esfand 1403");
    expect(formatPeriod("1403-13", "en")).to.equal("1403-13");
    expect(formatJalaliDate("1403-08-02", "fa")).to.equal("۲ آبان ۱۴۰۳");
    expect(formatJalaliDate("1403-08-02", "en")).to.equal("2 Aban 1403");
  });
  it("formats timestamps on the Jalali calendar in Tehran time", function () {
    // 2024-10-06T12:00:00Z is 15 Mehr 1403, 15:30 in Tehran
    const fa = formatTimestamp(1_728_216_000, "fa");
    expect(fa).to.include("۱۴۰۳");
    expect(fa).to.include("مهر");
    expect(fa).to.include("۱۵");
    expect(fa).to.include("به وقت تهران");
    const en = formatTimestamp(1_728_216_000, "en");
    expect(en).to.include("Mehr");
    expect(en).to.include("1403");
    expect(en).to.match(/3:30/);
    expect(en).to.include("(Tehran time)");
  });
  it("reads months typed with Persian or Arabic digits and slashes", function () {
    expect(parsePeriodInput("۱۴۰۳/۷")).to.equal("1403-07");
    expect(parsePeriodInput(" ١٤٠٣-١٢ ")).to.equal("1403-12");
    expect(parsePeriodInput("1403-13")).to.equal(undefined);
    expect(parsePeriodInput("1403-0")).to.equal(undefined);
    expect(parsePeriodInput("14-3")).to.equal(undefined);
    expect(parsePeriodInput("")).to.equal(undefined);
  });
  it("names provinces from core's table", function () {
    expect(provinceName("IR-23", "fa")).to.equal("تهران");
    expect(provinceName("IR-23", "en")).to.equal("Tehran");
    expect(provinceName("IR-99", "en")).to.equal("IR-99");
  });
});
