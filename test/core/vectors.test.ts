import { readFileSync } from "node:fs";
import path from "node:path";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { expect } from "chai";
import { bytesToHex, hexToBytes, type Hex } from "../../src/core/hex.ts";
import { LEAF_ENCODING, leafHash, leafValues, type LeafValues } from "../../src/core/leaf.ts";
import {
  buildMerkleTree,
  processProof,
  verifyMultiProof,
  verifyProof,
} from "../../src/core/merkle-tree.ts";
import { subjectPseudonym } from "../../src/core/pseudonym.ts";
import { recordFromJson } from "../../src/core/receipt.ts";
import { verifyReceipt } from "../../src/core/verify-receipt.ts";

const dir = path.resolve(import.meta.dirname, "../vectors");
interface MerkleVectors {
  format: string;
  leafEncoding: string[];
  pseudonymKey: Hex;
  cases: {
    name: string;
    root: Hex;
    leaves: {
      record: unknown;
      salt: Hex;
      subject: Hex;
      values: string[];
      leafHash: Hex;
      treeIndex: number;
      proof: Hex[];
    }[];
    multiproof: { indices: number[]; leaves: Hex[]; proof: Hex[]; proofFlags: boolean[] };
  }[];
  checks: { name: string; case: string; root: Hex; leaf: Hex; proof: Hex[]; valid: boolean }[];
}
interface ReceiptVectors {
  cases: {
    name: string;
    receipt: unknown;
    trust: { root: string; chainId: number; contract: string };
    expect: { status: string; failedChecks: string[] };
  }[];
}
const merkle = JSON.parse(readFileSync(path.join(dir, "merkle-1.json"), "utf8")) as MerkleVectors;
const receipts = JSON.parse(
  readFileSync(path.join(dir, "receipts-1.json"), "utf8"),
) as ReceiptVectors;
const toTuple = (v: string[]): LeafValues => [
  v[0] as Hex,
  BigInt(v[1]!),
  BigInt(v[2]!),
  BigInt(v[3]!),
  v[4] as Hex,
  v[5] as Hex,
  v[6] as Hex,
];

describe("test vectors (test/vectors/*.json)", function () {
  it("merkle-1: records → values → leaf hashes → root, as committed", function () {
    expect(merkle.format).to.equal("shafaf-vectors/1");
    expect(merkle.leafEncoding).to.deep.equal([...LEAF_ENCODING]);
    const key = hexToBytes(merkle.pseudonymKey);
    for (const c of merkle.cases) {
      const hashes = new Uint8Array(c.leaves.length * 32);
      c.leaves.forEach((l, i) => {
        const record = recordFromJson(l.record);
        expect(record, `${c.name}/${i}`).to.not.equal(undefined);
        expect(subjectPseudonym(key, record!.nationalId)).to.equal(l.subject);
        const values = leafValues(record!, { salt: l.salt, subject: l.subject });
        expect(values.map(String)).to.deep.equal(l.values);
        expect(bytesToHex(leafHash(values))).to.equal(l.leafHash);
        hashes.set(hexToBytes(l.leafHash), i * 32);
      });
      const tree = buildMerkleTree(hashes);
      expect(tree.root, c.name).to.equal(c.root);
      const oz = StandardMerkleTree.of(
        c.leaves.map((l) => toTuple(l.values) as unknown as bigint[]),
        [...LEAF_ENCODING],
      );
      expect(oz.root).to.equal(c.root);
      c.leaves.forEach((l, i) => {
        expect(tree.getProof(i)).to.deep.equal(l.proof);
        expect(tree.leafIndexToTreeIndex(i)).to.equal(l.treeIndex);
      });
      const { indices, ...multi } = c.multiproof;
      expect(tree.getMultiProof(indices)).to.deep.equal(multi);
      expect(verifyMultiProof(c.root, multi)).to.equal(true);
    }
  });
  it("merkle-1: every named check gives its expected validity (valid proofs pass, every corruption fails)", function () {
    const names = new Set(merkle.checks.map((c) => c.name.split("/").slice(1, 2)[0]));
    expect([...names]).to.include.members([
      "valid",
      "bit-flip",
      "wrong-leaf",
      "wrong-root",
      "missing-element",
      "extra-element",
      "values-swapped",
    ]);
    for (const c of merkle.checks) {
      expect(verifyProof(c.root, c.leaf, c.proof), c.name).to.equal(c.valid);
      expect(processProof(c.leaf, c.proof) === c.root, c.name).to.equal(c.valid);
    }
  });
  it("receipts-1: verifyReceipt gives the committed status and failed checks; only the valid ones verify", async function () {
    const names = receipts.cases.map((c) => c.name.split("/").slice(1).join("/"));
    expect(names).to.include.members([
      "valid",
      "wrong-root",
      "missing-element",
      "extra-element",
      "wrong-chain-id",
      "values-swapped/period-amount",
    ]);
    for (const c of receipts.cases) {
      const r = await verifyReceipt(c.receipt, c.trust);
      expect(r.status, c.name).to.equal(c.expect.status);
      expect(
        r.checks.filter((x) => x.outcome === "fail").map((x) => x.name),
        c.name,
      ).to.deep.equal(c.expect.failedChecks);
      expect(r.status === "verified", c.name).to.equal(c.name.endsWith("/valid"));
    }
  });
});
