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
import { documentFixture, personProofOf } from "../vectors/documents-v2.ts";
import { buildSumTree } from "../../src/core/build-sum-tree.ts";
import { buildPersonProof } from "../../src/core/person-proof.ts";
import { batchPersonKey, personVrfInput } from "../../src/core/person-key.ts";
import { sumTreeRecordFields } from "../../src/core/sum-tree-record.ts";
import { vrfHash } from "../../src/core/vrf.ts";

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

// A person inside a 100k-record batch (31 provinces): the others' keys are random-looking bytes.
const N = 100_000;
const keys = new Uint8Array(N * 32);
const commitments = new Uint8Array(N * 32);
const amounts = new BigUint64Array(N * 3);
const provinces: string[] = [];
for (let i = 0; i < N; i++) {
  keys.set(
    batchPersonKey(
      new Uint8Array(64).fill(i & 0xff).map((b, k) => b ^ (i >> (k % 17))),
      { batchId: 1 },
    ),
    i * 32,
  );
  commitments.set(
    keys
      .subarray(i * 32, i * 32 + 32)
      .slice()
      .reverse(),
    i * 32,
  );
  amounts.set([50_000_000n + BigInt(i), 30n, 15_000_000n], i * 3);
  provinces.push(`IR-${String(i % 31).padStart(2, "0")}`);
}
const mine = f.records.filter((r) => r.record.nationalId === "0012345679");
const beta = vrfHash(f.vrfKey, personVrfInput("0012345679"));
const kb = batchPersonKey(beta, { kind: "premium", period: "1403-07" });
const all = {
  keys: new Uint8Array([...keys, ...mine.flatMap(() => [...kb])]),
  commitments: new Uint8Array([
    ...commitments,
    ...mine.flatMap((r) => [...sumTreeRecordFields(r.record, r.salt).commitment]),
  ]),
  amounts: new BigUint64Array([
    ...amounts,
    ...mine.flatMap((r) => sumTreeRecordFields(r.record, r.salt).amounts),
  ]),
  provinces: [...provinces, ...mine.map((r) => r.record.province)],
};
const tree = buildSumTree("premium", all);
const big = buildPersonProof({
  chainId: 31337,
  contract: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
  batchId: 1,
  tree,
  vrfKey: f.vrfKey,
  context: { kind: "premium", period: "1403-07" },
  personId: "0012345679",
  records: mine,
});
const bigTrust = { root: tree.root, vrfPublicKey: trust.vrfPublicKey };
if (verifyDocumentOffline(big, bigTrust).status !== "verified") throw new Error("not verified");
console.log(
  `${tree.size}-record batch, 31 provinces: person proof ${JSON.stringify(big).length} bytes, verify median ${time(() => verifyDocumentOffline(big, bigTrust)).toFixed(2)} ms`,
);
