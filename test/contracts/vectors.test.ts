/**
 * The shared test vectors (test/vectors/merkle-1.json, written by scripts/generate-vectors.ts)
 * through the contract: every case root is anchored, every check — valid proofs and named
 * corruptions — goes through verifyRecord and must give the vector's `valid`, and every case's
 * multiproof verifies through verifyRecords.
 */
import { expect } from "chai";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { network } from "hardhat";
import { getBytes, hexlify, id } from "ethers";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { LEDGER_METHODS, typed } from "./typed-contract.ts";

interface VectorFile {
  format: string;
  leafEncoding: string[];
  cases: {
    name: string;
    kind: "premium" | "pension";
    root: string;
    leaves: { values: string[]; leafHash: string; proof: string[] }[];
    multiproof: { indices: number[]; leaves: string[]; proof: string[]; proofFlags: boolean[] };
  }[];
  checks: {
    name: string;
    case: string;
    root: string;
    leaf: string;
    proof: string[];
    valid: boolean;
  }[];
}

const FILE = path.resolve(import.meta.dirname, "../vectors/merkle-1.json");
const vectors = JSON.parse(await readFile(FILE, "utf8")) as VectorFile;
const { ethers, networkHelpers } = await network.create();

/** Every distinct root of the file (case roots first), anchored in order: batch id = index + 1. */
const roots = [
  ...new Set([...vectors.cases.map((c) => c.root), ...vectors.checks.map((c) => c.root)]),
];

async function vectorsFixture() {
  const [admin, anchorer] = await ethers.getSigners();
  const ledger = typed(
    await ethers.deployContract("TransparencyLedger", [
      admin!.address,
      0,
      [anchorer!.address],
      [],
      [],
    ]),
    LEDGER_METHODS,
  ).connect(anchorer!);
  for (const [i, root] of roots.entries()) {
    const c = vectors.cases.find((x) => x.root === root);
    await ledger.anchorBatch(
      root,
      c?.kind === "pension" ? 1 : 0,
      Number(c?.leaves[0]?.values[2] ?? 140301),
      BigInt(c?.leaves.length ?? 1),
      0n,
      id(`manifest ${i}`),
      0n,
      id(`vector batch ${i}`),
    );
  }
  return { ledger };
}

const batchOf = (root: string): bigint => BigInt(roots.indexOf(root) + 1);

describe("TransparencyLedger × shared test vectors (merkle-1.json)", function () {
  it("is the format this test reads, with cases and corruptions", function () {
    expect(vectors.format).to.equal("shafaf-vectors/1");
    expect(vectors.cases.length).to.be.greaterThan(0);
    expect(vectors.checks.some((c) => !c.valid)).to.equal(true);
  });

  for (const c of vectors.cases) {
    it(`${c.name}: @openzeppelin/merkle-tree rebuilds the root; every leaf and the multiproof verify on-chain`, async function () {
      const { ledger } = await networkHelpers.loadFixture(vectorsFixture);
      const tree = StandardMerkleTree.of(
        c.leaves.map((l) => l.values),
        vectors.leafEncoding,
      );
      expect(tree.root).to.equal(c.root);
      const batchId = batchOf(c.root);
      expect(await ledger.batchIdOfRoot(c.root)).to.equal(batchId);
      for (const leaf of c.leaves) {
        expect(tree.leafHash(leaf.values)).to.equal(leaf.leafHash);
        expect(await ledger.verifyRecord(batchId, leaf.leafHash, leaf.proof)).to.equal(true);
      }
      const m = c.multiproof;
      expect(await ledger.verifyRecords(batchId, m.leaves, m.proof, m.proofFlags)).to.equal(true);
      const flipped = getBytes(m.leaves[0]!);
      flipped[31]! ^= 1;
      const badLeaves = [hexlify(flipped), ...m.leaves.slice(1)];
      expect(await ledger.verifyRecords(batchId, badLeaves, m.proof, m.proofFlags)).to.equal(false);
    });
  }

  for (const check of vectors.checks) {
    it(`${check.name} → ${check.valid ? "valid" : "rejected"}`, async function () {
      const { ledger } = await networkHelpers.loadFixture(vectorsFixture);
      expect(await ledger.verifyRecord(batchOf(check.root), check.leaf, check.proof)).to.equal(
        check.valid,
      );
    });
  }
});
