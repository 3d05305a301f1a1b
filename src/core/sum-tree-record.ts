import { keccak256 } from "./keccak.ts";
import { recordKindRules } from "./kinds/record-kinds.ts";
import { recordToJson } from "./receipt.ts";
import type { LedgerRecord } from "./record.ts";

/** Domain byte of a record commitment (docs/spec/tree-v2.md §3.1). */
export const RECORD_COMMITMENT_DOMAIN = 0x03;

export interface SumTreeRecordFields {
  /** The kind's amount lanes (lanes 2 …), below 2^64 each. */
  amounts: bigint[];
  /** keccak256(0x03 ‖ salt ‖ UTF-8 of the record's canonical JSON). */
  commitment: Uint8Array;
}

/** JSON with object keys sorted by UTF-16 code unit, no spaces (the record has flat string/number values). */
function canonicalJson(value: object): string {
  return `{${Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${JSON.stringify((value as Record<string, unknown>)[k])}`)
    .join(",")}}`;
}

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
  if (amounts.some((a) => a < 0n || a >= 1n << 64n))
    throw new RangeError("a record amount must be in 0..2^64 − 1");
  const text = new TextEncoder().encode(canonicalJson(recordToJson(record)));
  const pre = new Uint8Array(1 + 32 + text.length);
  pre[0] = RECORD_COMMITMENT_DOMAIN;
  pre.set(salt, 1);
  pre.set(text, 33);
  return { amounts, commitment: keccak256(pre) };
}
