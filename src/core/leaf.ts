import { abiEncode } from "./abi.ts";
import { bytesToHex, hexToBytes, isHexBytes, writeHex32, type Hex } from "./hex.ts";
import { doubleKeccak256Many, keccak256 } from "./keccak.ts";
import { recordKindRules } from "./kinds/record-kinds.ts";
import { periodToNumber } from "./period.ts";
import { recordAmount } from "./record-amount.ts";
import { KIND_NUMBER, type LedgerRecord } from "./record.ts";

/**
 * The OpenZeppelin `leafEncoding` of a Shafaf leaf (version 1):
 * (recordIdHash, kind, period, amount, fieldsHash, subject, salt).
 */
export const LEAF_ENCODING = [
  "bytes32",
  "uint8",
  "uint32",
  "uint256",
  "bytes32",
  "bytes32",
  "bytes32",
] as const;

/** Bytes of `abi.encode` of one leaf's values: seven static words. */
export const LEAF_ENCODED_LENGTH = 224;

/** The tuple committed by a leaf; uint values as `bigint` (as `@openzeppelin/merkle-tree` wants). */
export type LeafValues = readonly [
  recordIdHash: Hex,
  kind: bigint,
  period: bigint,
  amount: bigint,
  fieldsHash: Hex,
  subject: Hex,
  salt: Hex,
];

export const RECORD_ID_DOMAIN = "shafaf/record-id/v1";
export { PREMIUM_FIELDS_DOMAIN } from "./kinds/premium/premium.ts";
export { PENSION_FIELDS_DOMAIN } from "./kinds/pension/pension.ts";

/** keccak256(abi.encode("shafaf/record-id/v1", recordId)). */
export function recordIdHash(recordId: string): Hex {
  return bytesToHex(keccak256(abiEncode(["string", "string"], [RECORD_ID_DOMAIN, recordId])));
}

/**
 * The hash of every field not carried in the leaf tuple itself, salted (see the README, "Leaf encoding"):
 *
 * premium: keccak256(abi.encode(string "shafaf/premium-fields/v1", bytes32 salt, string nationalId,
 *   string workshopCode, string insuranceNo, string province, uint256 days, uint256 wageBase,
 *   uint256 workerShare, uint256 employerShare, uint256 unemploymentShare, uint256 hazardShare,
 *   string paidOn, string supersedes, string reason))
 *
 * pension: keccak256(abi.encode(string "shafaf/pension-fields/v1", bytes32 salt, string nationalId,
 *   string pensionFile, string category, string province, uint256 gross, uint256 deductions,
 *   string dueOn, string paidOn, string supersedes, string reason))
 *
 * Absent optional fields are the empty string. Strings are the validated canonical forms (ASCII).
 * The domain, types and values of each kind are its rules' `fieldsDomain`, `fieldsTypes` and
 * `fieldsValues` (`src/core/kinds/<kind>/<kind>.ts`).
 */
export function fieldsHash(record: LedgerRecord, salt: Hex): Hex {
  const s = hexToBytes(salt);
  if (s.length !== 32) throw new RangeError("salt must be 32 bytes");
  const rules = recordKindRules(record.kind);
  const enc = abiEncode(
    ["string", "bytes32", ...rules.fieldsTypes],
    [rules.fieldsDomain, s, ...rules.fieldsValues(record)],
  );
  return bytesToHex(keccak256(enc));
}

/**
 * The leaf tuple of a validated record. `salt` MUST be 32 fresh random bytes per record (keep it
 * with the record: destroying it crypto-shreds the leaf); `subject` is `subjectPseudonym(key, nationalId)`.
 *
 * @example
 * const values = leafValues(record, { salt: bytesToHex(crypto.getRandomValues(new Uint8Array(32))), subject });
 */
export function leafValues(record: LedgerRecord, opening: { salt: Hex; subject: Hex }): LeafValues {
  if (!isHexBytes(opening.salt, 32)) throw new RangeError("salt must be a 32-byte 0x hex word");
  if (!isHexBytes(opening.subject, 32))
    throw new RangeError("subject must be a 32-byte 0x hex word");
  const salt = opening.salt.toLowerCase() as Hex;
  return [
    recordIdHash(record.recordId),
    BigInt(KIND_NUMBER[record.kind]),
    BigInt(periodToNumber(record.period)),
    recordAmount(record),
    fieldsHash(record, salt),
    opening.subject.toLowerCase() as Hex,
    salt,
  ];
}

const TWO_53 = 1n << 53n;

function writeUintWord(out: Uint8Array, offset: number, value: bigint, bits: bigint): void {
  if (typeof value !== "bigint" || value < 0n || value >> bits !== 0n) {
    throw new RangeError(`leaf value does not fit uint${bits}`);
  }
  out.fill(0, offset, offset + 32);
  if (value < TWO_53) {
    // One conversion, then float arithmetic: no BigInt allocation per byte (hot path).
    let v = Number(value);
    for (let i = 31; v > 0; i--) {
      out[offset + i] = v % 256;
      v = Math.floor(v / 256);
    }
    return;
  }
  const hex = value.toString(16).padStart(64, "0");
  for (let i = 0; i < 32; i++) out[offset + i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
}

/** Writes `abi.encode(values)` (224 bytes) into `out` at `offset`. Throws RangeError on a malformed tuple. */
export function encodeLeafInto(values: LeafValues, out: Uint8Array, offset: number): void {
  writeHex32(values[0], out, offset);
  writeUintWord(out, offset + 32, values[1], 8n);
  writeUintWord(out, offset + 64, values[2], 32n);
  writeUintWord(out, offset + 96, values[3], 256n);
  writeHex32(values[4], out, offset + 128);
  writeHex32(values[5], out, offset + 160);
  writeHex32(values[6], out, offset + 192);
}

/** `abi.encode(LEAF_ENCODING, values)`. */
export function encodeLeaf(values: LeafValues): Uint8Array {
  const out = new Uint8Array(LEAF_ENCODED_LENGTH);
  encodeLeafInto(values, out, 0);
  return out;
}

/** The OpenZeppelin standard-v1 leaf hash: keccak256(keccak256(abi.encode(values))). */
export function leafHash(values: LeafValues): Uint8Array {
  return doubleKeccak256Many(encodeLeaf(values), LEAF_ENCODED_LENGTH);
}

/**
 * Leaf hashes of many tuples, in input order, `n × 32` bytes: the input of `buildMerkleTree`.
 * Encodes and hashes in chunks (one WebAssembly call per 4,096 leaves).
 */
export function leafHashes(values: readonly LeafValues[]): Uint8Array {
  const out = new Uint8Array(values.length * 32);
  const per = 4096;
  const buf = new Uint8Array(per * LEAF_ENCODED_LENGTH);
  for (let i = 0; i < values.length; i += per) {
    const k = Math.min(per, values.length - i);
    for (let j = 0; j < k; j++) encodeLeafInto(values[i + j]!, buf, j * LEAF_ENCODED_LENGTH);
    doubleKeccak256Many(
      buf.subarray(0, k * LEAF_ENCODED_LENGTH),
      LEAF_ENCODED_LENGTH,
      out.subarray(i * 32, (i + k) * 32),
    );
  }
  return out;
}
