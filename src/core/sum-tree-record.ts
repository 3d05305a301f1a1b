import { keccak256 } from "./keccak.ts";
import { recordKindRules } from "./kinds/record-kinds.ts";
import type { LedgerRecord } from "./record.ts";

/** Domain byte of a record commitment (docs/spec/tree-v2.md §3.1). */
export const RECORD_COMMITMENT_DOMAIN = 0x03;

const MAX_U64 = (1n << 64n) - 1n;

export interface SumTreeRecordFields {
  /** The kind's amount lanes (lanes 2 …), below 2^64 each. */
  amounts: bigint[];
  /** keccak256(0x03 ‖ salt ‖ UTF-8 of the record's canonical JSON). */
  commitment: Uint8Array;
}

/**
 * The record's keys in UTF-16 code-unit order, each with its JSON text and colon. Records of one
 * kind share a key list (a row of the same columns): the last list is kept and reused while the
 * next record's keys are the same strings in the same order.
 */
let lastKeys: string[] = [];
let lastSorted: { key: string; prefix: string }[] = [];
function sortedKeysOf(keys: string[]): { key: string; prefix: string }[] {
  if (keys.length === lastKeys.length) {
    let same = true;
    for (let i = 0; i < keys.length; i++)
      if (keys[i] !== lastKeys[i]) {
        same = false;
        break;
      }
    if (same) return lastSorted;
  }
  lastKeys = keys;
  lastSorted = [...keys].sort().map((key) => ({ key, prefix: `${JSON.stringify(key)}:` }));
  return lastSorted;
}

/**
 * The canonical JSON of `recordToJson(record)`: keys sorted by UTF-16 code unit, no spaces,
 * `undefined` values left out, bigints as decimal strings (the record has flat string, number
 * and bigint values). Built directly from the record: the same text as sorting the keys of
 * `recordToJson(record)` and `JSON.stringify`-ing each key and value (test/core/sum-tree-record
 * pins the equality), without the intermediate object.
 */
function canonicalRecordJson(record: LedgerRecord): string {
  const values = record as unknown as Record<string, unknown>;
  let out = "{";
  for (const { key, prefix } of sortedKeysOf(Object.keys(record))) {
    const v = values[key];
    if (v === undefined) continue;
    if (out.length > 1) out += ",";
    out += prefix;
    out += typeof v === "bigint" ? `"${v.toString()}"` : JSON.stringify(v);
  }
  return `${out}}`;
}

const encoder = new TextEncoder();
/** The preimage's buffer, reused (grown when a record's text does not fit). */
let preimage = new Uint8Array(1024);

/**
 * What a record contributes to a `shafaf-tree/2` leaf besides its key and seq: its amount lanes
 * (its kind's `sumTreeAmounts`: premium insurable wage, days, premium total; pension gross,
 * deductions, net, on time) and the
 * salted commitment to the whole record. `salt` MUST be 32 random bytes kept with the record
 * (destroying it crypto-shreds the record). Throws RangeError on a salt of another length or an
 * amount of 2^64 or more.
 *
 * @example
 * const { amounts, commitment } = sumTreeRecordFields(record, salt);
 */
export function sumTreeRecordFields(record: LedgerRecord, salt: Uint8Array): SumTreeRecordFields {
  if (salt.length !== 32) throw new RangeError("salt must be 32 bytes");
  const amounts = recordKindRules(record.kind).sumTreeAmounts(record);
  if (amounts.some((a) => a < 0n || a > MAX_U64))
    throw new RangeError("a record amount must be in 0..2^64 − 1");
  const text = canonicalRecordJson(record);
  // UTF-8 takes at most 3 bytes per UTF-16 code unit.
  if (preimage.length < 33 + 3 * text.length) preimage = new Uint8Array(33 + 3 * text.length);
  preimage[0] = RECORD_COMMITMENT_DOMAIN;
  preimage.set(salt, 1);
  const { written } = encoder.encodeInto(text, preimage.subarray(33));
  return { amounts, commitment: keccak256(preimage.subarray(0, 33 + written)) };
}
