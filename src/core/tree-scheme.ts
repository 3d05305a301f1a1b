import { ShafafError } from "./errors.ts";
import type { Check } from "./verify-receipt.ts";

/** The tree schemes Shafaf knows. `shafaf-tree/1`: OpenZeppelin standard-v1 over leaf hashes; `shafaf-tree/2`: the keyed Merkle-sum tree. */
export const TREE_SCHEME_IDS = ["shafaf-tree/1", "shafaf-tree/2"] as const;
export type TreeSchemeId = (typeof TREE_SCHEME_IDS)[number];

/** What a proof is verified against: the batch root, obtained out of band (chain, manifest). */
export interface TreeTrust {
  root: string;
  /** Batch totals (shafaf-tree/2 only; ignored by schemes without sums). */
  lanes?: readonly (bigint | string)[];
}

export interface TreeProofResult {
  status: "verified" | "failed";
  checks: Check[];
}

/**
 * One tree scheme: it owns its leaf hash, its node hash, how a root is computed and how a proof
 * is verified. Every batch artifact, manifest, receipt and proof names its scheme by `id`; a
 * reader looks the scheme up with {@link treeScheme} and refuses an id it does not know.
 */
export interface TreeScheme<Leaf = unknown, Node = unknown> {
  readonly id: TreeSchemeId;
  /** The document that specifies every byte (relative to the repository root). */
  readonly spec: string;
  /** The node of one leaf. */
  leafNode(leaf: Leaf): Node;
  /** The parent of two nodes, or `undefined` when the scheme refuses the pair (a sum overflow). */
  parentNode(left: Node, right: Node): Node | undefined;
  /** Verifies a proof of this scheme. Pure; never throws (malformed input is `failed`). */
  verifyProof(proof: unknown, trust: TreeTrust): TreeProofResult;
}

/** An id that names no tree scheme Shafaf knows. */
export class UnknownTreeSchemeError extends ShafafError {
  override name = "UnknownTreeSchemeError";
  constructor(id: unknown) {
    super(`unknown tree scheme ${JSON.stringify(String(id)).slice(0, 40)}`, {
      details: `known schemes: ${TREE_SCHEME_IDS.join(", ")}; a newer Shafaf may know it — never guess a scheme`,
      code: "core.tree-scheme.unknown",
    });
  }
}

/** True when `id` names a known scheme. */
export function isTreeSchemeId(id: unknown): id is TreeSchemeId {
  return typeof id === "string" && (TREE_SCHEME_IDS as readonly string[]).includes(id);
}
