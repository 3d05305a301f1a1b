import { InvalidInputError } from "./errors.ts";
import { bytesToHex, type Hex } from "./hex.ts";
import { createKeccakEngine } from "./keccak.ts";
import type { RecordKind } from "./record.ts";
import { LANE_BYTES, laneCount, readLanes, writeLanes } from "./sum-tree-lanes.ts";
import {
  LEAF_LANE_MAX,
  provinceNode,
  sumParent,
  type SumLeaf,
  type SumNode,
} from "./sum-tree-hash.ts";
import {
  SUM_TREE_SCHEME,
  type ProofLeaf,
  type ProofNode,
  type ProofWindow,
  type SumTreeProof,
} from "./sum-tree-proof.ts";

/** The leaves of one province subtree, already in tree order. */
export interface OrderedProvince {
  code: string;
  leaves: readonly SumLeaf[];
}

/** A province subtree as the manifest lists it. */
export interface SumTreeProvince {
  code: string;
  index: number;
  /** Leaves in the subtree and the batch index of its first leaf. */
  size: number;
  offset: number;
  root: Hex;
  lanes: bigint[];
}

/** A built `shafaf-tree/2` batch tree. */
export interface SumTree {
  readonly scheme: typeof SUM_TREE_SCHEME;
  readonly kind: RecordKind;
  /** The batch root and its lanes (the batch totals). */
  readonly root: Hex;
  readonly lanes: readonly bigint[];
  /** Leaves in the batch. */
  readonly size: number;
  readonly provinces: readonly SumTreeProvince[];
  /** The leaf at batch index `i` (provinces in code order, leaves in tree order). */
  leaf(i: number): SumLeaf & { province: string };
  /** Proof that the leaf at batch index `i` is counted in its province and the batch. */
  inclusionProof(i: number, batchId: number): SumTreeProof;
  /** Batch indices of the leaves of `key` (empty when the key has none). */
  indicesOf(key: Uint8Array): number[];
  /** A range proof of all leaves of `key`, or an absence proof when it has none. */
  personProof(key: Uint8Array, batchId: number): SumTreeProof;
  /**
   * Built in memory only: nodes `from … from + count − 1` of tree level `level` of province
   * number `province`, each hash (32) ‖ lanes (16 each) — the bytes of batch tiles
   * (batch-tiles-v1.md). Throws RangeError outside the level.
   */
  levelBytes?(province: number, level: number, from: number, count: number): Uint8Array;
  /** Built in memory only: the input row (line of the artifact) of the leaf at batch index `i`. */
  inputIndex?(i: number): number;
}

interface Level {
  at: number;
  count: number;
}

/**
 * Writes leaf `i` (batch order) into the tree's memory: key at `mem[kcAt..+32]`, commitment at
 * `mem[kcAt+32..+32]`, its lanes (16-byte big-endian) at `mem[lanesAt..]`; returns its seq.
 */
type WriteLeaf = (i: number, mem: Uint8Array, kcAt: number, lanesAt: number) => number;

/**
 * Builds the tree over provinces whose leaves are ALREADY in tree order, without checking that
 * order, the seq numbers or the persons lane. Only {@link buildSumTree} (which sorts and numbers)
 * and test-vector generators that need a deliberately wrong tree call it directly.
 * Throws InvalidInputError on duplicate or unordered province codes, an empty province, a bad
 * field width or a lane sum above 2^128 − 1.
 */
export function buildOrderedSumTree(
  kind: RecordKind,
  provinces: readonly OrderedProvince[],
): SumTree {
  const lanesN = laneCount(kind);
  const flat = provinces.flatMap((p) => p.leaves);
  return assemble(
    kind,
    provinces.map((p) => p.code),
    provinces.map((p) => p.leaves.length),
    (i, mem, kcAt, lanesAt) => {
      const leaf = flat[i]!;
      if (leaf.key.length !== 32 || leaf.commitment.length !== 32)
        throw new InvalidInputError("key and commitment must be 32 bytes", {
          code: "core.sum-tree.width",
        });
      if (leaf.lanes.length !== lanesN)
        throw new InvalidInputError(`a ${kind} leaf has ${lanesN} lanes`, {
          code: "core.sum-tree.lanes",
        });
      if (leaf.lanes.some((v) => v < 0n || v > LEAF_LANE_MAX))
        throw new InvalidInputError("a leaf lane must be in 0..2^64 − 1", {
          code: "core.sum-tree.lane-range",
        });
      if (!Number.isInteger(leaf.seq) || leaf.seq < 0 || leaf.seq > 0xffffffff)
        throw new InvalidInputError("seq must be a u32", { code: "core.sum-tree.seq" });
      mem.set(leaf.key, kcAt);
      mem.set(leaf.commitment, kcAt + 32);
      writeLanes(leaf.lanes, mem, lanesAt);
      return leaf.seq;
    },
    (i) => i,
  );
}

function assemble(
  kind: RecordKind,
  codes: readonly string[],
  sizes: readonly number[],
  writeLeaf: WriteLeaf,
  inputIndex: (i: number) => number,
): SumTree {
  const lanesN = laneCount(kind);
  const rec = 32 + lanesN * LANE_BYTES;
  if (codes.length === 0)
    throw new InvalidInputError("a shafaf-tree/2 batch needs at least one record", {
      code: "core.sum-tree.empty",
    });
  for (let p = 0; p < codes.length; p++) {
    if (!/^IR-[0-9]{2}$/.test(codes[p]!))
      throw new InvalidInputError("province must be an IR-dd code", {
        code: "core.sum-tree.province",
      });
    if (sizes[p]! === 0)
      throw new InvalidInputError(`province ${codes[p]} has no leaves`, {
        code: "core.sum-tree.empty-province",
      });
    if (p > 0 && codes[p - 1]! >= codes[p]!)
      throw new InvalidInputError("province codes must be distinct and ascending", {
        details: `${codes[p - 1]} then ${codes[p]}`,
        code: "core.sum-tree.province-order",
      });
  }
  // One WebAssembly memory: every province's levels, then keys ‖ commitments (64 bytes per
  // leaf), seqs (u32 LE), and the scratch of the hashing functions.
  const levels: Level[][] = [];
  let bytes = 0;
  const offsets: number[] = [];
  let total = 0;
  for (const size of sizes) {
    offsets.push(total);
    total += size;
    const ls: Level[] = [];
    let c = size;
    for (;;) {
      ls.push({ at: bytes, count: c });
      bytes += c * rec;
      if (c === 1) break;
      c = (c + 1) >> 1;
    }
    levels.push(ls);
  }
  const engine = createKeccakEngine();
  const kcOff = bytes;
  const seqOff = kcOff + total * 64;
  const scratchOff = seqOff + total * 4;
  const base = engine.reserve(scratchOff + 2 * (1 + 2 * rec + lanesN * LANE_BYTES + 69));
  const mem = (): Uint8Array => engine.bytes();
  {
    const m = mem();
    const seqs = new Uint32Array(m.buffer, base + seqOff, total);
    for (let p = 0; p < codes.length; p++) {
      const level0 = base + levels[p]![0]!.at;
      for (let j = 0; j < sizes[p]!; j++) {
        const i = offsets[p]! + j;
        seqs[i] = writeLeaf(i, m, base + kcOff + i * 64, level0 + j * rec + 32);
      }
    }
  }
  for (let p = 0; p < codes.length; p++) {
    const ls = levels[p]!;
    const x = engine.exports;
    const o = offsets[p]!;
    x.sumLeafMany(
      base + kcOff + o * 64,
      base + seqOff + o * 4,
      sizes[p]!,
      rec,
      lanesN,
      base + ls[0]!.at,
      base + scratchOff,
    );
    for (let l = 1; l < ls.length; l++) {
      const src = ls[l - 1]!;
      const dst = ls[l]!;
      const pairs = src.count >> 1;
      const bad = x.sumNodeMany(
        base + src.at,
        pairs,
        rec,
        lanesN,
        base + dst.at,
        base + scratchOff,
      );
      if (bad !== -1)
        throw new InvalidInputError("a lane sum exceeds 2^128 − 1", {
          details: `province ${codes[p]}, level ${l}, node ${bad}`,
          code: "core.sum-tree.overflow",
        });
      if (src.count % 2 === 1) {
        const from = base + src.at + (src.count - 1) * rec;
        mem().copyWithin(base + dst.at + pairs * rec, from, from + rec);
      }
    }
  }
  const nodeAt = (p: number, l: number, i: number): SumNode => {
    const at = base + levels[p]![l]!.at + i * rec;
    const m = mem();
    return { hash: m.slice(at, at + 32), lanes: readLanes(m, at + 32, lanesN) };
  };
  const leafAt = (p: number, j: number): SumLeaf => {
    const m = mem();
    const i = offsets[p]! + j;
    const kc = base + kcOff + i * 64;
    return {
      key: m.slice(kc, kc + 32),
      seq: new DataView(m.buffer).getUint32(base + seqOff + i * 4, true),
      lanes: readLanes(m, base + levels[p]![0]!.at + j * rec + 32, lanesN),
      commitment: m.slice(kc + 32, kc + 64),
    };
  };
  const keyCmp = (p: number, j: number, key: Uint8Array): number => {
    const m = mem();
    const kc = base + kcOff + (offsets[p]! + j) * 64;
    for (let k = 0; k < 32; k++) if (m[kc + k] !== key[k]) return m[kc + k]! - key[k]!;
    return 0;
  };
  const subtreeRoots = codes.map((_, p) => nodeAt(p, levels[p]!.length - 1, 0));
  const top: SumNode[][] = [codes.map((code, p) => provinceNode(kind, code, subtreeRoots[p]!))];
  while (top[top.length - 1]!.length > 1) {
    const cur = top[top.length - 1]!;
    const next: SumNode[] = [];
    for (let i = 0; i + 1 < cur.length; i += 2) {
      const parent = sumParent(cur[i]!, cur[i + 1]!);
      if (parent === undefined)
        throw new InvalidInputError("a lane sum exceeds 2^128 − 1", {
          details: "batch top tree",
          code: "core.sum-tree.overflow",
        });
      next.push(parent);
    }
    if (cur.length % 2 === 1) next.push(cur[cur.length - 1]!);
    top.push(next);
  }
  const rootNode = top[top.length - 1]![0]!;
  const summary: SumTreeProvince[] = codes.map((code, p) => ({
    code,
    index: p,
    size: sizes[p]!,
    offset: offsets[p]!,
    root: bytesToHex(subtreeRoots[p]!.hash),
    lanes: subtreeRoots[p]!.lanes,
  }));
  const toProofNode = (n: SumNode): ProofNode => ({
    hash: bytesToHex(n.hash),
    lanes: n.lanes.map((v) => v.toString()),
  });
  const toProofLeaf = (leaf: SumLeaf): ProofLeaf => ({
    key: bytesToHex(leaf.key),
    seq: leaf.seq,
    lanes: leaf.lanes.map((v) => v.toString()),
    commitment: bytesToHex(leaf.commitment),
  });
  /** Siblings for positions lo..hi at level 0 of `get`'s tree, in consumption order. */
  const siblings = (
    count0: number,
    lo0: number,
    hi0: number,
    get: (level: number, i: number) => SumNode,
  ): ProofNode[] => {
    const out: ProofNode[] = [];
    let count = count0;
    let lo = lo0;
    let hi = hi0;
    for (let l = 0; count > 1; l++) {
      if (lo % 2 === 1) out.push(toProofNode(get(l, lo - 1)));
      if (hi % 2 === 0 && hi + 1 < count) out.push(toProofNode(get(l, hi + 1)));
      lo >>= 1;
      hi >>= 1;
      count = (count + 1) >> 1;
    }
    return out;
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
  const window = (p: number, lo: number, hi: number): ProofWindow => {
    const leaves: ProofLeaf[] = [];
    for (let j = lo; j <= hi; j++) leaves.push(toProofLeaf(leafAt(p, j)));
    return {
      province: codes[p]!,
      provinceIndex: p,
      size: sizes[p]!,
      index: lo,
      batchIndex: offsets[p]! + lo,
      leaves,
      subtree: toProofNode(subtreeRoots[p]!),
      path: siblings(sizes[p]!, lo, hi, (l, i) => nodeAt(p, l, i)),
      provincePath: siblings(codes.length, p, p, (l, i) => top[l]![i]!),
    };
  };
  /** First position in province p whose key is ≥ key (binary search; leaves are key-ordered). */
  const lowerBound = (p: number, key: Uint8Array, upper: boolean): number => {
    let lo = 0;
    let hi = sizes[p]!;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = keyCmp(p, mid, key);
      if (c < 0 || (upper && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return {
    scheme: SUM_TREE_SCHEME,
    kind,
    root: bytesToHex(rootNode.hash),
    lanes: rootNode.lanes,
    size: total,
    provinces: summary,
    ...sumTreeQueries({
      kind,
      rootNode,
      size: total,
      codes,
      offsets,
      sizes,
      provinceOf,
      leafAt,
      lowerBound,
      window,
    }),
    levelBytes(p, l, from, count) {
      const level = levels[p]?.[l];
      if (level === undefined || from < 0 || count < 0 || from + count > level.count)
        throw new RangeError(`nodes ${from}+${count} are not in level ${l} of province ${p}`);
      const at = base + level.at + from * rec;
      return mem().slice(at, at + count * rec);
    },
    inputIndex,
  };
}

/**
 * The records of a batch as the v2 tree takes them, column by column (no object per record: a
 * million small objects cost more in garbage collection than the hashing).
 */
export interface SumTreeColumns {
  /** The persons' per-batch keys k_b, 32 bytes per record (opaque here). */
  keys: Uint8Array;
  /** The salted commitments to the rest of each record, 32 bytes per record. */
  commitments: Uint8Array;
  /** ISO 3166-2:IR code of each record's province, `IR-dd`. */
  provinces: readonly string[];
  /**
   * The kind's amount lanes (every lane after `records` and `persons`), row by row: record i's
   * lane k at `amounts[i · (lanes − 2) + k]`. A single record's amount is below 2^64; sums are
   * 128-bit.
   */
  amounts: BigUint64Array;
}

/**
 * Builds the `shafaf-tree/2` tree of a batch: records grouped by province (codes ascending),
 * sorted inside each province by (key, commitment), numbered `seq` 0, 1, … per key, with the
 * `records` lane 1 and the `persons` lane 1 on each key's first leaf.
 *
 * Throws InvalidInputError on an empty batch, a bad province code, column lengths that disagree,
 * or a lane sum overflow.
 *
 * @example
 * const tree = buildSumTree("premium", { keys, commitments, provinces: ["IR-23"], amounts: new BigUint64Array([wage, 31n, premium]) });
 * tree.root; tree.provinces[0].lanes; tree.personProof(key, 7);
 */
export function buildSumTree(kind: RecordKind, columns: SumTreeColumns): SumTree {
  const amountsN = laneCount(kind) - 2;
  const { keys, commitments, provinces, amounts } = columns;
  const n = provinces.length;
  if (keys.length !== n * 32 || commitments.length !== n * 32 || amounts.length !== n * amountsN)
    throw new InvalidInputError("the columns of a batch disagree on its record count", {
      details: `${n} provinces, ${keys.length / 32} keys, ${commitments.length / 32} commitments, ${amounts.length / amountsN} rows of ${amountsN} amounts`,
      code: "core.sum-tree.columns",
    });
  const groups = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const code = provinces[i]!;
    let g = groups.get(code);
    if (g === undefined) {
      if (!/^IR-[0-9]{2}$/.test(code))
        throw new InvalidInputError("province must be an IR-dd code", {
          details: `record ${i}: field province`,
          field: "province",
          code: "core.sum-tree.province",
        });
      groups.set(code, (g = []));
    }
    g.push(i);
  }
  const codes = [...groups.keys()].sort();
  const order = new Uint32Array(n);
  const seqOf = new Uint32Array(n);
  let at = 0;
  for (const code of codes) {
    const idx = sortByKey(keys, commitments, groups.get(code)!);
    let seq = 0;
    for (let k = 0; k < idx.length; k++) {
      seq = k === 0 || compareAt(keys, idx[k - 1]! * 32, idx[k]! * 32) !== 0 ? 0 : seq + 1;
      order[at] = idx[k]!;
      seqOf[at++] = seq;
    }
  }
  return assemble(
    kind,
    codes,
    codes.map((c) => groups.get(c)!.length),
    columnLeafWriter(kind, columns, order, seqOf),
    (i) => order[i]!,
  );
}

/**
 * The subtree of one province chunk whose rows are ALREADY in tree order, numbered `seqs` by the
 * caller (a key's run may begin in an earlier chunk): the streaming fold's chunk
 * (fold-sum-tree.ts), from the columns with no object per leaf. `inputIndex(i)` is `rows[i]`.
 * Throws InvalidInputError as {@link buildSumTree} does (bad code, overflow).
 *
 * @example
 * const chunk = buildSumTreeChunk("premium", "IR-23", columns, rows, seqs);
 */
export function buildSumTreeChunk(
  kind: RecordKind,
  code: string,
  columns: Pick<SumTreeColumns, "keys" | "commitments" | "amounts">,
  rows: Uint32Array,
  seqs: Uint32Array,
): SumTree {
  return assemble(
    kind,
    [code],
    [rows.length],
    columnLeafWriter(kind, columns, rows, seqs),
    (i) => rows[i]!,
  );
}

/** Writes leaf i (tree order) from the columns' row `rows[i]`, with seq `seqs[i]`. */
function columnLeafWriter(
  kind: RecordKind,
  columns: Pick<SumTreeColumns, "keys" | "commitments" | "amounts">,
  rows: Uint32Array,
  seqs: Uint32Array,
): WriteLeaf {
  const amountsN = laneCount(kind) - 2;
  const { keys, commitments, amounts } = columns;
  const words = new Uint32Array(amounts.buffer, amounts.byteOffset, amounts.length * 2);
  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  return (i, mem, kcAt, lanesAt) => {
    const r = rows[i]!;
    mem.set(keys.subarray(r * 32, r * 32 + 32), kcAt);
    mem.set(commitments.subarray(r * 32, r * 32 + 32), kcAt + 32);
    mem.fill(0, lanesAt, lanesAt + (2 + amountsN) * LANE_BYTES);
    mem[lanesAt + LANE_BYTES - 1] = 1;
    mem[lanesAt + 2 * LANE_BYTES - 1] = seqs[i] === 0 ? 1 : 0;
    for (let k = 0; k < amountsN; k++) {
      const w = (r * amountsN + k) * 2;
      const lo = words[littleEndian ? w : w + 1]!;
      const hi = words[littleEndian ? w + 1 : w]!;
      const o = lanesAt + (2 + k) * LANE_BYTES + 8;
      mem[o] = hi >>> 24;
      mem[o + 1] = (hi >>> 16) & 0xff;
      mem[o + 2] = (hi >>> 8) & 0xff;
      mem[o + 3] = hi & 0xff;
      mem[o + 4] = lo >>> 24;
      mem[o + 5] = (lo >>> 16) & 0xff;
      mem[o + 6] = (lo >>> 8) & 0xff;
      mem[o + 7] = lo & 0xff;
    }
    return seqs[i]!;
  };
}

function compareAt(bytes: Uint8Array, a: number, b: number): number {
  for (let k = 0; k < 32; k++) {
    const x = bytes[a + k]!;
    const y = bytes[b + k]!;
    if (x !== y) return x - y;
  }
  return 0;
}

/** Record indices `idx` ordered by (key, commitment), bytewise ascending, then index. */
function sortByKey(keys: Uint8Array, commitments: Uint8Array, idx: number[]): number[] {
  const full = (a: number, b: number): number => {
    let c = compareAt(keys, a * 32, b * 32);
    if (c !== 0) return c;
    for (let k = 0; k < 32; k++) {
      c = commitments[a * 32 + k]! - commitments[b * 32 + k]!;
      if (c !== 0) return c;
    }
    return a - b;
  };
  const n = idx.length;
  if (n > 1 << 21) return idx.slice().sort(full);
  // Native numeric sort of (32-bit key prefix · 2^21 + position): exact in a double.
  const f = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const o = idx[k]! * 32;
    const prefix =
      ((keys[o]! << 24) | (keys[o + 1]! << 16) | (keys[o + 2]! << 8) | keys[o + 3]!) >>> 0;
    f[k] = prefix * 2097152 + k;
  }
  f.sort();
  const out = new Array<number>(n);
  for (let k = 0; k < n; k++) out[k] = idx[f[k]! % 2097152]!;
  for (let i = 0; i < n;) {
    const prefix = Math.floor(f[i]! / 2097152);
    let j = i + 1;
    while (j < n && Math.floor(f[j]! / 2097152) === prefix) j++;
    if (j - i > 1) {
      const run = out.slice(i, j).sort(full);
      for (let k = i; k < j; k++) out[k] = run[k - i]!;
    }
    i = j;
  }
  return out;
}

/**
 * What a tree's leaves, inclusion and person proofs are made of, however its nodes are held (in
 * memory here, or read from tiles: sum-tiles.ts): province `p`'s leaves are batch indices
 * `offsets[p] … offsets[p] + sizes[p] − 1`.
 */
export interface SumTreeParts {
  kind: RecordKind;
  rootNode: SumNode;
  size: number;
  codes: readonly string[];
  offsets: readonly number[];
  sizes: readonly number[];
  provinceOf: (i: number) => number;
  leafAt: (p: number, j: number) => SumLeaf;
  /** First leaf of province `p` whose key is ≥ `key` (> `key` when `upper`). */
  lowerBound: (p: number, key: Uint8Array, upper: boolean) => number;
  /** The proof window of province `p`'s leaves `lo … hi`. */
  window: (p: number, lo: number, hi: number) => ProofWindow;
}

/** The queries of a {@link SumTree} from its parts: one definition for every way a tree is held. */
export function sumTreeQueries(
  parts: SumTreeParts,
): Pick<SumTree, "leaf" | "inclusionProof" | "indicesOf" | "personProof"> {
  const { codes, offsets, sizes, provinceOf, leafAt, lowerBound, window } = parts;
  const header = (
    type: SumTreeProof["type"],
    batchId: number,
  ): Omit<SumTreeProof, "windows" | "key"> => ({
    scheme: SUM_TREE_SCHEME,
    type,
    kind: parts.kind,
    batchId,
    root: { hash: bytesToHex(parts.rootNode.hash), lanes: parts.rootNode.lanes.map(String) },
    batchSize: parts.size,
    provinceCount: codes.length,
  });
  return {
    leaf(i) {
      const p = provinceOf(i);
      return { ...leafAt(p, i - offsets[p]!), province: codes[p]! };
    },
    inclusionProof(i, batchId) {
      const p = provinceOf(i);
      const j = i - offsets[p]!;
      return { ...header("inclusion", batchId), windows: [window(p, j, j)] };
    },
    indicesOf(key) {
      const out: number[] = [];
      for (let p = 0; p < codes.length; p++) {
        const a = lowerBound(p, key, false);
        const b = lowerBound(p, key, true);
        for (let j = a; j < b; j++) out.push(offsets[p]! + j);
      }
      return out;
    },
    personProof(key, batchId) {
      if (key.length !== 32) throw new RangeError("key must be 32 bytes");
      let found = 0;
      const windows = codes.map((_, p) => {
        const a = lowerBound(p, key, false);
        const b = lowerBound(p, key, true);
        found += b - a;
        return window(p, Math.max(0, a - 1), Math.min(sizes[p]! - 1, b));
      });
      return { ...header(found > 0 ? "range" : "absence", batchId), key: bytesToHex(key), windows };
    },
  };
}
