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

const encoder = new TextEncoder();

/** A key of the record and its JSON text with the colon, `"key":`, as UTF-8. */
interface SortedKey {
  key: string;
  prefix: Uint8Array;
}

/**
 * The record's keys in UTF-16 code-unit order. Records of one kind share a key list (a row of
 * the same columns): the last two lists are kept and reused while the next record's keys are the
 * same strings in the same order (two: a reader alternates a typed record and its JSON form,
 * whose keys may come in another order).
 */
const keptKeys: { keys: string[]; sorted: SortedKey[] }[] = [];
function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
function sortedKeysOf(keys: string[]): SortedKey[] {
  for (const kept of keptKeys) if (sameKeys(keys, kept.keys)) return kept.sorted;
  const sorted = [...keys]
    .sort()
    .map((key) => ({ key, prefix: encoder.encode(`${JSON.stringify(key)}:`) }));
  keptKeys.unshift({ keys, sorted });
  if (keptKeys.length > 2) keptKeys.pop();
  return sorted;
}

/**
 * The preimage `0x03 ‖ salt ‖ canonical JSON`, written in place (reused; grown when a record
 * does not fit, keeping the first `keep` bytes).
 */
let preimage = new Uint8Array(1024);
function room(keep: number, more: number): Uint8Array {
  if (keep + more > preimage.length) {
    const grown = new Uint8Array(Math.max(2 * preimage.length, keep + more));
    grown.set(preimage.subarray(0, keep));
    preimage = grown;
  }
  return preimage;
}

/** Writes `text` as UTF-8 at `at`; returns the end. ASCII byte by byte, anything else by encodeInto. */
function writeText(text: string, at: number): number {
  const buf = room(at, 3 * text.length); // UTF-8 takes at most 3 bytes per UTF-16 code unit
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return at + encoder.encodeInto(text, buf.subarray(at)).written;
    buf[at + i] = c;
  }
  return at + text.length;
}

/**
 * Writes the JSON string of `text` at `at`; returns the end. Printable ASCII without `"` or `\`
 * is its own JSON text between quotes; anything else goes through `JSON.stringify`.
 */
function writeJsonString(text: string, at: number): number {
  const buf = room(at, text.length + 2);
  buf[at] = 0x22;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c)
      return writeText(JSON.stringify(text), at);
    buf[at + 1 + i] = c;
  }
  buf[at + 1 + text.length] = 0x22;
  return at + text.length + 2;
}

/**
 * Writes the canonical JSON of `recordToJson(record)` at `at` (keys sorted by UTF-16 code unit,
 * no spaces, `undefined` values left out, bigints as decimal strings; the record has flat string,
 * number and bigint values) and returns the end. The same bytes as the UTF-8 of sorting the keys
 * of `recordToJson(record)` and `JSON.stringify`-ing each key and value (test/core/sum-tree-record
 * pins the equality), without the intermediate object and strings.
 */
function writeCanonicalRecordJson(
  record: LedgerRecord | Readonly<Record<string, unknown>>,
  at: number,
): number {
  const values = record as unknown as Record<string, unknown>;
  let end = at;
  room(end, 1)[end++] = 0x7b; // {
  for (const { key, prefix } of sortedKeysOf(Object.keys(record))) {
    const v = values[key];
    if (v === undefined) continue;
    const buf = room(end, prefix.length + 1);
    if (end > at + 1) buf[end++] = 0x2c; // ,
    for (let i = 0; i < prefix.length; i++) buf[end++] = prefix[i]!;
    if (typeof v === "string") end = writeJsonString(v, end);
    else if (typeof v === "bigint") end = writeJsonString(v.toString(), end);
    else end = writeText(JSON.stringify(v), end);
  }
  room(end, 1)[end++] = 0x7d; // }
  return end;
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
  for (const a of amounts)
    if (a < 0n || a > MAX_U64) throw new RangeError("a record amount must be in 0..2^64 − 1");
  return { amounts, commitment: saltedCommitment(record, salt) };
}

/** keccak256(0x03 ‖ salt ‖ canonical JSON of `record`): the one preimage both forms hash. */
function saltedCommitment(
  record: LedgerRecord | Readonly<Record<string, unknown>>,
  salt: Uint8Array,
): Uint8Array {
  const buf = room(0, 33);
  buf[0] = RECORD_COMMITMENT_DOMAIN;
  buf.set(salt, 1);
  const end = writeCanonicalRecordJson(record, 33);
  return keccak256(preimage.subarray(0, end));
}

/**
 * The salted commitment of a record given in its JSON form (a `recordToJson` record, as an
 * artifact line holds it), without typing it: keccak256(0x03 ‖ salt ‖ canonical JSON of `json`).
 * For any `json` that `recordFromJson` accepts (canonical values, no extra key) it is the
 * commitment {@link sumTreeRecordFields} gives for `recordFromJson(json)`. It checks nothing of
 * the record: the caller MUST compare the result with a trusted value (a verified leaf) before
 * relying on it, and MUST NOT hand out `json` itself as an opening without typing it.
 *
 * @example
 * const c = recordJsonCommitment(line.record, salt); // then compared with the tile entry's leaf
 */
export function recordJsonCommitment(
  json: Readonly<Record<string, unknown>>,
  salt: Uint8Array,
): Uint8Array {
  if (salt.length !== 32) throw new RangeError("salt must be 32 bytes");
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new RangeError("a record is a JSON object");
  return saltedCommitment(json, salt);
}
