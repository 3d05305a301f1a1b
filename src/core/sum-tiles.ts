/**
 * `shafaf-batch-tiles/1` (docs/spec/batch-tiles-v1.md): each province subtree of a
 * `shafaf-tree/2` batch as c2sp.org/tlog-tiles tiles (height 8, width 256, paths of
 * `tile-path.ts`), each entry a node's hash (32 bytes) ‖ its lanes (16 bytes each, u128 BE).
 * A tile at tile level L holds the nodes of tree level 8·L that cover complete subtrees; every
 * other node (inside a tile's span, or on the right edge) is folded from them here, with the
 * tree's own pairing rule (pair, an unpaired last node moves up unchanged).
 *
 * Pure and synchronous: the caller supplies tile bytes (and, for proofs, the leaves' keys and
 * commitments); nothing here reads a file.
 */
import { sumTreeQueries, type SumTree, type SumTreeProvince } from "./build-sum-tree.ts";
import { InvariantError } from "./errors.ts";
import { bytesToHex, hexToBytes, type Hex } from "./hex.ts";
import { createKeccakEngine, type KeccakEngine } from "./keccak.ts";
import type { RecordKind } from "./record.ts";
import { LANE_BYTES, laneCount, laneDecimal, readLanes, writeLanes } from "./sum-tree-lanes.ts";
import {
  provinceNode,
  sumLeafNode,
  sumParent,
  type SumLeaf,
  type SumNode,
} from "./sum-tree-hash.ts";
import {
  SUM_TREE_SCHEME,
  type ProofLeaf,
  type ProofNode,
  type ProofWindow,
} from "./sum-tree-proof.ts";
import { tileCounts, tilePath, TILE_HEIGHT, TILE_WIDTH } from "./tile-path.ts";

export const BATCH_TILES_FORMAT = "shafaf-batch-tiles/1" as const;

/** `tiles.json` of a batch (batch-tiles-v1.md): its root, and each province's size, root, lanes. */
export interface BatchTilesDescriptor {
  format: typeof BATCH_TILES_FORMAT;
  scheme: "shafaf-tree/2";
  kind: RecordKind;
  /** The batch root (the anchored one) and its lanes, decimal. */
  root: Hex;
  lanes: string[];
  /** Bytes per tile entry: 32 + 16 × lanes. */
  entryBytes: number;
  provinces: {
    code: string;
    size: number;
    root: Hex;
    lanes: string[];
    /** Whether the province's tiles of levels ≥ 1 are public (batch-tiles-v1.md §4). */
    public: boolean;
    /** Public provinces whose size is not a multiple of 256: the right-edge node of tree level 8. */
    edge: { hash: Hex; lanes: string[] } | null;
  }[];
}

/**
 * The smallest number of leaves a published aggregate may cover besides full 256-leaf blocks: a
 * province whose last block (size mod 256 leaves) is non-empty and smaller than this publishes no
 * tile, because its sum would follow from the manifest's province lanes minus the public entries
 * (the small-cell rule of the public views).
 */
export const MIN_PUBLIC_REMAINDER = 10;

/** The fewest persons a province may count for its batch's `tiles.json` to be published. */
export const MIN_PUBLIC_PERSONS = 10n;

/**
 * Whether a batch's public files (`tiles.json` and its public tiles) may be published: every
 * province counts at least {@link MIN_PUBLIC_PERSONS} persons (lane 1), because `tiles.json` lists
 * every province's totals and a verifier needs them all (batch-tiles-v1.md §4).
 */
export function batchPublishesTiles(
  provinces: readonly { lanes: readonly (bigint | string)[] }[],
): boolean {
  return provinces.every((p) => BigInt(p.lanes[1] ?? 0) >= MIN_PUBLIC_PERSONS);
}

/** Bytes of one tile entry of a kind: hash (32) ‖ lanes (16 each). */
export function sumTileEntryBytes(kind: RecordKind): number {
  return 32 + laneCount(kind) * LANE_BYTES;
}

/**
 * Whether a province subtree of `size` leaves has public tiles (tile levels ≥ 1): at least one
 * full 256-leaf block, and a last partial block that is empty or covers at least
 * {@link MIN_PUBLIC_REMAINDER} leaves.
 */
export function provincePublishesTiles(size: number): boolean {
  const rest = size % TILE_WIDTH;
  return size >= TILE_WIDTH && (rest === 0 || rest >= MIN_PUBLIC_REMAINDER);
}

/** Entries in tile `index` of tile level `level` of a subtree of `size` leaves (≤ 0: no such tile). */
export function sumTileWidth(level: number, index: number, size: number): number {
  return Math.min(TILE_WIDTH, Math.floor(size / TILE_WIDTH ** level) - index * TILE_WIDTH);
}

/**
 * Tiles are damaged, missing or do not fit the subtree (code `core.tiles.damaged`): a data
 * directory or mirror problem, never the caller's input. No personal data in the message.
 */
export class SumTilesError extends InvariantError {
  override name = "SumTilesError";
  constructor(shortMessage: string, details?: string) {
    super(shortMessage, { code: "core.tiles.damaged", ...(details ? { details } : {}) });
  }
}

/** Reads tile (`level`, `index`) of one province: exactly `width` entries, or throws. */
export type ReadSumTile = (level: number, index: number, width: number) => Uint8Array;

export interface SumTileProvinceParams {
  kind: RecordKind;
  /** Leaves in the subtree (≥ 1). */
  size: number;
  readTile: ReadSumTile;
  /**
   * The right-edge node of tree level 8 (the fold of the last `size mod 256` leaves), for a
   * reader without the level-0 tiles (a public verifier). Without it, level-0 tiles are read.
   */
  edge?: SumNode;
  /**
   * Where folded tile windows are kept (≈ 2 × 256 entries each): share one between the provinces
   * of a batch. Default: a cache of its own of 4 MiB.
   */
  cache?: SumTileWindowCache;
  /**
   * The subtree's trusted root (hash and lanes: the province root that folds, with the others,
   * to the anchored batch root). When given, every window is verified when it is folded, before
   * it is kept (batch-tiles-v1.md; DESIGN.md "Lookups from verified windows"): its top node MUST
   * be the node the verified window above it holds at its place (the top window's, this root),
   * every level-0 entry MUST satisfy the leaf rules (records 1, persons 0 or 1, lanes < 2^64) and
   * every entry of a tile of level L ≥ 1 MUST count 256^L records. A window that does not is
   * refused (SumTilesError) and never kept: every node handed out then lies on a chain of
   * verified folds up to this root.
   */
  root?: SumNode;
}

/**
 * Folded tile windows, least recently used out, bounded in bytes: the memory of proofs from tiles
 * does not grow with the batch (upper windows, shared by every proof, stay; level-0 windows are
 * kept while there is room, which saves their folding for the next proof in the same tile).
 */
export interface SumTileWindowCache {
  get(id: string): Uint8Array[] | undefined;
  set(id: string, rows: Uint8Array[]): void;
  /** A fresh prefix for one province's ids. */
  nextId(): number;
  readonly bytes: number;
}

/**
 * @example
 * const cache = createSumTileWindowCache(32 * 2 ** 20);
 */
export function createSumTileWindowCache(maxBytes: number): SumTileWindowCache {
  const map = new Map<string, { rows: Uint8Array[]; bytes: number }>();
  let bytes = 0;
  let ids = 0;
  return {
    get(id) {
      const hit = map.get(id);
      if (hit === undefined) return undefined;
      map.delete(id);
      map.set(id, hit);
      return hit.rows;
    },
    set(id, rows) {
      const size = rows.reduce((a, r) => a + r.length, 0);
      map.set(id, { rows, bytes: size });
      bytes += size;
      for (const [k, v] of map) {
        if (bytes <= maxBytes || map.size <= 1) break;
        map.delete(k);
        bytes -= v.bytes;
      }
    },
    nextId: () => ids++,
    get bytes() {
      return bytes;
    },
  };
}

/** One province subtree read from its tiles. */
export interface SumTileProvince {
  readonly size: number;
  /** The node at tree level `level`, position `index` (the builder's level rows). */
  node(level: number, index: number): SumNode;
  /** The subtree root. */
  root(): SumNode;
  /** The right-edge node of tree level 8·`tileLevel` (undefined when size is a multiple of 256^L). */
  edge(tileLevel: number): SumNode | undefined;
  /** Siblings of leaves lo…hi in the order a verifier consumes them (tree-v2.md §8 walk). */
  siblings(lo: number, hi: number): ProofNode[];
}

/** Tree height of a subtree of `size` leaves (levels above the leaves). */
function heightOf(size: number): number {
  let h = 0;
  for (let c = size; c > 1; c = (c + 1) >> 1) h++;
  return h;
}

let engine: KeccakEngine | undefined;

/**
 * The rows of levels 0…`levels` over `row` (nodes of `rec` bytes, count ≥ 1, aligned so that
 * node 0 is a left child at every level): pairs hashed with the tree's node rule in one batched
 * WebAssembly pass per level, an unpaired last node moved up unchanged.
 *
 * @throws {SumTilesError} when a lane sum overflows 2^128 − 1.
 */
export function foldSumRow(row: Uint8Array, lanesN: number, levels: number): Uint8Array[] {
  const rec = 32 + lanesN * LANE_BYTES;
  const count = row.length / rec;
  engine ??= createKeccakEngine();
  const scratch = 2 * (1 + 2 * rec + lanesN * LANE_BYTES + 69);
  const base = engine.reserve(2 * row.length + scratch + 64);
  const a = base;
  const b = base + row.length;
  const s = b + row.length;
  engine.bytes().set(row, a);
  const out: Uint8Array[] = [row.slice()];
  let c = count;
  let src = a;
  let dst = b;
  for (let l = 1; l <= levels; l++) {
    const pairs = c >> 1;
    const bad = engine.exports.sumNodeMany(src, pairs, rec, lanesN, dst, s);
    if (bad !== -1) throw new SumTilesError("a lane sum of the tiles exceeds 2^128 − 1");
    const m = engine.bytes();
    if (c % 2 === 1) m.copyWithin(dst + pairs * rec, src + (c - 1) * rec, src + c * rec);
    c = (c + 1) >> 1;
    out.push(m.slice(dst, dst + c * rec));
    [src, dst] = [dst, src];
    if (c === 1 && l < levels) {
      for (let k = l + 1; k <= levels; k++) out.push(out[l]!);
      break;
    }
  }
  return out;
}

function nodeFrom(bytes: Uint8Array, at: number, lanesN: number): SumNode {
  return { hash: bytes.slice(at, at + 32), lanes: readLanes(bytes, at + 32, lanesN) };
}

/** Whether `n` bytes of `a` at `i` equal those of `b` at `j`. */
function sameBytes(a: Uint8Array, i: number, b: Uint8Array, j: number, n: number): boolean {
  if (i + n > a.length || j + n > b.length) return false;
  for (let k = 0; k < n; k++) if (a[i + k] !== b[j + k]) return false;
  return true;
}

/** A lane value as it is written in a tile entry (u128 big-endian). */
function laneBytes(v: bigint): Uint8Array {
  const out = new Uint8Array(LANE_BYTES);
  writeLanes([v], out, 0);
  return out;
}

/**
 * The leaf rules on an entry's lanes (at `at`, u128 BE each), as the verifier applies them
 * (tree-v2.md): records = 1, persons ≤ 1, every lane below 2^64.
 */
function isLeafLanes(row: Uint8Array, at: number, lanesN: number): boolean {
  for (let k = 0; k < lanesN; k++) {
    const base = at + k * LANE_BYTES;
    const last = k < 2 ? LANE_BYTES - 1 : LANE_BYTES / 2;
    for (let b = 0; b < last; b++) if (row[base + b] !== 0) return false;
  }
  return row[at + LANE_BYTES - 1] === 1 && row[at + 2 * LANE_BYTES - 1]! <= 1;
}

function nodeBytes(node: SumNode, lanesN: number): Uint8Array {
  const out = new Uint8Array(32 + lanesN * LANE_BYTES);
  out.set(node.hash, 0);
  writeLanes(node.lanes, out, 32);
  return out;
}

/**
 * @example
 * const p = createSumTileProvince({ kind: "premium", size: 70_000, readTile });
 * p.root(); p.siblings(41, 41);
 */
export function createSumTileProvince(params: SumTileProvinceParams): SumTileProvince {
  const { kind, size } = params;
  if (!Number.isSafeInteger(size) || size < 1)
    throw new RangeError(`a province subtree has at least one leaf, not ${size}`);
  const lanesN = laneCount(kind);
  const rec = 32 + lanesN * LANE_BYTES;
  const height = heightOf(size);
  const windows = params.cache ?? createSumTileWindowCache(4 * 2 ** 20);
  const prefix = `${windows.nextId()}/`;
  const edges = new Map<number, SumNode | undefined>();
  const trusted = params.root === undefined ? undefined : nodeBytes(params.root, lanesN);
  /** The tile level of the window that holds the subtree root. */
  const topLevel = Math.floor(height / TILE_HEIGHT);

  const tile = (level: number, index: number): Uint8Array => {
    const width = sumTileWidth(level, index, size);
    if (width <= 0) return new Uint8Array(0);
    const bytes = params.readTile(level, index, width);
    if (bytes.length !== width * rec)
      throw new SumTilesError(
        `tile ${level}/${index} holds ${bytes.length} bytes, ${width} entries of ${rec} expected`,
      );
    return bytes;
  };

  /** The right-edge node of tree level 8·L: the top of the last window of tile level L − 1. */
  const edge = (L: number): SumNode | undefined => {
    if (L === 0 || size % TILE_WIDTH ** L === 0) return undefined;
    if (edges.has(L)) return edges.get(L);
    let node: SumNode;
    if (L === 1 && params.edge !== undefined) node = params.edge;
    else {
      const rows = window(L - 1, Math.floor(size / TILE_WIDTH ** L));
      const top = rows[TILE_HEIGHT]!;
      if (top.length !== rec)
        throw new SumTilesError(`the right edge of level ${8 * L} is not one node`);
      node = nodeFrom(top, 0, lanesN);
    }
    edges.set(L, node);
    return node;
  };

  /** The folded rows (tree levels 8L … 8L+8) of tile window (L, N): its entries, then the edge. */
  /** The window used last (verified and kept): a proof reads one window for several nodes. */
  let lastL = -1;
  let lastN = -1;
  let lastRows: Uint8Array[] | undefined;
  const window = (L: number, N: number): Uint8Array[] => {
    if (L === lastL && N === lastN && lastRows !== undefined) return lastRows;
    const rows = foldedWindow(L, N);
    lastL = L;
    lastN = N;
    lastRows = rows;
    return rows;
  };

  const foldedWindow = (L: number, N: number): Uint8Array[] => {
    const id = `${prefix}${L}/${N}`;
    const hit = windows.get(id);
    if (hit !== undefined) return hit;
    const entries = tile(L, N);
    const e =
      Math.floor(Math.floor(size / TILE_WIDTH ** L) / TILE_WIDTH) === N ? edge(L) : undefined;
    let row = entries;
    if (e !== undefined) {
      row = new Uint8Array(entries.length + rec);
      row.set(entries, 0);
      row.set(nodeBytes(e, lanesN), entries.length);
    }
    if (row.length === 0) throw new SumTilesError(`tile window ${L}/${N} is empty`);
    const rows = foldSumRow(row, lanesN, TILE_HEIGHT);
    if (trusted !== undefined) verifyWindow(L, N, rows, entries.length / rec);
    windows.set(id, rows);
    return rows;
  };

  /**
   * Checks a freshly folded window against the verified window above it (the root for the top
   * one) and its entries against the rules of their level; throws SumTilesError otherwise.
   */
  const verifyWindow = (L: number, N: number, rows: Uint8Array[], entries: number): void => {
    const row = rows[0]!;
    if (L === 0) {
      for (let e = 0; e < entries; e++) {
        const at = e * rec + 32;
        if (!isLeafLanes(row, at, lanesN))
          throw new SumTilesError(
            `leaf ${N * TILE_WIDTH + e}: its level-0 entry breaks the leaf rules (records 1, persons 0 or 1, lanes below 2^64)`,
          );
      }
    } else {
      const want = laneBytes(BigInt(TILE_WIDTH) ** BigInt(L));
      for (let e = 0; e < entries; e++)
        if (!sameBytes(row, e * rec + 32, want, 0, LANE_BYTES))
          throw new SumTilesError(
            `entry ${e} of tile ${L}/${N}: its records lane is not 256^${L}, the leaves it covers`,
          );
    }
    if (L === topLevel) {
      if (!sameBytes(rows[height - TILE_HEIGHT * L]!, 0, trusted!, 0, rec))
        throw new SumTilesError(`the tiles do not fold to the subtree's trusted root`);
      return;
    }
    // The window's top is node (8·(L+1), N): an entry (or the right edge) of the window above.
    const top = rows[TILE_HEIGHT]!;
    if (top.length !== rec)
      throw new SumTilesError(`tile window ${L}/${N} does not fold to one node`);
    const edgeOf = Math.floor(size / TILE_WIDTH ** (L + 1));
    if (N === edgeOf && size % TILE_WIDTH ** (L + 1) !== 0 && !edges.has(L + 1))
      edges.set(L + 1, nodeFrom(top, 0, lanesN)); // the window above folds with it; checked there
    try {
      const above = window(L + 1, Math.floor(N / TILE_WIDTH))[0]!;
      if (!sameBytes(top, 0, above, (N % TILE_WIDTH) * rec, rec))
        throw new SumTilesError(
          `tile window ${L}/${N} does not fold to its node in the tile above (node ${TILE_HEIGHT * (L + 1)}/${N})`,
        );
    } catch (error) {
      if (N === edgeOf) edges.delete(L + 1);
      throw error;
    }
  };

  const node = (level: number, index: number): SumNode => {
    if (level < 0 || level > height || index < 0 || index >= Math.ceil(size / 2 ** level))
      throw new RangeError(`node ${level}/${index} is not in a subtree of ${size} leaves`);
    const L = Math.floor(level / TILE_HEIGHT);
    const r = level % TILE_HEIGHT;
    const N = Math.floor((index * 2 ** r) / TILE_WIDTH);
    const rows = window(L, N);
    const at = (index - (N * TILE_WIDTH) / 2 ** r) * rec;
    const row = rows[r]!;
    if (at + rec > row.length)
      throw new SumTilesError(`node ${level}/${index} is not in its tiles`);
    return nodeFrom(row, at, lanesN);
  };

  /**
   * Node (level, index) as a proof carries it, read from its window's bytes. Nodes of tree levels
   * ≥ 8 (in tiles of level ≥ 1, shared by every proof of the subtree; at most size/128 of them)
   * are kept as text: each use gets its own object.
   */
  /** Per tree level ≥ 8, index → the node as text. */
  const upper: Map<number, ProofNode>[] = [];
  const proofNodeAt = (level: number, index: number): ProofNode => {
    const keep = level >= TILE_HEIGHT ? (upper[level] ??= new Map()) : undefined;
    const kept = keep?.get(index);
    if (kept !== undefined) return { hash: kept.hash, lanes: kept.lanes.slice() };
    const L = Math.floor(level / TILE_HEIGHT);
    const r = level % TILE_HEIGHT;
    const N = Math.floor((index * 2 ** r) / TILE_WIDTH);
    const row = window(L, N)[r]!;
    const at = (index - (N * TILE_WIDTH) / 2 ** r) * rec;
    if (at + rec > row.length)
      throw new SumTilesError(`node ${level}/${index} is not in its tiles`);
    const lanes: string[] = [];
    for (let k = 0; k < lanesN; k++) lanes.push(laneDecimal(row, at + 32 + k * LANE_BYTES));
    const made = { hash: bytesToHex(row.subarray(at, at + 32)), lanes };
    keep?.set(index, { hash: made.hash, lanes: lanes.slice() });
    return made;
  };

  return {
    size,
    node,
    root: () => node(height, 0),
    edge,
    siblings(lo0, hi0) {
      const out: ProofNode[] = [];
      let count = size;
      let lo = lo0;
      let hi = hi0;
      for (let l = 0; count > 1; l++) {
        if (lo % 2 === 1) out.push(proofNodeAt(l, lo - 1));
        if (hi % 2 === 0 && hi + 1 < count) out.push(proofNodeAt(l, hi + 1));
        lo >>= 1;
        hi >>= 1;
        count = (count + 1) >> 1;
      }
      return out;
    },
  };
}

const proofNode = (n: SumNode): ProofNode => ({
  hash: bytesToHex(n.hash),
  lanes: n.lanes.map((v) => v.toString()),
});

/** The rows of the top tree over the province nodes (row 0) up to the batch root. */
function topTree(kind: RecordKind, provinces: readonly TiledProvince[]): SumNode[][] {
  const top: SumNode[][] = [
    provinces.map((p) =>
      provinceNode(kind, p.code, { hash: hexToBytes(p.root), lanes: [...p.lanes] }),
    ),
  ];
  while (top[top.length - 1]!.length > 1) {
    const cur = top[top.length - 1]!;
    const next: SumNode[] = [];
    for (let i = 0; i + 1 < cur.length; i += 2) {
      const parent = sumParent(cur[i]!, cur[i + 1]!);
      if (parent === undefined)
        throw new SumTilesError("a lane sum of the top tree exceeds 2^128 − 1");
      next.push(parent);
    }
    if (cur.length % 2 === 1) next.push(cur[cur.length - 1]!);
    top.push(next);
  }
  return top;
}

/**
 * The batch root (hash and lanes) of a list of province subtrees (code order), as
 * `tree-v2.md` §6.4 pairs their province nodes.
 *
 * @throws {SumTilesError} on a lane overflow; RangeError on a bad code or an empty list.
 */
export function sumTreeRootOfProvinces(
  kind: RecordKind,
  provinces: readonly TiledProvince[],
): SumNode {
  if (provinces.length === 0) throw new RangeError("a batch has at least one province");
  const top = topTree(kind, provinces);
  return top[top.length - 1]![0]!;
}

/** A province as the manifest and `tiles.json` list it. */
export interface TiledProvince {
  code: string;
  size: number;
  root: Hex;
  lanes: readonly bigint[];
}

export interface TileSumTreeParams {
  kind: RecordKind;
  /** The batch's provinces in code order (the manifest's list). */
  provinces: readonly TiledProvince[];
  /** Tile (`level`, `index`) of province number `province`, exactly `width` entries. */
  readTile: (province: number, level: number, index: number, width: number) => Uint8Array;
  /** The person key k_b of the leaf at batch index `i` (32 bytes). */
  leafKey(i: number): Uint8Array;
  /**
   * The keys of leaves `from … from + count − 1` (32 bytes each, concatenated): one read where
   * `leafKey` would take `count`. Key searches read every 256th key once (cached: 1/256 of
   * the keys) and then one run of at most 256.
   */
  leafKeys?(from: number, count: number): Uint8Array;
  /**
   * The keys of leaves `from … from + count − 1` where they lie, `stride` bytes apart (≥ 32; the
   * key first), read-only: what `leafKeys` gives without copying the keys out (preferred).
   */
  leafKeyRun?(from: number, count: number): { bytes: Uint8Array; stride: number };
  /** The salted commitment of the leaf at batch index `i` (from its record and salt). */
  leafCommitment(i: number): Uint8Array;
  /** Bytes of folded tile windows kept for the batch (default 32 MiB). */
  cacheBytes?: number;
}

/**
 * A `SumTree` (the interface the in-memory builder returns) answered from tiles: each proof reads
 * the level-0 tile of its leaves and the folded windows above them (a few, cached), so its cost
 * does not depend on the batch's size. Every leaf handed out is checked against its level-0 tile
 * entry (its hash from key, seq, lanes and commitment), and every province root against the list.
 *
 * @throws {SumTilesError} (from its methods) when a tile, key or commitment does not fit.
 * @example
 * const tree = createTileSumTree({ kind, provinces, readTile, leafKey, leafCommitment });
 * buildReceiptV2({ …, tree, index }); // verified before it is returned
 */
export function createTileSumTree(params: TileSumTreeParams): SumTree {
  const { kind } = params;
  const codes = params.provinces.map((p) => p.code);
  const offsets: number[] = [];
  let total = 0;
  for (const p of params.provinces) {
    offsets.push(total);
    total += p.size;
  }
  const subtrees = params.provinces.map((p): SumNode => ({
    hash: hexToBytes(p.root),
    lanes: [...p.lanes],
  }));
  const top = topTree(kind, params.provinces);
  const rootNode = top[top.length - 1]![0]!;
  const tiled: (SumTileProvince | undefined)[] = params.provinces.map(() => undefined);
  const cache = createSumTileWindowCache(params.cacheBytes ?? 32 * 2 ** 20);
  const provinceTiles = (p: number): SumTileProvince => {
    let t = tiled[p];
    if (t === undefined) {
      if (subtrees[p]!.lanes[0] !== BigInt(params.provinces[p]!.size))
        throw new SumTilesError(`province ${codes[p]} does not count its size in records`);
      t = createSumTileProvince({
        kind,
        size: params.provinces[p]!.size,
        readTile: (level, index, width) => params.readTile(p, level, index, width),
        cache,
        root: subtrees[p]!,
      });
      const root = t.root();
      const want = subtrees[p]!;
      if (
        bytesToHex(root.hash) !== bytesToHex(want.hash) ||
        root.lanes.some((v, k) => v !== want.lanes[k])
      )
        throw new SumTilesError(`the tiles of province ${codes[p]} do not fold to its listed root`);
      tiled[p] = t;
    }
    return t;
  };
  const provinceOf = (i: number): number => {
    if (!Number.isInteger(i) || i < 0 || i >= total)
      throw new RangeError(`leaf index ${i} is not in 0..${total - 1}`);
    let lo = 0;
    let hi = codes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (offsets[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const sameKey = (i: number, key: Uint8Array): boolean => {
    const k = params.leafKey(i);
    for (let b = 0; b < 32; b++) if (k[b] !== key[b]) return false;
    return true;
  };
  /**
   * The last leaf checked (immutable; one entry): a receipt asks for its leaf, then for the
   * leaf's proof, and a person's window for the leaf beside the last one's.
   */
  let last: { i: number; leaf: SumLeaf } | undefined;
  const leafAt = (p: number, j: number): SumLeaf => {
    const i = offsets[p]! + j;
    if (last?.i === i) return last.leaf;
    const key = params.leafKey(i);
    let seq = 0;
    while (j - seq - 1 >= 0 && sameKey(i - seq - 1, key)) seq++;
    const entry = provinceTiles(p).node(0, j);
    const leaf: SumLeaf = { key, seq, lanes: entry.lanes, commitment: params.leafCommitment(i) };
    const hash = sumLeafNode(leaf).hash;
    if (hash.length !== 32 || !sameBytes(hash, 0, entry.hash, 0, 32))
      throw new SumTilesError(
        `leaf ${j} of province ${codes[p]}: its key, seq, lanes and commitment do not hash to its tile entry`,
      );
    last = { i, leaf };
    return leaf;
  };
  const toProofLeaf = (leaf: SumLeaf): ProofLeaf => ({
    key: bytesToHex(leaf.key),
    seq: leaf.seq,
    lanes: leaf.lanes.map((v) => v.toString()),
    commitment: bytesToHex(leaf.commitment),
  });
  /** Each province's top-tree path and subtree node as text, made once (fresh objects per use). */
  const topText: ({ path: ProofNode[]; subtree: ProofNode } | undefined)[] = codes.map(
    () => undefined,
  );
  const provinceText = (p: number): { path: ProofNode[]; subtree: ProofNode } => {
    let t = topText[p];
    if (t === undefined) {
      const path: ProofNode[] = [];
      let count = codes.length;
      let i = p;
      for (let l = 0; count > 1; l++) {
        if (i % 2 === 1) path.push(proofNode(top[l]![i - 1]!));
        else if (i + 1 < count) path.push(proofNode(top[l]![i + 1]!));
        i >>= 1;
        count = (count + 1) >> 1;
      }
      t = { path, subtree: proofNode(subtrees[p]!) };
      topText[p] = t;
    }
    return t;
  };
  const copy = (n: ProofNode): ProofNode => ({ hash: n.hash, lanes: n.lanes.slice() });
  const window = (p: number, lo: number, hi: number): ProofWindow => {
    const leaves: ProofLeaf[] = [];
    for (let j = lo; j <= hi; j++) leaves.push(toProofLeaf(leafAt(p, j)));
    return {
      province: codes[p]!,
      provinceIndex: p,
      size: params.provinces[p]!.size,
      index: lo,
      batchIndex: offsets[p]! + lo,
      leaves,
      subtree: copy(provinceText(p).subtree),
      path: provinceTiles(p).siblings(lo, hi),
      provincePath: provinceText(p).path.map(copy),
    };
  };
  const cmp = (k: Uint8Array, at: number, key: Uint8Array): number => {
    for (let b = 0; b < 32; b++) {
      const d = k[at + b]! - key[b]!;
      if (d !== 0) return d;
    }
    return 0;
  };
  type KeyRun = { bytes: Uint8Array; stride: number };
  /** The last run of keys read (immutable; one entry): a key's lower and upper bound share it. */
  let lastRun: { from: number; count: number; run: KeyRun } | undefined;
  const keysOf = (from: number, count: number): KeyRun => {
    if (lastRun !== undefined && lastRun.from === from && lastRun.count === count)
      return lastRun.run;
    const run = readKeys(from, count);
    if (run.stride < 32 || run.bytes.length < run.stride * (count - 1) + 32)
      throw new SumTilesError(`the keys of leaves ${from}… are not ${count} keys`);
    lastRun = { from, count, run };
    return run;
  };
  const readKeys = (from: number, count: number): KeyRun => {
    if (params.leafKeyRun !== undefined) return params.leafKeyRun(from, count);
    if (params.leafKeys !== undefined) return { bytes: params.leafKeys(from, count), stride: 32 };
    const out = new Uint8Array(32 * count);
    for (let k = 0; k < count; k++) out.set(params.leafKey(from + k), 32 * k);
    return { bytes: out, stride: 32 };
  };
  /** Every 256th key of each province (its "block heads"), read once. */
  const heads: (Uint8Array | undefined)[] = params.provinces.map(() => undefined);
  const headsOf = (p: number): Uint8Array => {
    let h = heads[p];
    if (h === undefined) {
      const size = params.provinces[p]!.size;
      const count = Math.ceil(size / TILE_WIDTH);
      h = new Uint8Array(32 * count);
      for (let b = 0; b < count; b++) h.set(params.leafKey(offsets[p]! + b * TILE_WIDTH), 32 * b);
      heads[p] = h;
    }
    return h;
  };
  /** First position in province p whose key is ≥ key (> key when `upper`). */
  const lowerBound = (p: number, key: Uint8Array, upper: boolean): number => {
    const size = params.provinces[p]!.size;
    const past = (c: number) => (upper ? c > 0 : c >= 0);
    const h = headsOf(p);
    const blocks = h.length / 32;
    // the first block whose head is past the key: the answer lies after the head before it
    let lo = 0;
    let hi = blocks;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (past(cmp(h, 32 * mid, key))) hi = mid;
      else lo = mid + 1;
    }
    if (lo === 0) return 0;
    const from = (lo - 1) * TILE_WIDTH;
    const to = Math.min(lo * TILE_WIDTH, size);
    const run = keysOf(offsets[p]! + from, to - from);
    let a = 1;
    let b = to - from;
    while (a < b) {
      const mid = (a + b) >> 1;
      if (past(cmp(run.bytes, run.stride * mid, key))) b = mid;
      else a = mid + 1;
    }
    return from + a;
  };
  const provinces: SumTreeProvince[] = params.provinces.map((p, index) => ({
    code: p.code,
    index,
    size: p.size,
    offset: offsets[index]!,
    root: p.root,
    lanes: [...p.lanes],
  }));
  return {
    scheme: SUM_TREE_SCHEME,
    kind,
    root: bytesToHex(rootNode.hash),
    lanes: rootNode.lanes,
    size: total,
    provinces,
    ...sumTreeQueries({
      kind,
      rootNode,
      size: total,
      codes,
      offsets,
      sizes: params.provinces.map((p) => p.size),
      provinceOf,
      leafAt,
      lowerBound,
      window,
    }),
  };
}

/** What {@link verifyProvinceTiles} finds. */
export type VerifyProvinceTilesResult =
  { ok: true; root: SumNode } | { ok: false; reason: string; expected?: Hex; calculated?: Hex };

/**
 * A public verifier's check of one province's public tiles (tile levels ≥ 1) and its right edge
 * against the manifest's province root and lanes (batch-tiles-v1.md §6): the tiles fold to that
 * root. Never throws on bad tiles: a failure names what did not fit.
 *
 * @example
 * verifyProvinceTiles({ kind, size, root, lanes, edge, readTile }); // { ok: true, root }
 */
export function verifyProvinceTiles(p: {
  kind: RecordKind;
  size: number;
  root: Hex;
  lanes: readonly bigint[];
  edge: SumNode | undefined;
  readTile: ReadSumTile;
}): VerifyProvinceTilesResult {
  if (!provincePublishesTiles(p.size))
    return { ok: false, reason: `a province of ${p.size} leaves has no public tiles` };
  if ((p.size % TILE_WIDTH === 0) !== (p.edge === undefined))
    return {
      ok: false,
      reason:
        p.edge === undefined
          ? "the right edge of level 8 is missing"
          : "a right edge is given for a size that is a multiple of 256",
    };
  try {
    const province = createSumTileProvince({
      kind: p.kind,
      size: p.size,
      ...(p.edge !== undefined ? { edge: p.edge } : {}),
      readTile: (level, index, width) => {
        if (level === 0) throw new SumTilesError("a public verifier reads no level-0 tile");
        return p.readTile(level, index, width);
      },
    });
    const root = province.root();
    const calculated = bytesToHex(root.hash);
    if (calculated !== p.root.toLowerCase())
      return {
        ok: false,
        reason: "the tiles do not fold to the province root",
        expected: p.root,
        calculated,
      };
    if (root.lanes.some((v, k) => v !== p.lanes[k]))
      return { ok: false, reason: "the tiles' lanes do not add up to the province lanes" };
    if (root.lanes[0] !== BigInt(p.size))
      return { ok: false, reason: `the tiles hold ${root.lanes[0]} leaves, not ${p.size}` };
    return { ok: true, root };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

/** One tile of a batch, as {@link sumTreeTiles} lists it. */
export interface SumTreeTile {
  /** Province code and its number in the batch. */
  code: string;
  province: number;
  level: number;
  index: number;
  width: number;
  /** `<IR-dd>/tile/<L>/<N>[.p/<W>]`. */
  path: string;
  /** Levels ≥ 1 of a province that publishes (batch-tiles-v1.md §4); level 0 never. */
  public: boolean;
  bytes: Uint8Array;
}

/**
 * Every tile of a tree built in memory (it has `levelBytes`), province by province, level by
 * level, index ascending: the one definition of which tiles a batch has and what they hold.
 *
 * @throws {RangeError} when the tree was not built in memory.
 * @example
 * for (const t of sumTreeTiles(tree)) write(t.path, t.bytes);
 */
export function* sumTreeTiles(tree: SumTree): Generator<SumTreeTile> {
  const levelBytes = tree.levelBytes?.bind(tree);
  if (levelBytes === undefined) throw new RangeError("tiles are cut from a tree built in memory");
  for (const p of tree.provinces) {
    const isPublic = provincePublishesTiles(p.size);
    for (const { level, full, partialWidth } of tileCounts(p.size)) {
      const count = full + (partialWidth > 0 ? 1 : 0);
      for (let index = 0; index < count; index++) {
        const width = index < full ? TILE_WIDTH : partialWidth;
        yield {
          code: p.code,
          province: p.index,
          level,
          index,
          width,
          path: `${p.code}/${tilePath({ level, index, width })}`,
          public: isPublic && level >= 1,
          bytes: levelBytes(p.index, TILE_HEIGHT * level, index * TILE_WIDTH, width),
        };
      }
    }
  }
}

/**
 * The right-edge node of tree level 8 of province number `province` of a tree built in memory:
 * what a public verifier needs besides the public tiles (undefined when the province does not
 * publish, or its size is a multiple of 256).
 */
export function sumTreeEdge(tree: SumTree, province: number): SumNode | undefined {
  const p = tree.provinces[province]!;
  if (!provincePublishesTiles(p.size) || p.size % TILE_WIDTH === 0) return undefined;
  const lanesN = laneCount(tree.kind);
  const c = Math.floor(p.size / TILE_WIDTH);
  return nodeFrom(tree.levelBytes!(province, TILE_HEIGHT, c, 1), 0, lanesN);
}
