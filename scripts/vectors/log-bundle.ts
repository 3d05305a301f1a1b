/**
 * test/vectors/log-bundle-1.json (docs/spec/log-bundle-v1.md): receipts v1 and v2 and a person
 * proof carrying a log bundle — a ledger log of 11 batches whose checkpoint is signed by the log
 * key and cosigned by four witnesses at fixed times, with the 3-of-4 trust policy — valid, and
 * with named corruptions, each with the status and failed checks `verifyDocumentWithPolicy` gives.
 * Deterministic: keys derive from fixed labels, cosignature times are fixed.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { formatCheckpoint } from "../../src/core/checkpoint.ts";
import { bytesToHex } from "../../src/core/hex.ts";
import { ledgerLogEntry, type LedgerLogBatch } from "../../src/core/ledger-log-entry.ts";
import { buildLogBundle, type LogBundle } from "../../src/core/log-bundle.ts";
import { hashLeaf, inclusionProof, memoryNodeSource, rootHash } from "../../src/core/rfc6962.ts";
import {
  cosignatureV1Signer,
  ed25519NoteSigner,
  ed25519PublicKey,
  formatVerifierKey,
  signNote,
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
  type NoteSigner,
} from "../../src/core/signed-note.ts";
import { parseTrustPolicy } from "../../src/core/tlog-policy.ts";
import { formatTlogProof } from "../../src/core/tlog-proof.ts";
import { verifyDocumentWithPolicy } from "../../src/core/verify-document-with-policy.ts";

const seedOf = (label: string) =>
  sha256(new TextEncoder().encode(`shafaf/log-bundle-vectors/v1/${label}`));
const hex32 = (label: string) => bytesToHex(seedOf(label));
export const LOG_BUNDLE_ORIGIN = "sso.example/ledger-log";
/** 2026-01-01T00:00:00Z; witness k cosigns at T0 + 10 + k. */
const T0 = 1_767_225_600;
const WITNESSES = ["auditors", "audit-court", "employers", "workers"] as const;
const SIZE = 11;

/** The documents the vectors wrap: one valid of each format, from the other vector files. */
export interface LogBundleSources {
  /** A valid shafaf-receipt/1 (its batch becomes entry batchId − 1). */
  v1: Record<string, unknown>;
  /** A valid shafaf-receipt/2 and a valid shafaf-person-proof/1 of one batch. */
  v2: Record<string, unknown>;
  person: Record<string, unknown>;
  /** The person proof's VRF public key (trusted with the policy). */
  vrfPublicKey: string;
}

interface Log {
  entries: Uint8Array[];
  /** The checkpoint note of `size` entries signed by `logSigner` and cosigned by `cosigners`. */
  note(size: number, cosigners: readonly NoteSigner[], logSigner?: NoteSigner): string;
  proof(index: number, size: number, note: string): string;
  bundle(batchId: number, note: string, size?: number): LogBundle;
}

function makeLog(batches: readonly LedgerLogBatch[], logSigner: NoteSigner): Log {
  const entries = batches.map(ledgerLogEntry);
  const node = memoryNodeSource(entries.map(hashLeaf));
  const log: Log = {
    entries,
    note(size, cosigners, signer = logSigner) {
      const text = formatCheckpoint({
        origin: LOG_BUNDLE_ORIGIN,
        size,
        rootHash: rootHash(size, node),
        extensions: [],
      });
      return signNote(text, [signer, ...cosigners]);
    },
    proof: (index, size, note) =>
      formatTlogProof({
        index,
        inclusionProof: inclusionProof(index, size, node),
        checkpoint: note,
      }),
    bundle(batchId, note, size = SIZE) {
      return buildLogBundle(entries[batchId - 1]!, log.proof(batchId - 1, size, note));
    },
  };
  return log;
}

/** The 11 logged batches: the v1 document's at its batch id, the v2 documents' at theirs. */
function batchesOf(src: LogBundleSources): LedgerLogBatch[] {
  const v1 = src.v1 as { batchId: number; chainId: number; contract: string; root: string };
  const v2 = src.v2 as { batchId: number; proof: { root: { hash: string } } };
  const anchorTx = (src.v1.anchor as { txHash: string }).txHash;
  return Array.from({ length: SIZE }, (_, i): LedgerLogBatch => {
    const batchId = i + 1;
    const isV1 = batchId === v1.batchId;
    const isV2 = batchId === v2.batchId;
    return {
      chainId: v1.chainId,
      contract: v1.contract,
      batchId,
      scheme: isV2 ? "shafaf-tree/2" : "shafaf-tree/1",
      kind: "premium",
      period: "1403-07",
      root: isV1 ? v1.root : isV2 ? v2.proof.root.hash : hex32(`root/${batchId}`),
      manifestHash: hex32(`manifest/${batchId}`),
      idempotencyKey: hex32(`idempotency/${batchId}`),
      recordCount: 5 + batchId,
      total: String(1_000_000_000 * batchId),
      supersedes: null,
      txHash: isV1 ? anchorTx : hex32(`tx/${batchId}`),
    };
  });
}

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

export async function logBundleVectors(src: LogBundleSources) {
  const logSigner = ed25519NoteSigner(LOG_BUNDLE_ORIGIN, seedOf("log"));
  const logVkey = formatVerifierKey(
    LOG_BUNDLE_ORIGIN,
    SIG_TYPE_ED25519,
    ed25519PublicKey(seedOf("log")),
  );
  const witnesses = WITNESSES.map((short, k) => {
    const name = `${short}.example/witness`;
    const seed = seedOf(`witness/${short}`);
    return {
      short,
      signer: cosignatureV1Signer(name, seed, () => T0 + 10 + k),
      vkey: formatVerifierKey(name, SIG_TYPE_COSIGNATURE_V1, ed25519PublicKey(seed)),
    };
  });
  const policyText = [
    "# Shafaf ledger log, witnessed by four institutions; any three must cosign.",
    `log ${logVkey}`,
    ...witnesses.map((w) => `witness ${w.short} ${w.vkey}`),
    `group institutions 3 ${witnesses.map((w) => w.short).join(" ")}`,
    "quorum institutions",
    "",
  ].join("\n");
  const policy = parseTrustPolicy(policyText, "log-bundle-1.json:policy");
  const all = witnesses.map((w) => w.signer);
  const batches = batchesOf(src);
  const log = makeLog(batches, logSigner);
  const note = log.note(SIZE, all);

  const v1Id = src.v1.batchId as number;
  const v2Id = src.v2.batchId as number;
  const withLog = (doc: Record<string, unknown>, bundle: unknown): Record<string, unknown> => ({
    ...clone(doc),
    log: bundle,
  });

  // An honest-looking log that logged other facts: batch v1Id with another root, batch v2Id with
  // the v1 scheme (a correctly signed and cosigned view in which the document is not what was logged).
  const fork = makeLog(
    batches.map((b) =>
      b.batchId === v1Id
        ? { ...b, root: hex32("forked-root") }
        : b.batchId === v2Id
          ? { ...b, scheme: "shafaf-tree/1" as const }
          : b,
    ),
    logSigner,
  );
  const forkNote = fork.note(SIZE, all);
  const impostor = makeLog(batches, ed25519NoteSigner(LOG_BUNDLE_ORIGIN, seedOf("impostor")));
  const impostorNote = impostor.note(SIZE, all);

  const flipCosignature = (n: string): string => {
    const lines = n.split("\n");
    const i = lines.findIndex((l) => l.startsWith("— audit-court.example/witness "));
    const sig = lines[i]!.split(" ");
    const b64 = sig[2]!;
    // Flip a bit inside the Ed25519 signature (after key id and timestamp).
    const raw = Buffer.from(b64, "base64");
    raw[20]! ^= 0x01;
    sig[2] = raw.toString("base64");
    lines[i] = sig.join(" ");
    return lines.join("\n");
  };
  const flipProofHash = (b: LogBundle): LogBundle => {
    const lines = b.proof.split("\n");
    const raw = Buffer.from(lines[2]!, "base64");
    raw[31]! ^= 0x01;
    lines[2] = raw.toString("base64");
    return { ...b, proof: lines.join("\n") };
  };

  const cases: {
    name: string;
    description: string;
    document: unknown;
    vrfPublicKey?: string;
  }[] = [
    {
      name: "v1-valid",
      description: "a shafaf-receipt/1 with its bundle, cosigned by 4 of 4",
      document: withLog(src.v1, log.bundle(v1Id, note)),
    },
    {
      name: "v2-valid",
      description: "a shafaf-receipt/2 with its bundle, cosigned by 4 of 4",
      document: withLog(src.v2, log.bundle(v2Id, note)),
    },
    {
      name: "person-proof-valid",
      description: "a shafaf-person-proof/1 with its bundle and the trusted VRF key",
      document: withLog(src.person, log.bundle(v2Id, note)),
      vrfPublicKey: src.vrfPublicKey,
    },
    {
      name: "v1-quorum-exactly",
      description: "cosigned by 3 of 4 (workers did not cosign): the quorum is met",
      document: withLog(src.v1, log.bundle(v1Id, log.note(SIZE, all.slice(0, 3)))),
    },
    {
      name: "v2-unknown-extra-signature",
      description: "an extra cosignature by a key the policy does not know is ignored",
      document: withLog(
        src.v2,
        log.bundle(
          v2Id,
          log.note(SIZE, [
            ...all,
            cosignatureV1Signer("stranger.example/witness", seedOf("stranger"), () => T0 + 99),
          ]),
        ),
      ),
    },
    {
      name: "v1-no-bundle",
      description: "no log bundle: inconclusive, nothing to check offline",
      document: clone(src.v1),
    },
    {
      name: "v2-no-bundle",
      description: "no log bundle: inconclusive, nothing to check offline",
      document: clone(src.v2),
    },
    {
      name: "entry-other-batch",
      description: "the bundle of batch 2 (a valid proof of another entry) on the v1 receipt",
      document: withLog(src.v1, log.bundle(2, note)),
    },
    {
      name: "entry-root-not-logged",
      description:
        "a correctly signed and cosigned log in which the receipt's batch has another root",
      document: withLog(src.v1, fork.bundle(v1Id, forkNote)),
    },
    {
      name: "entry-scheme-differs",
      description: "a cosigned log in which the v2 receipt's batch is logged as shafaf-tree/1",
      document: withLog(src.v2, fork.bundle(v2Id, forkNote)),
    },
    {
      name: "proof-other-index",
      description: "the v1 receipt's entry with the proof of entry 2",
      document: withLog(src.v1, {
        ...log.bundle(v1Id, note),
        proof: log.proof(2, SIZE, note),
      }),
    },
    {
      name: "proof-hash-flipped",
      description: "one bit of an inclusion proof hash flipped",
      document: withLog(src.v2, flipProofHash(log.bundle(v2Id, note))),
    },
    {
      name: "unknown-log-key",
      description: "the checkpoint signed by a log key the policy does not know (cosigned by all)",
      document: withLog(src.v1, impostor.bundle(v1Id, impostorNote)),
    },
    {
      name: "quorum-not-met",
      description: "cosigned by 2 of 4 (auditors, audit-court): the policy needs 3",
      document: withLog(src.v2, log.bundle(v2Id, log.note(SIZE, all.slice(0, 2)))),
    },
    {
      name: "tampered-cosignature",
      description: "one bit of audit-court's cosignature flipped",
      document: withLog(src.v1, log.bundle(v1Id, flipCosignature(note))),
    },
    {
      name: "stale-checkpoint",
      description: `a cosigned checkpoint of size ${v2Id - 2}, older than batch ${v2Id}'s entry`,
      document: withLog(src.v2, {
        ...log.bundle(v2Id, note),
        proof: formatTlogProof({
          index: v2Id - 1,
          inclusionProof: [],
          checkpoint: log.note(v2Id - 2, all),
        }),
      }),
    },
    {
      name: "entry-not-canonical",
      description: "the entry with a space after its first comma",
      document: withLog(src.v1, {
        ...log.bundle(v1Id, note),
        entry: log.bundle(v1Id, note).entry.replace(",", ", "),
      }),
    },
    {
      name: "unknown-bundle-format",
      description: "log.format shafaf-log-bundle/2",
      document: withLog(src.v2, { ...log.bundle(v2Id, note), format: "shafaf-log-bundle/2" }),
    },
    {
      name: "v2-record-tampered",
      description: "a valid bundle on a v2 receipt whose record's total was raised by one",
      document: (() => {
        const d = withLog(src.v2, log.bundle(v2Id, note));
        const rec = d.record as Record<string, string>;
        rec.total = (BigInt(rec.total!) + 1n).toString();
        return d;
      })(),
    },
  ];

  const out = [];
  for (const c of cases) {
    const r = await verifyDocumentWithPolicy(c.document, {
      policy,
      ...(c.vrfPublicKey === undefined ? {} : { vrfPublicKey: c.vrfPublicKey }),
    });
    out.push({
      ...c,
      expect: {
        status: r.status,
        failedChecks: r.checks.filter((x) => x.outcome === "fail").map((x) => x.name),
        ...(r.log === undefined
          ? {}
          : {
              cosigners: r.log.cosigners.map((x) => x.name),
              checkpointTime: r.log.checkpointTime,
            }),
      },
    });
  }
  return {
    format: "shafaf-vectors/1",
    description:
      "Receipts v1, v2 and person proofs carrying a log bundle (docs/spec/log-bundle-v1.md), verified offline against `policy` (c2sp.org/tlog-policy) with the result verifyDocumentWithPolicy must give. Generated by scripts/generate-vectors.ts; do not edit.",
    policy: policyText,
    checkpoint: note,
    cases: out,
  };
}
