import { sha256 } from "@noble/hashes/sha2.js";

const LABEL = new TextEncoder().encode("shafaf-data-key/1\u0000");

/**
 * The public id of a 32-byte data-encryption key (personal data at rest): the first 8 bytes of
 * SHA-256("shafaf-data-key/1" ‖ 0x00 ‖ key), 16 lowercase hex digits. Written in every sealed
 * file's header and in the data keystore, so that a wrong key is named before any decryption.
 *
 * @example
 * dataKeyId(new Uint8Array(32)) // 16 hex digits
 */
export function dataKeyId(key: Uint8Array): string {
  if (key.length !== 32) throw new RangeError("a data key is 32 bytes");
  const input = new Uint8Array(LABEL.length + 32);
  input.set(LABEL, 0);
  input.set(key, LABEL.length);
  let hex = "";
  for (const b of sha256(input).subarray(0, 8)) hex += b.toString(16).padStart(2, "0");
  return hex;
}
