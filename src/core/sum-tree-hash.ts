import { keccak256 } from "./keccak.ts";
import type { RecordKind } from "./record.ts";
import { LANE_BYTES, LANE_MAX, SUM_TREE_KIND_BYTE, writeLanes } from "./sum-tree-lanes.ts";

/**
 * The hashing of `shafaf-tree/2`, defined once for TypeScript (docs/spec/tree-v2.md §3). Every
 * hash is keccak256 of a domain byte and fixed-width fields:
 *
 * - leaf      keccak256(0x00 ‖ key(32) ‖ seq(u32 BE) ‖ lanes (u64 BE each) ‖ commitment(32))
 * - node      keccak256(0x01 ‖ hashL ‖ lanesL ‖ hashR ‖ lanesR), lanes = lanesL + lanesR
 * - province  keccak256(0x02 ‖ kind(1) ‖ code(5 ASCII) ‖ subtreeRoot ‖ lanes)
 */

/** A node of a sum tree: its hash and its lanes (unsigned, < 2^128 each). */
export interface SumNode {
  hash: Uint8Array;
  lanes: bigint[];
}

/** What a leaf commits to (lanes include `records` = 1 and `persons`). */
export interface SumLeaf {
  /** The person's per-batch key k_b, 32 bytes, opaque to the tree. */
  key: Uint8Array;
  /** 0, 1, … among the leaves of the same key in the same province subtree. */
  seq: number;
  lanes: readonly bigint[];
  /** The salted commitment to the rest of the record, 32 bytes. */
  commitment: Uint8Array;
}

export const LEAF_DOMAIN = 0x00;
export const NODE_DOMAIN = 0x01;
export const PROVINCE_DOMAIN = 0x02;

/** Bytes of a leaf lane in a leaf preimage: one record's amounts are below 2^64. */
export const LEAF_LANE_BYTES = 8;

/** The largest lane value of a leaf, 2^64 − 1. */
export const LEAF_LANE_MAX = (1n << 64n) - 1n;

/** Bytes of a leaf preimage with `lanes` lanes (≤ 135: one Keccak permutation). */
export function leafPreimageLength(lanes: number): number {
  return 1 + 32 + 4 + lanes * LEAF_LANE_BYTES + 32;
}

/** Writes the leaf preimage at `out[offset..]`. Throws RangeError on a bad field width or value. */
export function writeLeafPreimage(leaf: SumLeaf, out: Uint8Array, offset: number): void {
  if (leaf.key.length !== 32) throw new RangeError("key must be 32 bytes");
  if (leaf.commitment.length !== 32) throw new RangeError("commitment must be 32 bytes");
  if (!Number.isInteger(leaf.seq) || leaf.seq < 0 || leaf.seq > 0xffffffff)
    throw new RangeError("seq must be a u32");
  out[offset] = LEAF_DOMAIN;
  out.set(leaf.key, offset + 1);
  out[offset + 33] = leaf.seq >>> 24;
  out[offset + 34] = (leaf.seq >>> 16) & 0xff;
  out[offset + 35] = (leaf.seq >>> 8) & 0xff;
  out[offset + 36] = leaf.seq & 0xff;
  let at = offset + 37;
  for (const lane of leaf.lanes) {
    if (lane < 0n || lane > LEAF_LANE_MAX) throw new RangeError("a leaf lane must be below 2^64");
    for (let b = 7; b >= 0; b--) out[at + b] = Number((lane >> BigInt(8 * (7 - b))) & 0xffn);
    at += LEAF_LANE_BYTES;
  }
  out.set(leaf.commitment, at);
}

/** The leaf node (hash and lanes) of one leaf. */
export function sumLeafNode(leaf: SumLeaf): SumNode {
  const pre = new Uint8Array(leafPreimageLength(leaf.lanes.length));
  writeLeafPreimage(leaf, pre, 0);
  return { hash: keccak256(pre), lanes: [...leaf.lanes] };
}

let parentPreimage = new Uint8Array(0);

/**
 * The parent of `left` and `right` (ordered: left is the lower index). Returns `undefined` when a
 * lane sum exceeds 2^128 − 1 or the lane counts differ: an overflow is a failure, never a wrap.
 */
export function sumParent(left: SumNode, right: SumNode): SumNode | undefined {
  const n = left.lanes.length;
  if (right.lanes.length !== n) return undefined;
  const lanes: bigint[] = [];
  for (let k = 0; k < n; k++) {
    const s = left.lanes[k]! + right.lanes[k]!;
    if (s > LANE_MAX) return undefined;
    lanes.push(s);
  }
  const rec = 32 + n * LANE_BYTES;
  // One preimage buffer reused, cleared as a new one would be (keccak256 copies it): a proof's
  // verification hashes hundreds of nodes.
  if (parentPreimage.length !== 1 + 2 * rec) parentPreimage = new Uint8Array(1 + 2 * rec);
  const pre = parentPreimage.fill(0);
  pre[0] = NODE_DOMAIN;
  pre.set(left.hash, 1);
  writeLanes(left.lanes, pre, 33);
  pre.set(right.hash, 1 + rec);
  writeLanes(right.lanes, pre, 1 + rec + 32);
  return { hash: keccak256(pre), lanes };
}

/** The 5 ASCII bytes of a province code `IR-dd`; throws RangeError otherwise. */
export function provinceCodeBytes(code: string): Uint8Array {
  if (!/^IR-[0-9]{2}$/.test(code)) throw new RangeError("province code must be IR-dd");
  // ASCII (checked above): one byte per character, without a TextEncoder per call (it showed in
  // the history page's profile, once per province of every proof).
  return Uint8Array.from(code, (c) => c.charCodeAt(0));
}

/** The province node binding a province subtree's root to its kind and province code. */
export function provinceNode(kind: RecordKind, code: string, subtree: SumNode): SumNode {
  const n = subtree.lanes.length;
  const pre = new Uint8Array(1 + 1 + 5 + 32 + n * LANE_BYTES);
  pre[0] = PROVINCE_DOMAIN;
  pre[1] = SUM_TREE_KIND_BYTE[kind];
  pre.set(provinceCodeBytes(code), 2);
  pre.set(subtree.hash, 7);
  writeLanes(subtree.lanes, pre, 39);
  return { hash: keccak256(pre), lanes: [...subtree.lanes] };
}
