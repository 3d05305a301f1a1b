import { expect } from "chai";
import fc from "fast-check";
import { decodeCp1256 } from "../../src/ingest/cp1256.ts";
import {
  decodeIranSystem,
  encodeIranSystem,
  IranSystemEncodeError,
  iranSystemPlausibility,
  normalizeForIranSystem,
  reorderVisual,
} from "../../src/ingest/iran-system.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const bytes = (h: string) => Uint8Array.from(Buffer.from(h.replace(/ /g, ""), "hex"));

/**
 * The Iran System chart, written out independently of the codec's table: each letter's bytes as
 * [isolated, final, initial, medial].
 */
const DUAL: readonly (readonly [string, number, number, number, number])[] = [
  ["ب", 0x92, 0x92, 0x93, 0x93],
  ["پ", 0x94, 0x94, 0x95, 0x95],
  ["ت", 0x96, 0x96, 0x97, 0x97],
  ["ث", 0x98, 0x98, 0x99, 0x99],
  ["ج", 0x9a, 0x9a, 0x9b, 0x9b],
  ["چ", 0x9c, 0x9c, 0x9d, 0x9d],
  ["ح", 0x9e, 0x9e, 0x9f, 0x9f],
  ["خ", 0xa0, 0xa0, 0xa1, 0xa1],
  ["س", 0xa7, 0xa7, 0xa8, 0xa8],
  ["ش", 0xa9, 0xa9, 0xaa, 0xaa],
  ["ص", 0xab, 0xab, 0xac, 0xac],
  ["ض", 0xad, 0xad, 0xae, 0xae],
  ["ط", 0xaf, 0xaf, 0xaf, 0xaf],
  ["ظ", 0xe0, 0xe0, 0xe0, 0xe0],
  ["ع", 0xe1, 0xe2, 0xe4, 0xe3],
  ["غ", 0xe5, 0xe6, 0xe8, 0xe7],
  ["ف", 0xe9, 0xe9, 0xea, 0xea],
  ["ق", 0xeb, 0xeb, 0xec, 0xec],
  ["ک", 0xed, 0xed, 0xee, 0xee],
  ["گ", 0xef, 0xef, 0xf0, 0xf0],
  ["ل", 0xf1, 0xf1, 0xf3, 0xf3],
  ["م", 0xf4, 0xf4, 0xf5, 0xf5],
  ["ن", 0xf6, 0xf6, 0xf7, 0xf7],
  ["ه", 0xf9, 0xf9, 0xfb, 0xfa],
  ["ی", 0xfd, 0xfc, 0xfe, 0xfe],
  ["ئ", 0x8e, 0x8e, 0x8e, 0x8e],
];
/** Right-joining letters: [isolated, final]. */
const RIGHT: readonly (readonly [string, number, number])[] = [
  ["ا", 0x90, 0x91],
  ["آ", 0x8d, 0x8d],
  ["د", 0xa2, 0xa2],
  ["ذ", 0xa3, 0xa3],
  ["ر", 0xa4, 0xa4],
  ["ز", 0xa5, 0xa5],
  ["ژ", 0xa6, 0xa6],
  ["و", 0xf8, 0xf8],
];

describe("Iran System codec", function () {
  describe("decodeIranSystem", function () {
    it("decodes the DOMAIN.md examples exactly", function () {
      expect(decodeIranSystem(bytes("fc f7 90 a4 fe 90"))).to.equal("ایرانی");
      expect(decodeIranSystem(bytes("f6 a5"))).to.equal("زن");
      expect(decodeIranSystem(bytes("a2 a4 f5"))).to.equal("مرد");
    });

    it("decodes names as ListDisk stored them in real lists", function () {
      expect(decodeIranSystem(bytes("fc f3 e4"))).to.equal("علی");
      expect(decodeIranSystem(bytes("f6 fe a8 9f a2 f5 9f f5"))).to.equal("محمدحسین");
      expect(decodeIranSystem(bytes("f6 a8 9f"))).to.equal("حسن");
    });

    it("decodes the same bytes differently from cp1256, which gives gibberish", function () {
      const b = bytes("fc f7 90 a4 fe 90");
      expect(decodeCp1256(b)).to.not.equal("ایرانی");
      expect(decodeCp1256(b)).to.not.match(/^[\u0600-\u06ff]+$/);
    });

    it("puts a ZWNJ back where a letter in final form precedes a joining letter", function () {
      // «می‌روم»: م initial, ی final (before the ZWNJ), ر, و, م isolated.
      expect(decodeIranSystem(bytes("f4 f8 a4 fc f5"))).to.equal("می\u200cروم");
    });

    it("reads the «لا» ligature 0xF2 as two letters", function () {
      expect(decodeIranSystem(bytes("f4 f2 a8"))).to.equal("سلام");
      expect(decodeIranSystem(bytes("f9 f3 f2"))).to.equal("لاله");
    });

    it("keeps digits and Latin runs in reading order", function () {
      // «سال ۱۴۰۳» on screen: the number at the left, in reading order, then «سال» reversed.
      expect(decodeIranSystem(bytes("81 84 80 83 20 f1 91 a8"))).to.equal("سال ۱۴۰۳");
      expect(decodeIranSystem(Buffer.from("ABC 123", "latin1"))).to.equal("ABC 123");
    });
  });

  describe("encodeIranSystem", function () {
    it("encodes every dual-joining letter in each of its four contextual forms", function () {
      for (const [letter, isolated, final, initial, medial] of DUAL) {
        // Visual order reverses the logical order: the letter under test sits in the middle.
        expect(hex(encodeIranSystem(letter)), `${letter} isolated`).to.equal(
          hex(Uint8Array.of(isolated)),
        );
        expect(hex(encodeIranSystem(`ب${letter}`)), `${letter} final`).to.equal(
          hex(Uint8Array.of(final, 0x93)),
        );
        expect(hex(encodeIranSystem(`${letter}ب`)), `${letter} initial`).to.equal(
          hex(Uint8Array.of(0x92, initial)),
        );
        expect(hex(encodeIranSystem(`ب${letter}ب`)), `${letter} medial`).to.equal(
          hex(Uint8Array.of(0x92, medial, 0x93)),
        );
        for (const word of [letter, `ب${letter}`, `${letter}ب`, `ب${letter}ب`]) {
          expect(decodeIranSystem(encodeIranSystem(word)), word).to.equal(word);
        }
      }
    });

    it("encodes every right-joining letter isolated and final, and never joins the next letter", function () {
      for (const [letter, isolated, final] of RIGHT) {
        expect(hex(encodeIranSystem(letter))).to.equal(hex(Uint8Array.of(isolated)));
        expect(hex(encodeIranSystem(`ب${letter}`))).to.equal(hex(Uint8Array.of(final, 0x93)));
        // The letter after a right-joining one starts a new connection: ب isolated.
        expect(hex(encodeIranSystem(`${letter}ب`))).to.equal(hex(Uint8Array.of(0x92, isolated)));
        for (const word of [letter, `ب${letter}`, `${letter}ب`, `ب${letter}ب`]) {
          expect(decodeIranSystem(encodeIranSystem(word)), word).to.equal(word);
        }
      }
    });

    it("encodes the DOMAIN.md examples to their bytes", function () {
      expect(hex(encodeIranSystem("ایرانی"))).to.equal("fcf790a4fe90");
      expect(hex(encodeIranSystem("زن"))).to.equal("f6a5");
      expect(hex(encodeIranSystem("مرد"))).to.equal("a2a4f5");
      expect(hex(encodeIranSystem("محمدحسین"))).to.equal("f6fea89fa2f59ff5");
    });

    it("writes «لا» as the ligature, joined or not to the letter before", function () {
      expect(hex(encodeIranSystem("لا"))).to.equal("f2");
      expect(hex(encodeIranSystem("سلام"))).to.equal("f4f2a8");
      expect(hex(encodeIranSystem("لاله"))).to.equal("f9f3f2");
      expect(hex(encodeIranSystem("بلا"))).to.equal("f293");
    });

    it("encodes Persian digits as 0x80–0x89 in reading order, Arabic-Indic digits too", function () {
      expect(hex(encodeIranSystem("۰۱۲۳۴۵۶۷۸۹"))).to.equal("80818283848586878889");
      expect(hex(encodeIranSystem("٠١٢٣٤٥٦٧٨٩"))).to.equal("80818283848586878889");
      expect(decodeIranSystem(encodeIranSystem("۰۱۲۳۴۵۶۷۸۹"))).to.equal("۰۱۲۳۴۵۶۷۸۹");
    });

    it("keeps runs of Latin letters and digits in logical order inside reversed Persian text", function () {
      const text = "کد ABC-123 در تهران";
      const enc = encodeIranSystem(text);
      expect(Buffer.from(enc).toString("latin1")).to.contain("ABC-123");
      expect(decodeIranSystem(enc)).to.equal(text);
      expect(decodeIranSystem(encodeIranSystem("پلاک ۳۴ و ۱۲"))).to.equal("پلاک ۳۴ و ۱۲");
    });

    it("turns a ZWNJ into a joining break and does not write it", function () {
      const enc = encodeIranSystem("خانه‌ها");
      expect(hex(enc)).to.equal("91fbf9f791a1");
      expect(decodeIranSystem(enc)).to.equal("خانه‌ها");
    });

    it("mirrors brackets in right-to-left text", function () {
      expect(hex(encodeIranSystem("(تست)"))).to.equal("2896a89729");
      expect(decodeIranSystem(encodeIranSystem("(تست)"))).to.equal("(تست)");
    });

    it("folds Arabic letters and drops diacritics", function () {
      expect(normalizeForIranSystem("علي كريمي")).to.equal("علی کریمی");
      expect(decodeIranSystem(encodeIranSystem("مُحَمَّد"))).to.equal("محمد");
      expect(decodeIranSystem(encodeIranSystem("فاطمة"))).to.equal("فاطمه");
    });

    it("refuses characters outside the code page, naming the code point and not the text", function () {
      expect(() => encodeIranSystem("Zoë")).to.throw(
        IranSystemEncodeError,
        /U\+00EB at position 3/,
      );
      try {
        encodeIranSystem("Zoë");
      } catch (error) {
        expect((error as Error).message).to.not.contain("Zo");
      }
    });

    it("round-trips random mixed Persian, Latin and digit text (property)", function () {
      const letters = [...DUAL.map((d) => d[0]), ...RIGHT.map((r) => r[0]), "ء", "ـ", "لا"];
      const alphabet = fc.constantFrom(...letters, ..."۰۱۲۳۴۵۶۷۸۹0123456789ABCxyz .,-/()،؟");
      fc.assert(
        fc.property(fc.array(alphabet, { maxLength: 40 }), (parts) => {
          const text = parts.join("");
          expect(decodeIranSystem(encodeIranSystem(text))).to.equal(text);
        }),
        { numRuns: 2000 },
      );
    });
  });

  describe("reorderVisual", function () {
    it("is an involution (property)", function () {
      const classes = ["ltr", "joiner", "neutral", "rtl"] as const;
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 60 }), (units) => {
          const bidi = (u: number) => classes[u]!;
          expect(reorderVisual(reorderVisual(units, bidi), bidi)).to.deep.equal(units);
        }),
      );
    });
  });

  describe("iranSystemPlausibility", function () {
    it("is high for Iran System text and low for cp1256 Persian", function () {
      expect(iranSystemPlausibility(encodeIranSystem("محمد رضا کریمی"))).to.equal(1);
      // «ایرانی» in cp1256: ا=C7 ی=ED ر=D1 …: C7 and D1 are box drawing in Iran System.
      expect(iranSystemPlausibility(bytes("c7 ed d1 c7 e4 ed"))).to.be.below(0.6);
      expect(iranSystemPlausibility(Buffer.from("ASCII only"))).to.equal(undefined);
    });
  });
});
