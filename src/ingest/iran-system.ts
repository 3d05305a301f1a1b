/**
 * The Iran System code page (the DOS-era Persian encoding that SSO's ListDisk writes into DBF
 * lists), with contextual shaping for encoding and visual-to-logical reordering.
 *
 * The byte layout (0x00–0x7F is ASCII):
 *
 * | bytes     | content                                                                   |
 * |-----------|---------------------------------------------------------------------------|
 * | 0x80–0x89 | Persian digits ۰–۹                                                        |
 * | 0x8A–0x8F | ، ـ ؟ آ ئ ء                                                               |
 * | 0x90–0xAF | ا (isolated, final), ب … ض (two forms each), د ذ ر ز ژ, ط                   |
 * | 0xB0–0xDF | box drawing (as in code page 437) — never Persian text                    |
 * | 0xE0–0xFE | ظ, ع and غ (four forms), ف ق ک گ (two), ل, «لا», ل, م ن (two), و, ه (three), ی (three) |
 * | 0xFF      | no-break space                                                            |
 *
 * Text is stored in **visual order** (left to right as displayed): Persian runs are reversed,
 * while runs of Latin letters and digits stay in reading order. There is no ZWNJ: a dual-joining
 * letter written in its isolated or final form right before another letter is where a ZWNJ was,
 * and decoding puts it back.
 *
 * Invariants (tested): for every string `s` made of encodable characters in normal form
 * (`normalizeForIranSystem(s) === s`), `decodeIranSystem(encodeIranSystem(s)) === s`; and
 * `reorderVisual` is an involution, so one function turns logical into visual order and back.
 */
import { ShafafError } from "../core/errors.ts";

/** Joining behaviour of a letter (Unicode ArabicShaping classes, reduced to what Persian needs). */
type Joining = "dual" | "right" | "none";

/** The byte for each contextual form of a letter: isolated, final, initial, medial. */
interface LetterForms {
  readonly joining: Joining;
  readonly forms: readonly [isolated: number, final: number, initial: number, medial: number];
}

const dual = (isolated: number, final: number, initial: number, medial: number): LetterForms => ({
  joining: "dual",
  forms: [isolated, final, initial, medial],
});
const right = (isolated: number, final = isolated): LetterForms => ({
  joining: "right",
  forms: [isolated, final, isolated, final],
});
const none = (byte: number): LetterForms => ({ joining: "none", forms: [byte, byte, byte, byte] });

/** Letter → its bytes by form. Keys are the normalised Persian code points. */
const LETTERS: ReadonlyMap<string, LetterForms> = new Map([
  ["\u0622", right(0x8d)], // آ
  ["\u0626", dual(0x8e, 0x8e, 0x8e, 0x8e)], // ئ (one glyph in the code page)
  ["\u0621", none(0x8f)], // ء
  ["\u0627", right(0x90, 0x91)], // ا
  ["\u0628", dual(0x92, 0x92, 0x93, 0x93)], // ب
  ["\u067e", dual(0x94, 0x94, 0x95, 0x95)], // پ
  ["\u062a", dual(0x96, 0x96, 0x97, 0x97)], // ت
  ["\u062b", dual(0x98, 0x98, 0x99, 0x99)], // ث
  ["\u062c", dual(0x9a, 0x9a, 0x9b, 0x9b)], // ج
  ["\u0686", dual(0x9c, 0x9c, 0x9d, 0x9d)], // چ
  ["\u062d", dual(0x9e, 0x9e, 0x9f, 0x9f)], // ح
  ["\u062e", dual(0xa0, 0xa0, 0xa1, 0xa1)], // خ
  ["\u062f", right(0xa2)], // د
  ["\u0630", right(0xa3)], // ذ
  ["\u0631", right(0xa4)], // ر
  ["\u0632", right(0xa5)], // ز
  ["\u0698", right(0xa6)], // ژ
  ["\u0633", dual(0xa7, 0xa7, 0xa8, 0xa8)], // س
  ["\u0634", dual(0xa9, 0xa9, 0xaa, 0xaa)], // ش
  ["\u0635", dual(0xab, 0xab, 0xac, 0xac)], // ص
  ["\u0636", dual(0xad, 0xad, 0xae, 0xae)], // ض
  ["\u0637", dual(0xaf, 0xaf, 0xaf, 0xaf)], // ط
  ["\u0638", dual(0xe0, 0xe0, 0xe0, 0xe0)], // ظ
  ["\u0639", dual(0xe1, 0xe2, 0xe4, 0xe3)], // ع
  ["\u063a", dual(0xe5, 0xe6, 0xe8, 0xe7)], // غ
  ["\u0641", dual(0xe9, 0xe9, 0xea, 0xea)], // ف
  ["\u0642", dual(0xeb, 0xeb, 0xec, 0xec)], // ق
  ["\u06a9", dual(0xed, 0xed, 0xee, 0xee)], // ک
  ["\u06af", dual(0xef, 0xef, 0xf0, 0xf0)], // گ
  ["\u0644", dual(0xf1, 0xf1, 0xf3, 0xf3)], // ل
  ["\u0645", dual(0xf4, 0xf4, 0xf5, 0xf5)], // م
  ["\u0646", dual(0xf6, 0xf6, 0xf7, 0xf7)], // ن
  ["\u0648", right(0xf8)], // و
  ["\u0647", dual(0xf9, 0xf9, 0xfb, 0xfa)], // ه
  ["\u06cc", dual(0xfd, 0xfc, 0xfe, 0xfe)], // ی
  ["\u0640", dual(0x8b, 0x8b, 0x8b, 0x8b)], // ـ tatweel joins on both sides
]);

const LAM_ALEF_BYTE = 0xf2;
const LAM = "\u0644";
const ALEF = "\u0627";
const ZWNJ = "\u200c";

/** Code page 437's glyphs for 0xB0–0xDF, which Iran System keeps for box drawing. */
const BOX_DRAWING = "░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀";

/** Byte → text (one unit per byte; 0xF2 is the two letters «لا»). */
const DECODE: readonly string[] = (() => {
  const table: string[] = [];
  for (let b = 0; b < 0x80; b++) table[b] = String.fromCharCode(b);
  for (let d = 0; d < 10; d++) table[0x80 + d] = String.fromCharCode(0x06f0 + d);
  table[0x8a] = "\u060c"; // ،
  table[0x8c] = "\u061f"; // ؟
  for (let b = 0xb0; b <= 0xdf; b++) table[b] = BOX_DRAWING[b - 0xb0]!;
  table[0xff] = "\u00a0";
  table[LAM_ALEF_BYTE] = LAM + ALEF;
  for (const [letter, { forms }] of LETTERS) for (const b of forms) table[b] = letter;
  return table;
})();

/** Bytes that can appear in Persian text (letters, digits, punctuation); the rest of 0x80–0xFF cannot. */
export function isIranSystemTextByte(byte: number): boolean {
  return byte < 0x80 || byte <= 0xaf || (byte >= 0xe0 && byte <= 0xfe);
}

/** Dual-joining letter bytes in isolated or final form: a letter right after one had a ZWNJ between. */
const NON_JOINING_NEXT: ReadonlySet<number> = (() => {
  const set = new Set<number>();
  for (const { joining, forms } of LETTERS.values()) {
    if (joining === "dual" && forms[0] !== forms[2]) {
      set.add(forms[0]);
      set.add(forms[1]);
    }
  }
  return set;
})();

const PERSIAN_DIGIT_0 = 0x06f0;

/** A unit of visual reordering: the bytes or text of one character (or of «لا»). */
type Bidi = "ltr" | "joiner" | "neutral" | "rtl";

function bidiOfChar(ch: string): Bidi {
  const c = ch.charCodeAt(0);
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) {
    return "ltr";
  }
  if (c >= PERSIAN_DIGIT_0 && c <= PERSIAN_DIGIT_0 + 9) return "ltr";
  if (" .,-/:_+@#%&'".includes(ch)) return "joiner";
  if (c < 0x80) return "neutral";
  return "rtl";
}

const MIRROR: Readonly<Record<string, string>> = {
  "(": ")",
  ")": "(",
  "[": "]",
  "]": "[",
  "{": "}",
  "}": "{",
  "<": ">",
  ">": "<",
};

/**
 * Reverses a line of units from logical to visual order or back (the same function both ways):
 * the whole line is reversed, then every run of left-to-right units (Latin letters and digits,
 * with spaces and `. , - / : _ + @ # % & '` between them) is reversed back, and brackets outside
 * those runs are mirrored.
 *
 * Invariant: `reorderVisual(reorderVisual(u, f), f)` equals `u`.
 */
export function reorderVisual<T>(
  units: readonly T[],
  bidiOf: (unit: T) => Bidi,
  mirror?: (unit: T) => T,
): T[] {
  const out = units.slice().reverse();
  const classes = out.map(bidiOf);
  let i = 0;
  while (i < out.length) {
    if (classes[i] !== "ltr") {
      if (mirror !== undefined) out[i] = mirror(out[i]!);
      i++;
      continue;
    }
    // Extend the run while joiners lead to another LTR unit.
    let end = i + 1; // exclusive end of the run so far (always after an LTR unit)
    let j = end;
    while (j < out.length && (classes[j] === "ltr" || classes[j] === "joiner")) {
      if (classes[j] === "ltr") end = j + 1;
      j++;
    }
    for (let a = i, b = end - 1; a < b; a++, b--) {
      const t = out[a]!;
      out[a] = out[b]!;
      out[b] = t;
    }
    i = end;
  }
  return out;
}

/**
 * Decodes Iran System bytes (visual order) into logical-order Unicode text.
 * Every byte decodes to something; use `iranSystemPlausibility` to judge whether bytes are
 * Iran System at all.
 *
 * @example
 * decodeIranSystem(Uint8Array.of(0xfc, 0xf7, 0x90, 0xa4, 0xfe, 0x90)) // "ایرانی"
 */
export function decodeIranSystem(bytes: Uint8Array): string {
  const units: number[] = Array.from(bytes);
  const logical = reorderVisual(
    units,
    (b) => bidiOfChar(DECODE[b]!),
    (b) => {
      const m = MIRROR[DECODE[b]!];
      return m === undefined ? b : m.charCodeAt(0);
    },
  );
  let text = "";
  for (let i = 0; i < logical.length; i++) {
    const b = logical[i]!;
    text += DECODE[b]!;
    const next = logical[i + 1];
    if (NON_JOINING_NEXT.has(b) && next !== undefined && joinsOnItsRight(next)) {
      text += ZWNJ;
    }
  }
  return text;
}

/** Whether the letter of `byte` can join the letter logically before it. */
function joinsOnItsRight(byte: number): boolean {
  if (byte === LAM_ALEF_BYTE) return true;
  if (byte < 0x8d) return false;
  const joining = LETTERS.get(DECODE[byte]!)?.joining;
  return joining === "dual" || joining === "right";
}

/** Characters folded into the code page's repertoire before encoding. */
const FOLD: Readonly<Record<string, string>> = {
  "\u064a": "\u06cc", // ي Arabic yeh
  "\u0649": "\u06cc", // ى alef maksura
  "\u0643": "\u06a9", // ك Arabic kaf
  "\u0629": "\u0647", // ة teh marbuta
  "\u06c0": "\u0647", // ۀ heh with yeh above
  "\u06d5": "\u0647", // ە
  "\u0623": "\u0627", // أ
  "\u0625": "\u0627", // إ
  "\u0671": "\u0627", // ٱ
  "\u0624": "\u0648", // ؤ
  "\u066b": "/", // Arabic decimal separator
  "\u066c": ",", // Arabic thousands separator
  "\u00a0": " ",
};

/**
 * Folds text into what Iran System can hold: Arabic yeh/kaf to Persian, Arabic-Indic digits to
 * Persian digits, hamza-carrying and other variant letters to their base letter, and drops
 * diacritics (U+064B–U+0655, U+0670). ZWNJ is kept (encoding turns it into a joining break).
 */
export function normalizeForIranSystem(text: string): string {
  let out = "";
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x0660 && c <= 0x0669) out += String.fromCharCode(PERSIAN_DIGIT_0 + c - 0x0660);
    else if ((c >= 0x064b && c <= 0x0655) || c === 0x0670) continue;
    else out += FOLD[ch] ?? ch;
  }
  return out;
}

/** Thrown by `encodeIranSystem` for a character the code page cannot hold. */
export class IranSystemEncodeError extends ShafafError {
  override name = "IranSystemEncodeError";
  /** 0-based index in the normalised text, and the code point (never the text itself). */
  constructor(
    readonly index: number,
    readonly codePoint: number,
  ) {
    super(
      `character U+${codePoint.toString(16).toUpperCase().padStart(4, "0")} at position ${index + 1} has no Iran System byte`,
      { code: "ingest.iran-system.unencodable" },
    );
  }
}

const ENCODE_OTHER: ReadonlyMap<string, number> = (() => {
  const m = new Map<string, number>();
  for (let b = 0; b < 0x80; b++) m.set(String.fromCharCode(b), b);
  for (let d = 0; d < 10; d++) m.set(String.fromCharCode(PERSIAN_DIGIT_0 + d), 0x80 + d);
  m.set("\u060c", 0x8a);
  m.set("\u061f", 0x8c);
  return m;
})();

/** What {@link encodeIranSystem} throws: a character the code page cannot hold. */
export type EncodeIranSystemErrorType = IranSystemEncodeError;

/**
 * Encodes logical-order Unicode text as Iran System bytes in visual order, choosing each
 * letter's contextual form from its neighbours and writing «لا» as its ligature. The text is
 * first folded with `normalizeForIranSystem`; a ZWNJ breaks joining and is not written.
 *
 * @throws IranSystemEncodeError for a character outside the code page (e.g. Latin accents).
 * @example
 * encodeIranSystem("مرد") // Uint8Array [0xa2, 0xa4, 0xf5]
 */
export function encodeIranSystem(text: string): Uint8Array {
  const chars = Array.from(normalizeForIranSystem(text));
  const units: number[] = [];
  const joiningAt = (i: number): Joining | undefined => {
    const ch = chars[i];
    return ch === undefined ? undefined : LETTERS.get(ch)?.joining;
  };
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === ZWNJ) continue;
    if (ch === LAM && chars[i + 1] === ALEF) {
      units.push(LAM_ALEF_BYTE);
      i++;
      continue;
    }
    const letter = LETTERS.get(ch);
    if (letter !== undefined) {
      const prev = joiningAt(i - 1);
      const next = joiningAt(i + 1);
      const joinsPrev = letter.joining !== "none" && prev === "dual";
      const joinsNext =
        letter.joining === "dual" &&
        (next === "dual" || next === "right" || (chars[i + 1] === LAM && chars[i + 2] === ALEF));
      const form = joinsPrev ? (joinsNext ? 3 : 1) : joinsNext ? 2 : 0;
      units.push(letter.forms[form]);
      continue;
    }
    const byte = ENCODE_OTHER.get(ch);
    if (byte === undefined) throw new IranSystemEncodeError(i, ch.codePointAt(0)!);
    units.push(byte);
  }
  const visual = reorderVisual(
    units,
    (b) => bidiOfChar(DECODE[b]!),
    (b) => {
      const m = MIRROR[DECODE[b]!];
      return m === undefined ? b : m.charCodeAt(0);
    },
  );
  return Uint8Array.from(visual);
}

/**
 * How much the high bytes (≥ 0x80) of `bytes` look like Iran System text: the share that are
 * letters, digits or Persian punctuation, in [0, 1]; `undefined` when there are no high bytes.
 */
export function iranSystemPlausibility(bytes: Uint8Array): number | undefined {
  let high = 0;
  let good = 0;
  for (const b of bytes) {
    if (b < 0x80) continue;
    high++;
    if (isIranSystemTextByte(b)) good++;
  }
  return high === 0 ? undefined : good / high;
}
