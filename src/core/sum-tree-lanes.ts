import { RECORD_KINDS } from "./kinds/record-kinds.ts";
import type { RecordKind } from "./record.ts";

/**
 * The lanes (unsigned sums) of a `shafaf-tree/2` node, per record kind, in order. Lane 0 is always
 * `records` (1 at every leaf) and lane 1 always `persons` (1 at the first leaf of each key in a
 * province subtree, else 0); the tree builder sets both. The others are amounts given per record
 * (the kind's `sumTreeAmounts`, `src/core/kinds/<kind>/<kind>.ts`).
 */
export const SUM_TREE_LANES = Object.fromEntries(
  Object.values(RECORD_KINDS).map((r) => [r.kind, r.sumTreeLanes]),
) as { readonly [K in RecordKind]: (typeof RECORD_KINDS)[K]["sumTreeLanes"] };

/** Bytes per lane: every lane is an unsigned 128-bit big-endian integer. */
export const LANE_BYTES = 16;

/** The largest lane value, 2^128 − 1. A sum above it is an overflow, never a wrap. */
export const LANE_MAX = (1n << 128n) - 1n;

/** The byte a kind is bound to in a province node: premium 0, pension 1 (the on-chain numbers). */
export const SUM_TREE_KIND_BYTE = Object.fromEntries(
  Object.values(RECORD_KINDS).map((r) => [r.kind, r.number]),
) as { readonly [K in RecordKind]: (typeof RECORD_KINDS)[K]["number"] };

/** Number of lanes of a kind's nodes. */
export function laneCount(kind: RecordKind): number {
  return SUM_TREE_LANES[kind].length;
}

/**
 * Writes `lanes` as 16-byte big-endian words at `out[offset..]`. Throws RangeError when a value is
 * negative or above {@link LANE_MAX}.
 */
export function writeLanes(lanes: readonly bigint[], out: Uint8Array, offset: number): void {
  for (let k = 0; k < lanes.length; k++) {
    let v = lanes[k]!;
    if (v < 0n || v > LANE_MAX) throw new RangeError(`lane ${k} is not in 0..2^128-1`);
    const at = offset + k * LANE_BYTES;
    if (v <= 0xffffffffn) {
      // Fast path for the usual small amounts: 12 zero bytes then 4.
      out.fill(0, at, at + 12);
      const x = Number(v);
      out[at + 12] = x >>> 24;
      out[at + 13] = (x >>> 16) & 0xff;
      out[at + 14] = (x >>> 8) & 0xff;
      out[at + 15] = x & 0xff;
      continue;
    }
    for (let b = 15; b >= 0; b--) {
      out[at + b] = Number(v & 0xffn);
      v >>= 8n;
    }
  }
}

/** The big-endian u32 at `bytes[at..at+4]`. */
const u32 = (bytes: Uint8Array, at: number): number =>
  ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;

/**
 * Reads `count` 16-byte big-endian lanes from `bytes[offset..]`. A lane below 2^53 (records,
 * persons and most sums) is read as a Number and made a bigint once, instead of 16 bigint
 * shifts (a tile proof reads ≈ 20 nodes of 5–7 lanes).
 */
export function readLanes(bytes: Uint8Array, offset: number, count: number): bigint[] {
  const lanes: bigint[] = [];
  for (let k = 0; k < count; k++) {
    const at = offset + k * LANE_BYTES;
    const w0 = u32(bytes, at);
    const w1 = u32(bytes, at + 4);
    const w2 = u32(bytes, at + 8);
    const w3 = u32(bytes, at + 12);
    if (w0 === 0 && w1 === 0 && w2 < 0x200000) lanes.push(BigInt(w2 * 0x100000000 + w3));
    else lanes.push((BigInt(w0) << 96n) | (BigInt(w1) << 64n) | (BigInt(w2) << 32n) | BigInt(w3));
  }
  return lanes;
}

/**
 * The decimal text of the 16-byte big-endian lane at `bytes[at..]` (what a proof node carries),
 * without a bigint when it is below 2^53.
 */
export function laneDecimal(bytes: Uint8Array, at: number): string {
  const w0 = u32(bytes, at);
  const w1 = u32(bytes, at + 4);
  const w2 = u32(bytes, at + 8);
  const w3 = u32(bytes, at + 12);
  if (w0 === 0 && w1 === 0 && w2 < 0x200000) return String(w2 * 0x100000000 + w3);
  return ((BigInt(w0) << 96n) | (BigInt(w1) << 64n) | (BigInt(w2) << 32n) | BigInt(w3)).toString();
}
