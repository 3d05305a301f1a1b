/**
 * The committed `shafaf-batch-tiles/1` vectors (test/vectors/batch-tiles-1.json) against core's
 * tile reader: the tiles fold to the listed province and batch roots, every proof rebuilt from
 * the tiles and the leaves' openings is the committed one (and verifies), and every public tile
 * set gets its committed verdict — a flipped bit, a changed lane, a truncated or longer tile, a
 * missing or altered right edge, a wrong size — none is accepted.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { hexToBytes, type Hex } from "../../src/core/hex.ts";
import {
  createSumTileProvince,
  type BatchTilesDescriptor,
  createTileSumTree,
  sumTileEntryBytes,
  verifyProvinceTiles,
} from "../../src/core/sum-tiles.ts";
import type { SumTreeProof } from "../../src/core/sum-tree-proof.ts";
import { tilePath } from "../../src/core/tile-path.ts";
import { verifySumTreeProof } from "../../src/core/verify-sum-tree-proof.ts";

interface Vectors {
  kind: "premium";
  entryBytes: number;
  batch: { root: Hex; lanes: string[]; batchId: number };
  provinces: BatchTilesDescriptor["provinces"];
  tiles: { path: string; level: number; index: number; width: number; public: boolean; hex: Hex }[];
  leaves: { batchIndex: number; key: Hex; commitment: Hex }[];
  proofs: { name: string; batchIndex: number; proof: SumTreeProof }[];
  personProofs: { name: string; key: Hex; proof: SumTreeProof }[];
  publicChecks: {
    name: string;
    size: number;
    edge: { hash: Hex; lanes: string[] } | null;
    tiles: { path: string; hex: Hex }[];
    valid: boolean;
    reason?: string;
  }[];
}

const v = JSON.parse(
  readFileSync(path.resolve(import.meta.dirname, "../vectors/batch-tiles-1.json"), "utf8"),
) as Vectors;
const files = new Map(v.tiles.map((t) => [t.path, hexToBytes(t.hex)]));
const read = (code: string, level: number, index: number, width: number): Uint8Array => {
  const b = files.get(`${code}/${tilePath({ level, index, width })}`);
  if (b === undefined) throw new RangeError("missing tile");
  return b;
};
const tree = () =>
  createTileSumTree({
    kind: v.kind,
    provinces: v.provinces.map((p) => ({ ...p, lanes: p.lanes.map(BigInt) })),
    readTile: (p, level, index, width) => read(v.provinces[p]!.code, level, index, width),
    leafKey: (i) => hexToBytes(v.leaves[i]!.key),
    leafCommitment: (i) => hexToBytes(v.leaves[i]!.commitment),
  });

describe("batch tiles vectors (shafaf-batch-tiles/1)", function () {
  it("has entries of 32 + 16 × lanes bytes, and tiles of width × entry bytes", function () {
    expect(sumTileEntryBytes("premium")).to.equal(v.entryBytes).and.equal(112);
    expect(sumTileEntryBytes("pension")).to.equal(128);
    for (const t of v.tiles)
      expect(hexToBytes(t.hex).length, t.path).to.equal(t.width * v.entryBytes);
    // level 0 is never public; the 5-leaf province publishes nothing
    expect(v.tiles.filter((t) => t.public).map((t) => t.path)).to.deep.equal([
      "IR-07/tile/1/000.p/1",
    ]);
  });

  it("folds each province's tiles to its listed root and the batch to its root", function () {
    for (const p of v.provinces) {
      const root = createSumTileProvince({
        kind: v.kind,
        size: p.size,
        readTile: (level, index, width) => read(p.code, level, index, width),
      }).root();
      expect(root.hash).to.deep.equal(hexToBytes(p.root));
      expect(root.lanes.map(String)).to.deep.equal(p.lanes);
    }
    expect(tree().root).to.equal(v.batch.root);
  });

  it("rebuilds every committed inclusion and person proof from the tiles, and each verifies", function () {
    const t = tree();
    const trust = { root: v.batch.root };
    for (const c of v.proofs) {
      const proof = t.inclusionProof(c.batchIndex, v.batch.batchId);
      expect(proof, c.name).to.deep.equal(c.proof);
      expect(verifySumTreeProof(proof, trust).status, c.name).to.equal("verified");
    }
    for (const c of v.personProofs) {
      const proof = t.personProof(hexToBytes(c.key), v.batch.batchId);
      expect(proof, c.name).to.deep.equal(c.proof);
      expect(verifySumTreeProof(proof, trust).status, c.name).to.equal("verified");
    }
  });

  it("refuses a leaf whose opening does not hash to its level-0 entry", function () {
    const bad = createTileSumTree({
      kind: v.kind,
      provinces: v.provinces.map((p) => ({ ...p, lanes: p.lanes.map(BigInt) })),
      readTile: (p, level, index, width) => read(v.provinces[p]!.code, level, index, width),
      leafKey: (i) => hexToBytes(v.leaves[i]!.key),
      leafCommitment: (i) => hexToBytes(v.leaves[i === 3 ? 4 : i]!.commitment),
    });
    expect(() => bad.inclusionProof(3, 7)).to.throw(/do not hash to its tile entry/);
    expect(() => bad.inclusionProof(2, 7)).to.not.throw();
  });

  it("gives every public tile set its committed verdict (public verifier: no level-0 tile)", function () {
    const p = v.provinces[0]!;
    expect(v.publicChecks.filter((c) => c.valid).map((c) => c.name)).to.deep.equal(["valid"]);
    for (const c of v.publicChecks) {
      const set = new Map(c.tiles.map((t) => [t.path, hexToBytes(t.hex)]));
      const r = verifyProvinceTiles({
        kind: v.kind,
        size: c.size,
        root: p.root,
        lanes: p.lanes.map(BigInt),
        edge:
          c.edge === null
            ? undefined
            : { hash: hexToBytes(c.edge.hash), lanes: c.edge.lanes.map(BigInt) },
        readTile: (level, index, width) => {
          const b = set.get(`IR-07/${tilePath({ level, index, width })}`);
          if (b === undefined) throw new RangeError("missing tile");
          return b;
        },
      });
      expect(r.ok, c.name).to.equal(c.valid);
      if (!r.ok) expect(r.reason, c.name).to.equal(c.reason);
    }
  });
});
