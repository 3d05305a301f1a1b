import { InvalidInputError, InvariantError } from "./errors.ts";
import { bytesToHex, type Hex } from "./hex.ts";
import { createKeccakEngine, keccak256Many } from "./keccak.ts";
import type { RecordKind } from "./record.ts";
import { LANE_BYTES, laneCount, readLanes, writeLanes } from "./sum-tree-lanes.ts";
import {
  leafPreimageLength,
  provinceNode,
  sumParent,
  writeLeafPreimage,
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
}

interface Level {
  at: number;
  count: number;
}

const cmp32 = (a: Uint8Array, b: Uint8Array): number => {
  for (let k = 0; k < 32; k++) if (a[k] !== b[k]) return a[k]! - b[k]!;
  return 0;
};

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
  const rec = 32 + lanesN * LANE_BYTES;
  if (provinces.length === 0)
    throw new InvalidInputError("a shafaf-tree/2 batch needs at least one record", {
      code: "core.sum-tree.empty",
    });
  for (let p = 0; p < provinces.length; p++) {
    const pr = provinces[p]!;
    if (pr.leaves.length === 0)
      throw new InvalidInputError(`province ${pr.code} has no leaves`, {
        code: "core.sum-tree.empty-province",
      });
    if (p > 0 && provinces[p - 1]!.code >= pr.code)
      throw new InvalidInputError("province codes must be distinct and ascending", {
        details: `${provinces[p - 1]!.code} then ${pr.code}`,
        code: "core.sum-tree.province-order",
      });
  }
  // Layout in one WebAssembly memory: every province's levels, then 1 scratch area.
  const levels: Level[][] = [];
  let bytes = 0;
  for (const pr of provinces) {
    const ls: Level[] = [];
    let c = pr.leaves.length;
    for (;;) {
      ls.push({ at: bytes, count: c });
      bytes += c * rec;
      if (c === 1) break;
      c = (c + 1) >> 1;
    }
    levels.push(ls);
  }
  const engine = createKeccakEngine();
  const base = engine.reserve(bytes + lanesN * LANE_BYTES + 1 + 2 * rec);
  const scratch = base + bytes;
  const preLen = leafPreimageLength(lanesN);
  const CHUNK = 8192;
  const pre = new Uint8Array(CHUNK * preLen);
  const digests = new Uint8Array(CHUNK * 32);
  const offsets: number[] = [];
  let total = 0;
  for (let p = 0; p < provinces.length; p++) {
    const leaves = provinces[p]!.leaves;
    offsets.push(total);
    total += leaves.length;
    const level0 = levels[p]![0]!;
    for (let from = 0; from < leaves.length; from += CHUNK) {
      const k = Math.min(CHUNK, leaves.length - from);
      for (let j = 0; j < k; j++) {
        const leaf = leaves[from + j]!;
        if (leaf.lanes.length !== lanesN)
          throw new InvalidInputError(`a ${kind} leaf has ${lanesN} lanes`, {
            code: "core.sum-tree.lanes",
          });
        writeLeafPreimage(leaf, pre, j * preLen);
      }
      keccak256Many(pre.subarray(0, k * preLen), preLen, digests);
      const mem = engine.bytes();
      for (let j = 0; j < k; j++) {
        const at = base + level0.at + (from + j) * rec;
        mem.set(digests.subarray(j * 32, j * 32 + 32), at);
        // The lanes are already encoded in the preimage, after 0x00 ‖ key ‖ seq.
        mem.set(pre.subarray(j * preLen + 37, j * preLen + 37 + lanesN * LANE_BYTES), at + 32);
      }
    }
    const ls = levels[p]!;
    for (let l = 1; l < ls.length; l++) {
      const src = ls[l - 1]!;
      const dst = ls[l]!;
      const pairs = src.count >> 1;
      const bad = engine.exports.sumNodeMany(
        base + src.at,
        pairs,
        rec,
        lanesN,
        base + dst.at,
        scratch,
      );
      if (bad !== -1)
        throw new InvalidInputError("a lane sum exceeds 2^128 − 1", {
          details: `province ${provinces[p]!.code}, level ${l}, node ${bad}`,
          code: "core.sum-tree.overflow",
        });
      if (src.count % 2 === 1) {
        const mem = engine.bytes();
        const from = base + src.at + (src.count - 1) * rec;
        mem.copyWithin(base + dst.at + pairs * rec, from, from + rec);
      }
    }
  }
  const mem = (): Uint8Array => engine.bytes();
  const nodeAt = (p: number, l: number, i: number): SumNode => {
    const at = base + levels[p]![l]!.at + i * rec;
    const m = mem();
    return { hash: m.slice(at, at + 32), lanes: readLanes(m, at + 32, lanesN) };
  };
  const subtreeRoots = provinces.map((_, p) => nodeAt(p, levels[p]!.length - 1, 0));
  const top: SumNode[][] = [
    provinces.map((pr, p) => provinceNode(kind, pr.code, subtreeRoots[p]!)),
  ];
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
  const summary: SumTreeProvince[] = provinces.map((pr, p) => ({
    code: pr.code,
    index: p,
    size: pr.leaves.length,
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
    let hi = provinces.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (offsets[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const window = (p: number, lo: number, hi: number): ProofWindow => ({
    province: provinces[p]!.code,
    provinceIndex: p,
    size: provinces[p]!.leaves.length,
    index: lo,
    batchIndex: offsets[p]! + lo,
    leaves: provinces[p]!.leaves.slice(lo, hi + 1).map(toProofLeaf),
    subtree: toProofNode(subtreeRoots[p]!),
    path: siblings(provinces[p]!.leaves.length, lo, hi, (l, i) => nodeAt(p, l, i)),
    provincePath: siblings(provinces.length, p, p, (l, i) => top[l]![i]!),
  });
  /** First position in province p whose key is ≥ key (binary search; leaves are key-ordered). */
  const lowerBound = (p: number, key: Uint8Array, upper: boolean): number => {
    const leaves = provinces[p]!.leaves;
    let lo = 0;
    let hi = leaves.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = cmp32(leaves[mid]!.key, key);
      if (c < 0 || (upper && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const header = (
    type: SumTreeProof["type"],
    batchId: number,
  ): Omit<SumTreeProof, "windows" | "key"> => ({
    scheme: SUM_TREE_SCHEME,
    type,
    kind,
    batchId,
    root: toProofNode(rootNode),
    batchSize: total,
    provinceCount: provinces.length,
  });
  return {
    scheme: SUM_TREE_SCHEME,
    kind,
    root: bytesToHex(rootNode.hash),
    lanes: rootNode.lanes,
    size: total,
    provinces: summary,
    leaf(i) {
      const p = provinceOf(i);
      return { ...provinces[p]!.leaves[i - offsets[p]!]!, province: provinces[p]!.code };
    },
    inclusionProof(i, batchId) {
      const p = provinceOf(i);
      const j = i - offsets[p]!;
      return { ...header("inclusion", batchId), windows: [window(p, j, j)] };
    },
    indicesOf(key) {
      const out: number[] = [];
      for (let p = 0; p < provinces.length; p++) {
        const a = lowerBound(p, key, false);
        const b = lowerBound(p, key, true);
        for (let j = a; j < b; j++) out.push(offsets[p]! + j);
      }
      return out;
    },
    personProof(key, batchId) {
      if (key.length !== 32) throw new RangeError("key must be 32 bytes");
      let found = 0;
      const windows = provinces.map((pr, p) => {
        const a = lowerBound(p, key, false);
        const b = lowerBound(p, key, true);
        found += b - a;
        const lo = Math.max(0, a - 1);
        const hi = Math.min(pr.leaves.length - 1, b);
        return window(p, lo, hi);
      });
      return { ...header(found > 0 ? "range" : "absence", batchId), key: bytesToHex(key), windows };
    },
  };
}

/** One record as the v2 tree takes it. */
export interface SumTreeInput {
  /** The person's per-batch key k_b (32 bytes, opaque here). */
  key: Uint8Array;
  /** ISO 3166-2:IR code, `IR-dd`. */
  province: string;
  /** The kind's amount lanes, i.e. every lane after `records` and `persons`. */
  amounts: readonly bigint[];
  /** The salted commitment to the rest of the record (32 bytes). */
  commitment: Uint8Array;
}

/**
 * Builds the `shafaf-tree/2` tree of a batch: records grouped by province (codes ascending),
 * sorted inside each province by (key, commitment), numbered `seq` 0, 1, … per key, with the
 * `records` lane 1 and the `persons` lane 1 on each key's first leaf.
 *
 * Throws InvalidInputError on an empty batch, a bad province code, key or commitment width, a
 * wrong number of amount lanes, a lane outside 0..2^128 − 1, or a lane sum overflow.
 *
 * @example
 * const tree = buildSumTree("premium", [{ key, province: "IR-23", amounts: [wage, 31n, premium], commitment }]);
 * tree.root; tree.provinces[0].lanes; tree.personProof(key, 7);
 */
export function buildSumTree(kind: RecordKind, inputs: readonly SumTreeInput[]): SumTree {
  const amountsN = laneCount(kind) - 2;
  const groups = new Map<string, number[]>();
  for (let i = 0; i < inputs.length; i++) {
    const r = inputs[i]!;
    if (!/^IR-[0-9]{2}$/.test(r.province))
      throw new InvalidInputError("province must be an IR-dd code", {
        details: `input ${i}: field province`,
        field: "province",
        code: "core.sum-tree.province",
      });
    if (r.key.length !== 32 || r.commitment.length !== 32)
      throw new InvalidInputError("key and commitment must be 32 bytes", {
        details: `input ${i}`,
        code: "core.sum-tree.width",
      });
    if (r.amounts.length !== amountsN)
      throw new InvalidInputError(`a ${kind} record has ${amountsN} amount lanes`, {
        details: `input ${i}: got ${r.amounts.length}`,
        code: "core.sum-tree.lanes",
      });
    let g = groups.get(r.province);
    if (g === undefined) groups.set(r.province, (g = []));
    g.push(i);
  }
  const codes = [...groups.keys()].sort();
  const probe = new Uint8Array(LANE_BYTES * amountsN);
  const ordered: OrderedProvince[] = codes.map((code) => {
    const idx = sortByKey(inputs, groups.get(code)!);
    const leaves: SumLeaf[] = new Array<SumLeaf>(idx.length);
    let seq = 0;
    for (let k = 0; k < idx.length; k++) {
      const r = inputs[idx[k]!]!;
      const first = k === 0 || cmp32(inputs[idx[k - 1]!]!.key, r.key) !== 0;
      seq = first ? 0 : seq + 1;
      try {
        writeLanes(r.amounts, probe, 0);
      } catch (cause) {
        throw new InvalidInputError("an amount lane is not in 0..2^128 − 1", {
          details: `input ${idx[k]}`,
          code: "core.sum-tree.lane-range",
          cause,
        });
      }
      leaves[k] = {
        key: r.key,
        seq,
        lanes: [1n, first ? 1n : 0n, ...r.amounts],
        commitment: r.commitment,
      };
    }
    return { code, leaves };
  });
  const tree = buildOrderedSumTree(kind, ordered);
  if (tree.size !== inputs.length) throw new InvariantError("leaf count changed while building");
  return tree;
}

/** Input indices `idx` ordered by (key, commitment), bytewise ascending. */
function sortByKey(inputs: readonly SumTreeInput[], idx: number[]): number[] {
  const full = (a: number, b: number): number => {
    const x = inputs[a]!;
    const y = inputs[b]!;
    return cmp32(x.key, y.key) || cmp32(x.commitment, y.commitment) || a - b;
  };
  const n = idx.length;
  if (n > 1 << 21) return idx.slice().sort(full);
  // Native numeric sort of (32-bit key prefix · 2^21 + position): exact in a double.
  const f = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const key = inputs[idx[k]!]!.key;
    const prefix = ((key[0]! << 24) | (key[1]! << 16) | (key[2]! << 8) | key[3]!) >>> 0;
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
