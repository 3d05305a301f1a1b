/**
 * `npm run vectors:c2sp` writes test/vectors/c2sp/shafaf-witnessed-1.json: a Shafaf ledger log
 * of 11 entries, its checkpoint signed by the log key and cosigned by 4 witnesses at fixed
 * times, the trust policy (3 of 4), a tlog-proof for every entry, and named corruptions that
 * every verifier must reject with the named failed check. `--check` regenerates in memory and
 * exits 1 when the committed file differs. Deterministic: keys derive from fixed labels.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { sha256 } from "@noble/hashes/sha2.js";
import { formatCheckpoint } from "../src/core/checkpoint.ts";
import { hashLeaf, inclusionProof, memoryNodeSource, rootHash } from "../src/core/rfc6962.ts";
import {
  cosignatureV1Signer,
  ed25519NoteSigner,
  ed25519PublicKey,
  formatVerifierKey,
  signNote,
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
} from "../src/core/signed-note.ts";
import { formatTlogProof } from "../src/core/tlog-proof.ts";

const file = path.resolve(import.meta.dirname, "../test/vectors/c2sp/shafaf-witnessed-1.json");
const seedOf = (label: string) =>
  sha256(new TextEncoder().encode(`shafaf/c2sp-vectors/v1/${label}`));
const ORIGIN = "sso.example/ledger-log";
const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z

export function buildWitnessedVectors(): unknown {
  const logSeed = seedOf("log");
  const logVkey = formatVerifierKey(ORIGIN, SIG_TYPE_ED25519, ed25519PublicKey(logSeed));
  const witnesses = [1, 2, 3, 4].map((i) => {
    const name = `auditor-${i}.example/witness`;
    const seed = seedOf(`witness-${i}`);
    return {
      policyName: `w${i}`,
      name,
      seed,
      vkey: formatVerifierKey(name, SIG_TYPE_COSIGNATURE_V1, ed25519PublicKey(seed)),
    };
  });
  const policy = [
    "# Shafaf trust policy (c2sp.org/tlog-policy): the ledger log and four auditors' witnesses, 3 of 4.",
    `log ${logVkey}`,
    ...witnesses.map((w) => `witness ${w.policyName} ${w.vkey}`),
    "group auditors 3 w1 w2 w3 w4",
    "quorum auditors",
    "",
  ].join("\n");
  const entries = Array.from({ length: 11 }, (_, i) =>
    new TextEncoder().encode(`shafaf-batch-summary/1 batch ${i + 1}`),
  );
  const node = memoryNodeSource(entries.map(hashLeaf));
  const size = entries.length;
  const text = formatCheckpoint({
    origin: ORIGIN,
    size,
    rootHash: rootHash(size, node),
    extensions: [],
  });
  const logSigned = signNote(text, [ed25519NoteSigner(ORIGIN, logSeed)]);
  const cosign = (ws: typeof witnesses) =>
    signNote(
      text,
      ws.map((w, k) => cosignatureV1Signer(w.name, w.seed, () => T0 + 10 + k)),
      [],
    ).slice(text.length + 1);
  const withCosigs = (ws: typeof witnesses) => logSigned + cosign(ws);
  const fullNote = withCosigs(witnesses);
  const proofs = entries.map((e, index) => ({
    index,
    entry: Buffer.from(e).toString("hex"),
    leafHash: Buffer.from(hashLeaf(e)).toString("hex"),
    proof: formatTlogProof({
      index,
      inclusionProof: inclusionProof(index, size, node),
      checkpoint: fullNote,
    }),
  }));
  const target = proofs[6]!;
  const flip = (s: string, at: number) => {
    const raw = Buffer.from(s, "base64");
    raw[at]! ^= 1;
    return raw.toString("base64");
  };
  const lines = target.proof.split("\n");
  const corruptions = [
    {
      name: "inclusion-hash-bit",
      failedCheck: "inclusion",
      proof: [lines[0], lines[1], flip(lines[2]!, 0), ...lines.slice(3)].join("\n"),
    },
    {
      name: "wrong-index",
      failedCheck: "inclusion",
      proof: target.proof.replace("\nindex 6\n", "\nindex 7\n"),
    },
    {
      name: "index-beyond-size",
      failedCheck: "inclusion",
      proof: target.proof.replace("\nindex 6\n", "\nindex 11\n"),
    },
    {
      name: "truncated-inclusion-proof",
      failedCheck: "inclusion",
      proof: [...lines.slice(0, 2), ...lines.slice(3)].join("\n"),
    },
    {
      name: "two-cosignatures-of-four",
      failedCheck: "checkpoint",
      proof: target.proof.replace(fullNote, withCosigs(witnesses.slice(0, 2))),
    },
    {
      name: "unknown-witness-does-not-count",
      failedCheck: "checkpoint",
      proof: target.proof.replace(
        fullNote,
        withCosigs(witnesses.slice(0, 2)) +
          cosign([{ ...witnesses[2]!, name: "stranger.example/w", seed: seedOf("stranger") }]),
      ),
    },
    {
      name: "forged-cosignature",
      failedCheck: "checkpoint",
      proof: target.proof.replace(
        fullNote,
        logSigned +
          cosign(witnesses).replace(
            /(auditor-2\.example\/witness )(\S+)/,
            (_m, a: string, b: string) => a + flip(b, 20),
          ),
      ),
    },
    {
      name: "checkpoint-signed-by-another-key",
      failedCheck: "checkpoint",
      proof: target.proof.replace(
        fullNote,
        signNote(text, [ed25519NoteSigner(ORIGIN, seedOf("impostor"))]) + cosign(witnesses),
      ),
    },
    {
      name: "size-changed-in-checkpoint",
      failedCheck: "checkpoint",
      proof: target.proof.replace(`\n${ORIGIN}\n11\n`, `\n${ORIGIN}\n12\n`),
    },
    {
      name: "wrong-header",
      failedCheck: "format",
      proof: target.proof.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"),
    },
    {
      name: "leading-zero-index",
      failedCheck: "format",
      proof: target.proof.replace("\nindex 6\n", "\nindex 06\n"),
    },
    {
      name: "non-canonical-base64-hash",
      failedCheck: "format",
      proof: [lines[0], lines[1], lines[2]!.slice(0, -2) + "B=", ...lines.slice(3)].join("\n"),
    },
  ];
  return {
    format: "shafaf-c2sp-vectors/1",
    description:
      "A Shafaf ledger log with a checkpoint cosigned by 4 witnesses, its trust policy (3 of 4), a tlog-proof per entry, and corruptions. Written by scripts/generate-c2sp-vectors.ts; see docs/spec/tlog-proof-v1.md.",
    origin: ORIGIN,
    policy,
    checkpointText: text,
    cosignedCheckpoint: fullNote,
    witnesses: witnesses.map((w, k) => ({ name: w.name, vkey: w.vkey, timestamp: T0 + 10 + k })),
    proofs,
    corrupted: { entryIndex: 6, leafHash: target.leafHash, cases: corruptions },
  };
}

function main(): void {
  const text = JSON.stringify(buildWitnessedVectors(), null, 2) + "\n";
  if (!process.argv.includes("--check")) {
    writeFileSync(file, text);
    console.log(`wrote ${file}`);
    return;
  }
  if (readFileSync(file, "utf8") !== text) {
    console.error(
      `${file} differs from what scripts/generate-c2sp-vectors.ts writes: run npm run vectors:c2sp`,
    );
    process.exit(1);
  }
  console.log("c2sp vectors are up to date");
}

if (import.meta.url === `file://${process.argv[1]}`) main();
