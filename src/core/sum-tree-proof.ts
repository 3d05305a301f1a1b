import type { Hex } from "./hex.ts";
import type { RecordKind } from "./record.ts";

/** The scheme id of the v2 keyed Merkle-sum tree. */
export const SUM_TREE_SCHEME = "shafaf-tree/2" as const;

/** A node given in a proof: its hash and its lanes as decimal strings. */
export interface ProofNode {
  hash: Hex;
  lanes: string[];
}

/** A leaf opened in a proof: everything its hash commits to. */
export interface ProofLeaf {
  key: Hex;
  seq: number;
  lanes: string[];
  commitment: Hex;
}

/**
 * Consecutive leaves of one province subtree with what is needed to reach the batch root
 * (docs/spec/tree-v2.md §5).
 */
export interface ProofWindow {
  /** Province code `IR-dd` and the province's position among the batch's provinces. */
  province: string;
  provinceIndex: number;
  /** Leaves in the province subtree. */
  size: number;
  /** Position of `leaves[0]` in the province subtree and in the whole batch. */
  index: number;
  batchIndex: number;
  leaves: ProofLeaf[];
  /** The province subtree's root as the manifest lists it. */
  subtree: ProofNode;
  /** Siblings inside the province subtree, in the order the verifier consumes them. */
  path: ProofNode[];
  /** Siblings of the province node in the batch's top tree, in consumption order. */
  provincePath: ProofNode[];
}

/**
 * A `shafaf-tree/2` proof. `inclusion`: one window of one leaf. `range` ("these are all my
 * records") and `absence` ("I am not in this batch"): one window per province of the batch, in
 * province order, each holding the key's leaves with the leaves just outside them, or the two
 * leaves that bracket the key.
 */
export interface SumTreeProof {
  scheme: typeof SUM_TREE_SCHEME;
  type: "inclusion" | "range" | "absence";
  kind: RecordKind;
  batchId: number;
  /** The batch root and its lanes (the batch totals). */
  root: ProofNode;
  /** Leaves in the batch, and provinces in the batch. */
  batchSize: number;
  provinceCount: number;
  /** The person's per-batch key k_b (range and absence only). */
  key?: Hex;
  windows: ProofWindow[];
}
