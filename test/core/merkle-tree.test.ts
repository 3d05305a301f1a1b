import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { expect } from "chai";
import fc from "fast-check";
import { bytesToHex, hexToBytes, type Hex } from "../../src/core/hex.ts";
import { LEAF_ENCODING, leafHashes, type LeafValues } from "../../src/core/leaf.ts";
import {
  buildMerkleTree,
  loadMerkleTree,
  processMultiProof,
  processProof,
  verifyMultiProof,
  verifyProof,
} from "../../src/core/merkle-tree.ts";

const golden = path.resolve(import.meta.dirname, "../golden/core/tree-premium-5.bin");
const vectors = path.resolve(import.meta.dirname, "../vectors/merkle-1.json");

const word = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(bytesToHex);
const leafValuesArb: fc.Arbitrary<LeafValues> = fc.tuple(
  word,
  fc.bigInt({ min: 0n, max: 1n }),
  fc.bigInt({ min: 130001n, max: 160012n }),
  fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
  word,
  word,
  word,
);

/** n leaves cheaply: random words from a seed (fast-check shrinks the seed and n, not 2,000 tuples). */
function synthetic(n: number, seed: number): LeafValues[] {
  let x = seed >>> 0 || 1;
  const w = (): Hex => {
    const b = new Uint8Array(32);
    for (let i = 0; i < 32; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b[i] = x & 0xff;
    }
    return bytesToHex(b);
  };
  return Array.from(
    { length: n },
    (_, i) => [w(), BigInt(i % 2), 140307n, BigInt(i) * 1000n, w(), w(), w()] as const,
  );
}

function ozOf(values: readonly LeafValues[]) {
  return StandardMerkleTree.of(values as unknown as bigint[][], [...LEAF_ENCODING]);
}

describe("buildMerkleTree", function () {
  it("matches @openzeppelin/merkle-tree on random trees of 1 to 2,000 leaves: root, proofs, multiproofs (property)", function () {
    this.timeout(300_000);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2000 }),
        fc.integer(),
        fc.array(fc.nat(), { maxLength: 6 }),
        (n, seed, picks) => {
          const values = synthetic(n, seed);
          const oz = ozOf(values);
          const tree = buildMerkleTree(leafHashes(values));
          expect(tree.root).to.equal(oz.root);
          expect(tree.length).to.equal(n);
          for (const i of [0, n - 1, Math.floor(n / 3), ...picks.map((p) => p % n)]) {
            expect(tree.getProof(i)).to.deep.equal(oz.getProof(i));
            expect(tree.leafIndexToTreeIndex(i)).to.equal(oz.dump().values[i]!.treeIndex);
          }
          const indices = [...new Set(picks.map((p) => p % n))];
          const ours = tree.getMultiProof(indices);
          const theirs = oz.getMultiProof(indices);
          expect(ours.proof).to.deep.equal(theirs.proof);
          expect(ours.proofFlags).to.deep.equal(theirs.proofFlags);
          expect(ours.leaves).to.deep.equal(theirs.leaves.map((v) => oz.leafHash(v)));
          expect(verifyMultiProof(tree.root, ours)).to.equal(true);
        },
      ),
      { numRuns: 12 },
    );
  });
  it("matches OpenZeppelin on small trees of arbitrary tuples, including duplicate leaves (property)", function () {
    fc.assert(
      fc.property(
        fc.array(leafValuesArb, { minLength: 1, maxLength: 9 }),
        fc.boolean(),
        (values, dup) => {
          const all = dup ? [...values, values[0]!] : values;
          const oz = ozOf(all);
          const tree = buildMerkleTree(leafHashes(all));
          expect(tree.root).to.equal(oz.root);
          for (let i = 0; i < all.length; i++)
            expect(tree.getProof(i)).to.deep.equal(oz.getProof(i));
        },
      ),
      { numRuns: 100 },
    );
  });
  it("proves every leaf of every random tree (property)", function () {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer(), (n, seed) => {
        const tree = buildMerkleTree(leafHashes(synthetic(n, seed)));
        for (let i = 0; i < n; i++) {
          expect(verifyProof(tree.root, tree.leafHash(i), tree.getProof(i))).to.equal(true);
        }
      }),
      { numRuns: 20 },
    );
  });
  it("rejects a proof from another tree (property)", function () {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 200 }),
        fc.integer(),
        fc.integer(),
        fc.nat(),
        (n, s1, s2, pick) => {
          fc.pre(s1 !== s2);
          const a = buildMerkleTree(leafHashes(synthetic(n, s1)));
          const b = buildMerkleTree(leafHashes(synthetic(n, s2)));
          const i = pick % n;
          expect(verifyProof(a.root, b.leafHash(i), b.getProof(i))).to.equal(false);
          expect(verifyProof(a.root, a.leafHash(i), b.getProof(i))).to.equal(false);
        },
      ),
      { numRuns: 30 },
    );
  });
  it("handles a single leaf: the root is the leaf, the proof is empty", function () {
    const values = synthetic(1, 7);
    const tree = buildMerkleTree(leafHashes(values));
    expect(tree.root).to.equal(tree.leafHash(0));
    expect(tree.getProof(0)).to.deep.equal([]);
    expect(tree.getMultiProof([])).to.deep.equal({
      leaves: [],
      proof: [tree.root],
      proofFlags: [],
    });
    expect(processMultiProof(tree.getMultiProof([0]))).to.equal(tree.root);
  });
  it("rejects bad input with RangeError", function () {
    expect(() => buildMerkleTree(new Uint8Array(0))).to.throw(RangeError, /non-empty/);
    expect(() => buildMerkleTree(new Uint8Array(33))).to.throw(RangeError);
    const tree = buildMerkleTree(leafHashes(synthetic(4, 1)));
    expect(() => tree.getProof(4)).to.throw(RangeError);
    expect(() => tree.getProof(-1)).to.throw(RangeError);
    expect(() => tree.getProof(1.5)).to.throw(RangeError);
    expect(() => tree.getMultiProof([1, 1])).to.throw(RangeError, /duplicated/);
  });
});

describe("verifyProof and processProof", function () {
  it("return false, never throw, on malformed input", function () {
    const tree = buildMerkleTree(leafHashes(synthetic(5, 3)));
    const leaf = tree.leafHash(2);
    const proof = tree.getProof(2);
    expect(verifyProof(tree.root, leaf, proof)).to.equal(true);
    expect(verifyProof(tree.root.toUpperCase().replace("0X", "0x"), leaf, proof)).to.equal(true);
    expect(verifyProof("0x1234", leaf, proof)).to.equal(false);
    expect(verifyProof(tree.root, "0xzz", proof)).to.equal(false);
    expect(verifyProof(tree.root, leaf, [...proof.slice(0, -1), "0x12"])).to.equal(false);
    expect(verifyProof(tree.root, new Uint8Array(31), proof)).to.equal(false);
    expect(verifyProof(tree.root, leaf, null as unknown as string[])).to.equal(false);
    expect(() => processProof("0x12", [])).to.throw(RangeError);
  });
  it("processMultiProof rejects inconsistent counts", function () {
    const tree = buildMerkleTree(leafHashes(synthetic(6, 9)));
    const m = tree.getMultiProof([0, 3]);
    expect(() => processMultiProof({ ...m, proofFlags: [...m.proofFlags, true] })).to.throw(
      RangeError,
    );
    expect(verifyMultiProof(tree.root, { ...m, proof: m.proof.slice(1) })).to.equal(false);
  });
});

describe("serialize / loadMerkleTree", function () {
  function fromVectors() {
    const v = JSON.parse(readFileSync(vectors, "utf8")) as {
      cases: { name: string; root: Hex; leaves: { leafHash: Hex }[] }[];
    };
    const c = v.cases.find((x) => x.name === "premium-5")!;
    const hashes = new Uint8Array(c.leaves.length * 32);
    c.leaves.forEach((l, i) => hashes.set(hexToBytes(l.leafHash), i * 32));
    return { tree: buildMerkleTree(hashes), root: c.root };
  }

  it("writes the frozen golden file byte for byte (shafaf-merkle/1)", function () {
    const { tree, root } = fromVectors();
    expect(tree.root).to.equal(root);
    const bytes = tree.serialize();
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(golden, bytes);
    expect(bytesToHex(bytes)).to.equal(bytesToHex(readFileSync(golden)));
    expect(bytes.length).to.equal(48 + 9 * 32 + 5 * 4);
  });
  it("loads the golden file without rehashing and gives the same root and proofs", function () {
    const { tree, root } = fromVectors();
    const loaded = loadMerkleTree(readFileSync(golden), { expectedRoot: root });
    expect(loaded.root).to.equal(root);
    for (let i = 0; i < 5; i++) {
      expect(loaded.getProof(i)).to.deep.equal(tree.getProof(i));
      expect(loaded.leafHash(i)).to.equal(tree.leafHash(i));
    }
    expect(loadMerkleTree(readFileSync(golden), { full: true }).root).to.equal(root);
  });
  it("round-trips random trees (property)", function () {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.integer(), (n, seed) => {
        const tree = buildMerkleTree(leafHashes(synthetic(n, seed)));
        const copy = new Uint8Array(tree.serialize().length + 3).subarray(3); // unaligned view
        copy.set(tree.serialize());
        const loaded = loadMerkleTree(copy, { expectedRoot: tree.root });
        expect(loaded.root).to.equal(tree.root);
        expect(loaded.getProof(n - 1)).to.deep.equal(tree.getProof(n - 1));
        expect(loaded.getMultiProof([0])).to.deep.equal(tree.getMultiProof([0]));
      }),
      { numRuns: 25 },
    );
  });
  it("rejects corrupt files, naming the failed check", function () {
    const good = new Uint8Array(readFileSync(golden));
    const { root } = fromVectors();
    const corrupt = (f: (b: Uint8Array) => void): Uint8Array => {
      const b = good.slice();
      f(b);
      return b;
    };
    expect(() => loadMerkleTree(corrupt((b) => (b[0] = 0)))).to.throw(RangeError, /magic/);
    expect(() => loadMerkleTree(corrupt((b) => (b[8] = 2)))).to.throw(RangeError, /version 2/);
    expect(() => loadMerkleTree(good.subarray(0, good.length - 1))).to.throw(RangeError, /length/);
    expect(() => loadMerkleTree(corrupt((b) => (b[12] = 6)))).to.throw(RangeError, /length/);
    expect(() => loadMerkleTree(corrupt((b) => (b[20]! ^= 1)))).to.throw(RangeError, /root field/);
    expect(() => loadMerkleTree(good, { expectedRoot: `0x${"00".repeat(32)}` })).to.throw(
      RangeError,
      /expected/,
    );
    // a leaf changed: out of order or its parent no longer matches
    expect(() => loadMerkleTree(corrupt((b) => (b[48 + 8 * 32 + 31]! ^= 1)))).to.throw(
      RangeError,
      /order|does not match/,
    );
    // an internal node changed (and the root with it, consistently): spot checks catch it
    expect(() => loadMerkleTree(corrupt((b) => (b[48 + 1 * 32]! ^= 1)))).to.throw(
      RangeError,
      /does not match/,
    );
    // the index map points two leaves at one slot
    const mapAt = 48 + 9 * 32;
    expect(() =>
      loadMerkleTree(corrupt((b) => b.copyWithin(mapAt + 4, mapAt, mapAt + 4))),
    ).to.throw(RangeError, /index map/);
    expect(() => loadMerkleTree(new Uint8Array(10))).to.throw(RangeError, /too short/);
    expect(
      loadMerkleTree(good, { expectedRoot: root.toUpperCase().replace("0X", "0x") }).root,
    ).to.equal(root);
  });
});
