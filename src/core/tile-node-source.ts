/**
 * Complete-subtree hashes read from c2sp.org/tlog-tiles hash tiles, written once for the log that
 * writes the tiles (src/log/tiled-log.ts) and for the monitor that reads them over HTTP: a tile at
 * level L holds the hashes of tree level 8·L, and the subtrees of levels 8·L+1 … 8·L+7 are folded
 * from runs of them.
 */
import { InvariantError } from "./errors.ts";
import { hashChildren, type NodeHashSource } from "./rfc6962.ts";
import { TILE_HEIGHT, TILE_WIDTH } from "./tile-path.ts";

/**
 * The number of hashes in tile `index` of tile level `level` of a tree of `treeSize` leaves: 256
 * for a full tile, 1–255 for the partial one, 0 or less when the tree has no such tile.
 *
 * @example
 * tileWidth(0, 1, 300); // 44
 */
export function tileWidth(level: number, index: number, treeSize: number): number {
  const count = Math.floor(treeSize / TILE_WIDTH ** level);
  return Math.min(TILE_WIDTH, count - index * TILE_WIDTH);
}

/**
 * The root of the complete subtree over `count` (a power of two) consecutive 32-byte hashes of
 * `hashes`, starting at hash `from`.
 */
export function hashTileRange(hashes: Uint8Array, from: number, count: number): Uint8Array {
  let level: Uint8Array[] = [];
  for (let i = 0; i < count; i++) level.push(hashes.subarray((from + i) * 32, (from + i + 1) * 32));
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(hashChildren(level[i]!, level[i + 1]!));
    level = next;
  }
  return level[0]!;
}

/**
 * A {@link NodeHashSource} over hash tiles. `readTile(tileLevel, tileIndex)` returns the tile's
 * bytes (32 per hash) as the tree whose nodes are asked for has it; a node the tile does not
 * cover throws `InvariantError` (code `log.node`), naming `what` (e.g. "the log of size 10").
 *
 * @example
 * const node = tileNodeSource((level, index) => tiles.get(`${level}/${index}`)!, "the tiles read");
 * const root = rootHash(size, node);
 */
export function tileNodeSource(
  readTile: (tileLevel: number, tileIndex: number) => Uint8Array,
  what: () => string,
): NodeHashSource {
  return (level, index) => {
    const tileLevel = Math.floor(level / TILE_HEIGHT);
    const r = level % TILE_HEIGHT;
    const first = index * 2 ** r;
    const tileIndex = Math.floor(first / TILE_WIDTH);
    const tile = readTile(tileLevel, tileIndex);
    const from = first - tileIndex * TILE_WIDTH;
    if ((from + 2 ** r) * 32 > tile.length)
      throw new InvariantError(`node ${level}/${index} is not in ${what()}`, {
        code: "log.node",
      });
    return hashTileRange(tile, from, 2 ** r);
  };
}
