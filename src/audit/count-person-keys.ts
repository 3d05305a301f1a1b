/**
 * One person ↔ one key within a batch, counted from fixed-size columns: each row's person
 * identifier as a number (`personNumber`) beside its key, sorted by (key, person), instead of
 * two maps of sets of a million strings.
 */
import { sortRows } from "../core/subject-columns.ts";
import type { PersonKeyCounts } from "./compare-batch.ts";

/** Person identifiers as exact numbers: all-digit ones by value, others by first appearance. */
export function createPersonNumbers(): { of(id: string): number } {
  const other = new Map<string, number>();
  return {
    of(id) {
      // "1" keeps leading zeros apart; 15 digits stay below 2^53.
      if (/^[0-9]{1,14}$/.test(id)) return Number(`1${id}`);
      let n = other.get(id);
      if (n === undefined) other.set(id, (n = -(other.size + 1)));
      return n;
    },
  };
}

/**
 * `rows` (row numbers whose key is known), `keys` 32 bytes per row, `persons` one number per row.
 *
 * @example
 * const { manyKeys, shared } = countPersonKeysOfColumns(rows, keys, persons);
 */
export function countPersonKeysOfColumns(
  rows: Uint32Array,
  keys: Uint8Array,
  persons: Float64Array,
): PersonKeyCounts {
  const keyCmp = (x: number, y: number): number => {
    for (let k = 0; k < 32; k++) {
      const d = keys[x * 32 + k]! - keys[y * 32 + k]!;
      if (d !== 0) return d;
    }
    return 0;
  };
  const sorted = sortRows(
    rows.length,
    (i) => {
      const o = rows[i]! * 32;
      return ((keys[o]! << 24) | (keys[o + 1]! << 16) | (keys[o + 2]! << 8) | keys[o + 3]!) >>> 0;
    },
    (i, j) => keyCmp(rows[i]!, rows[j]!) || persons[rows[i]!]! - persons[rows[j]!]!,
  );
  for (let k = 0; k < sorted.length; k++) sorted[k] = rows[sorted[k]!]!;
  // Distinct (key, person) pairs: a key with two people is shared; their persons, sorted, show
  // who has two keys.
  let shared = 0;
  const pairPersons = new Float64Array(sorted.length);
  let pairs = 0;
  for (let i = 0; i < sorted.length;) {
    let j = i + 1;
    while (j < sorted.length && keyCmp(sorted[i]!, sorted[j]!) === 0) j++;
    let people = 0;
    for (let k = i; k < j; k++)
      if (k === i || persons[sorted[k]!] !== persons[sorted[k - 1]!]) {
        people++;
        pairPersons[pairs++] = persons[sorted[k]!]!;
      }
    if (people > 1) shared++;
    i = j;
  }
  const byPerson = pairPersons.subarray(0, pairs).sort();
  let manyKeys = 0;
  for (let i = 0; i < byPerson.length;) {
    let j = i + 1;
    while (j < byPerson.length && byPerson[j] === byPerson[i]) j++;
    if (j - i > 1) manyKeys++;
    i = j;
  }
  return { manyKeys, shared };
}
