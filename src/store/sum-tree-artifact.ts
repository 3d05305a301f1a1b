/**
 * The `shafaf-tree/2` tree of a `shafaf-batch/2` artifact, recomputed from its records, their
 * salts and its `keys.bin` through core's one batch collector: the tree that was anchored, or an
 * error saying the artifact is damaged.
 */
import type { SumTree } from "../core/build-sum-tree.ts";
import type { LeafColumns } from "../core/fold-sum-tree.ts";
import { hexToBytes } from "../core/hex.ts";
import { recordFromJson } from "../core/receipt.ts";
import { createSumTreeBatchCollector, type SumTreeBatchCollector } from "../core/sum-tree-batch.ts";
import { BatchArtifactError, type BatchArtifact } from "./batch-artifact.ts";

/**
 * @throws {BatchArtifactError} when the artifact is not a v2 one, a record line is damaged, or the
 * recomputed root is not the descriptor's.
 * @example
 * const tree = await loadArtifactSumTree(artifact);
 */
export async function loadArtifactSumTree(artifact: BatchArtifact): Promise<SumTree> {
  const d = artifact.descriptor;
  const { batch, keys } = await readArtifactColumns(artifact);
  let tree: SumTree;
  try {
    tree = batch.build(keys);
  } catch (error) {
    throw new BatchArtifactError(`${artifact.dir}: ${(error as Error).message}`, { cause: error });
  }
  if (tree.root.toLowerCase() !== d.root.toLowerCase())
    throw new BatchArtifactError(
      `${artifact.dir}: the records and keys give root ${tree.root}, artifact.json says ${d.root}; the artifact is damaged`,
    );
  return tree;
}

/**
 * The records of a `shafaf-batch/2` artifact as fixed-size columns with its keys (≈ 90 bytes per
 * record, no record or string kept), read in one pass: what the tiles writer folds. The root is
 * not checked here (the fold that uses them checks it).
 *
 * @throws {BatchArtifactError} when the artifact is not a v2 one, a record line is damaged or
 * keys.bin does not hold one key per record.
 * @example
 * const columns = await loadArtifactColumns(artifact);
 */
export async function loadArtifactColumns(artifact: BatchArtifact): Promise<LeafColumns> {
  const { batch, keys } = await readArtifactColumns(artifact);
  try {
    batch.setKeys(keys);
    return batch.columns();
  } catch (error) {
    throw new BatchArtifactError(`${artifact.dir}: ${(error as Error).message}`, { cause: error });
  }
}

async function readArtifactColumns(
  artifact: BatchArtifact,
): Promise<{ batch: SumTreeBatchCollector; keys: Uint8Array }> {
  const d = artifact.descriptor;
  const keys = artifact.keys;
  if (d.scheme !== "shafaf-tree/2" || keys === undefined)
    throw new BatchArtifactError(`${artifact.dir} is not a shafaf-tree/2 artifact`);
  const batch = createSumTreeBatchCollector(d.kind);
  for await (const line of artifact.records()) {
    const record = recordFromJson(line.record);
    if (
      record === undefined ||
      typeof line.salt !== "string" ||
      !/^0x[0-9a-f]{64}$/.test(line.salt)
    )
      throw new BatchArtifactError(
        `${artifact.dir}/records.jsonl:${line.index + 1}: the record or its salt is damaged`,
      );
    batch.push(record, hexToBytes(line.salt));
  }
  return { batch, keys };
}
