/**
 * The static layout of a Shafaf mirror (docs/spec/mirror-v1.md), written once for the exporter
 * (src/mirror) and the portal's static mode (src/web/api-client.ts): an API answer of
 * `GET /api/v1<path>` (no query) is the file `api/v1<path>.json`; listings (`/batches`,
 * `/events`) are exported whole, in the API's order, as one file each.
 */

/** `mirror.json`'s format tag. */
export const MIRROR_FORMAT = "shafaf-mirror/1";
/** The manifest's file name at the site's root. */
export const MIRROR_MANIFEST = "mirror.json";
/** `<meta name="shafaf-mirror" content="shafaf-mirror/1">` in index.html: the portal is static. */
export const MIRROR_META = "shafaf-mirror";

/** One exported file: its path under the site root, its size and SHA-256 (lower-case hex). */
export interface MirrorFile {
  path: string;
  size: number;
  sha256: string;
}

/** `mirror.json`. */
export interface MirrorManifest {
  format: typeof MIRROR_FORMAT;
  /** The chain and the index's progress the API answers were read at. */
  chain: { chainId: number; contract: string; lastIndexedBlock: number; lastIndexedHash: string };
  /** The ledger log at the exported checkpoint (root hash in base64, as in the note), or null. */
  log: { origin: string; size: number; rootHash: string } | null;
  /** Batches in `api/v1/batches.json`. */
  batches: number;
  /** Every file of the site except mirror.json, sorted by path (byte order). */
  files: MirrorFile[];
}

/**
 * The file (relative to the site root) holding the answer of `GET /api/v1<apiPath>`.
 *
 * @example
 * mirrorApiFile("/batches/12"); // "api/v1/batches/12.json"
 */
export function mirrorApiFile(apiPath: string): string {
  if (!/^(\/[A-Za-z0-9._-]+)+$/.test(apiPath) || apiPath.includes(".."))
    throw new RangeError(`${apiPath} is not an API path without a query`);
  return `api/v1${apiPath}.json`;
}
