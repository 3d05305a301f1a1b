/**
 * The committed manifest vectors (docs/spec/manifest-v2.md): canonical text and hash from the
 * object alone, as an outside implementation would compute them, and the v2 consistency rules.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { canonicalJson, manifestHash, type Manifest } from "../../src/core/manifest.ts";
import { SUM_TREE_LANES } from "../../src/core/sum-tree-lanes.ts";

const vectors = JSON.parse(
  readFileSync(new URL("../vectors/manifest-1.json", import.meta.url), "utf8"),
) as { cases: { name: string; manifest: Manifest; canonical: string; hash: string }[] };

describe("manifest vectors (shafaf-manifest/1 and /2)", function () {
  it("covers both formats and both kinds", function () {
    const seen = new Set(vectors.cases.map((c) => `${c.manifest.format} ${c.manifest.kind}`));
    expect(seen.size).to.equal(4);
  });

  for (const c of vectors.cases) {
    it(`${c.name}: canonical text and keccak256 from the object`, function () {
      // Shuffled member order must not matter: canonical means sorted.
      const shuffled = Object.fromEntries(Object.entries(c.manifest).reverse());
      expect(canonicalJson(shuffled)).to.equal(c.canonical);
      expect(manifestHash(new TextEncoder().encode(c.canonical))).to.equal(c.hash);
      // One changed character is another hash.
      const changed = c.canonical.replace(
        `"recordCount":${c.manifest.recordCount}`,
        `"recordCount":${c.manifest.recordCount + 1}`,
      );
      expect(manifestHash(new TextEncoder().encode(changed))).to.not.equal(c.hash);
    });

    if (c.manifest.format === "shafaf-manifest/2")
      it(`${c.name}: the v2 figures agree with each other`, function () {
        const m = c.manifest;
        expect(m.leafEncoding).to.equal(undefined);
        expect(m.scheme).to.equal("shafaf-tree/2");
        expect(m.laneNames).to.deep.equal([...SUM_TREE_LANES[m.kind]]);
        expect(m.lanes![0]).to.equal(String(m.recordCount));
        const sum = m.lanes!.map((_, k) =>
          m.provinces!.reduce((s, p) => s + BigInt(p.lanes[k]!), 0n).toString(),
        );
        expect(sum).to.deep.equal(m.lanes);
        expect(m.provinces!.map((p) => p.code)).to.deep.equal(Object.keys(m.byProvince).sort());
        for (const p of m.provinces!)
          expect(p.lanes[0]).to.equal(String(m.byProvince[p.code]!.count));
      });
  }
});
