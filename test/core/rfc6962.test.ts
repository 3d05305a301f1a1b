import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { decodeBase64 } from "../../src/core/base64.ts";
import {
  consistencyProof,
  EMPTY_ROOT,
  hashChildren,
  hashLeaf,
  inclusionProof,
  memoryNodeSource,
  merkleTreeHash,
  rootHash,
  verifyConsistency,
  verifyInclusion,
} from "../../src/core/rfc6962.ts";

const dir = path.resolve(import.meta.dirname, "../vectors/c2sp");
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- vector files are read as plain JSON
const load = (f: string): any => JSON.parse(readFileSync(path.join(dir, f), "utf8"));
const hashes = load("merkle-hashes.json");
const inclusion = load("merkle-inclusion.json");
const consistency = load("merkle-consistency.json");
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const b64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));
const leaves: Uint8Array[] = hashes.leafInputs.map(
  (h: string) => new Uint8Array(Buffer.from(h, "hex")),
);
const node = memoryNodeSource(leaves.map(hashLeaf));

describe("rfc6962 (SHA-256 Merkle tree of C2SP logs)", () => {
  it("hashes the empty tree, leaves and nodes as transparency-dev/merkle's rfc6962_test.go", () => {
    expect(hex(EMPTY_ROOT)).to.equal(hashes.emptyRoot);
    expect(hex(hashLeaf(new Uint8Array()))).to.equal(hashes.emptyLeaf);
    expect(hex(hashLeaf(new TextEncoder().encode(hashes.leaf.input)))).to.equal(hashes.leaf.want);
    const enc = new TextEncoder();
    expect(hex(hashChildren(enc.encode(hashes.node.left), enc.encode(hashes.node.right)))).to.equal(
      hashes.node.want,
    );
  });

  it("computes every root and complete-subtree hash of testonly/constants.go", () => {
    hashes.rootHashes.forEach((want: string, size: number) => {
      expect(hex(rootHash(size, node)), `size ${size}`).to.equal(want);
      expect(hex(merkleTreeHash(leaves.slice(0, size)))).to.equal(want);
    });
    hashes.nodeHashes.forEach((level: string[], l: number) =>
      level.forEach((want, i) => expect(hex(node(l, i))).to.equal(want)),
    );
  });

  it(`agrees with all ${inclusion.cases.length} inclusion vectors of transparency-dev/merkle testdata`, () => {
    for (const c of inclusion.cases) {
      const r = verifyInclusion(
        c.leafIdx,
        c.treeSize,
        b64(c.leafHash),
        (c.proof ?? []).map(b64),
        b64(c.root),
      );
      expect(!r.ok, `${c.file}: ${r.ok ? "ok" : r.failure.message}`).to.equal(c.wantErr);
    }
  });

  it(`agrees with all ${consistency.cases.length} consistency vectors of transparency-dev/merkle testdata`, () => {
    for (const c of consistency.cases) {
      const r = verifyConsistency(
        c.size1,
        c.size2,
        (c.proof ?? []).map(b64),
        b64(c.root1),
        b64(c.root2),
      );
      expect(!r.ok, `${c.file}: ${r.ok ? "ok" : r.failure.message}`).to.equal(c.wantErr);
    }
  });

  it("generates exactly the happy-path proofs of the reference testdata", () => {
    for (const c of inclusion.cases.filter(
      (x: { file: string; treeSize: number }) =>
        x.file.endsWith("/happy-path.json") && x.treeSize <= 8,
    )) {
      if (c.leafHash !== Buffer.from(node(0, c.leafIdx)).toString("base64")) continue;
      expect(
        inclusionProof(c.leafIdx, c.treeSize, node).map((h) => Buffer.from(h).toString("base64")),
        c.file,
      ).to.deep.equal(c.proof ?? []);
    }
    for (const c of consistency.cases.filter((x: { file: string }) =>
      /\/[0-9]\/happy-path.json$/.test(x.file),
    )) {
      expect(
        consistencyProof(c.size1, c.size2, node).map((h) => Buffer.from(h).toString("base64")),
        c.file,
      ).to.deep.equal(c.proof ?? []);
    }
  });

  it("a root mismatch carries both roots; a bad index fails before hashing", () => {
    const proof = inclusionProof(2, 8, node);
    const wrong = new Uint8Array(32);
    const r = verifyInclusion(2, 8, node(0, 2), proof, wrong);
    expect(r.ok).to.equal(false);
    if (!r.ok && r.failure.code === "root-mismatch") {
      expect(r.failure.expected).to.deep.equal(wrong);
      expect(hex(r.failure.calculated)).to.equal(hashes.rootHashes[8]);
    } else expect.fail("root-mismatch expected");
    const beyond = verifyInclusion(8, 8, node(0, 2), proof, wrong);
    expect(!beyond.ok && beyond.failure.code).to.equal("index-beyond-size");
    const short = verifyInclusion(2, 8, node(0, 2), proof.slice(1), rootHash(8, node));
    expect(!short.ok && short.failure.code).to.equal("proof-size");
  });

  describe("properties", () => {
    const tree = fc.integer({ min: 1, max: 300 }).map((n) => {
      const leafHashes = Array.from({ length: n }, (_, i) =>
        hashLeaf(new Uint8Array([i & 255, i >> 8])),
      );
      return { n, src: memoryNodeSource(leafHashes) };
    });

    it("every leaf of every tree is provable, and a proof fails for any other index or tree", () => {
      fc.assert(
        fc.property(tree, fc.nat(), ({ n, src }, k) => {
          const i = k % n;
          const root = rootHash(n, src);
          const proof = inclusionProof(i, n, src);
          expect(verifyInclusion(i, n, src(0, i), proof, root).ok).to.equal(true);
          if (n > 1)
            expect(verifyInclusion((i + 1) % n, n, src(0, i), proof, root).ok).to.equal(false);
          if (proof.length > 0) {
            const flipped = proof.map((h) => Uint8Array.from(h));
            flipped[0]![0]! ^= 1;
            expect(verifyInclusion(i, n, src(0, i), flipped, root).ok).to.equal(false);
          }
        }),
        { numRuns: 60 },
      );
    });

    it("every smaller tree is consistent with every larger one, and a proof fails for a changed root", () => {
      fc.assert(
        fc.property(tree, fc.nat(), ({ n, src }, k) => {
          const m = 1 + (k % n);
          const proof = consistencyProof(m, n, src);
          expect(verifyConsistency(m, n, proof, rootHash(m, src), rootHash(n, src)).ok).to.equal(
            true,
          );
          const other = Uint8Array.from(rootHash(m, src));
          other[31]! ^= 1;
          expect(verifyConsistency(m, n, proof, other, rootHash(n, src)).ok).to.equal(false);
        }),
        { numRuns: 60 },
      );
    });
  });

  it("decodes only canonical base64", () => {
    expect(decodeBase64("YmFuYW5hcw==")).to.deep.equal(new TextEncoder().encode("bananas"));
    for (const bad of ["YmFuYW5hcx==", "YmFuYW5hcw", "YmFuYW5hcw=", "Ym-uYW5hcw==", "====", "YQ=a"])
      expect(decodeBase64(bad), bad).to.equal(undefined);
  });
});
