/**
 * Batched Keccak-256 (the Ethereum variant: pad10*1 with domain byte 0x01, rate 136 bytes) in
 * AssemblyScript, compiled to WebAssembly by `npm run build:wasm` and embedded in
 * `src/core/keccak-wasm.ts`. The JavaScript side owns memory layout: it writes inputs into linear
 * memory at or above `heapBase()` and calls one function per thousands of hashes, because the
 * per-call overhead, not the permutation, dominates keccak in JavaScript (shared/MEASURED.md).
 *
 * Invariants: no allocation, no runtime (`--runtime stub`), no imports; every function reads and
 * writes only the ranges it is given plus the static state/pad/constant blocks below.
 */

const RC: usize = memory.data<u64>([
  0x0000000000000001, 0x0000000000008082, 0x800000000000808a, 0x8000000080008000,
  0x000000000000808b, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
  0x000000000000008a, 0x0000000000000088, 0x0000000080008009, 0x000000008000000a,
  0x000000008000808b, 0x800000000000008b, 0x8000000000008089, 0x8000000000008003,
  0x8000000000008002, 0x8000000000000080, 0x000000000000800a, 0x800000008000000a,
  0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
]);

/** 25 lanes of state. */
const S: usize = memory.data(200, 16);
/** One padded block for the tail of a message. */
const PAD: usize = memory.data(136, 16);

const RATE: usize = 136;

/** First free byte of linear memory: the JavaScript side places its buffers at or above it. */
export function heapBase(): usize {
  return __heap_base;
}

/** keccak-f[1600] on the state at `s` (24 rounds, lanes in locals). */
// prettier-ignore
function permute(s: usize): void {
  let a0 = load<u64>(s, 0);
  let a1 = load<u64>(s, 8);
  let a2 = load<u64>(s, 16);
  let a3 = load<u64>(s, 24);
  let a4 = load<u64>(s, 32);
  let a5 = load<u64>(s, 40);
  let a6 = load<u64>(s, 48);
  let a7 = load<u64>(s, 56);
  let a8 = load<u64>(s, 64);
  let a9 = load<u64>(s, 72);
  let a10 = load<u64>(s, 80);
  let a11 = load<u64>(s, 88);
  let a12 = load<u64>(s, 96);
  let a13 = load<u64>(s, 104);
  let a14 = load<u64>(s, 112);
  let a15 = load<u64>(s, 120);
  let a16 = load<u64>(s, 128);
  let a17 = load<u64>(s, 136);
  let a18 = load<u64>(s, 144);
  let a19 = load<u64>(s, 152);
  let a20 = load<u64>(s, 160);
  let a21 = load<u64>(s, 168);
  let a22 = load<u64>(s, 176);
  let a23 = load<u64>(s, 184);
  let a24 = load<u64>(s, 192);
  for (let round: usize = 0; round < 24; round++) {
    const c0 = a0 ^ a5 ^ a10 ^ a15 ^ a20;
    const c1 = a1 ^ a6 ^ a11 ^ a16 ^ a21;
    const c2 = a2 ^ a7 ^ a12 ^ a17 ^ a22;
    const c3 = a3 ^ a8 ^ a13 ^ a18 ^ a23;
    const c4 = a4 ^ a9 ^ a14 ^ a19 ^ a24;
    const d0 = c4 ^ rotl<u64>(c1, 1);
    const d1 = c0 ^ rotl<u64>(c2, 1);
    const d2 = c1 ^ rotl<u64>(c3, 1);
    const d3 = c2 ^ rotl<u64>(c4, 1);
    const d4 = c3 ^ rotl<u64>(c0, 1);
    const b0 = a0 ^ d0;
    const b1 = rotl<u64>(a6 ^ d1, 44);
    const b2 = rotl<u64>(a12 ^ d2, 43);
    const b3 = rotl<u64>(a18 ^ d3, 21);
    const b4 = rotl<u64>(a24 ^ d4, 14);
    const b5 = rotl<u64>(a3 ^ d3, 28);
    const b6 = rotl<u64>(a9 ^ d4, 20);
    const b7 = rotl<u64>(a10 ^ d0, 3);
    const b8 = rotl<u64>(a16 ^ d1, 45);
    const b9 = rotl<u64>(a22 ^ d2, 61);
    const b10 = rotl<u64>(a1 ^ d1, 1);
    const b11 = rotl<u64>(a7 ^ d2, 6);
    const b12 = rotl<u64>(a13 ^ d3, 25);
    const b13 = rotl<u64>(a19 ^ d4, 8);
    const b14 = rotl<u64>(a20 ^ d0, 18);
    const b15 = rotl<u64>(a4 ^ d4, 27);
    const b16 = rotl<u64>(a5 ^ d0, 36);
    const b17 = rotl<u64>(a11 ^ d1, 10);
    const b18 = rotl<u64>(a17 ^ d2, 15);
    const b19 = rotl<u64>(a23 ^ d3, 56);
    const b20 = rotl<u64>(a2 ^ d2, 62);
    const b21 = rotl<u64>(a8 ^ d3, 55);
    const b22 = rotl<u64>(a14 ^ d4, 39);
    const b23 = rotl<u64>(a15 ^ d0, 41);
    const b24 = rotl<u64>(a21 ^ d1, 2);
    a0 = b0 ^ (~b1 & b2);
    a1 = b1 ^ (~b2 & b3);
    a2 = b2 ^ (~b3 & b4);
    a3 = b3 ^ (~b4 & b0);
    a4 = b4 ^ (~b0 & b1);
    a5 = b5 ^ (~b6 & b7);
    a6 = b6 ^ (~b7 & b8);
    a7 = b7 ^ (~b8 & b9);
    a8 = b8 ^ (~b9 & b5);
    a9 = b9 ^ (~b5 & b6);
    a10 = b10 ^ (~b11 & b12);
    a11 = b11 ^ (~b12 & b13);
    a12 = b12 ^ (~b13 & b14);
    a13 = b13 ^ (~b14 & b10);
    a14 = b14 ^ (~b10 & b11);
    a15 = b15 ^ (~b16 & b17);
    a16 = b16 ^ (~b17 & b18);
    a17 = b17 ^ (~b18 & b19);
    a18 = b18 ^ (~b19 & b15);
    a19 = b19 ^ (~b15 & b16);
    a20 = b20 ^ (~b21 & b22);
    a21 = b21 ^ (~b22 & b23);
    a22 = b22 ^ (~b23 & b24);
    a23 = b23 ^ (~b24 & b20);
    a24 = b24 ^ (~b20 & b21);
    a0 ^= load<u64>(RC + (round << 3));
  }
  store<u64>(s, a0, 0);
  store<u64>(s, a1, 8);
  store<u64>(s, a2, 16);
  store<u64>(s, a3, 24);
  store<u64>(s, a4, 32);
  store<u64>(s, a5, 40);
  store<u64>(s, a6, 48);
  store<u64>(s, a7, 56);
  store<u64>(s, a8, 64);
  store<u64>(s, a9, 72);
  store<u64>(s, a10, 80);
  store<u64>(s, a11, 88);
  store<u64>(s, a12, 96);
  store<u64>(s, a13, 104);
  store<u64>(s, a14, 112);
  store<u64>(s, a15, 120);
  store<u64>(s, a16, 128);
  store<u64>(s, a17, 136);
  store<u64>(s, a18, 144);
  store<u64>(s, a19, 152);
  store<u64>(s, a20, 160);
  store<u64>(s, a21, 168);
  store<u64>(s, a22, 176);
  store<u64>(s, a23, 184);
  store<u64>(s, a24, 192);
}

@inline
function zeroState(): void {
  memory.fill(S, 0, 200);
}

@inline
function absorbBlock(p: usize): void {
  for (let i: usize = 0; i < RATE; i += 8) {
    store<u64>(S + i, load<u64>(S + i) ^ load<u64>(p + i));
  }
  permute(S);
}

/** Hashes `len` bytes at `p` into the state (state must be zero); leaves the digest in S[0..32). */
function absorbAll(p: usize, len: usize): void {
  zeroState();
  let off: usize = 0;
  while (len - off >= RATE) {
    absorbBlock(p + off);
    off += RATE;
  }
  const rest = len - off;
  memory.fill(PAD, 0, RATE);
  memory.copy(PAD, p + off, rest);
  store<u8>(PAD + rest, load<u8>(PAD + rest) ^ 0x01);
  store<u8>(PAD + RATE - 1, load<u8>(PAD + RATE - 1) ^ 0x80);
  absorbBlock(PAD);
}

@inline
function squeeze32(out: usize): void {
  store<u64>(out, load<u64>(S));
  store<u64>(out, load<u64>(S, 8), 8);
  store<u64>(out, load<u64>(S, 16), 16);
  store<u64>(out, load<u64>(S, 24), 24);
}

/** Keccak-256 of one 32-byte word at `p` into `out` (one permutation, no padding buffer). */
@inline
function hash32(p: usize, out: usize): void {
  zeroState();
  store<u64>(S, load<u64>(p));
  store<u64>(S, load<u64>(p, 8), 8);
  store<u64>(S, load<u64>(p, 16), 16);
  store<u64>(S, load<u64>(p, 24), 24);
  store<u64>(S, 0x01, 32);
  store<u64>(S, 0x8000000000000000, 128);
  permute(S);
  squeeze32(out);
}

/** Keccak-256 of the 64 bytes `lo ‖ hi` into `out` (one permutation). */
@inline
function hash64(lo: usize, hi: usize, out: usize): void {
  zeroState();
  store<u64>(S, load<u64>(lo));
  store<u64>(S, load<u64>(lo, 8), 8);
  store<u64>(S, load<u64>(lo, 16), 16);
  store<u64>(S, load<u64>(lo, 24), 24);
  store<u64>(S, load<u64>(hi), 32);
  store<u64>(S, load<u64>(hi, 8), 40);
  store<u64>(S, load<u64>(hi, 16), 48);
  store<u64>(S, load<u64>(hi, 24), 56);
  store<u64>(S, 0x01, 64);
  store<u64>(S, 0x8000000000000000, 128);
  permute(S);
  squeeze32(out);
}

/** -1, 0 or 1: the 32-byte words at `a` and `b` compared as big-endian unsigned integers. */
@inline
function compare32(a: usize, b: usize): i32 {
  for (let i: usize = 0; i < 32; i += 8) {
    const x = bswap<u64>(load<u64>(a + i));
    const y = bswap<u64>(load<u64>(b + i));
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * `count` messages of `len` bytes each, contiguous from `input`; writes `count` 32-byte
 * digests contiguously from `output`. `output` may equal `input` only when `len` ≥ 32.
 */
export function keccakMany(input: usize, len: usize, count: usize, output: usize): void {
  for (let i: usize = 0; i < count; i++) {
    if (len == 32) hash32(input + i * 32, output + i * 32);
    else {
      absorbAll(input + i * len, len);
      squeeze32(output + i * 32);
    }
  }
}

/**
 * OpenZeppelin standard-v1 leaves: keccak256(keccak256(message)) for `count` messages of `len`
 * bytes (the `abi.encode` of the leaf values) contiguous from `input`, digests to `output`.
 */
export function leafHashMany(input: usize, len: usize, count: usize, output: usize): void {
  for (let i: usize = 0; i < count; i++) {
    absorbAll(input + i * len, len);
    squeeze32(PAD);
    hash32(PAD, output + i * 32);
  }
}

/**
 * Fills internal nodes `from` down to `to` (inclusive, `from` ≥ `to`) of an OpenZeppelin tree
 * laid out as a heap of 32-byte nodes at `tree`: node i = keccak256(sort(node 2i+1, node 2i+2)).
 * Precondition: every child of the range is already computed (children have larger indices).
 */
export function fillNodes(tree: usize, from: i32, to: i32): void {
  for (let i = from; i >= to; i--) {
    const l = tree + (<usize>(2 * i + 1) << 5);
    const r = l + 32;
    const out = tree + (<usize>i << 5);
    if (compare32(l, r) <= 0) hash64(l, r, out);
    else hash64(r, l, out);
  }
}

/**
 * Places `n` leaf hashes into the leaf slots of a heap at `tree`: the leaf at `src + 32·order[k]`
 * goes to slot 2n − 2 − k (OpenZeppelin lays the sorted leaves out in reverse). `order` holds n
 * little-endian u32 input indices in ascending hash order.
 */
export function placeLeaves(tree: usize, src: usize, order: usize, n: u32): void {
  for (let k: u32 = 0; k < n; k++) {
    const i = <usize>load<u32>(order + (<usize>k << 2));
    const from = src + (i << 5);
    const to = tree + (<usize>(2 * n - 2 - k) << 5);
    store<u64>(to, load<u64>(from));
    store<u64>(to, load<u64>(from, 8), 8);
    store<u64>(to, load<u64>(from, 16), 16);
    store<u64>(to, load<u64>(from, 24), 24);
  }
}

/** keccak256(sort(a, b)) of one pair: the OpenZeppelin node hash, for proof processing. */
export function nodeHash(a: usize, b: usize, out: usize): void {
  if (compare32(a, b) <= 0) hash64(a, b, out);
  else hash64(b, a, out);
}

/**
 * One level of a `shafaf-tree/2` Merkle-sum tree. Records are `rec` bytes: a 32-byte hash then
 * `lanes` unsigned 128-bit big-endian lanes (`rec` = 32 + 16·lanes). For each of the `pairs`
 * adjacent records (L, R) contiguous from `src`, writes the parent record to `dst`:
 * hash = keccak256(0x01 ‖ L ‖ R), lanes = L.lanes + R.lanes. `scratch` holds 16·lanes + 1 + 2·rec
 * bytes. `dst` may equal `src` (parent i is written after pair i is read).
 * Returns -1, or the index of the first pair whose lane sum overflows 128 bits (the level is then
 * incomplete and MUST NOT be used).
 */
export function sumNodeMany(
  src: usize,
  pairs: usize,
  rec: usize,
  lanes: usize,
  dst: usize,
  scratch: usize,
): i32 {
  for (let i: usize = 0; i < pairs; i++) {
    const l = src + 2 * i * rec;
    const r = l + rec;
    const out = dst + i * rec;
    for (let k: usize = 0; k < lanes; k++) {
      const lo = 32 + k * 16;
      const aHi = bswap<u64>(load<u64>(l + lo));
      const aLo = bswap<u64>(load<u64>(l + lo + 8));
      const bHi = bswap<u64>(load<u64>(r + lo));
      const bLo = bswap<u64>(load<u64>(r + lo + 8));
      const sLo = aLo + bLo;
      const carry: u64 = sLo < aLo ? 1 : 0;
      const t = aHi + bHi;
      const sHi = t + carry;
      if (t < aHi || sHi < t) return <i32>i;
      store<u64>(scratch + k * 16, bswap<u64>(sHi));
      store<u64>(scratch + k * 16 + 8, bswap<u64>(sLo));
    }
    // The sums wait in scratch while the preimage is assembled after them.
    const pre = scratch + lanes * 16;
    store<u8>(pre, 0x01);
    memory.copy(pre + 1, l, rec);
    memory.copy(pre + 1 + rec, r, rec);
    absorbAll(pre, 1 + 2 * rec);
    squeeze32(out);
    memory.copy(out + 32, scratch, lanes * 16);
  }
  return -1;
}

/**
 * Leaves of a `shafaf-tree/2` tree. For i < n: key = kc[64i ..+32], commitment = kc[64i+32 ..+32],
 * seq = the little-endian u32 at seqs + 4i, lanes = the `lanes` 16-byte lanes already stored in
 * record i (`records + i·rec + 32`), each below 2^64; writes keccak256(0x00 ‖ key ‖ seq (u32
 * big-endian) ‖ the lanes as u64 big-endian ‖ commitment) as the hash of record i (one
 * permutation: at most 133 bytes). `scratch` holds 69 + 8·lanes bytes.
 */
export function sumLeafMany(
  kc: usize,
  seqs: usize,
  n: usize,
  rec: usize,
  lanes: usize,
  records: usize,
  scratch: usize,
): void {
  const lb = lanes * 8;
  store<u8>(scratch, 0x00);
  for (let i: usize = 0; i < n; i++) {
    const r = records + i * rec;
    memory.copy(scratch + 1, kc + i * 64, 32);
    store<u32>(scratch + 33, bswap<u32>(load<u32>(seqs + i * 4)));
    for (let k: usize = 0; k < lanes; k++) store<u64>(scratch + 37 + k * 8, load<u64>(r + 32 + k * 16 + 8));
    memory.copy(scratch + 37 + lb, kc + i * 64 + 32, 32);
    absorbAll(scratch, 69 + lb);
    squeeze32(r);
  }
}
