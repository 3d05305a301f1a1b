import { expect } from "chai";
import fc from "fast-check";
import { bytesToHex, hexToBytes, isHexBytes } from "../../src/core/hex.ts";

/** The definitions the table decoders replaced (regular expressions and parseInt). */
const reference = {
  hexToBytes(text: string): Uint8Array | "throws" {
    if (!/^0x([0-9a-fA-F]{2})*$/.test(text)) return "throws";
    const out = new Uint8Array((text.length - 2) / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 + 2 * i, 4 + 2 * i), 16);
    return out;
  },
  isHexBytes: (text: string, bytes: number): boolean =>
    text.length === 2 + 2 * bytes && /^0x[0-9a-fA-F]*$/.test(text),
};

/** Strings near hex: "0x"/"0X"/"x0" heads, hex digits of both cases, and a few intruders. */
const nearHex = fc
  .tuple(
    fc.constantFrom("0x", "0X", "x0", "", "0"),
    fc.array(fc.constantFrom(..."0123456789abcdefABCDEFgG xz\u0660\u06f1\u0100".split("")), {
      maxLength: 70,
    }),
  )
  .map(([head, chars]) => head + chars.join(""));

const decoded = (text: string): Uint8Array | "throws" => {
  try {
    return hexToBytes(text);
  } catch (error) {
    expect(error).to.be.instanceOf(RangeError);
    return "throws";
  }
};

describe("core hex", function () {
  describe("hexToBytes", function () {
    it("decodes what bytesToHex encodes, in either case", function () {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
          expect(hexToBytes(bytesToHex(bytes))).to.deep.equal(bytes);
          const upper = "0x" + bytesToHex(bytes).slice(2).toUpperCase();
          expect(hexToBytes(upper)).to.deep.equal(bytes);
        }),
      );
    });

    it("accepts and refuses exactly what the regular expression did", function () {
      fc.assert(
        fc.property(nearHex, (text) => {
          expect(decoded(text)).to.deep.equal(reference.hexToBytes(text));
        }),
        { numRuns: 2000 },
      );
      for (const bad of ["0x0", "0xg0", "0X00", "00", "0x０٠", "0x\u0100\u0100"])
        expect(decoded(bad), bad).to.equal("throws");
    });
  });

  describe("isHexBytes", function () {
    it("agrees with the regular expression", function () {
      fc.assert(
        fc.property(nearHex, fc.integer({ min: 0, max: 34 }), (text, bytes) => {
          expect(isHexBytes(text, bytes)).to.equal(reference.isHexBytes(text, bytes));
          const exact = (text.length - 2) / 2;
          if (Number.isInteger(exact) && exact >= 0)
            expect(isHexBytes(text, exact)).to.equal(reference.isHexBytes(text, exact));
        }),
        { numRuns: 2000 },
      );
      expect(isHexBytes(42, 1)).to.equal(false);
      expect(isHexBytes(`0x${"ab".repeat(32)}`, 32)).to.equal(true);
    });
  });
});
