/**
 * Recompute, `shafaf-tree/2`: a batch's sum tree from records, salts and person keys through
 * core's one batch collector (the pipeline's own), and each record's leaf identity
 * `keccak256(k_b ‖ commitment)` — what record-level evidence matches audited records against
 * anchored ones by, as it matches v1 leaf hashes.
 */
import type { SumTree } from "../core/build-sum-tree.ts";
import { bytesToHex, hexToBytes, type Hex } from "../core/hex.ts";
import { keccak256Many } from "../core/keccak.ts";
import type { LedgerRecord, RecordKind } from "../core/record.ts";
import { createSumTreeBatchCollector } from "../core/sum-tree-batch.ts";

export interface RecomputedSumTree {
  /** Undefined when no tree can be built (`problem` says why). */
  tree: SumTree | undefined;
  problem: string | undefined;
  /** keccak256(k_b ‖ commitment) of each record, 32 bytes each, in the given order. */
  leafIds: Uint8Array;
  leafId: (i: number) => string;
}

/**
 * `rows` in line order; `keys` holds k_b of each row (32 bytes each). A row without a key, or
 * keys that do not match the rows one for one, give no tree and all-zero leaf identities for the
 * keyless rows.
 *
 * @example
 * const { tree, leafId } = recomputeSumTree("premium", rows, keys);
 */
export function recomputeSumTree(
  kind: RecordKind,
  rows: readonly { record: LedgerRecord; salt: Hex; key?: Uint8Array | undefined }[],
): RecomputedSumTree {
  const batch = createSumTreeBatchCollector(kind);
  const pairs = new Uint8Array(rows.length * 64);
  const keys = new Uint8Array(rows.length * 32);
  let keyless = 0;
  let refused: string | undefined;
  for (const [i, r] of rows.entries()) {
    try {
      batch.push(r.record, hexToBytes(r.salt));
    } catch (error) {
      // Another kind's record, or an amount of 2^64 or more: no tree, and no identity either.
      refused ??= `record ${i + 1}: ${(error as Error).message}`;
      continue;
    }
    if (r.key === undefined) keyless++;
    else {
      keys.set(r.key, i * 32);
      pairs.set(r.key, i * 64);
    }
    pairs.set(batch.commitment(batch.count - 1), i * 64 + 32);
  }
  const leafIds = keccak256Many(pairs, 64);
  const leafId = (i: number): string => bytesToHex(leafIds.subarray(i * 32, i * 32 + 32));
  if (refused !== undefined) return { tree: undefined, problem: refused, leafIds, leafId };
  if (keyless > 0)
    return {
      tree: undefined,
      problem: `${keyless} record(s) have no person key in keys.bin`,
      leafIds,
      leafId,
    };
  if (rows.length === 0) return { tree: undefined, problem: "no records", leafIds, leafId };
  try {
    return { tree: batch.build(keys), problem: undefined, leafIds, leafId };
  } catch (error) {
    return { tree: undefined, problem: (error as Error).message, leafIds, leafId };
  }
}
