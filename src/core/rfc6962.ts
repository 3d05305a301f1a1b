/**
 * The RFC 6962 Merkle tree with SHA-256 (leaf = H(0x00 ‖ data), node = H(0x01 ‖ left ‖ right),
 * empty tree = H("")), as C2SP logs use it: inclusion and consistency proofs, generated from
 * any source of complete-subtree hashes and verified with transparency-dev/merkle's
 * `proof/verify.go` semantics. Verifiers check index, sizes and proof length before hashing, and
 * never throw: a failure is a typed value carrying the expected and calculated roots.
 */
import { sha256 } from "@noble/hashes/sha2.js";

export const HASH_SIZE = 32;
/** The root of the empty tree: SHA-256 of the empty string. */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0));

/** H(0x00 ‖ data). */
export function hashLeaf(data: Uint8Array): Uint8Array {
  const input = new Uint8Array(1 + data.length);
  input.set(data, 1);
  return sha256(input);
}

/** H(0x01 ‖ left ‖ right). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  const input = new Uint8Array(1 + left.length + right.length);
  input[0] = 1;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return sha256(input);
}

/**
 * The hash of the complete subtree of height `level` whose leftmost leaf is
 * `index · 2^level` (level 0: leaf hashes). Callers only ask for subtrees inside the tree.
 */
export type NodeHashSource = (level: number, index: number) => Uint8Array;

function bitLength(n: number): number {
  let bits = 0;
  while (n > 0) {
    bits++;
    n = Math.floor(n / 2);
  }
  return bits;
}

function trailingZeros(n: number): number {
  let z = 0;
  while (n > 0 && n % 2 === 0) {
    z++;
    n /= 2;
  }
  return z;
}

function popCount(n: number): number {
  let c = 0;
  while (n > 0) {
    c += n % 2;
    n = Math.floor(n / 2);
  }
  return c;
}

/** Bit `i` of a non-negative safe integer (no 32-bit truncation). */
function bit(n: number, i: number): number {
  return Math.floor(n / 2 ** i) % 2;
}

/** Largest power of two strictly below n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * MTH(D[begin:end]) where `begin` is a multiple of a power of two ≥ end − begin (the ranges
 * RFC 6962's proofs need): the right-to-left fold of its maximal aligned complete subtrees.
 */
export function rangeHash(begin: number, end: number, node: NodeHashSource): Uint8Array {
  if (end <= begin) return EMPTY_ROOT;
  const parts: Uint8Array[] = [];
  let at = begin;
  while (at < end) {
    let level = bitLength(end - at) - 1;
    while (at % 2 ** level !== 0) level--;
    parts.push(node(level, at / 2 ** level));
    at += 2 ** level;
  }
  let h = parts[parts.length - 1]!;
  for (let i = parts.length - 2; i >= 0; i--) h = hashChildren(parts[i]!, h);
  return h;
}

/** The root hash of the first `size` leaves. */
export function rootHash(size: number, node: NodeHashSource): Uint8Array {
  return rangeHash(0, size, node);
}

/**
 * A {@link NodeHashSource} over leaf hashes held in memory (complete subtrees computed on demand
 * and memoized). For tests and small trees; the tiled log reads its tiles instead.
 */
export function memoryNodeSource(leafHashes: readonly Uint8Array[]): NodeHashSource {
  const memo = new Map<string, Uint8Array>();
  const node: NodeHashSource = (level, index) => {
    if (level === 0) return leafHashes[index]!;
    const key = `${level}/${index}`;
    let h = memo.get(key);
    if (h === undefined) {
      h = hashChildren(node(level - 1, 2 * index), node(level - 1, 2 * index + 1));
      memo.set(key, h);
    }
    return h;
  };
  return node;
}

/** The RFC 6962 root of `entries` (each hashed as a leaf). */
export function merkleTreeHash(entries: readonly Uint8Array[]): Uint8Array {
  return rootHash(entries.length, memoryNodeSource(entries.map(hashLeaf)));
}

/**
 * The inclusion proof (RFC 6962 §2.1.1 PATH) of leaf `index` in the tree of `size` leaves,
 * from the leaf's sibling up to the root's child.
 */
export function inclusionProof(index: number, size: number, node: NodeHashSource): Uint8Array[] {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size)) {
    throw new RangeError(`index ${index} is not inside a tree of size ${size}`);
  }
  const path: Uint8Array[] = [];
  let lo = 0;
  let hi = size;
  // Walk down, collecting siblings root-first; reversed at the end.
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (index - lo < k) {
      path.push(rangeHash(lo + k, hi, node));
      hi = lo + k;
    } else {
      path.push(rangeHash(lo, lo + k, node));
      lo = lo + k;
    }
  }
  return path.reverse();
}

/** The consistency proof (RFC 6962 §2.1.2 PROOF) from `size1` to `size2` (0 < size1 ≤ size2). */
export function consistencyProof(size1: number, size2: number, node: NodeHashSource): Uint8Array[] {
  if (!(
    Number.isSafeInteger(size1) &&
    Number.isSafeInteger(size2) &&
    size1 > 0 &&
    size1 <= size2
  )) {
    throw new RangeError(`no consistency proof from size ${size1} to size ${size2}`);
  }
  const out: Uint8Array[] = [];
  let m = size1;
  let lo = 0;
  let hi = size2;
  let whole = true;
  while (m !== hi - lo) {
    const k = splitPoint(hi - lo);
    if (m <= k) {
      out.push(rangeHash(lo + k, hi, node));
      hi = lo + k;
    } else {
      out.push(rangeHash(lo, lo + k, node));
      m -= k;
      lo = lo + k;
      whole = false;
    }
  }
  if (!whole) out.push(rangeHash(lo, hi, node));
  return out.reverse();
}

/** Why a proof did not verify. `root-mismatch` carries both roots. */
export type ProofFailure =
  | { code: "index-beyond-size"; message: string }
  | { code: "hash-size"; message: string }
  | { code: "proof-size"; message: string; expectedLength: number; actualLength: number }
  | { code: "size-order"; message: string }
  | { code: "empty-tree"; message: string }
  | { code: "proof-not-empty"; message: string }
  | { code: "empty-proof"; message: string }
  | { code: "root-mismatch"; message: string; expected: Uint8Array; calculated: Uint8Array };

export type ProofResult = { ok: true } | { ok: false; failure: ProofFailure };
export type RootResult = { ok: true; root: Uint8Array } | { ok: false; failure: ProofFailure };

function badHashes(hashes: readonly Uint8Array[]): boolean {
  return hashes.some((h) => !(h instanceof Uint8Array) || h.length !== HASH_SIZE);
}

function chainInner(seed: Uint8Array, proof: readonly Uint8Array[], index: number): Uint8Array {
  proof.forEach((h, i) => {
    seed = bit(index, i) === 0 ? hashChildren(seed, h) : hashChildren(h, seed);
  });
  return seed;
}

function chainInnerRight(
  seed: Uint8Array,
  proof: readonly Uint8Array[],
  index: number,
): Uint8Array {
  proof.forEach((h, i) => {
    if (bit(index, i) === 1) seed = hashChildren(h, seed);
  });
  return seed;
}

function chainBorderRight(seed: Uint8Array, proof: readonly Uint8Array[]): Uint8Array {
  for (const h of proof) seed = hashChildren(h, seed);
  return seed;
}

/** XOR of two safe non-negative integers, bit by bit (no 32-bit truncation). */
function xor(a: number, b: number): number {
  let out = 0;
  for (let p = 1; a > 0 || b > 0; p *= 2) {
    if (a % 2 !== b % 2) out += p;
    a = Math.floor(a / 2);
    b = Math.floor(b / 2);
  }
  return out;
}

function decompose(index: number, size: number): { inner: number; border: number } {
  const inner = bitLength(xor(index, size - 1));
  return { inner, border: popCount(Math.floor(index / 2 ** inner)) };
}

function mismatch(expected: Uint8Array, calculated: Uint8Array): ProofResult {
  for (let i = 0; i < expected.length || i < calculated.length; i++) {
    if (expected[i] !== calculated[i] || expected.length !== calculated.length) {
      return {
        ok: false,
        failure: {
          code: "root-mismatch",
          message: "calculated root differs from the expected root",
          expected,
          calculated,
        },
      };
    }
  }
  return { ok: true };
}

function fail(
  code: Exclude<ProofFailure["code"], "root-mismatch" | "proof-size">,
  message: string,
): { ok: false; failure: ProofFailure } {
  return { ok: false, failure: { code, message } };
}

/**
 * The root implied by an inclusion proof (compute, no compare). Checks `index < size`, the leaf
 * hash length and the proof length implied by (index, size) before hashing anything.
 */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): RootResult {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size)) {
    return fail("index-beyond-size", `index is beyond size: ${index} >= ${size}`);
  }
  if (leafHash.length !== HASH_SIZE)
    return fail("hash-size", `leaf hash has ${leafHash.length} bytes, want ${HASH_SIZE}`);
  const { inner, border } = decompose(index, size);
  if (proof.length !== inner + border) {
    return {
      ok: false,
      failure: {
        code: "proof-size",
        message: `wrong proof size ${proof.length}, want ${inner + border}`,
        expectedLength: inner + border,
        actualLength: proof.length,
      },
    };
  }
  if (badHashes(proof)) return fail("hash-size", `every proof hash has ${HASH_SIZE} bytes`);
  const res = chainBorderRight(
    chainInner(leafHash, proof.slice(0, inner), index),
    proof.slice(inner),
  );
  return { ok: true, root: res };
}

/**
 * Verifies that `leafHash` is leaf `index` of the tree of `size` leaves with root `root`.
 *
 * @example
 * const r = verifyInclusion(3, 8, hashLeaf(entry), proof, root);
 * if (!r.ok) console.log(r.failure.code);
 */
export function verifyInclusion(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): ProofResult {
  const r = rootFromInclusionProof(index, size, leafHash, proof);
  return r.ok ? mismatch(root, r.root) : r;
}

/**
 * The root of the tree of `size2` leaves implied by a consistency proof from the tree of `size1`
 * leaves with root `root1` (which the proof also re-derives and checks).
 */
export function rootFromConsistencyProof(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
): RootResult {
  if (!(Number.isSafeInteger(size1) && Number.isSafeInteger(size2) && size1 >= 0 && size2 >= 0))
    return fail("size-order", "sizes are non-negative integers");
  if (size2 < size1) return fail("size-order", `size2 (${size2}) < size1 (${size1})`);
  if (size1 === 0) return fail("empty-tree", "consistency proof from empty tree is meaningless");
  if (size1 === size2) {
    if (proof.length > 0) return fail("proof-not-empty", "size1=size2, but proof is not empty");
    return { ok: true, root: root1 };
  }
  if (proof.length === 0) return fail("empty-proof", "empty proof");
  const { inner: fullInner, border } = decompose(size1 - 1, size2);
  const shift = trailingZeros(size1);
  const inner = fullInner - shift;
  let seed = proof[0]!;
  let start = 1;
  if (size1 === 2 ** shift) {
    seed = root1;
    start = 0;
  }
  if (proof.length !== start + inner + border) {
    return {
      ok: false,
      failure: {
        code: "proof-size",
        message: `wrong proof size ${proof.length}, want ${start + inner + border}`,
        expectedLength: start + inner + border,
        actualLength: proof.length,
      },
    };
  }
  if (badHashes(proof) || root1.length !== HASH_SIZE)
    return fail("hash-size", `every hash has ${HASH_SIZE} bytes`);
  const rest = proof.slice(start);
  const mask = Math.floor((size1 - 1) / 2 ** shift);
  const hash1 = chainBorderRight(
    chainInnerRight(seed, rest.slice(0, inner), mask),
    rest.slice(inner),
  );
  const first = mismatch(root1, hash1);
  if (!first.ok) return first;
  return {
    ok: true,
    root: chainBorderRight(chainInner(seed, rest.slice(0, inner), mask), rest.slice(inner)),
  };
}

/**
 * Verifies that the tree (size2, root2) extends the tree (size1, root1). A size1 of 0 is refused
 * (as in transparency-dev/merkle): the empty tree is consistent with every tree, which callers
 * (the witness's `old 0`) handle before asking for a proof.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): ProofResult {
  const r = rootFromConsistencyProof(size1, size2, proof, root1);
  return r.ok ? mismatch(root2, r.root) : r;
}
