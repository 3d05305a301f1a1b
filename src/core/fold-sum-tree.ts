/**
 * A `shafaf-tree/2` batch tree from fixed-size columns with bounded memory: the one streaming
 * fold the anchor pipeline (its root, and the tiles it writes chunk by chunk) and the audit
 * (its recomputed root) both use.
 * The rows are sorted as the tree orders them (province code, then key, then commitment, then
 * line) in a `Uint32Array` — the only array that grows with the batch besides the columns —
 * and each province subtree is folded leaf chunk by leaf chunk: a chunk of 2^16 leaves is
 * hashed in bulk by core's own builder (`buildSumTreeChunk`, from the columns), and its root joins a log-size
 * stack of complete subtrees, as an RFC 6962 tree is folded (the bottom-up tree of
 * docs/spec/tree-v2.md, which carries an odd last node up, has the same shape). Province
 * nodes and the batch root then follow as `buildSumTree` makes them; a test holds the fold to
 * `buildSumTree`'s root, lanes and subtrees.
 */
import { buildSumTreeChunk, type SumTree, type SumTreeProvince } from "./build-sum-tree.ts";
import { InvalidInputError } from "./errors.ts";
import { bytesToHex, hexToBytes } from "./hex.ts";
import type { RecordKind } from "./record.ts";
import { provinceNode, sumParent, type SumNode } from "./sum-tree-hash.ts";

/** What a streaming fold yields of a sum tree: its root, lanes and province subtrees. */
export type SumTreeSummary = Pick<SumTree, "root" | "lanes" | "size" | "provinces">;

/**
 * A batch's records as fixed-size columns (row r: the r-th record read): what the fold, the
 * tiles writer and the audit hold per record instead of objects and strings.
 */
export interface LeafColumns {
  readonly kind: RecordKind;
  /** Rows. */
  readonly count: number;
  /** k_b of each row, 32 bytes. */
  readonly keys: Uint8Array;
  /**
   * `shafaf-batch/2`: the salted record commitment of each row, 32 bytes; (the audit of a
   * `shafaf-batch/1` artifact keeps the row's leaf hash here).
   */
  readonly commitments: Uint8Array;
  /** The kind's amount lanes (lanes 2 …) of each row. */
  readonly amounts: BigUint64Array;
  /** Province of each row, an index into `codes`. */
  readonly province: Uint16Array;
  readonly codes: readonly string[];
  /** records.jsonl line (0-based) of each row; undefined when row r is line r. */
  readonly line: Uint32Array | undefined;
}

/** One chunk of a province subtree, hashed: what {@link foldSumTreeChunks} yields. */
export interface FoldedChunk {
  /** The province's number in the batch (codes ascending), its code and leaf count. */
  province: number;
  code: string;
  provinceSize: number;
  /** The chunk's number in its province: its leaves are `chunk × chunkSize …` of the province. */
  chunk: number;
  /** Batch index of the chunk's first leaf, and its leaf count. */
  from: number;
  size: number;
  /**
   * The chunk's subtree built in memory (one province, `levelBytes` for every level): its
   * complete nodes are the batch tree's nodes over the same leaves. Valid until the next chunk.
   */
  tree: SumTree;
}

const lineOf = (c: LeafColumns, r: number): number => (c.line === undefined ? r : c.line[r]!);

/** Leaves hashed per call of core's builder: its memory is bounded by this, not by the batch. */
export const FOLD_CHUNK = 1 << 16;

/**
 * The rows in tree order: grouped by province code (ascending), each group by (key, commitment)
 * bytewise, then by row. `buildSumTree` orders a batch's records the same way.
 *
 * @example
 * const order = sortLeaves(columns);
 */
export function sortLeaves(c: LeafColumns): Uint32Array {
  const rank = c.codes.map((_, p) => p).sort((a, b) => (c.codes[a]! < c.codes[b]! ? -1 : 1));
  const rankOf = new Uint16Array(c.codes.length);
  rank.forEach((p, r) => (rankOf[p] = r));
  const starts = new Uint32Array(c.codes.length + 1);
  for (let i = 0; i < c.count; i++) starts[rankOf[c.province[i]!]! + 1]!++;
  for (let r = 0; r < c.codes.length; r++) starts[r + 1]! += starts[r]!;
  const order = new Uint32Array(c.count);
  const next = starts.slice(0, c.codes.length);
  for (let i = 0; i < c.count; i++) order[next[rankOf[c.province[i]!]!]!++] = i;
  for (let r = 0; r < c.codes.length; r++)
    sortByKey(order.subarray(starts[r], starts[r + 1]), c.keys, c.commitments);
  return order;
}

/** Sorts `rows` in place by (key, commitment, row): a native sort of prefixes, then ties. */
export function sortByKey(rows: Uint32Array, keys: Uint8Array, commitments: Uint8Array): void {
  const n = rows.length;
  if (n < 2) return;
  const full = (a: number, b: number): number => {
    for (let k = 0; k < 32; k++) {
      const d = keys[a * 32 + k]! - keys[b * 32 + k]!;
      if (d !== 0) return d;
    }
    for (let k = 0; k < 32; k++) {
      const d = commitments[a * 32 + k]! - commitments[b * 32 + k]!;
      if (d !== 0) return d;
    }
    return a - b;
  };
  // A double holds 53 bits exactly: the key's leading bits above the position in `rows`.
  const posBits = Math.max(1, Math.ceil(Math.log2(n)));
  const scale = 2 ** posBits;
  const drop = 2 ** (32 - Math.min(32, 53 - posBits));
  const f = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const o = rows[k]! * 32;
    const p32 =
      ((keys[o]! << 24) | (keys[o + 1]! << 16) | (keys[o + 2]! << 8) | keys[o + 3]!) >>> 0;
    f[k] = Math.floor(p32 / drop) * scale + k;
  }
  f.sort();
  const out = new Uint32Array(n);
  for (let k = 0; k < n; k++) out[k] = rows[f[k]! % scale]!;
  for (let i = 0; i < n;) {
    const prefix = Math.floor(f[i]! / scale);
    let j = i + 1;
    while (j < n && Math.floor(f[j]! / scale) === prefix) j++;
    if (j - i > 1) out.subarray(i, j).sort(full);
    i = j;
  }
  rows.set(out);
}

/**
 * The tree of rows already in tree order (`sortLeaves`).
 *
 * @throws {InvalidInputError} the builder's errors: a province that is not an IR-dd code, a lane
 * sum above 2^128 − 1, an empty batch.
 * @example
 * const tree = foldSumTree(columns, sortLeaves(columns));
 */
export function foldSumTree(
  c: LeafColumns,
  order: Uint32Array,
  chunk: number = FOLD_CHUNK,
): SumTreeSummary {
  const chunks = foldSumTreeChunks(c, order, chunk);
  for (;;) {
    const step = chunks.next();
    if (step.done === true) return step.value;
  }
}

/**
 * {@link foldSumTree}, yielding each chunk's subtree as it is hashed (the tiles writer writes
 * the chunk's tiles, then asks for the next): the memory of a step is one chunk's, whatever the
 * batch's size. Returns the tree's summary.
 *
 * @example
 * const chunks = foldSumTreeChunks(columns, order);
 * for (let s = chunks.next(); !s.done; s = chunks.next()) await write(s.value);
 */
export function* foldSumTreeChunks(
  c: LeafColumns,
  order: Uint32Array,
  chunk: number = FOLD_CHUNK,
): Generator<FoldedChunk, SumTreeSummary, void> {
  if (!Number.isInteger(Math.log2(chunk)) || chunk < 2)
    throw new RangeError("the fold's chunk is a power of two ≥ 2");
  const kind = c.kind;
  if (c.count === 0)
    throw new InvalidInputError("a shafaf-tree/2 batch needs at least one record", {
      code: "core.sum-tree.empty",
    });
  const provinces: SumTreeProvince[] = [];
  const nodes: SumNode[] = [];
  let at = 0;
  while (at < c.count) {
    const code = c.codes[c.province[order[at]!]!]!;
    let end = at;
    while (end < c.count && c.codes[c.province[order[end]!]!] === code) end++;
    if (!/^IR-[0-9]{2}$/.test(code))
      throw new InvalidInputError("province must be an IR-dd code", {
        details: `record ${lineOf(c, order[at]!)}: field province`,
        field: "province",
        code: "core.sum-tree.province",
      });
    const stack: { node: SumNode; size: number }[] = [];
    let prev = -1;
    let seq = 0;
    for (let from = at; from < end; from += chunk) {
      const to = Math.min(end, from + chunk);
      const rows = order.subarray(from, to);
      const seqs = new Uint32Array(to - from);
      for (let k = 0; k < rows.length; k++) {
        const r = rows[k]!;
        seq = prev >= 0 && sameKey(c.keys, prev, r) ? seq + 1 : 0;
        prev = r;
        seqs[k] = seq;
      }
      const tree = buildSumTreeChunk(kind, code, c, rows, seqs);
      yield {
        province: provinces.length,
        code,
        provinceSize: end - at,
        chunk: (from - at) / chunk,
        from,
        size: to - from,
        tree,
      };
      const sub = tree.provinces[0]!;
      let entry = { node: { hash: hexToBytes(sub.root), lanes: sub.lanes }, size: to - from };
      while (stack.length > 0 && stack[stack.length - 1]!.size === entry.size) {
        const left = stack.pop()!;
        entry = { node: parent(left.node, entry.node, code), size: left.size * 2 };
      }
      stack.push(entry);
    }
    let root = stack.pop()!.node;
    while (stack.length > 0) root = parent(stack.pop()!.node, root, code);
    provinces.push({
      code,
      index: provinces.length,
      size: end - at,
      offset: at,
      root: bytesToHex(root.hash),
      lanes: root.lanes,
    });
    nodes.push(provinceNode(kind, code, root));
    at = end;
  }
  // The top tree over the province nodes, as the builder makes it (odd last node carried up).
  let level = nodes;
  while (level.length > 1) {
    const next: SumNode[] = [];
    for (let i = 0; i + 1 < level.length; i += 2)
      next.push(parent(level[i]!, level[i + 1]!, "batch top tree"));
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  const top = level[0]!;
  return { root: bytesToHex(top.hash), lanes: top.lanes, size: c.count, provinces };
}

function sameKey(keys: Uint8Array, a: number, b: number): boolean {
  for (let k = 0; k < 32; k++) if (keys[a * 32 + k] !== keys[b * 32 + k]) return false;
  return true;
}

function parent(left: SumNode, right: SumNode, where: string): SumNode {
  const node = sumParent(left, right);
  if (node === undefined)
    throw new InvalidInputError("a lane sum exceeds 2^128 − 1", {
      details: where,
      code: "core.sum-tree.overflow",
    });
  return node;
}

/**
 * How many distinct 32-byte keys the first `n` of `keys` hold (a batch's people: k_b is one per
 * person and batch), by one sort of row numbers: 4 + 8 bytes per row while it runs, no string.
 *
 * @example
 * countDistinctKeys(columns.keys, columns.count);
 */
export function countDistinctKeys(keys: Uint8Array, n: number): number {
  if (n === 0) return 0;
  const rows = new Uint32Array(n);
  for (let i = 0; i < n; i++) rows[i] = i;
  sortByKey(rows, keys, keys);
  let distinct = 1;
  for (let i = 1; i < n; i++) if (!sameKey(keys, rows[i - 1]!, rows[i]!)) distinct++;
  return distinct;
}
