/**
 * A `shafaf-tree/2` batch's tiles on disk (docs/spec/batch-tiles-v1.md), beside its artifact:
 *
 *   batches/<jobId>/tiles/tiles.json                        the descriptor (public)
 *   batches/<jobId>/tiles/public/<IR-dd>/tile/<L>/<N>[.p/W]  tile levels ≥ 1 of provinces that publish
 *   batches/<jobId>/tiles/private/<IR-dd>/tile/<L>/…         level 0, and levels ≥ 1 of the others
 *   batches/<jobId>/tiles/private/leaves.bin                 per leaf: k_b (32) ‖ line (u32 BE)
 *   batches/<jobId>/tiles/private/lines.bin                  per line: its leaf's batch index (u32 BE)
 *
 * Written once into `tiles.tmp-…/` and renamed to `tiles/` (a `tiles/` folder is always complete;
 * a killed writer leaves only a temporary folder, removed by the next one). Every private file
 * goes through `writePrivateData` (private-files.ts).
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { chmod, mkdir, open, readFile, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import type { SumTree } from "../core/build-sum-tree.ts";
import { bytesToHex, hexToBytes } from "../core/hex.ts";
import {
  BATCH_TILES_FORMAT,
  type BatchTilesDescriptor,
  provincePublishesTiles,
  sumTileEntryBytes,
  batchPublishesTiles,
  type TiledProvince,
} from "../core/sum-tiles.ts";
import { parseTilePath, tilePath, TILE_HEIGHT, TILE_WIDTH } from "../core/tile-path.ts";
import { InvalidInputError } from "../core/errors.ts";
import {
  FOLD_CHUNK,
  foldSumTreeChunks,
  sortLeaves,
  type FoldedChunk,
  type LeafColumns,
  type SumTreeSummary,
} from "../core/fold-sum-tree.ts";
import { laneCount, readLanes, writeLanes } from "../core/sum-tree-lanes.ts";
import { sumParent, type SumNode } from "../core/sum-tree-hash.ts";
import { artifactSealing, BatchArtifactError, type BatchArtifact } from "./batch-artifact.ts";
import {
  createPrivateFileWriter,
  openPrivateFileReader,
  PrivateFileError,
  type PrivateFileWriter,
  type DataKey,
  type PrivateFileReader,
} from "./private-store.ts";
import { makePrivateDir, writePrivateData } from "./private-files.ts";
import { loadArtifactColumns } from "./sum-tree-artifact.ts";

/** `tiles.json`. */
export type { BatchTilesDescriptor } from "../core/sum-tiles.ts";

/** The name of the folder of a batch's tiles inside its artifact folder. */
export const TILES_DIR = "tiles";

/**
 * How a batch's private tile files are sealed at rest: with the data key, when the batch's artifact
 * is sealed (`encryption` in artifact.json), each file for its role
 * `shafaf-batch/<jobId>/tiles/<path under tiles/>` (encrypted-file-v1.md); plain otherwise.
 */
export type TileSealing = { jobId: string; key: DataKey } | undefined;

/** The sealing of the tiles derived from `artifact`: sealed when the artifact is. */
export function tileSealing(artifact: BatchArtifact): TileSealing {
  if (artifact.dataKey === undefined) return undefined;
  if (artifactSealing(artifact.dir, artifact.descriptor).size === 0) return undefined;
  return { jobId: artifact.descriptor.jobId, key: artifact.dataKey };
}

/** The associated-data role of a private tile file (`rel`: its path under `tiles/`). */
export const tileFileRole = (jobId: string, rel: string): string =>
  `shafaf-batch/${jobId}/tiles/${rel}`;

/** Where tile (`level`, `index`, `width`) of `code` lives, relative to the tiles folder. */
export function batchTileFile(
  d: Pick<BatchTilesDescriptor, "provinces">,
  code: string,
  level: number,
  index: number,
  width: number,
): string {
  const p = d.provinces.find((x) => x.code === code);
  const side = level >= 1 && p?.public === true ? "public" : "private";
  return path.join(side, code, tilePath({ level, index, width }));
}

/**
 * Writes the tiles of `tree` (built in memory) into `<artifactDir>/tiles/`, with `keys` (the
 * artifact's `keys.bin`, k_b per line) for the leaf index: the tree's leaves as columns, through
 * {@link writeBatchTilesOfColumns} (one writer).
 *
 * @throws {BatchArtifactError} when the tree was not built in memory, or `keys` are not its keys.
 * @example
 * await writeBatchTiles(artifact.dir, tree, artifact.keys);
 */
export async function writeBatchTiles(
  artifactDir: string,
  tree: SumTree,
  keys: Uint8Array,
  sealing?: TileSealing,
): Promise<BatchTilesDescriptor> {
  if (tree.inputIndex === undefined)
    throw new BatchArtifactError("batch tiles are written from a tree built in memory");
  if (keys.length !== 32 * tree.size)
    throw new BatchArtifactError(`${keys.length / 32} keys for a tree of ${tree.size} leaves`);
  const n = tree.size;
  const amountsN = laneCount(tree.kind) - 2;
  const commitments = new Uint8Array(32 * n);
  const amounts = new BigUint64Array(amountsN * n);
  const province = new Uint16Array(n);
  const order = new Uint32Array(n);
  for (const p of tree.provinces)
    for (let j = 0; j < p.size; j++) {
      const i = p.offset + j;
      const line = tree.inputIndex(i);
      const leaf = tree.leaf(i);
      order[i] = line;
      province[line] = p.index;
      commitments.set(leaf.commitment, 32 * line);
      for (let k = 0; k < amountsN; k++) amounts[amountsN * line + k] = leaf.lanes[2 + k]!;
    }
  const columns: LeafColumns = {
    kind: tree.kind,
    count: n,
    keys,
    commitments,
    amounts,
    province,
    codes: tree.provinces.map((p) => p.code),
    line: undefined,
  };
  const d = await writeBatchTilesOfColumns(artifactDir, columns, order, sealing, tree.root);
  if (d === undefined)
    throw new BatchArtifactError(`the keys given are not those of the tree of root ${tree.root}`);
  return d;
}

/**
 * Writes a batch's tiles into `<artifactDir>/tiles/` from its records' fixed-size columns in tree
 * order (`sortLeaves`), with bounded memory: each province subtree is folded 2^16 leaves at a
 * time (fold-sum-tree.ts) and the chunk's tiles of levels 0 and 1 are written as soon as it is
 * hashed (a chunk's levels 0–15 are whole tiles); the tiles of levels ≥ 2 are folded from the
 * chunk roots; `leaves.bin` is streamed, `lines.bin` (4 bytes per record) written last.
 * Deterministic: the same records and keys give the same bytes in every file (sealed files: the
 * same plaintext). Undefined (nothing written) when `expectedRoot` is given and the columns fold
 * to another root.
 *
 * @throws {InvalidInputError} the fold's (a bad province code, a lane sum overflow, no record).
 * @example
 * const order = sortLeaves(columns);
 * await writeBatchTilesOfColumns(artifact.dir, columns, order, tileSealing(artifact), root);
 */
export async function writeBatchTilesOfColumns(
  artifactDir: string,
  columns: LeafColumns,
  order: Uint32Array,
  sealing?: TileSealing,
  expectedRoot?: string,
): Promise<BatchTilesDescriptor | undefined> {
  await removeStaleTileTemps(artifactDir);
  const staged = await stageBatchTiles(artifactDir, columns, order, sealing);
  const tmp = path.join(artifactDir, staged.name);
  if (
    expectedRoot !== undefined &&
    staged.summary.root.toLowerCase() !== expectedRoot.toLowerCase()
  ) {
    await rm(tmp, { recursive: true, force: true });
    return undefined;
  }
  await rename(tmp, path.join(artifactDir, TILES_DIR));
  await fsyncDir(artifactDir);
  return staged.descriptor;
}

/** Tiles written whole into a temporary folder (`tiles.tmp-…`), not yet renamed to `tiles/`. */
export interface StagedBatchTiles {
  /** The temporary folder's name (in the folder it was staged in). */
  name: string;
  descriptor: BatchTilesDescriptor;
  /** The fold's root, lanes and province subtrees (what the manifest lists). */
  summary: SumTreeSummary;
}

/**
 * {@link writeBatchTilesOfColumns} up to, not including, the rename: every file of the tiles
 * written and fsync'ed into a new `tiles.tmp-…` folder of `parentDir`, the columns folded once.
 * The anchor job stages its tiles in the artifact's temporary folder while it builds the tree
 * (the fold that gives the root also writes the tiles), and {@link ensureBatchTiles} renames
 * them into place once the batch is anchored; a `tiles.tmp-…` folder left by a killed run is
 * removed by the next writer (a tiles step from the artifact), never read.
 *
 * @throws {InvalidInputError} the fold's (a bad province code, a lane sum overflow, no record).
 * @example
 * const staged = await stageBatchTiles(writer.dir, columns, sortLeaves(columns), sealing);
 */
export async function stageBatchTiles(
  parentDir: string,
  columns: LeafColumns,
  order: Uint32Array,
  sealing?: TileSealing,
): Promise<StagedBatchTiles> {
  const seal = (rel: string): { role: string; key: DataKey } | undefined =>
    sealing === undefined
      ? undefined
      : { role: tileFileRole(sealing.jobId, rel), key: sealing.key };
  const kind = columns.kind;
  const lanesN = laneCount(kind);
  const entry = sumTileEntryBytes(kind);
  const name = `${TILES_DIR}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  const tmp = path.join(parentDir, name);
  const writeTile = async (
    code: string,
    isPublic: boolean,
    level: number,
    index: number,
    width: number,
    bytes: Uint8Array,
  ): Promise<void> => {
    const rel = `${code}/${tilePath({ level, index, width })}`;
    const file = path.join(tmp, isPublic ? "public" : "private", rel);
    if (isPublic) {
      await publicDir(path.dirname(file));
      await writeDurably(file, bytes);
    } else {
      await makePrivateDir(path.dirname(file));
      await writePrivateData(file, bytes, seal(`private/${rel}`));
    }
  };
  let leavesFile: PrivateFileWriter | undefined;
  try {
    await makePrivateDir(path.join(tmp, "private"));
    await publicDir(path.join(tmp, "public"));
    const leavesSeal = seal("private/leaves.bin");
    leavesFile = await createPrivateFileWriter(
      path.join(tmp, "private", "leaves.bin"),
      leavesSeal?.role ?? "",
      leavesSeal?.key,
      { fsyncDir: false },
    );
    const lines = new Uint8Array(4 * columns.count);
    const lineView = new DataView(lines.buffer);
    const edges = new Map<number, SumNode>();
    /** Complete nodes of tree level 16 (the full chunks' roots) of the province being folded. */
    let upper: Uint8Array[] = [];
    const chunks = foldSumTreeChunks(columns, order, FOLD_CHUNK);
    let summary: SumTreeSummary;
    for (let step = chunks.next(); ; step = chunks.next()) {
      if (step.done === true) {
        summary = step.value;
        break;
      }
      const c = step.value;
      const isPublic = provincePublishesTiles(c.provinceSize);
      if (c.chunk === 0) upper = [];
      await writeChunkTiles(c, isPublic, writeTile);
      // The leaf index of the chunk's leaves.
      const run = new Uint8Array(36 * c.size);
      const runView = new DataView(run.buffer);
      for (let k = 0; k < c.size; k++) {
        const r = order[c.from + k]!;
        const line = columns.line === undefined ? r : columns.line[r]!;
        run.set(columns.keys.subarray(32 * r, 32 * r + 32), 36 * k);
        runView.setUint32(36 * k + 32, line, false);
        lineView.setUint32(4 * line, c.from + k, false);
      }
      await leavesFile.write(run);
      if (c.size === FOLD_CHUNK) upper.push(c.tree.levelBytes!(0, 16, 0, 1));
      const last = c.chunk * FOLD_CHUNK + c.size === c.provinceSize;
      if (last && isPublic && c.provinceSize % TILE_WIDTH !== 0) {
        // The right-edge node of tree level 8: the fold of the last size mod 256 leaves, all in
        // this chunk (its level 8, or its root when the chunk is shorter than 256 leaves).
        if (c.size > TILE_WIDTH) {
          const bytes = c.tree.levelBytes!(0, TILE_HEIGHT, Math.floor(c.size / TILE_WIDTH), 1);
          edges.set(c.province, { hash: bytes.slice(0, 32), lanes: readLanes(bytes, 32, lanesN) });
        } else {
          const root = c.tree.provinces[0]!;
          edges.set(c.province, { hash: hexToBytes(root.root), lanes: [...root.lanes] });
        }
      }
      if (last) await writeUpperTiles(c.code, isPublic, upper, lanesN, entry, writeTile);
    }
    await leavesFile.close();
    leavesFile = undefined;
    await writePrivateData(
      path.join(tmp, "private", "lines.bin"),
      lines,
      seal("private/lines.bin"),
    );
    const descriptor: BatchTilesDescriptor = {
      format: BATCH_TILES_FORMAT,
      scheme: "shafaf-tree/2",
      kind,
      root: summary.root,
      lanes: summary.lanes.map(String),
      entryBytes: entry,
      provinces: summary.provinces.map((p) => {
        const edge = edges.get(p.index);
        return {
          code: p.code,
          size: p.size,
          root: p.root,
          lanes: p.lanes.map(String),
          public: provincePublishesTiles(p.size),
          edge:
            edge === undefined
              ? null
              : { hash: bytesToHex(edge.hash), lanes: edge.lanes.map(String) },
        };
      }),
    };
    await writeDurably(path.join(tmp, "tiles.json"), JSON.stringify(descriptor, null, 2) + "\n");
    await fsyncDir(path.join(tmp, "private"));
    await fsyncDir(tmp);
    return { name, descriptor, summary };
  } catch (error) {
    await leavesFile?.abort();
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}

type WriteTile = (
  code: string,
  isPublic: boolean,
  level: number,
  index: number,
  width: number,
  bytes: Uint8Array,
) => Promise<void>;

/**
 * The tiles of levels 0 and 1 under one chunk of 2^16 leaves: level 0 its leaves (256 per tile),
 * level 1 its complete nodes of tree level 8 (one tile, partial in a province's last chunk).
 */
async function writeChunkTiles(
  c: FoldedChunk,
  isPublic: boolean,
  writeTile: WriteTile,
): Promise<void> {
  const perChunk = FOLD_CHUNK / TILE_WIDTH;
  const full = Math.floor(c.size / TILE_WIDTH);
  const rest = c.size % TILE_WIDTH;
  const level = c.tree.levelBytes!.bind(c.tree);
  for (let t = 0; t < full; t++)
    await writeTile(
      c.code,
      false,
      0,
      c.chunk * perChunk + t,
      TILE_WIDTH,
      level(0, 0, t * TILE_WIDTH, TILE_WIDTH),
    );
  if (rest > 0)
    await writeTile(
      c.code,
      false,
      0,
      c.chunk * perChunk + full,
      rest,
      level(0, 0, full * TILE_WIDTH, rest),
    );
  if (full > 0) await writeTile(c.code, isPublic, 1, c.chunk, full, level(0, TILE_HEIGHT, 0, full));
}

/**
 * The tiles of levels ≥ 2 of a province, from the complete nodes of tree level 16 (`nodes`, its
 * full chunks' roots): each tile level's nodes are folded 8 levels up from the one below, complete
 * pairs only (a tile holds only nodes over complete subtrees).
 */
async function writeUpperTiles(
  code: string,
  isPublic: boolean,
  nodes: Uint8Array[],
  lanesN: number,
  entry: number,
  writeTile: WriteTile,
): Promise<void> {
  const nodeOf = (b: Uint8Array): SumNode => ({
    hash: b.slice(0, 32),
    lanes: readLanes(b, 32, lanesN),
  });
  let level = nodes;
  for (let L = 2; level.length > 0; L++) {
    for (let t = 0; t * TILE_WIDTH < level.length; t++) {
      const part = level.slice(t * TILE_WIDTH, (t + 1) * TILE_WIDTH);
      const bytes = new Uint8Array(entry * part.length);
      part.forEach((b, k) => bytes.set(b, entry * k));
      await writeTile(code, isPublic, L, t, part.length, bytes);
    }
    for (let h = 0; h < TILE_HEIGHT; h++) {
      const next: Uint8Array[] = [];
      for (let k = 0; k + 1 < level.length; k += 2) {
        const parent = sumParent(nodeOf(level[k]!), nodeOf(level[k + 1]!));
        if (parent === undefined)
          throw new InvalidInputError("a lane sum exceeds 2^128 − 1", {
            details: `province ${code}, tile level ${L}`,
            code: "core.sum-tree.overflow",
          });
        const b = new Uint8Array(entry);
        b.set(parent.hash, 0);
        writeLanes(parent.lanes, b, 32);
        next.push(b);
      }
      level = next;
    }
  }
}

async function writeDurably(file: string, data: Uint8Array | string): Promise<void> {
  const fh = await open(file, "wx", 0o644);
  try {
    await fh.chmod(0o644);
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Creates `dir` and its parents readable by all (0755, whatever the umask): public tiles. */
async function publicDir(dir: string): Promise<void> {
  const made = await mkdir(dir, { recursive: true, mode: 0o755 });
  if (made === undefined) return;
  for (let d = dir; d.length >= made.length; d = path.dirname(d)) await chmod(d, 0o755);
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Removes `tiles.tmp-…` folders a killed writer left in `artifactDir`. */
export async function removeStaleTileTemps(artifactDir: string): Promise<void> {
  for (const name of await readdir(artifactDir))
    if (name.startsWith(`${TILES_DIR}.tmp-`))
      await rm(path.join(artifactDir, name), { recursive: true, force: true });
}

/**
 * The batch's tiles, written from its artifact when they are missing (a batch anchored before
 * tiles existed, or a job killed before its tiles step): once, then read. `built`: what the
 * caller made for this artifact — the tiles it staged in the artifact's folder while it built
 * the tree (`staged`: the `tiles.tmp-…` folder's name, renamed into place when its `tiles.json`
 * names the artifact's root), or the columns and tree order it folded, used when they give the
 * artifact's root — instead of reading its records again. Either way the memory is the columns'
 * (≈ 100 bytes per record) and one chunk's, never a whole tree.
 *
 * @throws {BatchArtifactError} when the artifact is not a v2 one or is damaged.
 * @example
 * const d = await ensureBatchTiles(artifact);
 */
export async function ensureBatchTiles(
  artifact: BatchArtifact,
  built?: { columns: LeafColumns; order: Uint32Array } | { staged: string },
): Promise<BatchTilesDescriptor> {
  const existing = await readBatchTilesDescriptor(artifact.dir);
  if (existing !== undefined) return existing;
  const d = artifact.descriptor;
  const sealing = tileSealing(artifact);
  if (built !== undefined && "staged" in built) {
    const adopted = await adoptStagedTiles(artifact.dir, built.staged, d.root);
    if (adopted !== undefined) return adopted;
  } else if (
    built !== undefined &&
    built.columns.count === d.recordCount &&
    built.columns.kind === d.kind
  ) {
    const written = await writeBatchTilesOfColumns(
      artifact.dir,
      built.columns,
      built.order,
      sealing,
      d.root,
    );
    if (written !== undefined) return written;
  }
  const columns = await loadArtifactColumns(artifact);
  let written: BatchTilesDescriptor | undefined;
  try {
    written = await writeBatchTilesOfColumns(
      artifact.dir,
      columns,
      sortLeaves(columns),
      sealing,
      d.root,
    );
  } catch (error) {
    throw new BatchArtifactError(`${artifact.dir}: ${(error as Error).message}`, { cause: error });
  }
  if (written === undefined)
    throw new BatchArtifactError(
      `${artifact.dir}: the records and keys do not give the root artifact.json says (${d.root}); the artifact is damaged`,
    );
  return written;
}

/**
 * Renames the tiles staged as `<artifactDir>/<staged>` (stageBatchTiles, by this process) to
 * `tiles/` when their `tiles.json` names `root`; undefined (nothing renamed) when the folder is
 * missing or names another root.
 */
async function adoptStagedTiles(
  artifactDir: string,
  staged: string,
  root: string,
): Promise<BatchTilesDescriptor | undefined> {
  if (!staged.startsWith(`${TILES_DIR}.tmp-`) || staged.includes("/")) return undefined;
  const dir = path.join(artifactDir, staged);
  let d: BatchTilesDescriptor;
  try {
    d = JSON.parse(await readFile(path.join(dir, "tiles.json"), "utf8")) as BatchTilesDescriptor;
  } catch {
    return undefined;
  }
  if (d.format !== BATCH_TILES_FORMAT || d.root.toLowerCase() !== root.toLowerCase())
    return undefined;
  await rename(dir, path.join(artifactDir, TILES_DIR));
  await fsyncDir(artifactDir);
  return d;
}

/** `tiles.json` of the batch in `artifactDir`, or undefined when it has no tiles yet. */
export async function readBatchTilesDescriptor(
  artifactDir: string,
): Promise<BatchTilesDescriptor | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(artifactDir, TILES_DIR, "tiles.json"), "utf8");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw error;
  }
  const d = JSON.parse(text) as { format?: unknown };
  if (d.format !== BATCH_TILES_FORMAT)
    throw new BatchArtifactError(
      `${artifactDir}/${TILES_DIR}/tiles.json has format ${String(d.format)}; this version reads ${BATCH_TILES_FORMAT}`,
    );
  return d as BatchTilesDescriptor;
}

/** The provinces of a descriptor as core takes them. */
export function tiledProvinces(d: BatchTilesDescriptor): TiledProvince[] {
  return d.provinces.map((p) => ({
    code: p.code,
    size: p.size,
    root: p.root,
    lanes: p.lanes.map((v) => BigInt(v)),
  }));
}

/** Open private files of a batch's tiles: synchronous positioned reads, constant memory. */
export interface BatchTilesReader {
  readonly descriptor: BatchTilesDescriptor;
  /** Tile bytes of province number `p`. */
  readTile(p: number, level: number, index: number, width: number): Uint8Array;
  /** k_b of the leaf at batch index `i`. */
  leafKey(i: number): Uint8Array;
  /** k_b of leaves `from … from + count − 1`, concatenated (one read). */
  leafKeys(from: number, count: number): Uint8Array;
  /**
   * The `leaves.bin` entries of leaves `from … from + count − 1` as stored (36 bytes each: k_b ‖
   * u32 line), read-only: a view into the block cache when they lie in one block.
   */
  leafRun(from: number, count: number): Uint8Array;
  /** The artifact line of the leaf at batch index `i`. */
  leafLine(i: number): number;
  /** The leaf batch index of artifact line `line`. */
  lineLeaf(line: number): number;
  /** Bytes of `leaves.bin` and `lines.bin` blocks held in memory (at most the cache bound). */
  readonly cachedBytes: number;
  close(): void;
}

export interface OpenBatchTilesOptions {
  /**
   * Upper bound of the `leaves.bin` / `lines.bin` blocks kept in memory, in bytes (default
   * 8 MiB, 0 for none). The files are immutable: a block read once (256 leaves, 9 KiB; 1,024
   * lines, 4 KiB) answers the key searches and leaf reads of later proofs without a read, or a
   * decryption of a sealed chunk. Least recently used blocks go first.
   */
  cacheBytes?: number;
}

/** One block of `leaves.bin`: the 256 leaves of a level-0 tile (k_b ‖ u32 line each). */
const LEAF_BLOCK_BYTES = 36 * 256;
/** One block of `lines.bin`: 1,024 lines' leaf indices. */
const LINE_BLOCK_BYTES = 4 * 1024;

/**
 * @throws {BatchArtifactError} when the tiles are missing or their index files have the wrong size.
 * @example
 * const r = openBatchTiles(artifact.dir, descriptor);
 */
export function openBatchTiles(
  artifactDir: string,
  d: BatchTilesDescriptor,
  sealing?: TileSealing,
  options: OpenBatchTilesOptions = {},
): BatchTilesReader {
  const maxCached = options.cacheBytes ?? 8 * 2 ** 20;
  const dir = path.join(artifactDir, TILES_DIR);
  const n = d.provinces.reduce((s, p) => s + p.size, 0);
  // Sealed tiles are opened with the key (a plain private file is then refused); tiles of a plain
  // artifact are plain (a sealed one without the key fails by name: no-key).
  const openPrivate = (rel: string): PrivateFileReader =>
    openPrivateFileReader(
      path.join(dir, rel),
      sealing === undefined ? "" : tileFileRole(sealing.jobId, rel),
      sealing?.key,
      { allowPlain: sealing === undefined },
    );
  const leavesFile = openPrivate("private/leaves.bin");
  let linesFile: PrivateFileReader;
  try {
    linesFile = openPrivate("private/lines.bin");
  } catch (error) {
    leavesFile.close();
    throw error;
  }
  const pread = (f: PrivateFileReader, length: number, at: number, what: string): Uint8Array => {
    if (at + length > f.size)
      throw new BatchArtifactError(
        `${dir}/private/${what} is shorter than ${n} entries; the tiles are damaged`,
      );
    return new Uint8Array(f.read(at, length));
  };
  /** Block N of leaves.bin → 2N, of lines.bin → 2N + 1; Map order is recency (oldest first). */
  const blocks = new Map<number, Uint8Array>();
  let cachedBytes = 0;
  /** The block used last (already the newest in `blocks`): a proof reads one block many times. */
  let lastId = -1;
  let lastBlock: Uint8Array | undefined;
  const block = (f: PrivateFileReader, what: string, size: number, b: number): Uint8Array => {
    const id = 2 * b + (f === leavesFile ? 0 : 1);
    if (id === lastId && lastBlock !== undefined) return lastBlock;
    const hit = blocks.get(id);
    if (hit !== undefined) {
      blocks.delete(id);
      blocks.set(id, hit);
      lastId = id;
      lastBlock = hit;
      return hit;
    }
    const at = b * size;
    const bytes = pread(f, Math.min(size, f.size - at), at, what);
    if (maxCached > 0) {
      blocks.set(id, bytes);
      cachedBytes += bytes.length;
      for (const [k, v] of blocks) {
        if (cachedBytes <= maxCached) break;
        blocks.delete(k);
        cachedBytes -= v.length;
      }
      const kept = blocks.get(id) === bytes;
      lastId = kept ? id : -1;
      lastBlock = kept ? bytes : undefined;
    }
    return bytes;
  };
  /** `length` bytes at `at` through the block cache; a view into a block when it fits one. */
  const cachedRead = (
    f: PrivateFileReader,
    what: string,
    size: number,
    length: number,
    at: number,
  ): Uint8Array => {
    if (at + length > f.size)
      throw new BatchArtifactError(
        `${dir}/private/${what} is shorter than ${n} entries; the tiles are damaged`,
      );
    const first = Math.floor(at / size);
    const last = Math.floor((at + length - 1) / size);
    if (first === last)
      return block(f, what, size, first).subarray(at - first * size, at - first * size + length);
    const out = new Uint8Array(length);
    for (let b = first; b <= last; b++) {
      const bytes = block(f, what, size, b);
      const from = Math.max(at, b * size);
      const to = Math.min(at + length, b * size + bytes.length);
      out.set(bytes.subarray(from - b * size, to - b * size), from - at);
    }
    return out;
  };
  const u32 = (bytes: Uint8Array): number =>
    ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  const check = (i: number, count: number, what: string): void => {
    if (!Number.isInteger(i) || i < 0 || i >= count)
      throw new RangeError(`${what} ${i} is not in 0..${count - 1}`);
  };
  return {
    descriptor: d,
    readTile(p, level, index, width) {
      const code = d.provinces[p]!.code;
      const rel = batchTileFile(d, code, level, index, width);
      const file = path.join(dir, rel);
      try {
        if (rel.startsWith("public")) return new Uint8Array(readFileSync(file));
        const f = openPrivate(rel);
        try {
          return new Uint8Array(f.read(0, f.size));
        } finally {
          f.close();
        }
      } catch (error) {
        // A sealed tile without the key (or altered) is named as such, not as missing.
        if (error instanceof PrivateFileError) throw error;
        throw new BatchArtifactError(`${file} is missing; rebuild the batch's tiles`, {
          cause: error,
        });
      }
    },
    leafKey(i) {
      check(i, n, "leaf");
      // a copy: the block stays as read
      return cachedRead(leavesFile, "leaves.bin", LEAF_BLOCK_BYTES, 32, 36 * i).slice();
    },
    leafKeys(from, count) {
      check(from, n, "leaf");
      check(from + count - 1, n, "leaf");
      const run = cachedRead(leavesFile, "leaves.bin", LEAF_BLOCK_BYTES, 36 * count, 36 * from);
      const out = new Uint8Array(32 * count);
      // a byte loop: a subarray per key cost more than the copy (key searches read 256 keys)
      for (let k = 0; k < count; k++)
        for (let b = 0; b < 32; b++) out[32 * k + b] = run[36 * k + b]!;
      return out;
    },
    leafRun(from, count) {
      check(from, n, "leaf");
      check(from + count - 1, n, "leaf");
      return cachedRead(leavesFile, "leaves.bin", LEAF_BLOCK_BYTES, 36 * count, 36 * from);
    },
    leafLine(i) {
      check(i, n, "leaf");
      return u32(cachedRead(leavesFile, "leaves.bin", LEAF_BLOCK_BYTES, 4, 36 * i + 32));
    },
    lineLeaf(line) {
      check(line, n, "line");
      return u32(cachedRead(linesFile, "lines.bin", LINE_BLOCK_BYTES, 4, 4 * line));
    },
    get cachedBytes() {
      return cachedBytes;
    },
    close() {
      blocks.clear();
      lastId = -1;
      lastBlock = undefined;
      cachedBytes = 0;
      leavesFile.close();
      linesFile.close();
    },
  };
}

/** The public files of a batch's tiles (`tiles.json` and tile levels ≥ 1), relative paths. */
export async function listPublicBatchTiles(artifactDir: string): Promise<string[]> {
  const root = path.join(artifactDir, TILES_DIR, "public");
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(path.join(root, rel), { withFileTypes: true })) {
      const r = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile()) out.push(r);
    }
  };
  await walk("");
  return out.sort();
}

/**
 * A public file of a batch's tiles by its path under the batch (batch-tiles-v1.md §7):
 * `tiles.json`, or `<IR-dd>/tile/<L>/<N>[.p/<W>]` of level ≥ 1 of a public province. Anything
 * else — level 0, a private province, a path `tilePath` would not write, any file of a batch with a
 * province of fewer than 10 persons — is undefined: only the `public/` folder is ever read.
 *
 * @example
 * await readPublicBatchFile(dir, "IR-07/tile/1/000.p/17");
 */
export async function readPublicBatchFile(
  artifactDir: string,
  file: string,
): Promise<Uint8Array | undefined> {
  // A batch with a province of fewer than 10 persons publishes nothing (tiles.json would list
  // that province's totals).
  const d = await readBatchTilesDescriptor(artifactDir);
  if (d === undefined || !batchPublishesTiles(d.provinces)) return undefined;
  let rel: string;
  if (file === "tiles.json") rel = "tiles.json";
  else {
    const m = /^(IR-[0-9]{2})\/(tile\/.+)$/.exec(file);
    const address = m === null ? undefined : parseTilePath(m[2]!);
    if (m === null || address === undefined || address.level === "entries" || address.level < 1)
      return undefined;
    rel = path.join("public", m[1]!, tilePath(address));
  }
  try {
    return new Uint8Array(await readFile(path.join(artifactDir, TILES_DIR, rel)));
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * The public files of the batches with tiles under `batchesDir`, found by their roots
 * (`tiles.json`'s `root`), without opening the ledger store: for exporting a mirror from a stopped
 * server's data directory. Batches without tiles yet (anchored before tiles, never asked for a
 * receipt) are not found.
 *
 * @example
 * const byRoot = await publicBatchTilesByRoot(path.join(dataDir, "batches"));
 * await byRoot(batch.root, "tiles.json");
 */
export async function publicBatchTilesByRoot(
  batchesDir: string,
): Promise<(root: string, file: string) => Promise<Uint8Array | undefined>> {
  const dirs = new Map<string, string>();
  let names: string[] = [];
  try {
    names = await readdir(batchesDir);
  } catch {
    // no batches folder: nothing anchored here
  }
  for (const name of names) {
    if (!/^[0-9a-f]{16,64}$/.test(name)) continue;
    const d = await readBatchTilesDescriptor(path.join(batchesDir, name)).catch(() => undefined);
    if (d !== undefined) dirs.set(d.root.toLowerCase(), path.join(batchesDir, name));
  }
  return async (root, file) => {
    const dir = dirs.get(root.toLowerCase());
    return dir === undefined ? undefined : readPublicBatchFile(dir, file);
  };
}
