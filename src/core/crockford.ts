/**
 * Crockford's base-32 alphabet (no I, L, O, U: nothing to confuse when read aloud, hand-written or
 * typed on a phone), used by receipt codes, printed history keys and certificates' QR texts.
 */
export const CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/**
 * `bytes` as 5-bit values, most significant bit first; the last value is padded with zero bits.
 *
 * @example
 * crockfordValues(new Uint8Array([0xff])) // [31, 28]
 */
export function crockfordValues(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push((acc >> bits) & 31);
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out.push((acc << (5 - bits)) & 31);
  return out;
}

/**
 * `bytes` in Crockford's base 32 (upper case, no padding characters).
 *
 * @example
 * crockfordText(new Uint8Array([0xff])) // "ZW"
 */
export function crockfordText(bytes: Uint8Array): string {
  return crockfordValues(bytes)
    .map((v) => CROCKFORD_ALPHABET[v]!)
    .join("");
}
