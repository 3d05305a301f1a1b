/**
 * Standard base64 (RFC 4648 §4, with `=` padding), as the C2SP formats use it. Decoding is
 * strict: only the standard alphabet, padding exactly as the encoder writes it, and unused
 * trailing bits zero, so that every byte string has one text form (no signature malleability
 * through the encoding).
 */
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/**
 * Base64 of `bytes`.
 *
 * @example
 * encodeBase64(new TextEncoder().encode("bananas")); // "YmFuYW5hcw=="
 */
export function encodeBase64(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out +=
      ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + "==";
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + "=";
  }
  return out;
}

/**
 * The bytes of canonical standard base64 `text`, or `undefined` when `text` is not canonical
 * base64 (wrong alphabet, wrong length, wrong padding, non-zero unused bits).
 *
 * @example
 * decodeBase64("YmFuYW5hcw=="); // Uint8Array of "bananas"
 * decodeBase64("YmFuYW5hcx=="); // undefined: unused bits set
 */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0) return undefined;
  const pad = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length;
    const quad = [0, 0, 0, 0];
    for (let j = 0; j < 4; j++) {
      const c = text.charCodeAt(i + j);
      if (last && j >= 4 - pad) {
        if (c !== 61) return undefined;
        continue;
      }
      const v = c < 128 ? DECODE[c]! : -1;
      if (v < 0) return undefined;
      quad[j] = v;
    }
    const n = (quad[0]! << 18) | (quad[1]! << 12) | (quad[2]! << 6) | quad[3]!;
    out[o++] = n >> 16;
    if (last && pad === 2) {
      if ((n & 0xffff) !== 0) return undefined;
      break;
    }
    out[o++] = (n >> 8) & 0xff;
    if (last && pad === 1) {
      if ((n & 0xff) !== 0) return undefined;
      break;
    }
    out[o++] = n & 0xff;
  }
  return out;
}
