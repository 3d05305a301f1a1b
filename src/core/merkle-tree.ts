import { bytesToHex, compareBytes, isHexBytes, writeHex32, type Hex } from "./hex.ts";
import { createKeccakEngine, sharedEngine } from "./keccak.ts";

/** An OpenZeppelin multiproof (`MerkleProof.multiProofVerify` input): leaf hashes, not values. */
export interface MultiProof {
  leaves: Hex[];
  proof: Hex[];
  proofFlags: boolean[];
}

/**
 * A Merkle tree exactly like OpenZeppelin `StandardMerkleTree` (`standard-v1`) over leaf hashes:
 * leaves sorted ascending by hash, laid out as a heap of `2n − 1` 32-byte nodes with the leaves
 * at the end in reverse order, node i = keccak256(sort(node 2i+1, node 2i+2)). Same root, same
 * proofs, same multiproofs as `@openzeppelin/merkle-tree` for the same leaves.
 */
export interface MerkleTree {
  /** The root, `0x…`. */
  readonly root: Hex;
  /** Number of leaves. */
  readonly length: number;
  /** Heap index of the leaf given at input position `i`. */
  leafIndexToTreeIndex(i: number): number;
  /** The leaf hash given at input position `i`. */
  leafHash(i: number): Hex;
  /** The sibling path of input leaf `i`, bottom-up (OpenZeppelin `getProof`). */
  getProof(i: number): Hex[];
  /** The OpenZeppelin multiproof of the input leaves `indices` (distinct). */
  getMultiProof(indices: readonly number[]): MultiProof;
  /** The tree in the `shafaf-merkle/1` binary format (see {@link loadMerkleTree}). */
  serialize(): Uint8Array;
  /** All `2n − 1` nodes, heap order (read-only by contract). */
  readonly nodes: Uint8Array;
}

const MAGIC = [0x53, 0x48, 0x41, 0x46, 0x41, 0x46, 0x4d, 0x54]; // "SHAFAFMT"
/** Version of the binary tree format. */
export const MERKLE_TREE_FORMAT_VERSION = 1;
const HEADER = 48;

function sortedOrder(leaves: Uint8Array, n: number): Uint32Array {
  const order = new Uint32Array(n);
  const cmp = (a: number, b: number): number => {
    for (let k = 0; k < 32; k++) {
      const x = leaves[a * 32 + k]!;
      const y = leaves[b * 32 + k]!;
      if (x !== y) return x - y;
    }
    return a - b; // stable: equal hashes keep input order, as Array.prototype.sort does in OpenZeppelin
  };
  if (n > 1 << 21) {
    for (let i = 0; i < n; i++) order[i] = i;
    return order.sort(cmp);
  }
  // Native numeric sort of (32-bit prefix · 2^21 + index): exact in a double (53 bits).
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * 32;
    const prefix =
      ((leaves[o]! << 24) | (leaves[o + 1]! << 16) | (leaves[o + 2]! << 8) | leaves[o + 3]!) >>> 0;
    keys[i] = prefix * 2097152 + i;
  }
  keys.sort();
  for (let i = 0; i < n; i++) order[i] = keys[i]! % 2097152;
  // Runs with equal prefixes are ordered by index only: order them by the full hash.
  for (let i = 0; i < n;) {
    const p = Math.floor(keys[i]! / 2097152);
    let j = i + 1;
    while (j < n && Math.floor(keys[j]! / 2097152) === p) j++;
    if (j - i > 1) order.subarray(i, j).sort(cmp);
    i = j;
  }
  return order;
}

function createTree(nodes: Uint8Array, map: Uint32Array, n: number): MerkleTree {
  const hexAt = (t: number): Hex => bytesToHex(nodes.subarray(t * 32, t * 32 + 32));
  const root = hexAt(0);
  const checkIndex = (i: number): number => {
    if (!Number.isInteger(i) || i < 0 || i >= n)
      throw new RangeError(`leaf index ${i} is not in 0..${n - 1}`);
    return map[i]!;
  };
  return {
    root,
    length: n,
    nodes,
    leafIndexToTreeIndex: checkIndex,
    leafHash: (i) => hexAt(checkIndex(i)),
    getProof(i) {
      let t = checkIndex(i);
      const proof: Hex[] = [];
      while (t > 0) {
        proof.push(hexAt(t % 2 === 1 ? t + 1 : t - 1));
        t = (t - 1) >> 1;
      }
      return proof;
    },
    getMultiProof(indices) {
      const tree = indices.map(checkIndex).sort((a, b) => b - a);
      for (let k = 1; k < tree.length; k++) {
        if (tree[k] === tree[k - 1]) throw new RangeError("cannot prove a duplicated index");
      }
      const stack = tree.slice();
      let head = 0;
      const proof: Hex[] = [];
      const proofFlags: boolean[] = [];
      while (head < stack.length && stack[head]! > 0) {
        const j = stack[head++]!;
        const s = j % 2 === 1 ? j + 1 : j - 1;
        const p = (j - 1) >> 1;
        if (head < stack.length && s === stack[head]) {
          proofFlags.push(true);
          head++;
        } else {
          proofFlags.push(false);
          proof.push(hexAt(s));
        }
        stack.push(p);
      }
      if (tree.length === 0) proof.push(hexAt(0));
      return { leaves: tree.map(hexAt), proof, proofFlags };
    },
    serialize() {
      const size = HEADER + nodes.length + 4 * n;
      const out = new Uint8Array(size);
      out.set(MAGIC, 0);
      const view = new DataView(out.buffer);
      view.setUint32(8, MERKLE_TREE_FORMAT_VERSION, true);
      view.setUint32(12, n, true);
      out.set(nodes.subarray(0, 32), 16);
      out.set(nodes, HEADER);
      const mapOffset = HEADER + nodes.length;
      for (let i = 0; i < n; i++) view.setUint32(mapOffset + 4 * i, map[i]!, true);
      return out;
    },
  };
}

/**
 * Builds the tree of `n` leaf hashes given end to end (`n × 32` bytes, input order, n ≥ 1),
 * hashing every internal node in one WebAssembly call. The nodes live in the tree's own
 * WebAssembly memory (2n − 1 nodes: 64 MiB for a million leaves), released with the tree.
 *
 * @example
 * const tree = buildMerkleTree(leafHashes(values));
 * tree.getProof(0); // equals StandardMerkleTree.of(values, LEAF_ENCODING).getProof(0)
 */
export function buildMerkleTree(leafHashes: Uint8Array): MerkleTree {
  if (leafHashes.length === 0 || leafHashes.length % 32 !== 0) {
    throw new RangeError(
      `leaf hashes must be a non-empty multiple of 32 bytes, got ${leafHashes.length}`,
    );
  }
  const n = leafHashes.length / 32;
  if (n > 0x7fffffff / 2) throw new RangeError("too many leaves");
  const order = sortedOrder(leafHashes, n);
  const engine = createKeccakEngine();
  const size = (2 * n - 1) * 32;
  // Layout: [tree | leaf hashes | order]; the scratch after the tree stays allocated with it.
  const base = engine.reserve(size + n * 32 + n * 4);
  const src = base + size;
  const orderAt = src + n * 32;
  const mem = engine.bytes();
  mem.set(leafHashes, src);
  new Uint32Array(mem.buffer, orderAt, n).set(order);
  engine.exports.placeLeaves(base, src, orderAt, n);
  const map = new Uint32Array(n);
  for (let k = 0; k < n; k++) map[order[k]!] = 2 * n - 2 - k;
  if (n > 1) engine.exports.fillNodes(base, n - 2, 0);
  return createTree(engine.bytes().subarray(base, base + size), map, n);
}

export interface LoadMerkleTreeOptions {
  /** The root the caller trusts (manifest, chain); loading fails when the file's differs. */
  expectedRoot?: string;
  /** Rehash every internal node (≈ 0.5 s per million leaves) instead of the default spot checks. */
  full?: boolean;
}

/**
 * Reads a tree written by `serialize()` without rehashing every node. Format `shafaf-merkle/1`
 * (little-endian): bytes 0–7 `"SHAFAFMT"`, 8–11 version (1), 12–15 leaf count n, 16–47 root,
 * then 2n − 1 nodes of 32 bytes in heap order, then n × uint32 heap index of each input leaf.
 *
 * Checks, always: magic, version, exact length, root field = node 0 (= `expectedRoot` if given),
 * leaves in OpenZeppelin order (sorted), the index map a permutation of the leaf slots, and the
 * paths of up to 64 evenly spaced leaves rehashed to the root. With `full`, every node.
 * Throws RangeError naming the failed check.
 */
export function loadMerkleTree(bytes: Uint8Array, options: LoadMerkleTreeOptions = {}): MerkleTree {
  const fail = (what: string): never => {
    throw new RangeError(`not a valid shafaf-merkle/1 tree file: ${what}`);
  };
  if (bytes.length < HEADER + 32 + 4) fail(`too short (${bytes.length} bytes)`);
  for (let i = 0; i < 8; i++) if (bytes[i] !== MAGIC[i]) fail("bad magic (expected SHAFAFMT)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== MERKLE_TREE_FORMAT_VERSION) fail(`unsupported version ${version}`);
  const n = view.getUint32(12, true);
  if (n === 0) fail("zero leaves");
  const nodesLength = (2 * n - 1) * 32;
  if (bytes.length !== HEADER + nodesLength + 4 * n) {
    fail(`length ${bytes.length} does not match ${n} leaves (${HEADER + nodesLength + 4 * n})`);
  }
  const nodes = bytes.subarray(HEADER, HEADER + nodesLength);
  const root = bytesToHex(bytes.subarray(16, 48));
  if (compareBytes(bytes.subarray(16, 48), nodes.subarray(0, 32)) !== 0)
    fail("root field differs from node 0");
  if (options.expectedRoot !== undefined && root !== options.expectedRoot.toLowerCase()) {
    fail(`root ${root} differs from the expected ${options.expectedRoot}`);
  }
  // Leaves: slots n−1 … 2n−2 hold the sorted hashes in descending order.
  for (let t = n - 1; t < 2 * n - 2; t++) {
    if (
      compareBytes(nodes.subarray(t * 32, t * 32 + 32), nodes.subarray(t * 32 + 32, t * 32 + 64)) <
      0
    ) {
      fail(`leaves out of order at slot ${t}`);
    }
  }
  const map = new Uint32Array(n);
  const seen = new Uint8Array(n);
  const mapOffset = HEADER + nodesLength;
  for (let i = 0; i < n; i++) {
    const t = view.getUint32(mapOffset + 4 * i, true);
    if (t < n - 1 || t > 2 * n - 2 || seen[t - (n - 1)] === 1)
      fail(`index map entry ${i} is not a free leaf slot`);
    seen[t - (n - 1)] = 1;
    map[i] = t;
  }
  const e = sharedEngine();
  if (options.full === true) {
    const engine = createKeccakEngine();
    const base = engine.reserve(nodesLength);
    engine.bytes().set(nodes, base);
    if (n > 1) engine.exports.fillNodes(base, n - 2, 0);
    const again = engine.bytes().subarray(base, base + (n - 1) * 32);
    if (compareBytes(again, nodes.subarray(0, (n - 1) * 32)) !== 0)
      fail("an internal node does not match its children");
  } else {
    const samples = Math.min(n, 64);
    const p = e.reserve(96);
    for (let s = 0; s < samples; s++) {
      let t = n - 1 + Math.floor((s * n) / samples);
      const mem = e.bytes();
      mem.set(nodes.subarray(t * 32, t * 32 + 32), p);
      while (t > 0) {
        const sib = t % 2 === 1 ? t + 1 : t - 1;
        mem.set(nodes.subarray(sib * 32, sib * 32 + 32), p + 32);
        e.exports.nodeHash(p, p + 32, p);
        t = (t - 1) >> 1;
        if (compareBytes(mem.subarray(p, p + 32), nodes.subarray(t * 32, t * 32 + 32)) !== 0) {
          fail(`node ${t} does not match its children`);
        }
      }
    }
  }
  return createTree(nodes, map, n);
}

/**
 * Computes the root that `proof` leads to from `leafHash` (OpenZeppelin `processProof`).
 * Throws RangeError when the leaf or an element is not a 32-byte hex word.
 */
export function processProof(leafHash: string | Uint8Array, proof: readonly string[]): Hex {
  const e = sharedEngine();
  const p = e.reserve(64);
  const mem = e.bytes();
  if (typeof leafHash === "string") writeHex32(leafHash, mem, p);
  else if (leafHash.length === 32) mem.set(leafHash, p);
  else throw new RangeError("leaf hash must be 32 bytes");
  for (const element of proof) {
    writeHex32(element, mem, p + 32);
    e.exports.nodeHash(p, p + 32, p);
  }
  return bytesToHex(mem.subarray(p, p + 32));
}

/** True when `proof` leads from `leafHash` to `root`. Never throws: malformed input is `false`. */
export function verifyProof(
  root: string,
  leafHash: string | Uint8Array,
  proof: readonly string[],
): boolean {
  try {
    return isHexBytes(root, 32) && processProof(leafHash, proof) === root.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * The root a multiproof leads to (OpenZeppelin `processMultiProof`). Throws RangeError when the
 * proof is malformed (counts inconsistent, elements not 32-byte words).
 */
export function processMultiProof(multiproof: MultiProof): Hex {
  const { leaves, proof, proofFlags } = multiproof;
  if (proof.length < proofFlags.filter((b) => !b).length)
    throw new RangeError("invalid multiproof format");
  if (leaves.length + proof.length !== proofFlags.length + 1) {
    throw new RangeError("leaves and multiproof are not compatible");
  }
  const e = sharedEngine();
  const p = e.reserve(96);
  const toBytes = (h: string): Uint8Array => {
    const b = new Uint8Array(32);
    writeHex32(h, b, 0);
    return b;
  };
  const stack = leaves.map(toBytes);
  const rest = proof.map(toBytes);
  let sh = 0;
  let ph = 0;
  for (const flag of proofFlags) {
    const a = stack[sh++];
    const b = flag ? stack[sh++] : rest[ph++];
    if (a === undefined || b === undefined) throw new RangeError("invalid multiproof");
    const mem = e.bytes();
    mem.set(a, p);
    mem.set(b, p + 32);
    e.exports.nodeHash(p, p + 32, p + 64);
    stack.push(mem.slice(p + 64, p + 96));
  }
  if (stack.length - sh + rest.length - ph !== 1) throw new RangeError("invalid multiproof");
  return bytesToHex(sh < stack.length ? stack[stack.length - 1]! : rest[ph]!);
}

/** True when the multiproof leads to `root`. Never throws. */
export function verifyMultiProof(root: string, multiproof: MultiProof): boolean {
  try {
    return isHexBytes(root, 32) && processMultiProof(multiproof) === root.toLowerCase();
  } catch {
    return false;
  }
}
