import { sumLeafNode, sumParent, type SumLeaf, type SumNode } from "./sum-tree-hash.ts";
import type { TreeScheme } from "./tree-scheme.ts";
import { verifySumTreeProof } from "./verify-sum-tree-proof.ts";

/**
 * `shafaf-tree/2`, the keyed Merkle-sum tree (docs/spec/tree-v2.md): leaves sorted by
 * (k_b, seq) inside province subtrees, nodes binding both children's sums.
 */
export const treeSchemeV2: TreeScheme<SumLeaf, SumNode> = {
  id: "shafaf-tree/2",
  spec: "docs/spec/tree-v2.md",
  leafNode: sumLeafNode,
  parentNode: sumParent,
  verifyProof: (proof, trust) => {
    const r = verifySumTreeProof(
      proof,
      trust.lanes === undefined ? { root: trust.root } : { root: trust.root, lanes: trust.lanes },
    );
    return { status: r.status, checks: r.checks };
  },
};
