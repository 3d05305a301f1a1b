/**
 * Proofs from tiles whose windows are verified as they are folded (DESIGN.md "Lookups from
 * verified windows"): the tree read from tiles hands out no node of a window that does not fold
 * to its node in the verified window above it (the province root for the top one). A byte
 * changed anywhere on a proof's way to the root — a sibling's entry in the leaf's own level-0
 * tile, an entry of a level-1 tile, the level-2 tile, a lane — is refused, where before only a
 * verification of the finished proof could see it; the untouched tiles still give the in-memory
 * tree's proofs, each of which verifies.
 */
import { expect } from "chai";
import fc from "fast-check";
import { buildSumTree, type SumTree } from "../../src/core/build-sum-tree.ts";
import { createTileSumTree, SumTilesError, sumTreeTiles } from "../../src/core/sum-tiles.ts";
import { LANE_MAX, laneDecimal, readLanes, writeLanes } from "../../src/core/sum-tree-lanes.ts";
import type { SumTreeProof } from "../../src/core/sum-tree-proof.ts";
import {
  sumTreeProofRulesBreak,
  verifySumTreeProof,
} from "../../src/core/verify-sum-tree-proof.ts";

/** A premium tree of provinces of `sizes` leaves (keys sorted per province, some persons twice). */
function built(sizes: number[]): SumTree {
  const n = sizes.reduce((a, b) => a + b, 0);
  const keys = new Uint8Array(32 * n);
  const commitments = new Uint8Array(32 * n);
  const provinces: string[] = [];
  const amounts = new BigUint64Array(3 * n);
  let i = 0;
  sizes.forEach((size, p) => {
    for (let j = 0; j < size; j++, i++) {
      const person = j % 7 === 1 ? j - 1 : j;
      const v = new DataView(keys.buffer, 32 * i, 32);
      v.setUint32(0, (person * 2654435761) >>> 0);
      v.setUint32(4, p);
      v.setUint32(8, person);
      new DataView(commitments.buffer, 32 * i, 32).setUint32(0, (i * 40503 + 7) >>> 0);
      provinces.push(`IR-${String(p * 3 + 1).padStart(2, "0")}`);
      amounts[3 * i] = BigInt(1_000_000 + i);
      amounts[3 * i + 1] = BigInt(i % 31);
      amounts[3 * i + 2] = BigInt(70_000 + i);
    }
  });
  return buildSumTree("premium", { keys, commitments, provinces, amounts });
}

describe("createTileSumTree › windows verified as they are folded", function () {
  this.timeout(120_000);
  // 70,000 leaves: tile levels 0 (274 tiles), 1 (two tiles: 256 and 17 entries) and 2 (one entry)
  const tree = built([70_000, 300]);
  const tiles = new Map<string, Uint8Array>();
  for (const t of sumTreeTiles(tree)) tiles.set(`${t.province}/${t.level}/${t.index}`, t.bytes);
  const entry = 112; // premium: 32 + 5 × 16

  /** A fresh tree over the tiles, with one byte of tile (province, level, index) flipped. */
  const fromTiles = (flip?: { p: number; level: number; index: number; byte: number }) =>
    createTileSumTree({
      kind: "premium",
      provinces: tree.provinces.map((p) => ({ ...p, lanes: [...p.lanes] })),
      readTile: (p, level, index) => {
        const bytes = tiles.get(`${p}/${level}/${index}`)!;
        if (flip === undefined || flip.p !== p || flip.level !== level || flip.index !== index)
          return bytes;
        const changed = bytes.slice();
        changed[flip.byte] = changed[flip.byte]! ^ 0x01;
        return changed;
      },
      leafKey: (i) => tree.leaf(i).key,
      leafCommitment: (i) => tree.leaf(i).commitment,
    });

  it("gives the in-memory tree's proofs from untouched tiles, and each verifies", function () {
    const tiled = fromTiles();
    for (const i of [0, 255, 256, 1_543, 65_535, 65_536, 69_999, 70_000, 70_299]) {
      const proof = tiled.inclusionProof(i, 1);
      expect(proof, `leaf ${i}`).to.deep.equal(tree.inclusionProof(i, 1));
      expect(verifySumTreeProof(proof, { root: tree.root }).status, `leaf ${i}`).to.equal(
        "verified",
      );
    }
  });

  it("refuses a proof whose sibling's hash changed in the leaf's own level-0 tile", function () {
    // leaf 1,546 (tile 0/6, entry 10) is the sibling of leaf 1,547: leaf 1,547 still matches
    // its own entry, only the fold of the window shows the change
    const tiled = fromTiles({ p: 0, level: 0, index: 6, byte: 10 * entry + 5 });
    expect(() => tiled.inclusionProof(1_547, 1)).to.throw(SumTilesError, /tile above/);
    // the same window is refused for every leaf of it, and never kept
    expect(() => tiled.inclusionProof(1_600, 1)).to.throw(SumTilesError);
    // a leaf of another level-0 tile is served, and verifies
    const other = tiled.inclusionProof(2_000, 1);
    expect(verifySumTreeProof(other, { root: tree.root }).status).to.equal("verified");
  });

  it("refuses a changed lane of a level-0 entry (the amounts of a sibling)", function () {
    const tiled = fromTiles({ p: 0, level: 0, index: 6, byte: 10 * entry + entry - 1 });
    expect(() => tiled.inclusionProof(1_547, 1)).to.throw(SumTilesError);
  });

  it("refuses every proof through a level-1 tile with a changed entry", function () {
    // entry 7 of tile 1/0 (node 8/7) is on no proof of leaf 1,547 (tile 0/6) as a sibling, yet
    // its window above it no longer folds to the level-2 entry
    const tiled = fromTiles({ p: 0, level: 1, index: 0, byte: 7 * entry + 3 });
    expect(() => tiled.inclusionProof(1_547, 1)).to.throw(SumTilesError, /tile above/);
    // the other level-1 tile's leaves still fold to the root
    const far = tiled.inclusionProof(69_999, 1);
    expect(verifySumTreeProof(far, { root: tree.root }).status).to.equal("verified");
  });

  it("refuses the province when its top tile does not fold to its listed root", function () {
    const tiled = fromTiles({ p: 0, level: 2, index: 0, byte: 40 });
    expect(() => tiled.inclusionProof(69_999, 1)).to.throw(SumTilesError);
    // the other province is untouched
    expect(tiled.inclusionProof(70_100, 1)).to.deep.equal(tree.inclusionProof(70_100, 1));
  });

  it("refuses a person proof that would read a changed window", function () {
    const key = tree.leaf(1_547).key;
    expect(fromTiles().personProof(key, 1)).to.deep.equal(tree.personProof(key, 1));
    const tiled = fromTiles({ p: 0, level: 0, index: 6, byte: 20 * entry + 7 });
    expect(() => tiled.personProof(key, 1)).to.throw(SumTilesError);
  });
});

describe("sumTreeProofRulesBreak (what a fold does not show, checked without hashing)", function () {
  const tree = built([600, 40, 300]);
  const keyOf = (i: number) => tree.leaf(i).key;
  const proofOf = (i: number) =>
    JSON.parse(JSON.stringify(tree.personProof(keyOf(i), 4))) as SumTreeProof;

  it("finds nothing broken in the tree's range and absence proofs", function () {
    for (const i of [0, 1, 2, 299, 599, 600, 639, 640, 939]) {
      expect(sumTreeProofRulesBreak(proofOf(i)), `leaf ${i}`).to.equal(undefined);
      expect(verifySumTreeProof(proofOf(i), { root: tree.root }).status).to.equal("verified");
    }
    const absent = tree.personProof(new Uint8Array(32).fill(0x7f), 4);
    expect(absent.type).to.equal("absence");
    expect(sumTreeProofRulesBreak(absent)).to.equal(undefined);
  });

  it("names each rule the verifier would fail on besides hash links", function () {
    const swapped = proofOf(1); // a person with two records (seq 0 and 1) in IR-01
    const w = swapped.windows[0]!;
    [w.leaves[0], w.leaves[1]] = [w.leaves[1]!, w.leaves[0]!];
    expect(sumTreeProofRulesBreak(swapped)).to.match(/order/);
    const persons = proofOf(1);
    const own = persons.windows[0]!.leaves.find((l) => l.seq === 1)!;
    own.lanes[1] = "1";
    expect(sumTreeProofRulesBreak(persons)).to.match(/persons lane/);
    const short = proofOf(5);
    short.windows.pop();
    expect(sumTreeProofRulesBreak(short)).to.match(/one window per province/);
    const claim = proofOf(5);
    claim.type = "absence";
    expect(sumTreeProofRulesBreak(claim)).to.match(/absence proof holds a leaf/);
    const wide = proofOf(300);
    wide.windows[0]!.leaves.unshift(tree.personProof(keyOf(296), 4).windows[0]!.leaves[0]!);
    expect(sumTreeProofRulesBreak(wide)).to.match(/more than one leaf on a side/);
  });
});

describe("sum-tree lanes › readLanes and laneDecimal (a Number below 2^53, a bigint above)", function () {
  it("read back every lane written, around 2^32, 2^53, 2^64 and 2^128 − 1", function () {
    const edges = [0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 64n];
    const lane = fc.oneof(
      fc.constantFrom(...edges, LANE_MAX),
      fc.bigInt({ min: 0n, max: 2n ** 60n }),
      fc.bigInt({ min: 0n, max: LANE_MAX }),
    );
    fc.assert(
      fc.property(fc.array(lane, { minLength: 1, maxLength: 7 }), (lanes) => {
        const bytes = new Uint8Array(3 + 16 * lanes.length);
        writeLanes(lanes, bytes, 3);
        expect(readLanes(bytes, 3, lanes.length)).to.deep.equal(lanes);
        lanes.forEach((v, k) => expect(laneDecimal(bytes, 3 + 16 * k)).to.equal(v.toString()));
      }),
      { numRuns: 500 },
    );
  });
});
