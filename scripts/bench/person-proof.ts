/**
 * `npm run bench -- person-proof`: verifying and building one `shafaf-person-proof/1` (VRF proof,
 * k_b, range proof over a batch, every record opened) in Node: the first verification in a fresh
 * process (WebAssembly Keccak compiled, curve tables built) and the median of the next ones; then
 * the same for a person proof out of a 100k-record batch. The browser figure (Chromium) is printed
 * by test/web/person-proof.test.ts.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { verifyDocumentOffline } from "../../src/core/verify-document.ts";
import { documentFixture, largeBatchPersonProof, personProofOf } from "../vectors/documents-v2.ts";

const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
const time = (f: () => unknown, n = 31): number => {
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    f();
    t.push(performance.now() - s);
  }
  return median(t);
};

// The committed vector first, in this fresh process: nothing of core has run yet.
const vectors = JSON.parse(
  readFileSync(path.resolve(import.meta.dirname, "../../test/vectors/person-proof-1.json"), "utf8"),
) as { root: string; vrfPublicKey: string; cases: { name: string; document: unknown }[] };
const doc = vectors.cases.find((c) => c.name === "valid-range")!.document;
const trust = { root: vectors.root, vrfPublicKey: vectors.vrfPublicKey };
const s = performance.now();
const first = verifyDocumentOffline(doc, trust);
const cold = performance.now() - s;
if (first.status !== "verified") throw new Error("the vector person proof does not verify");
const f = documentFixture();
console.log(
  `vector batch (${f.tree.size} records), 3 records of the person: verify first ${cold.toFixed(1)} ms, then median ${time(() => verifyDocumentOffline(doc, trust)).toFixed(2)} ms; build median ${time(() => personProofOf(f, "0012345679"), 11).toFixed(2)} ms`,
);

// A person inside a 100k-record batch (31 provinces).
const { tree, proof: big } = largeBatchPersonProof(f, 100_000);
const bigTrust = { root: tree.root, vrfPublicKey: trust.vrfPublicKey };
if (verifyDocumentOffline(big, bigTrust).status !== "verified") throw new Error("not verified");
console.log(
  `${tree.size}-record batch, 31 provinces: person proof ${JSON.stringify(big).length} bytes, verify median ${time(() => verifyDocumentOffline(big, bigTrust)).toFixed(2)} ms`,
);
