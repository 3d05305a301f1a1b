/**
 * The leaves of a batch in input order, hashed `HASH_CHUNK` at a time into one growing buffer
 * (32 bytes a leaf), and the tree built over them.
 */
import { leafHashes, type LeafValues } from "../core/leaf.ts";
import { buildMerkleTree, type MerkleTree } from "../core/merkle-tree.ts";

export const HASH_CHUNK = 4096;

export interface LeafCollector {
  push(values: LeafValues): void;
  /** The tree of every leaf pushed (at least one). */
  tree(): MerkleTree;
}

/**
 * @example
 * const leaves = createLeafCollector((n) => log.progress("hash", n));
 * for (…) leaves.push(leafValues(record, { salt, subject }));
 * const root = leaves.tree().root;
 */
export function createLeafCollector(onHashed: (leafCount: number) => void): LeafCollector {
  let leaves = new Uint8Array(32 * 65536);
  let leafCount = 0;
  let chunk: LeafValues[] = [];
  const hashChunk = (): void => {
    if (chunk.length === 0) return;
    const hashed = leafHashes(chunk);
    if ((leafCount + chunk.length) * 32 > leaves.length) {
      const grown = new Uint8Array(Math.max(leaves.length * 2, (leafCount + chunk.length) * 32));
      grown.set(leaves.subarray(0, leafCount * 32));
      leaves = grown;
    }
    leaves.set(hashed, leafCount * 32);
    leafCount += chunk.length;
    chunk = [];
    onHashed(leafCount);
  };
  return {
    push(values) {
      chunk.push(values);
      if (chunk.length >= HASH_CHUNK) hashChunk();
    },
    tree() {
      hashChunk();
      return buildMerkleTree(leaves.subarray(0, leafCount * 32));
    },
  };
}
