/**
 * The `shafaf-tree/2` tree of a `shafaf-batch/2` artifact, recomputed from its records, their
 * salts and its `keys.bin` through core's one batch collector: the tree that was anchored, or an
 * error saying the artifact is damaged.
 */
import type { SumTree } from "../core/build-sum-tree.ts";
import { hexToBytes } from "../core/hex.ts";
import { recordFromJson } from "../core/receipt.ts";
import { createSumTreeBatchCollector } from "../core/sum-tree-batch.ts";
import { BatchArtifactError, type BatchArtifact } from "./batch-artifact.ts";

/**
 * @throws {BatchArtifactError} when the artifact is not a v2 one, a record line is damaged, or the
 * recomputed root is not the descriptor's.
 * @example
 * const tree = await loadArtifactSumTree(artifact);
 */
export async function loadArtifactSumTree(artifact: BatchArtifact): Promise<SumTree> {
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
