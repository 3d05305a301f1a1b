import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { SumTreeCalldataError, sumTreeProofCalldata } from "../../src/chain/sum-tree-calldata.ts";

interface Vector {
  name: string;
  tree: string;
  proof: Record<string, unknown> & { windows: Record<string, unknown>[] };
}
const vectors = JSON.parse(
  readFileSync(path.resolve(import.meta.dirname, "../vectors/tree-v2.json"), "utf8"),
) as { proofs: Vector[] };
const find = (tree: string, name: string): Vector["proof"] =>
  structuredClone(vectors.proofs.find((v) => v.tree === tree && v.name === name)!.proof);

function refusal(proof: unknown): string {
  try {
    sumTreeProofCalldata(proof);
  } catch (e) {
    expect(e).to.be.instanceOf(SumTreeCalldataError);
    expect((e as SumTreeCalldataError).code).to.equal("chain.proof.format");
    return (e as Error).message;
  }
  throw new Error("expected a refusal");
}

describe("sumTreeProofCalldata", function () {
  it("pads a premium proof's lanes to six with 0 and encodes the province as 5 bytes", function () {
    const c = sumTreeProofCalldata(find("premium-12", "inclusion-3"));
    expect(c.type).to.equal("inclusion");
    expect(c.kind).to.equal(0);
    expect(c.key).to.equal(undefined);
    expect(c.batchSize).to.equal(12n);
    const w = c.windows[0]!;
    expect(w.province).to.equal("0x49522d3037"); // "IR-07"
    expect(w.leaves[0]!.lanes).to.deep.equal([1n, 1n, 81_661_840n, 31n, 24_498_552n, 0n]);
    expect(w.path.every((n) => n.lanes.length === 6 && n.lanes[5] === 0n)).to.equal(true);
  });

  it("keeps a pension proof's six lanes and a range proof's key", function () {
    expect(sumTreeProofCalldata(find("pension-5", "inclusion-3")).windows[0]!.leaves[0]!.lanes)
      .to.have.length(6)
      .and.to.include(171_000_000n);
    const range = sumTreeProofCalldata(find("premium-12", "range-person-1"));
    expect(range.type).to.equal("range");
    expect(range.key).to.match(/^0x[0-9a-f]{64}$/);
    expect(range.windows).to.have.length(range.provinceCount);
  });

  it("refuses what the spec calls scheme and format failures, naming the field", function () {
    const p = find("premium-12", "inclusion-3");
    expect(refusal({ ...p, scheme: "shafaf-tree/3" })).to.match(/scheme/);
    expect(refusal({ ...p, kind: "pension" })).to.match(/windows\[0\]\.leaves\[0\]\.lanes/);
    const wide = find("premium-12", "inclusion-3");
    (wide.windows[0]!.path as { lanes: string[] }[])[1]!.lanes[2] = (1n << 128n).toString();
    expect(refusal(wide)).to.match(/windows\[0\]\.path\[1\]\.lanes\[2\]: is above 2\^128/);
    expect(refusal({ ...p, key: "0x" + "00".repeat(32) })).to.match(/inclusion proof has no key/);
    const code = find("premium-12", "inclusion-3");
    code.windows[0]!.province = "IR-7";
    expect(refusal(code)).to.match(/province: is not an IR-dd code/);
    expect(refusal({ ...p, windows: [] })).to.match(/windows/);
    expect(refusal(null)).to.match(/not an object/);
  });
});
