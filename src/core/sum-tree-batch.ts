/**
 * A `shafaf-tree/2` batch from its records: the one place that turns records (with their salts)
 * and person keys into the tree's columns. The pipeline, the receipt assembler, `person prove` and
 * the audit all build a batch's tree through it, so the tree they see is the one that was anchored.
 */
import { buildSumTree, type SumTree } from "./build-sum-tree.ts";
import { InvalidInputError } from "./errors.ts";
import type { LedgerRecord, RecordKind } from "./record.ts";
import { laneCount, SUM_TREE_LANES } from "./sum-tree-lanes.ts";
import { sumTreeRecordFields } from "./sum-tree-record.ts";

export interface SumTreeBatchCollector {
  readonly kind: RecordKind;
  /** Records pushed so far. */
  readonly count: number;
  /** Adds the next record (line order) and its 32-byte salt. */
  push(record: LedgerRecord, salt: Uint8Array): void;
  /** The person identifier of record `i` (line order), for enrolment. */
  personId(i: number): string;
  /** The salted commitment of record `i` (32 bytes, a view: copy to keep). */
  commitment(i: number): Uint8Array;
  /**
   * Builds the tree with `keys` (k_b of each record, 32 bytes each, line order).
   *
   * @throws {InvalidInputError} `core.sum-tree.columns` when `keys` does not hold one key per record;
   * the builder's errors otherwise (an empty batch, a lane sum overflow).
   */
  build(keys: Uint8Array): SumTree;
}

/**
 * @example
 * const batch = createSumTreeBatchCollector("premium");
 * for (const { record, salt } of lines) batch.push(record, salt);
 * const tree = batch.build(keys);
 */
export function createSumTreeBatchCollector(kind: RecordKind): SumTreeBatchCollector {
  const amountsN = laneCount(kind) - 2;
  let commitments = new Uint8Array(32 * 4096);
  let amounts = new BigUint64Array(amountsN * 4096);
  const provinces: string[] = [];
  const persons: string[] = [];
  let n = 0;
  return {
    kind,
    get count() {
      return n;
    },
    push(record, salt) {
      if (record.kind !== kind)
        throw new InvalidInputError(`a ${record.kind} record in a ${kind} batch`, {
          details: `record ${n}`,
          code: "core.sum-tree.kind",
        });
      const fields = sumTreeRecordFields(record, salt);
      if ((n + 1) * 32 > commitments.length) {
        const grown = new Uint8Array(commitments.length * 2);
        grown.set(commitments);
        commitments = grown;
        const more = new BigUint64Array(amounts.length * 2);
        more.set(amounts);
        amounts = more;
      }
      commitments.set(fields.commitment, n * 32);
      for (let k = 0; k < amountsN; k++) amounts[n * amountsN + k] = fields.amounts[k]!;
      provinces.push(record.province);
      persons.push(record.nationalId);
      n++;
    },
    personId: (i) => persons[i]!,
    commitment: (i) => commitments.subarray(i * 32, i * 32 + 32),
    build(keys) {
      if (keys.length !== n * 32)
        throw new InvalidInputError("one person key per record", {
          details: `${keys.length / 32} keys for ${n} records`,
          code: "core.sum-tree.columns",
        });
      return buildSumTree(kind, {
        keys,
        commitments: commitments.subarray(0, n * 32),
        provinces,
        amounts: amounts.subarray(0, n * amountsN),
      });
    },
  };
}

/** The lane names of a kind's `shafaf-tree/2` nodes (docs/spec/tree-v2.md §4). */
export const laneNamesOf = (kind: RecordKind): string[] => [...SUM_TREE_LANES[kind]];
