/**
 * `npm run bench -- offline-receipt`: the size of an offline receipt (docs/spec/log-bundle-v1.md)
 * — a shafaf-receipt/1 and a shafaf-receipt/2 of test/vectors with a log bundle whose checkpoint
 * carries the log's signature and 4 cosignatures — at ledger logs of 1,000 and 1,000,000 batches,
 * and the time to verify one against a 3-of-4 policy in Node.
 *
 * Exact without building a million-entry log: an RFC 6962 inclusion proof's length depends only
 * on (index, size), so the proof is computed over a node source that returns a constant hash for
 * every complete subtree (same length and same encoded size as the real proof); the entry, the
 * checkpoint and its five signatures are real. Both the worst case (entry 0: ⌈log2 n⌉ hashes) and
 * the newest batch (entry n − 1) are printed.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { formatCheckpoint } from "../../src/core/checkpoint.ts";
import { ledgerLogEntry } from "../../src/core/ledger-log-entry.ts";
import { buildLogBundle } from "../../src/core/log-bundle.ts";
import { inclusionProof } from "../../src/core/rfc6962.ts";
import { cosignatureV1Signer, ed25519NoteSigner, signNote } from "../../src/core/signed-note.ts";
import { parseTrustPolicy } from "../../src/core/tlog-policy.ts";
import { formatTlogProof } from "../../src/core/tlog-proof.ts";
import { verifyDocumentWithPolicy } from "../../src/core/verify-document-with-policy.ts";

const root = path.resolve(import.meta.dirname, "../..");
const vectors = JSON.parse(
  readFileSync(path.join(root, "test/vectors/log-bundle-1.json"), "utf8"),
) as { policy: string; cases: { name: string; document: Record<string, unknown> }[] };
const docOf = (name: string) => {
  const { log: _log, ...rest } = vectors.cases.find((c) => c.name === name)!.document;
  return rest;
};
const ORIGIN = "sso.example/ledger-log";
const seed = (i: number) => new Uint8Array(32).fill(i + 1);
const logSigner = ed25519NoteSigner(ORIGIN, seed(0));
const names = ["auditors", "audit-court", "employers", "workers"];
const cosigners = names.map((n, i) => cosignatureV1Signer(`${n}.example/witness`, seed(i + 1)));
const constant = new Uint8Array(32).fill(0xab);

/** The bundle of batch `index + 1` in a log of `size` (real entry, checkpoint and signatures). */
function bundleAt(doc: Record<string, unknown>, index: number, size: number) {
  const entry = ledgerLogEntry({
    chainId: 31337,
    contract: doc.contract as string,
    batchId: index + 1,
    scheme: doc.format === "shafaf-receipt/1" ? "shafaf-tree/1" : "shafaf-tree/2",
    kind: "premium",
    period: "1403-07",
    root: `0x${"11".repeat(32)}`,
    manifestHash: `0x${"22".repeat(32)}`,
    idempotencyKey: `0x${"33".repeat(32)}`,
    recordCount: 1_000_000,
    total: "123456789012345678",
    supersedes: null,
    txHash: `0x${"44".repeat(32)}`,
  });
  const note = signNote(
    formatCheckpoint({ origin: ORIGIN, size, rootHash: constant, extensions: [] }),
    [logSigner, ...cosigners],
  );
  const proof = inclusionProof(index, size, () => constant);
  return {
    hashes: proof.length,
    bundle: buildLogBundle(
      entry,
      formatTlogProof({ index, inclusionProof: proof, checkpoint: note }),
    ),
  };
}

const bytes = (x: unknown) => Buffer.byteLength(JSON.stringify(x));
console.log(
  "| receipt | log size | entry | proof hashes | receipt bytes | bundle bytes | with bundle |",
);
console.log("|---|---|---|---|---|---|---|");
for (const [label, name] of [
  ["v1", "v1-valid"],
  ["v2", "v2-valid"],
] as const) {
  const doc = docOf(name);
  for (const size of [1_000, 1_000_000]) {
    for (const index of [0, size - 1]) {
      const { hashes, bundle } = bundleAt(doc, index, size);
      const plain = bytes(doc);
      const withLog = bytes({ ...doc, log: bundle });
      console.log(
        `| ${label} | ${size.toLocaleString("en")} | ${index === 0 ? "0 (worst case)" : `${(size - 1).toLocaleString("en")} (newest)`} | ${hashes} | ${plain.toLocaleString("en")} | ${(withLog - plain).toLocaleString("en")} | ${withLog.toLocaleString("en")} |`,
      );
    }
  }
}

// Verification time in Node (the browser's is measured by test/web/offline-receipt.test.ts).
for (const name of ["v1-valid", "v2-valid"]) {
  const doc = vectors.cases.find((c) => c.name === name)!.document;
  const vp = parseTrustPolicy(vectors.policy);
  for (let i = 0; i < 20; i++) await verifyDocumentWithPolicy(doc, { policy: vp });
  const ms: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    const r = await verifyDocumentWithPolicy(doc, { policy: vp });
    ms.push(performance.now() - t0);
    if (r.status !== "verified") throw new Error(`${name} did not verify`);
  }
  ms.sort((a, b) => a - b);
  console.log(
    `verifyDocumentWithPolicy ${name} (Node, median of 200): ${ms[100]!.toFixed(2)} ms (p90 ${ms[180]!.toFixed(2)} ms)`,
  );
}
