/**
 * What a record gets before it is hashed: a fresh 32-byte salt, its subject pseudonym, and (when
 * the artifact is written) a receipt code. Salts and codes come from the OS's cryptographic
 * random source, drawn once: a resumed job reuses them from its artifact, never draws again.
 */
import { createHmac, randomBytes } from "node:crypto";
import type { Hex } from "../core/hex.ts";
import { subjectPseudonymMessage } from "../core/pseudonym.ts";
import { newReceiptCode } from "../core/receipt-code.ts";
import type { LedgerRecord } from "../core/record.ts";

/**
 * Cryptographic random bytes drawn from the OS in 64 KiB blocks: one `randomBytes` call per
 * ~1,300 records instead of two per record (each call costs tens of µs). Every byte is used once.
 */
export function createRandomPool(blockSize = 65_536): (n: number) => Uint8Array {
  let block = randomBytes(blockSize);
  let offset = 0;
  return (n) => {
    if (n > blockSize) return new Uint8Array(randomBytes(n));
    if (offset + n > block.length) {
      block = randomBytes(blockSize);
      offset = 0;
    }
    // A view, not a copy: a block is never refilled (a new one is drawn), so the bytes stay.
    const out = block.subarray(offset, offset + n);
    offset += n;
    return out;
  };
}

export interface RecordKeys {
  /**
   * A new salt (hex, and the same 32 bytes: the commitment hashes the bytes, the artifact keeps
   * the hex), and the subject pseudonym of the record's person.
   */
  keyOf(record: LedgerRecord): { salt: Hex; saltBytes: Uint8Array; subject: Hex };
  /** A new receipt code. */
  receiptCode(): string;
}

/**
 * The subject pseudonym of core's `subjectPseudonym` (same message, same bytes), with node's
 * OpenSSL HMAC-SHA256: ≈ 1.1 µs per record instead of ≈ 5.7 µs for the pure-JS one (docs/DESIGN.md
 * "The anchor's CPU per row"); test/anchor/record-keys.test.ts pins the equality.
 */
export function nodeSubjectPseudonym(key: Uint8Array, nationalId: string): Hex {
  if (key.length < 32) throw new RangeError("the pseudonym key must be at least 32 bytes");
  const mac = createHmac("sha256", key).update(subjectPseudonymMessage(nationalId), "utf8");
  return `0x${mac.digest("hex")}`;
}

/**
 * @example
 * const keys = createRecordKeys(pseudonymKey);
 * const { salt, subject } = keys.keyOf(record);
 */
export function createRecordKeys(
  pseudonymKey: Uint8Array,
  random: (n: number) => Uint8Array = createRandomPool(),
): RecordKeys {
  if (pseudonymKey.length < 32) throw new RangeError("the pseudonym key must be at least 32 bytes");
  return {
    keyOf: (record) => {
      const saltBytes = random(32);
      const hex = Buffer.from(saltBytes.buffer, saltBytes.byteOffset, 32).toString("hex");
      return {
        salt: `0x${hex}`,
        saltBytes,
        subject: nodeSubjectPseudonym(pseudonymKey, record.nationalId),
      };
    },
    receiptCode: () => newReceiptCode(random),
  };
}
