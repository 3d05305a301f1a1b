import { lookupTreeScheme } from "./lookup-tree-scheme.ts";
import {
  TREE_SCHEME_IDS,
  isTreeSchemeId,
  type TreeProofResult,
  type TreeTrust,
} from "./tree-scheme.ts";

/**
 * Verifies a proof of any known tree scheme, chosen by the proof's own `scheme` field. Never
 * throws: a proof without a scheme, or with one Shafaf does not know, is `failed` at the check
 * `scheme` — it is never verified under a guessed scheme.
 *
 * @example
 * verifyTreeProof(JSON.parse(text), { root: onChainRoot }).status; // "verified" | "failed"
 */
export function verifyTreeProof(proof: unknown, trust: TreeTrust): TreeProofResult {
  const id =
    typeof proof === "object" && proof !== null
      ? (proof as { scheme?: unknown }).scheme
      : undefined;
  if (!isTreeSchemeId(id))
    return {
      status: "failed",
      checks: [
        {
          name: "scheme",
          ok: false,
          outcome: "fail",
          expected: TREE_SCHEME_IDS.join(" | "),
          computed: typeof id === "string" ? id.slice(0, 40) : typeof id,
          detail: "the proof names no tree scheme this verifier knows; refusing to guess",
        },
      ],
    };
  return lookupTreeScheme(id).verifyProof(proof, trust);
}
