import { UnknownTreeSchemeError, type TreeScheme } from "./tree-scheme.ts";
import { treeSchemeV1 } from "./tree-scheme-v1.ts";
import { treeSchemeV2 } from "./tree-scheme-v2.ts";

const SCHEMES = new Map<string, TreeScheme<never, never>>([
  [treeSchemeV1.id, treeSchemeV1 as TreeScheme<never, never>],
  [treeSchemeV2.id, treeSchemeV2 as TreeScheme<never, never>],
]);

/**
 * The tree scheme named `id` (as read from a batch artifact, manifest, receipt or proof).
 * Throws UnknownTreeSchemeError for any other value: a reader never guesses a scheme.
 *
 * @example
 * lookupTreeScheme(manifest.treeScheme).verifyProof(proof, { root });
 */
export function lookupTreeScheme(id: unknown): TreeScheme<never, never> {
  const scheme = typeof id === "string" ? SCHEMES.get(id) : undefined;
  if (scheme === undefined) throw new UnknownTreeSchemeError(id);
  return scheme;
}
