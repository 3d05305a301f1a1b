/**
 * What a record gets before it is hashed: a fresh 32-byte salt, its subject pseudonym, and (when
 * the artifact is written) a receipt code. Salts and codes come from the OS's cryptographic
 * random source, drawn once: a resumed job reuses them from its artifact, never draws again.
 */
import { randomBytes } from "node:crypto";
import { bytesToHex, type Hex } from "../core/hex.ts";
import { subjectPseudonym } from "../core/pseudonym.ts";
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
    const out = new Uint8Array(block.subarray(offset, offset + n));
    offset += n;
    return out;
  };
}

export interface RecordKeys {
  /** A new salt, and the subject pseudonym of the record's person. */
  keyOf(record: LedgerRecord): { salt: Hex; subject: Hex };
  /** A new receipt code. */
  receiptCode(): string;
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
  return {
    keyOf: (record) => ({
      salt: bytesToHex(random(32)),
      subject: subjectPseudonym(pseudonymKey, record.nationalId),
    }),
    receiptCode: () => newReceiptCode(random),
  };
}
