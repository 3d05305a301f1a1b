import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { buildOrderedSumTree, buildSumTree, type SumTree } from "../../src/core/build-sum-tree.ts";
import { InvalidInputError } from "../../src/core/errors.ts";
import { createKeccakEngine } from "../../src/core/keccak.ts";
import { readLanes, writeLanes } from "../../src/core/sum-tree-lanes.ts";
import { bytesToHex, hexToBytes, type Hex } from "../../src/core/hex.ts";
import { recordFromJson } from "../../src/core/receipt.ts";
import { sumTreeRecordFields } from "../../src/core/sum-tree-record.ts";
import { lookupTreeScheme } from "../../src/core/lookup-tree-scheme.ts";
import {
  provinceNode,
  sumLeafNode,
  sumParent,
  type SumLeaf,
  type SumNode,
} from "../../src/core/sum-tree-hash.ts";
import { siblingCount } from "../../src/core/sum-tree-path.ts";
import { UnknownTreeSchemeError } from "../../src/core/tree-scheme.ts";
import { verifySumTreeProof, type SumTreeTrust } from "../../src/core/verify-sum-tree-proof.ts";
import { verifyTreeProof } from "../../src/core/verify-tree-proof.ts";

const CODES = ["IR-00", "IR-07", "IR-10", "IR-23", "IR-30"];

interface Rec {
  key: number;
  province: number;
  amounts: [bigint, bigint, bigint];
}
const recArb: fc.Arbitrary<Rec> = fc.record({
  key: fc.integer({ min: 0, max: 12 }),
  province: fc.integer({ min: 0, max: CODES.length - 1 }),
  amounts: fc.tuple(
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    fc.bigInt({ min: 0n, max: 31n }),
    fc.bigInt({ min: 0n, max: 10n ** 12n }),
  ),
});
const batchArb = fc.array(recArb, { minLength: 1, maxLength: 40 });

/** Key number k as 32 bytes, with a shared prefix for some so that sorting looks past 4 bytes. */
function keyBytes(k: number, salt = 0): Uint8Array {
  const b = new Uint8Array(32);
  b[0] = k % 3;
  b[5] = (k * 37 + salt) & 0xff;
  b[31] = k;
  return b;
}

function build(recs: readonly Rec[], salt = 0): SumTree {
  const n = recs.length;
  const keys = new Uint8Array(n * 32);
  const commitments = new Uint8Array(n * 32);
  const amounts = new BigUint64Array(n * 3);
  recs.forEach((r, i) => {
    keys.set(keyBytes(r.key, salt), i * 32);
    commitments[i * 32] = i;
    commitments[i * 32 + 1] = salt;
    amounts.set(r.amounts, i * 3);
  });
  return buildSumTree("premium", {
    keys,
    commitments,
    provinces: recs.map((r) => CODES[r.province]!),
    amounts,
  });
}

const trustOf = (t: SumTree): SumTreeTrust => ({ root: t.root, lanes: t.lanes.map(String) });
const failed = (proof: unknown, trust: SumTreeTrust) =>
  verifySumTreeProof(proof, trust)
    .checks.filter((c) => !c.ok)
    .map((c) => c.name);

/** RFC 6962 MTH over nodes, written from the spec's recursive definition (the test's oracle). */
function mth(nodes: readonly SumNode[]): SumNode {
  if (nodes.length === 1) return nodes[0]!;
  let k = 1;
  while (k * 2 < nodes.length) k *= 2;
  return sumParent(mth(nodes.slice(0, k)), mth(nodes.slice(k)))!;
}

describe("shafaf-tree/2", () => {
  describe("buildSumTree", () => {
    it("computes the root the spec's recursive definition gives (RFC 6962 shape, province nodes, top tree)", () => {
      fc.assert(
        fc.property(batchArb, (recs) => {
          const t = build(recs);
          const provinceNodes = t.provinces.map((p) => {
            const leaves = Array.from({ length: p.size }, (_, j) =>
              sumLeafNode(t.leaf(p.offset + j)),
            );
            const sub = mth(leaves);
            expect(bytesToHex(sub.hash)).to.equal(p.root);
            expect(sub.lanes).to.deep.equal(p.lanes);
            return provinceNode("premium", p.code, sub);
          });
          expect(bytesToHex(mth(provinceNodes).hash)).to.equal(t.root);
        }),
        { numRuns: 60 },
      );
    });

    it("sums every lane exactly and numbers each key's leaves 0, 1, … with one person per key and province", () => {
      fc.assert(
        fc.property(batchArb, (recs) => {
          const t = build(recs);
          const sum = (k: 0 | 1 | 2) => recs.reduce((a, r) => a + r.amounts[k], 0n);
          const pairs = new Set(recs.map((r) => `${r.key}/${r.province}`)).size;
          expect(t.lanes).to.deep.equal([
            BigInt(recs.length),
            BigInt(pairs),
            sum(0),
            sum(1),
            sum(2),
          ]);
          for (let i = 1; i < t.size; i++) {
            const a = t.leaf(i - 1);
            const b = t.leaf(i);
            if (a.province === b.province && bytesToHex(a.key) === bytesToHex(b.key)) {
              expect(b.seq).to.equal(a.seq + 1);
              expect(b.lanes[1]).to.equal(0n);
            } else expect(b.seq === 0 && b.lanes[1] === 1n).to.equal(true);
          }
        }),
        { numRuns: 60 },
      );
    });

    it("does not depend on the input order", () => {
      fc.assert(
        fc.property(batchArb, (recs) => {
          // Same records with the same commitments, reversed: commitment i follows its record.
          const n = recs.length;
          const keys = new Uint8Array(n * 32);
          const commitments = new Uint8Array(n * 32);
          const amounts = new BigUint64Array(n * 3);
          const provinces: string[] = [];
          recs.forEach((r, i) => {
            const j = n - 1 - i;
            keys.set(keyBytes(r.key), j * 32);
            commitments[j * 32] = i;
            amounts.set(r.amounts, j * 3);
            provinces[j] = CODES[r.province]!;
          });
          const reversed = buildSumTree("premium", { keys, commitments, provinces, amounts });
          expect(reversed.root).to.equal(build(recs).root);
        }),
        { numRuns: 30 },
      );
    });

    it("refuses an empty batch, a bad province, disagreeing columns and a leaf amount of 2^64 or more", () => {
      const empty = {
        keys: new Uint8Array(),
        commitments: new Uint8Array(),
        provinces: [],
        amounts: new BigUint64Array(),
      };
      expect(() => buildSumTree("premium", empty)).to.throw(
        InvalidInputError,
        /at least one record/,
      );
      const one = {
        keys: new Uint8Array(32),
        commitments: new Uint8Array(32),
        amounts: new BigUint64Array(3),
      };
      expect(() => buildSumTree("premium", { ...one, provinces: ["Tehran"] }))
        .to.throw(InvalidInputError)
        .with.property("code", "core.sum-tree.province");
      expect(() => buildSumTree("pension", { ...one, provinces: ["IR-23"] }))
        .to.throw(InvalidInputError)
        .with.property("code", "core.sum-tree.columns");
      // One record's amounts are below 2^64 (the leaf encodes them as u64).
      const big: SumLeaf = {
        key: keyBytes(1),
        seq: 0,
        lanes: [1n, 1n, 1n << 64n, 0n, 0n],
        commitment: new Uint8Array(32),
      };
      expect(() => buildOrderedSumTree("premium", [{ code: "IR-01", leaves: [big] }]))
        .to.throw(InvalidInputError)
        .with.property("code", "core.sum-tree.lane-range");
    });

    it("sums nodes in WebAssembly exactly as the specification's parent, and stops at a 128-bit overflow", () => {
      const e = createKeccakEngine();
      const rec = 32 + 5 * 16;
      const base = e.reserve(4 * rec + 1024);
      const put = (at: number, node: SumNode) => {
        e.bytes().set(node.hash, base + at * rec);
        writeLanes(node.lanes, e.bytes(), base + at * rec + 32);
      };
      fc.assert(
        fc.property(
          fc.array(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), {
            minLength: 10,
            maxLength: 10,
          }),
          fc.uint8Array({ minLength: 64, maxLength: 64 }),
          (lanes, hashes) => {
            const l: SumNode = { hash: hashes.slice(0, 32), lanes: lanes.slice(0, 5) };
            const r: SumNode = { hash: hashes.slice(32), lanes: lanes.slice(5) };
            put(0, l);
            put(1, r);
            const bad = e.exports.sumNodeMany(base, 1, rec, 5, base + 2 * rec, base + 3 * rec);
            const want = sumParent(l, r);
            if (want === undefined) {
              expect(bad).to.equal(0);
              return;
            }
            expect(bad).to.equal(-1);
            expect(bytesToHex(e.bytes().slice(base + 2 * rec, base + 2 * rec + 32))).to.equal(
              bytesToHex(want.hash),
            );
            expect(readLanes(e.bytes(), base + 2 * rec + 32, 5)).to.deep.equal(want.lanes);
          },
        ),
        { numRuns: 300 },
      );
    });
  });

  describe("inclusionProof", () => {
    it("proves every leaf of every tree, and the proof from another tree fails", () => {
      fc.assert(
        fc.property(batchArb, (recs) => {
          const t = build(recs);
          const other = build(recs, 1);
          for (let i = 0; i < t.size; i++) {
            const proof = JSON.parse(JSON.stringify(t.inclusionProof(i, 3))) as unknown;
            const r = verifySumTreeProof(proof, trustOf(t));
            expect(r.status, JSON.stringify(r.checks.filter((c) => !c.ok))).to.equal("verified");
            expect(r.proven?.batchIndices).to.deep.equal([i]);
            expect(r.proven?.leaves[0]?.key).to.equal(bytesToHex(t.leaf(i).key));
            expect(r.proven?.leaves[0]?.commitment).to.equal(bytesToHex(t.leaf(i).commitment));
            expect(failed(proof, trustOf(other))).to.include("trusted-root");
          }
        }),
        { numRuns: 40 },
      );
    });

    it("carries exactly the siblings its index and size call for", () => {
      const t = build(
        Array.from({ length: 13 }, (_, i) => ({ key: i, province: 3, amounts: [1n, 1n, 1n] })),
      );
      for (let i = 0; i < 13; i++) {
        expect(t.inclusionProof(i, 1).windows[0]!.path).to.have.length(siblingCount(13, i, i));
      }
      expect(siblingCount(7, 6, 6)).to.equal(2);
      expect(siblingCount(8, 0, 7)).to.equal(0);
    });
  });

  describe("personProof", () => {
    it("proves all of a key's records across provinces, and absence for keys not in the batch", () => {
      fc.assert(
        fc.property(batchArb, fc.integer({ min: 0, max: 15 }), (recs, k) => {
          const t = build(recs);
          const proof = t.personProof(keyBytes(k), 9);
          const r = verifySumTreeProof(JSON.parse(JSON.stringify(proof)), trustOf(t));
          expect(r.status, JSON.stringify(r.checks.filter((c) => !c.ok))).to.equal("verified");
          const mine = recs.filter((x) => x.key === k);
          expect(proof.type).to.equal(mine.length > 0 ? "range" : "absence");
          expect(r.proven?.batchIndices).to.deep.equal(t.indicesOf(keyBytes(k)));
          expect(r.proven?.batchIndices).to.have.length(mine.length);
          expect(r.proven?.lanes[2]).to.equal(mine.reduce((a, x) => a + x.amounts[0], 0n));
          expect(proof.windows).to.have.length(t.provinces.length);
        }),
        { numRuns: 60 },
      );
    });

    it("fails when a window is cut short without recomputing its path", () => {
      const t = build(
        [0, 1, 1, 1, 2, 3].map((key) => ({ key, province: 1, amounts: [5n, 30n, 2n] })),
      );
      const proof = t.personProof(keyBytes(1), 1);
      const w = proof.windows[0]!;
      const cut = { ...proof, windows: [{ ...w, leaves: w.leaves.slice(0, -1) }] };
      expect(failed(cut, trustOf(t))).to.include("path-length");
      // Windows cut short with an honest path fail at "range": the vectors corrupt-range-without-*.
    });
  });

  describe("verifySumTreeProof", () => {
    it("never throws, whatever it is given", () => {
      const t = build([{ key: 1, province: 0, amounts: [1n, 2n, 3n] }]);
      const proof = t.inclusionProof(0, 1);
      fc.assert(
        fc.property(fc.anything(), fc.jsonValue(), (x, y) => {
          expect(verifySumTreeProof(x, { root: t.root }).status).to.equal("failed");
          const mixed = { ...proof, windows: [{ ...proof.windows[0], leaves: y }] };
          expect(verifySumTreeProof(mixed, { root: t.root }).status).to.equal("failed");
        }),
        { numRuns: 200 },
      );
      expect(verifySumTreeProof(proof, { root: "nope" }).status).to.equal("failed");
    });

    it("reproduces every committed vector: status and the names of the failed checks", () => {
      const file = path.resolve(import.meta.dirname, "../vectors/tree-v2.json");
      const v = JSON.parse(readFileSync(file, "utf8")) as {
        proofs: {
          name: string;
          trust: SumTreeTrust;
          proof: unknown;
          valid: boolean;
          failedChecks: string[];
        }[];
      };
      const names = v.proofs.map((p) => p.name);
      for (const corruption of [
        "corrupt-flipped-bit-path",
        "corrupt-leaf-lane-plus-one",
        "corrupt-root-sum-is-max",
        "corrupt-swapped-children",
        "corrupt-wrong-index",
        "corrupt-wrong-size",
        "corrupt-neighbours-out-of-order",
        "corrupt-duplicate-key",
        "corrupt-sibling-lane-overflow",
        "corrupt-range-without-left-neighbour",
        "corrupt-range-without-right-neighbour",
        "corrupt-range-without-an-own-record",
      ])
        expect(names).to.include(corruption);
      for (const c of v.proofs) {
        const r = verifySumTreeProof(c.proof, c.trust);
        expect(r.status === "verified", c.name).to.equal(c.valid);
        expect(
          r.checks.filter((x) => !x.ok).map((x) => x.name),
          c.name,
        ).to.deep.equal(c.failedChecks);
        expect(c.name.startsWith("corrupt-"), c.name).to.equal(!c.valid);
      }
    });
  });

  describe("tree schemes", () => {
    it("looks schemes up by id and refuses an unknown one instead of guessing", () => {
      expect(lookupTreeScheme("shafaf-tree/1").id).to.equal("shafaf-tree/1");
      expect(lookupTreeScheme("shafaf-tree/2").id).to.equal("shafaf-tree/2");
      for (const id of ["shafaf-tree/3", "", undefined, 2, "SHAFAF-TREE/2"])
        expect(() => lookupTreeScheme(id)).to.throw(UnknownTreeSchemeError);
      const t = build([{ key: 1, province: 0, amounts: [1n, 2n, 3n] }]);
      const proof = t.inclusionProof(0, 1);
      expect(verifyTreeProof(proof, { root: t.root }).status).to.equal("verified");
      const r = verifyTreeProof({ ...proof, scheme: "shafaf-tree/9" }, { root: t.root });
      expect(r.checks.map((c) => [c.name, c.ok])).to.deep.equal([["scheme", false]]);
      expect(
        verifyTreeProof({ ...proof, scheme: "shafaf-tree/1" }, { root: t.root }).status,
      ).to.equal("failed");
    });

    it("verifies shafaf-tree/1 proofs of the committed v1 vectors through the seam", () => {
      const file = path.resolve(import.meta.dirname, "../vectors/merkle-1.json");
      const v = JSON.parse(readFileSync(file, "utf8")) as {
        checks: { root: string; leaf: string; proof: string[]; valid: boolean }[];
      };
      for (const c of v.checks) {
        const r = verifyTreeProof(
          { scheme: "shafaf-tree/1", leaf: c.leaf, proof: c.proof },
          { root: c.root },
        );
        expect(r.status === "verified").to.equal(c.valid);
      }
    });
  });
});

describe("sumTreeRecordFields", () => {
  it("reproduces the committed record vectors (amount lanes and salted commitment)", () => {
    const file = path.resolve(import.meta.dirname, "../vectors/tree-v2.json");
    const v = JSON.parse(readFileSync(file, "utf8")) as {
      records: { record: unknown; salt: Hex; amounts: string[]; commitment: Hex }[];
    };
    expect(v.records).to.have.length(2);
    for (const c of v.records) {
      const record = recordFromJson(c.record)!;
      const f = sumTreeRecordFields(record, hexToBytes(c.salt));
      expect(f.amounts.map(String)).to.deep.equal(c.amounts);
      expect(bytesToHex(f.commitment)).to.equal(c.commitment);
      // Another salt, or any field changed, gives another commitment.
      const salt = hexToBytes(c.salt);
      salt[0]! ^= 1;
      expect(bytesToHex(sumTreeRecordFields(record, salt).commitment)).to.not.equal(c.commitment);
      const changed = { ...record, recordId: `${record.recordId}x` };
      expect(bytesToHex(sumTreeRecordFields(changed, hexToBytes(c.salt)).commitment)).to.not.equal(
        c.commitment,
      );
    }
    expect(() =>
      sumTreeRecordFields(recordFromJson(v.records[0]!.record)!, new Uint8Array(16)),
    ).to.throw(RangeError);
  });
});
