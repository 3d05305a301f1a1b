/** A `0x`-prefixed lowercase hex string. */
export type Hex = `0x${string}`;

/** Two ASCII hex digits of each byte value, packed low byte first. */
const HEX_PAIRS = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  const s = i.toString(16).padStart(2, "0");
  HEX_PAIRS[i] = s.charCodeAt(0) | (s.charCodeAt(1) << 8);
}
const CODES: number[] = [];

/** Value of each ASCII hex digit, 255 for every other code unit below 128. */
const HEX_VALUE = new Uint8Array(128).fill(255);
for (let i = 0; i < 10; i++) HEX_VALUE[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX_VALUE[65 + i] = 10 + i;
  HEX_VALUE[97 + i] = 10 + i;
}

/**
 * `0x`-prefixed lowercase hex of `bytes`. Builds a flat string (`+=` concatenation would leave
 * ropes that cost ~30 bytes per character until flattened: gigabytes for a million leaves).
 */
export function bytesToHex(bytes: Uint8Array): Hex {
  let out = "";
  for (let start = 0; start === 0 || start < bytes.length; start += 4096) {
    const end = Math.min(bytes.length, start + 4096);
    const lead = start === 0 ? 2 : 0;
    CODES.length = lead + 2 * (end - start);
    if (lead === 2) {
      CODES[0] = 48; // "0"
      CODES[1] = 120; // "x"
    }
    for (let i = start; i < end; i++) {
      const pair = HEX_PAIRS[bytes[i]!]!;
      CODES[lead + 2 * (i - start)] = pair & 0xff;
      CODES[lead + 2 * (i - start) + 1] = pair >> 8;
    }
    out += String.fromCharCode.apply(null, CODES);
  }
  return out as Hex;
}

/** True when `text` is `0x` followed by exactly `bytes` bytes of hex (either case). */
export function isHexBytes(text: unknown, bytes: number): text is Hex {
  return typeof text === "string" && text.length === 2 + 2 * bytes && hexDigitsFrom2(text);
}

/** True when `text` starts with `0x` and every code unit after it is a hex digit (table, no RegExp). */
function hexDigitsFrom2(text: string): boolean {
  if (text.charCodeAt(0) !== 48 || text.charCodeAt(1) !== 120) return false;
  for (let i = 2; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || HEX_VALUE[c] === 255) return false;
  }
  return true;
}

/**
 * Bytes of a `0x`-prefixed hex string with an even number of digits. Throws RangeError otherwise.
 */
export function hexToBytes(text: string): Uint8Array {
  // A table, not a RegExp and parseInt per byte: proofs from tiles decode thousands of words.
  if (typeof text !== "string" || text.length % 2 !== 0 || !hexDigitsFrom2(text))
    throw new RangeError("not 0x-prefixed hex with whole bytes");
  const out = new Uint8Array((text.length - 2) / 2);
  for (let i = 0; i < out.length; i++)
    out[i] = (HEX_VALUE[text.charCodeAt(2 + 2 * i)]! << 4) | HEX_VALUE[text.charCodeAt(3 + 2 * i)]!;
  return out;
}

/**
 * Writes the 32-byte hex word `text` (`0x` + 64 hex digits, either case) into `out` at `offset`,
 * validating as it goes (no regular expression, no allocation: this is the leaf encoder's hot
 * path). Throws RangeError when `text` is not such a word; `out` may then be partly written.
 */
export function writeHex32(text: string, out: Uint8Array, offset: number): void {
  if (
    typeof text !== "string" ||
    text.length !== 66 ||
    text.charCodeAt(0) !== 48 ||
    (text.charCodeAt(1) | 32) !== 120
  ) {
    throw new RangeError("not a 32-byte 0x hex word");
  }
  for (let i = 0; i < 32; i++) {
    const hc = text.charCodeAt(2 + 2 * i);
    const lc = text.charCodeAt(3 + 2 * i);
    const hi = hc < 128 ? HEX_VALUE[hc]! : 255;
    const lo = lc < 128 ? HEX_VALUE[lc]! : 255;
    if ((hi | lo) === 255) throw new RangeError("not a 32-byte 0x hex word");
    out[offset + i] = (hi << 4) | lo;
  }
}

/** Constant-length comparison of two byte arrays as big-endian unsigned integers: −1, 0 or 1. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
