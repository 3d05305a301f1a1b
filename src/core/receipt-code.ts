import { CROCKFORD_ALPHABET } from "./crockford.ts";
import { normalizeDigits } from "./digits.ts";

/**
 * Receipt codes: 26 random symbols (130 bits) plus one check symbol, in Crockford's base-32
 * alphabet `0123456789ABCDEFGHJKMNPQRSTVWXYZ` (no I, L, O, U: nothing to confuse when read aloud,
 * hand-written or typed on a phone), printed in groups of four: `7K3M-Q9XA-…-B2C`.
 *
 * Check symbol: c₂₆ = Σ_{i=0..25} cᵢ·α^(i+1) in GF(32) (polynomial x⁵ + x² + 1, α = x). Every
 * single wrong symbol and every swap of two different symbols (adjacent or not, check symbol
 * included) changes the sum, so it is always detected.
 *
 * Parsing is case-insensitive, ignores spaces, hyphens and dots, accepts Persian/Arabic digits,
 * and reads O as 0 and I or L as 1 (Crockford's rule).
 */
export const RECEIPT_CODE_ALPHABET = CROCKFORD_ALPHABET;
/** Random symbols in a code (26 × 5 = 130 bits ≥ 128). */
export const RECEIPT_CODE_RANDOM_SYMBOLS = 26;

const EXP = new Uint8Array(62);
const LOG = new Uint8Array(32);
{
  let x = 1;
  for (let i = 0; i < 31; i++) {
    EXP[i] = x;
    EXP[i + 31] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x20) x ^= 0x25;
  }
}
function gmul(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : EXP[LOG[a]! + LOG[b]!]!;
}

function checkSymbol(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < RECEIPT_CODE_RANDOM_SYMBOLS; i++) s ^= gmul(values[i]!, EXP[(i + 1) % 31]!);
  return s;
}

/** Char codes of a grouped code (reused: `format` is synchronous). */
const GROUPED: number[] = [];

/** The symbols in groups of four joined by `-` (the last group shorter). */
function format(values: ArrayLike<number>): string {
  GROUPED.length = 0;
  for (let i = 0; i < values.length; i++) {
    if (i > 0 && i % 4 === 0) GROUPED.push(45); // "-"
    GROUPED.push(RECEIPT_CODE_ALPHABET.charCodeAt(values[i]!));
  }
  return String.fromCharCode.apply(null, GROUPED);
}

/** The symbols of a new code (reused: `newReceiptCode` is synchronous). */
const SYMBOLS = new Uint8Array(RECEIPT_CODE_RANDOM_SYMBOLS + 1);

/**
 * A new receipt code from 17 random bytes (130 of their bits are used).
 *
 * @example
 * newReceiptCode((n) => crypto.getRandomValues(new Uint8Array(n))) // "7K3M-Q9XA-…-B2C"
 */
export function newReceiptCode(randomBytes: ((n: number) => Uint8Array) | Uint8Array): string {
  const bytes = typeof randomBytes === "function" ? randomBytes(17) : randomBytes;
  if (bytes.length < 17) throw new RangeError("a receipt code needs 17 random bytes");
  let acc = 0;
  let bits = 0;
  let k = 0;
  for (let n = 0; n < RECEIPT_CODE_RANDOM_SYMBOLS; n++) {
    if (bits < 5) {
      acc = ((acc << 8) | bytes[k++]!) & 0x1fff;
      bits += 8;
    }
    SYMBOLS[n] = (acc >> (bits - 5)) & 31;
    bits -= 5;
  }
  SYMBOLS[RECEIPT_CODE_RANDOM_SYMBOLS] = checkSymbol(SYMBOLS);
  return format(SYMBOLS);
}

export type ReceiptCodeResult =
  | { ok: true; code: string /* canonical, grouped */ }
  | { ok: false; problem: "length" | "character" | "check" };

/**
 * Parses a receipt code as typed by a person and returns its canonical grouped form.
 *
 * @example
 * parseReceiptCode("7k3m q9xa …") // { ok: true, code: "7K3M-Q9XA-…" } or { ok: false, problem: "check" }
 */
export function parseReceiptCode(text: string): ReceiptCodeResult {
  if (typeof text !== "string" || text.length > 200) return { ok: false, problem: "length" };
  const cleaned = normalizeDigits(text)
    .toUpperCase()
    .replace(/[\s\-._\u2010-\u2015\u200c]/g, "")
    .replace(/O/g, "0")
    .replace(/[IL]/g, "1");
  if (cleaned.length !== RECEIPT_CODE_RANDOM_SYMBOLS + 1) return { ok: false, problem: "length" };
  const values: number[] = [];
  for (const c of cleaned) {
    const v = RECEIPT_CODE_ALPHABET.indexOf(c);
    if (v < 0) return { ok: false, problem: "character" };
    values.push(v);
  }
  if (checkSymbol(values) !== values[RECEIPT_CODE_RANDOM_SYMBOLS])
    return { ok: false, problem: "check" };
  return { ok: true, code: format(values) };
}
