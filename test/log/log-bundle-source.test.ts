/**
 * createLogBundleSource over a real tiled log in a temp dir: no checkpoint, a batch beyond the
 * checkpoint, a checkpoint below the policy's quorum, bundles that verify and are memoized per
 * checkpoint, and a log whose entry is not its batch's (a broken log is an InvariantError, never
 * a bundle). openLogForBundles opens a log read-only.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { formatCheckpoint } from "../../src/core/checkpoint.ts";
import { InvariantError } from "../../src/core/errors.ts";
import { ledgerLogEntry, type LedgerLogBatch } from "../../src/core/ledger-log-entry.ts";
import { logBundleEntryBytes } from "../../src/core/log-bundle.ts";
import { hashLeaf } from "../../src/core/rfc6962.ts";
import {
  cosignatureV1Signer,
  ed25519NoteSigner,
  ed25519PublicKey,
  formatVerifierKey,
  signNote,
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
} from "../../src/core/signed-note.ts";
import { parseTrustPolicy } from "../../src/core/tlog-policy.ts";
import { verifyTlogProof } from "../../src/core/tlog-proof.ts";
import { createLogBundleSource, openLogForBundles } from "../../src/log/log-bundle-source.ts";
import { openTiledLog, type TiledLog } from "../../src/log/tiled-log.ts";

const ORIGIN = "sso.example/ledger-log";
const logSeed = new Uint8Array(32).fill(5);
const logSigner = ed25519NoteSigner(ORIGIN, logSeed);
const witness = cosignatureV1Signer("w.example/witness", new Uint8Array(32).fill(6));
const policy = parseTrustPolicy(
  [
    `log ${formatVerifierKey(ORIGIN, SIG_TYPE_ED25519, ed25519PublicKey(logSeed))}`,
    `witness w ${formatVerifierKey("w.example/witness", SIG_TYPE_COSIGNATURE_V1, ed25519PublicKey(new Uint8Array(32).fill(6)))}`,
    "quorum w",
  ].join("\n"),
);
const batch = (batchId: number): LedgerLogBatch => ({
  chainId: 31337,
  contract: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
  batchId,
  scheme: "shafaf-tree/1",
  kind: "premium",
  period: "1403-07",
  root: `0x${batchId.toString(16).padStart(2, "0").repeat(32)}`,
  manifestHash: `0x${"b2".repeat(32)}`,
  idempotencyKey: `0x${"c3".repeat(32)}`,
  recordCount: batchId,
  total: "1000",
  supersedes: null,
  txHash: `0x${"d4".repeat(32)}`,
});

describe("createLogBundleSource", () => {
  let dir: string;
  let log: TiledLog;
  const publish = async (cosigned: boolean) => {
    const text = formatCheckpoint({
      origin: ORIGIN,
      size: log.size(),
      rootHash: log.rootHash(),
      extensions: [],
    });
    await log.publishCheckpoint(signNote(text, cosigned ? [logSigner, witness] : [logSigner]));
  };
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "shafaf-bundle-source-"));
    log = await openTiledLog({ dir, origin: ORIGIN, signer: logSigner });
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it("says why there is no bundle: no checkpoint, not logged yet, below the quorum", async () => {
    const bundleOf = createLogBundleSource({ log, policy });
    expect(await bundleOf(1)).to.include({ ok: false, reason: "no-checkpoint" });
    await log.append([1, 2].map((i) => ledgerLogEntry(batch(i))));
    await publish(false);
    expect(await bundleOf(1)).to.include({ ok: false, reason: "below-quorum" });
    await publish(true);
    expect(await bundleOf(3)).to.include({ ok: false, reason: "not-logged-yet" });
  });

  it("returns a bundle whose proof verifies against the policy, memoized per checkpoint", async () => {
    await log.append([1, 2, 3].map((i) => ledgerLogEntry(batch(i))));
    await publish(true);
    const bundleOf = createLogBundleSource({ log, policy });
    const found = await bundleOf(2);
    if (!found.ok) throw new Error(found.detail);
    expect(found.root).to.equal(batch(2).root);
    const r = verifyTlogProof(
      found.bundle.proof,
      hashLeaf(logBundleEntryBytes(found.bundle)),
      policy,
    );
    expect(r.status).to.equal("verified");
    expect(await bundleOf(2)).to.deep.equal(found);
    await log.append([ledgerLogEntry(batch(4))]);
    await publish(true);
    const later = await bundleOf(2);
    expect(later.ok && later.bundle.proof).to.not.equal(found.bundle.proof); // the new checkpoint
  });

  it("refuses a log whose entry is not its batch's (InvariantError, code log.bundle)", async () => {
    await log.append([ledgerLogEntry(batch(2)), ledgerLogEntry(batch(1))]);
    await publish(true);
    const bundleOf = createLogBundleSource({ log, policy });
    const error = await bundleOf(1).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(InvariantError);
    expect((error as InvariantError).code).to.equal("log.bundle");
  });

  it("works over a log opened read-only (openLogForBundles), which refuses to sign", async () => {
    await log.append([1, 2].map((i) => ledgerLogEntry(batch(i))));
    await publish(true);
    const readOnly = await openLogForBundles(
      dir,
      await readFile(path.join(dir, "checkpoint"), "utf8"),
    );
    const found = await createLogBundleSource({ log: readOnly, policy })(1);
    expect(found.ok).to.equal(true);
    let refused: unknown;
    try {
      await readOnly.signCheckpoint();
    } catch (e) {
      refused = e;
    }
    expect(refused).to.be.instanceOf(InvariantError);
  });
});
