import { isHexBytes } from "./hex.ts";
import { leafHash, type LeafValues } from "./leaf.ts";
import { nodeHash } from "./keccak.ts";
import { processProof } from "./merkle-tree.ts";
import type { TreeProofResult, TreeScheme } from "./tree-scheme.ts";
import type { Check } from "./verify-receipt.ts";

/** A `shafaf-tree/1` proof: an OpenZeppelin standard-v1 leaf hash and its sibling path. */
export interface TreeV1Proof {
  scheme: "shafaf-tree/1";
  leaf: string;
  proof: string[];
}

/**
 * `shafaf-tree/1`, the first tree: OpenZeppelin `StandardMerkleTree` (standard-v1) over the
 * leaves of src/core/leaf.ts. An adapter over merkle-tree.ts: no behaviour of its own.
 */
export const treeSchemeV1: TreeScheme<LeafValues, Uint8Array> = {
  id: "shafaf-tree/1",
  spec: "docs/spec/tree-v1.md",
  leafNode: (values) => leafHash(values),
  parentNode: (left, right) => nodeHash(left, right),
  verifyProof(proof, trust): TreeProofResult {
    const checks: Check[] = [];
    const fail = (name: string, detail: string, expected?: string, computed?: string) => {
      const c: Check = { name, ok: false, outcome: "fail", detail };
      if (expected !== undefined) c.expected = expected;
      if (computed !== undefined) c.computed = computed;
      checks.push(c);
      return { status: "failed" as const, checks };
    };
    const p = proof as Partial<TreeV1Proof> | null;
    if (typeof p !== "object" || p === null || p.scheme !== "shafaf-tree/1")
      return fail("scheme", "the proof is not a shafaf-tree/1 proof");
    checks.push({ name: "scheme", ok: true, outcome: "pass", detail: "shafaf-tree/1" });
    if (
      !isHexBytes(p.leaf, 32) ||
      !Array.isArray(p.proof) ||
      p.proof.length > 256 ||
      !p.proof.every((x) => isHexBytes(x, 32)) ||
      !isHexBytes(trust.root, 32)
    )
      return fail("format", "leaf, proof elements and root are 0x-prefixed 32-byte hex strings");
    const computed = processProof(p.leaf, p.proof);
    const expected = trust.root.toLowerCase();
    if (computed !== expected)
      return fail("root", "the root computed from the proof", expected, computed);
    checks.push({
      name: "root",
      ok: true,
      outcome: "pass",
      detail: "the proof leads to the trusted root",
    });
    return { status: "verified", checks };
  },
};
