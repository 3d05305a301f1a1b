import { expect } from "chai";
import fc from "fast-check";
import { MEMO_TEXT_MAX_LENGTH, memoText } from "../../src/core/memo-text.ts";
import { checkRials } from "../../src/core/money.ts";
import { checkNationalId } from "../../src/core/national-id.ts";
import { normalizeDigits } from "../../src/core/digits.ts";
import {
  newReceiptCode,
  parseReceiptCode,
  RECEIPT_CODE_ALPHABET,
} from "../../src/core/receipt-code.ts";

describe("memoText", function () {
  it("computes each text once, remembers undefined results, and empties itself when full", function () {
    const calls: string[] = [];
    const f = memoText((t: string) => {
      calls.push(t);
      return t === "none" ? undefined : t.length;
    }, 3);
    expect([f("ab"), f("ab"), f("none"), f("none"), f("abc")]).to.deep.equal([
      2,
      2,
      undefined,
      undefined,
      3,
    ]);
    expect(calls).to.deep.equal(["ab", "none", "abc"]);
    f("d"); // full: emptied, then "d" kept
    f("ab");
    expect(calls).to.deep.equal(["ab", "none", "abc", "d", "ab"]);
    const long = "x".repeat(MEMO_TEXT_MAX_LENGTH + 1);
    f(long);
    f(long); // never remembered: computed each time
    expect(calls.slice(5)).to.deep.equal([long, long]);
  });
});

describe("checkRials's ASCII fast path", function () {
  it("gives what the general path gives (property: the same digits with a space go the long way)", function () {
    const digits = fc.stringMatching(/^[0-9]{0,45}$/);
    const max = fc.option(fc.bigInt({ min: 0n, max: 1n << 130n }), { nil: undefined });
    fc.assert(
      fc.property(digits, max, (text, m) => {
        const options = m === undefined ? {} : { max: m };
        expect(checkRials(text, options)).to.deep.equal(checkRials(` ${text} `, options));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("checkNationalId without regular expressions", function () {
  /** The rules as regular expressions (the implementation before the char-code loop). */
  function reference(text: string): string {
    const id = normalizeDigits(text.trim());
    if (!/^[0-9]{10}$/.test(id)) return "format";
    if (/^(\d)\1{9}$/.test(id)) return "repdigit";
    let s = 0;
    for (let i = 0; i < 9; i++) s += (id.charCodeAt(i) - 48) * (10 - i);
    const r = s % 11;
    const check = id.charCodeAt(9) - 48;
    return (r < 2 ? check === r : check === 11 - r) ? "ok" : "checksum";
  }

  it("classifies every text as the regular expressions do (property)", function () {
    const text = fc.oneof(
      fc.stringMatching(/^[0-9]{10}$/),
      fc.stringMatching(/^\s?[0-9۰-۹٠-٩a\n]{8,12}\s?$/),
      fc.integer({ min: 0, max: 9 }).map((d) => String(d).repeat(10)),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(text, (t) => {
        const r = checkNationalId(t);
        expect(r.ok ? "ok" : r.problem, JSON.stringify(t)).to.equal(reference(t));
      }),
      { numRuns: 3000 },
    );
  });
});

describe("normalizeDigits's ASCII fast path", function () {
  it("changes Persian and Arabic-Indic digits only, wherever they are (property)", function () {
    const text = fc.string({
      unit: fc.constantFrom("1", "a", "۱", "٩", "ی", "\u065f", "\u066a", " "),
    });
    fc.assert(
      fc.property(text, (t) => {
        const want = t.replace(/[\u06F0-\u06F9\u0660-\u0669]/g, (c) => {
          const code = c.charCodeAt(0);
          return String.fromCharCode(48 + (code >= 0x06f0 ? code - 0x06f0 : code - 0x0660));
        });
        expect(normalizeDigits(t)).to.equal(want);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("newReceiptCode without arrays per code", function () {
  it("groups the same symbols as map/join/match did, and every code parses back (property)", function () {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 17, maxLength: 17 }), (bytes) => {
        const code = newReceiptCode(bytes);
        const symbols = code.replace(/-/g, "");
        expect(symbols).to.have.length(27);
        const grouped = [...symbols].map((c) => RECEIPT_CODE_ALPHABET.indexOf(c));
        const reference = grouped
          .map((v) => RECEIPT_CODE_ALPHABET[v]!)
          .join("")
          .match(/.{1,4}/g)!
          .join("-");
        expect(code).to.equal(reference);
        // The 130 random bits, 5 per symbol, most significant first.
        let bits = "";
        for (const b of bytes) bits += b.toString(2).padStart(8, "0");
        const want = Array.from({ length: 26 }, (_, i) =>
          parseInt(bits.slice(5 * i, 5 * i + 5), 2),
        );
        expect(grouped.slice(0, 26)).to.deep.equal(want);
        expect(parseReceiptCode(code)).to.deep.equal({ ok: true, code });
      }),
      { numRuns: 500 },
    );
  });
});
