/**
 * A `shafaf-tree/2` batch from its records: the one place that turns records (with their salts)
 * and person keys into the tree's columns. The pipeline, the receipt assembler, `person prove` and
 * the audit all build a batch's tree through it, so the tree they see is the one that was anchored.
 */
import { buildSumTree, type SumTree } from "./build-sum-tree.ts";
import { InvalidInputError } from "./errors.ts";
import type { LeafColumns } from "./fold-sum-tree.ts";
import type { LedgerRecord, RecordKind } from "./record.ts";
import { laneCount, SUM_TREE_LANES } from "./sum-tree-lanes.ts";
import { sumTreeRecordFields } from "./sum-tree-record.ts";

export interface SumTreeBatchCollector {
  readonly kind: RecordKind;
  /** Records pushed so far. */
  readonly count: number;
  /** Adds the next record (line order) and its 32-byte salt. */
  push(record: LedgerRecord, salt: Uint8Array): void;
  /** Records whose person key is set ({@link setKeys}): records 0 … keyed − 1. */
  readonly keyed: number;
  /**
   * The person identifiers of records `keyed … count − 1`, for enrolment (kept only with
   * `personIds: true`, and only until their keys are set: at most one chunk of strings).
   */
  unkeyedPersons(): readonly string[];
  /**
   * Sets k_b of records `keyed …` (32 bytes each, line order) and forgets their identifiers.
   *
   * @throws {InvalidInputError} `core.sum-tree.columns` when `keys` holds more keys than unkeyed records.
   */
  setKeys(keys: Uint8Array): void;
  /** The salted commitment of record `i` (32 bytes, a view: copy to keep). */
  commitment(i: number): Uint8Array;
  /**
   * Builds the tree in memory with `keys` (k_b of each record, 32 bytes each, line order).
   *
   * @throws {InvalidInputError} `core.sum-tree.columns` when `keys` does not hold one key per record;
   * the builder's errors otherwise (an empty batch, a lane sum overflow).
   */
  build(keys: Uint8Array): SumTree;
  /**
   * The records as fixed-size columns with the keys set by {@link setKeys} (views, row r = line
   * r), for the streaming fold (fold-sum-tree.ts).
   *
   * @throws {InvalidInputError} `core.sum-tree.columns` when some record has no key yet.
   */
  columns(): LeafColumns;
}

/**
 * @example
 * const batch = createSumTreeBatchCollector("premium");
 * for (const { record, salt } of lines) batch.push(record, salt);
 * const tree = batch.build(keys);
 */
export function createSumTreeBatchCollector(
  kind: RecordKind,
  options: {
    /** Keep each record's person identifier until its key is set (the pipeline's key step). */
    personIds?: boolean;
  } = {},
): SumTreeBatchCollector {
  const amountsN = laneCount(kind) - 2;
  let capacity = 4096;
  let commitments = new Uint8Array(32 * capacity);
  let amounts = new BigUint64Array(amountsN * capacity);
  let province = new Uint16Array(capacity);
  let keys: Uint8Array = new Uint8Array(0);
  const codes: string[] = [];
  const codeIndex = new Map<string, number>();
  let persons: string[] = [];
  let n = 0;
  let keyed = 0;
  const grow = <T extends Uint8Array | Uint16Array | BigUint64Array>(
    a: T,
    make: (n: number) => T,
  ): T => {
    const grown = make(a.length * 2);
    grown.set(a as never);
    return grown;
  };
  return {
    kind,
    get count() {
      return n;
    },
    get keyed() {
      return keyed;
    },
    push(record, salt) {
      if (record.kind !== kind)
        throw new InvalidInputError(`a ${record.kind} record in a ${kind} batch`, {
          details: `record ${n}`,
          code: "core.sum-tree.kind",
        });
      const fields = sumTreeRecordFields(record, salt);
      if (n + 1 > capacity) {
        commitments = grow(commitments, (k) => new Uint8Array(k));
        amounts = grow(amounts, (k) => new BigUint64Array(k));
        province = grow(province, (k) => new Uint16Array(k));
        capacity *= 2;
      }
      commitments.set(fields.commitment, n * 32);
      for (let k = 0; k < amountsN; k++) amounts[n * amountsN + k] = fields.amounts[k]!;
      let p = codeIndex.get(record.province);
      if (p === undefined) {
        p = codes.length;
        codes.push(record.province);
        codeIndex.set(record.province, p);
      }
      province[n] = p;
      if (options.personIds === true) persons.push(record.nationalId);
      n++;
    },
    unkeyedPersons: () => persons,
    setKeys(more) {
      const count = more.length / 32;
      if (!Number.isInteger(count) || keyed + count > n)
        throw new InvalidInputError("one person key per record", {
          details: `${count} keys for ${n - keyed} records without one`,
          code: "core.sum-tree.columns",
        });
      if (keyed === 0 && count === n) {
        keys = more; // every key at once (an artifact's keys.bin): held, not copied
        keyed = n;
        persons = [];
        return;
      }
      if ((keyed + count) * 32 > keys.length) {
        const grown = new Uint8Array(Math.max(32 * capacity, (keyed + count) * 32));
        grown.set(keys.subarray(0, keyed * 32));
        keys = grown;
      }
      keys.set(more, keyed * 32);
      keyed += count;
      persons = persons.slice(count);
    },
    commitment: (i) => commitments.subarray(i * 32, i * 32 + 32),
    build(all) {
      if (all.length !== n * 32)
        throw new InvalidInputError("one person key per record", {
          details: `${all.length / 32} keys for ${n} records`,
          code: "core.sum-tree.columns",
        });
      const provinces = new Array<string>(n);
      for (let i = 0; i < n; i++) provinces[i] = codes[province[i]!]!;
      return buildSumTree(kind, {
        keys: all,
        commitments: commitments.subarray(0, n * 32),
        provinces,
        amounts: amounts.subarray(0, n * amountsN),
      });
    },
    columns() {
      if (keyed !== n)
        throw new InvalidInputError("one person key per record", {
          details: `${n - keyed} records without a key`,
          code: "core.sum-tree.columns",
        });
      return {
        kind,
        count: n,
        keys: keys.subarray(0, n * 32),
        commitments: commitments.subarray(0, n * 32),
        amounts: amounts.subarray(0, n * amountsN),
        province: province.subarray(0, n),
        codes,
        line: undefined,
      };
    },
  };
}

/** The lane names of a kind's `shafaf-tree/2` nodes (docs/spec/tree-v2.md §4). */
export const laneNamesOf = (kind: RecordKind): string[] => [...SUM_TREE_LANES[kind]];
