/**
 * Cross-check with @openzeppelin/merkle-tree: trees it builds over Shafaf's leaf encoding verify
 * on-chain through verifyRecord / verifyRecords, and tampered proofs, leaves and flags fail.
 */
import { expect } from "chai";
import { network } from "hardhat";
import fc from "fast-check";
import { hexlify, id } from "ethers";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { LEAF_ENCODING } from "../../src/core/leaf.ts";
import { LEDGER_METHODS, typed } from "./typed-contract.ts";

const { ethers, networkHelpers } = await network.create();

type Values = [string, bigint, bigint, bigint, string, string, string];

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => hexlify(b));
const leafValues: fc.Arbitrary<Values> = fc.tuple(
  bytes32,
  fc.constantFrom(0n, 1n),
  fc
    .integer({ min: 1300, max: 1500 })
    .chain((y) => fc.integer({ min: 1, max: 12 }).map((m) => BigInt(y * 100 + m))),
  fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }),
  bytes32,
  bytes32,
  bytes32,
);
/** Distinct leaves (the salt alone makes them distinct in practice; enforce it). */
const treeValues = fc.uniqueArray(leafValues, {
  minLength: 1,
  maxLength: 70,
  selector: (v) => v[6],
});

/** Flips bit `bit` (0..255) of a 32-byte hex value. */
function flipBit(hex: string, bit: number): string {
  const bytes = ethers.getBytes(hex);
  bytes[bit >> 3]! ^= 1 << (bit & 7);
  return hexlify(bytes);
}

async function ledgerFixture() {
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
  );
  return { ledger: ledger.connect(anchorer!) };
}

async function anchorTree(tree: StandardMerkleTree<Values>, values: Values[]) {
  const { ledger } = await networkHelpers.loadFixture(ledgerFixture);
  await ledger.anchorBatch(tree.root, 0, 140307, values.length, 0n, id("m"), 0n, id(tree.root));
  return ledger;
}

describe("TransparencyLedger × @openzeppelin/merkle-tree", function () {
  it("every sampled leaf of every tree verifies; one flipped bit of a proof element or of the leaf fails", async function () {
    await fc.assert(
      fc.asyncProperty(treeValues, fc.nat(), fc.nat({ max: 255 }), async (values, pick, bit) => {
        const tree = StandardMerkleTree.of(values, [...LEAF_ENCODING]);
        const ledger = await anchorTree(tree, values);
        const indices = new Set([0, values.length - 1, pick % values.length]);
        for (const i of indices) {
          const leaf = tree.leafHash(values[i]!);
          const proof = tree.getProof(i);
          expect(await ledger.verifyRecord(1n, leaf, proof)).to.equal(true);
          expect(await ledger.verifyRecord(1n, flipBit(leaf, bit), proof)).to.equal(false);
          if (proof.length > 0) {
            const j = pick % proof.length;
            const tampered = proof.map((p, k) => (k === j ? flipBit(p, bit) : p));
            expect(await ledger.verifyRecord(1n, leaf, tampered)).to.equal(false);
            // a truncated proof or trailing garbage fails too
            expect(await ledger.verifyRecord(1n, leaf, proof.slice(0, -1))).to.equal(false);
            expect(await ledger.verifyRecord(1n, leaf, [...proof, id("garbage")])).to.equal(false);
          }
        }
      }),
      { numRuns: 25 },
    );
  });

  it("multiproofs of random subsets verify; a tampered or foreign leaf or proof element fails", async function () {
    await fc.assert(
      fc.asyncProperty(
        treeValues.filter((v) => v.length >= 2),
        fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
        fc.nat({ max: 255 }),
        async (values, picks, bit) => {
          const tree = StandardMerkleTree.of(values, [...LEAF_ENCODING]);
          const ledger = await anchorTree(tree, values);
          const indices = [...new Set(picks.map((p) => p % values.length))];
          const multi = tree.getMultiProof(indices);
          const leaves = multi.leaves.map((v) => tree.leafHash(v));
          expect(await ledger.verifyRecords(1n, leaves, multi.proof, multi.proofFlags)).to.equal(
            true,
          );
          const badLeaves = leaves.map((l, k) => (k === 0 ? flipBit(l, bit) : l));
          expect(await ledger.verifyRecords(1n, badLeaves, multi.proof, multi.proofFlags)).to.equal(
            false,
          );
          if (multi.proof.length > 0) {
            const badProof = multi.proof.map((p, k) => (k === 0 ? flipBit(p, bit) : p));
            expect(await ledger.verifyRecords(1n, leaves, badProof, multi.proofFlags)).to.equal(
              false,
            );
          }
          // a leaf that is not in the tree, in place of one that is, fails
          const foreign = leaves.map((l, k) => (k === leaves.length - 1 ? id("not a leaf") : l));
          expect(await ledger.verifyRecords(1n, foreign, multi.proof, multi.proofFlags)).to.equal(
            false,
          );
        },
      ),
      { numRuns: 20 },
    );
  });

  it("a proof from another tree fails against this batch", async function () {
    await fc.assert(
      fc.asyncProperty(treeValues, treeValues, async (a, b) => {
        fc.pre(a[0]![6] !== b[0]![6]);
        const treeA = StandardMerkleTree.of(a, [...LEAF_ENCODING]);
        const treeB = StandardMerkleTree.of(b, [...LEAF_ENCODING]);
        const ledger = await anchorTree(treeA, a);
        expect(await ledger.verifyRecord(1n, treeB.leafHash(b[0]!), treeB.getProof(0))).to.equal(
          false,
        );
      }),
      { numRuns: 15 },
    );
  });
});
