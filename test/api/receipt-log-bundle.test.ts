/**
 * `GET /api/v1/receipts/{code}` when the server keeps a witnessed ledger log: the receipt leaves
 * with its batch's log bundle (built from a real tiled log in a temp dir, cosigned 3 of 4), which
 * verifies offline against the trust policy and stays within the documented receipt schema; no
 * bundle (and a short cache) while the batch is not logged yet, when the checkpoint lacks the
 * quorum, or when the log names another root; `GET /trust-policy.txt` serves the policy.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { Ajv2020 } from "ajv/dist/2020.js";
import { expect } from "chai";
import { formatCheckpoint } from "../../src/core/checkpoint.ts";
import { ledgerLogEntry, type LedgerLogBatch } from "../../src/core/ledger-log-entry.ts";
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
import { verifyDocumentWithPolicy } from "../../src/core/verify-document-with-policy.ts";
import { indexedLogBatches } from "../../src/cli/ledger-log-follower.ts";
import { createLogBundleSource, type LogBundleOf } from "../../src/log/log-bundle-source.ts";
import { openTiledLog, type TiledLog } from "../../src/log/tiled-log.ts";
import { serveDataset, type Served } from "./api-fixture.ts";
import { call } from "./http.ts";

const ORIGIN = "sso.example/ledger-log";

describe("receipts with their log bundle (GET /api/v1/receipts/{code})", function () {
  this.timeout(60_000);
  let s: Served;
  let dir: string;
  let log: TiledLog;
  let batches: LedgerLogBatch[];
  let source: LogBundleOf;
  const logSeed = randomBytes(32);
  const logSigner = ed25519NoteSigner(ORIGIN, logSeed);
  const witnesses = ["auditors", "audit-court", "employers", "workers"].map((short) => {
    const seed = randomBytes(32);
    const name = `${short}.example/witness`;
    return {
      short,
      signer: cosignatureV1Signer(name, seed),
      vkey: formatVerifierKey(name, SIG_TYPE_COSIGNATURE_V1, ed25519PublicKey(seed)),
    };
  });
  const policyText = [
    `log ${formatVerifierKey(ORIGIN, SIG_TYPE_ED25519, ed25519PublicKey(logSeed))}`,
    ...witnesses.map((w) => `witness ${w.short} ${w.vkey}`),
    `group institutions 3 ${witnesses.map((w) => w.short).join(" ")}`,
    "quorum institutions",
    "",
  ].join("\n");
  const policy = parseTrustPolicy(policyText);

  /** Publishes a checkpoint of the log's current size signed by `signer`, cosigned by `cosigners`. */
  async function publish(cosigners: readonly NoteSigner[], signer = logSigner): Promise<void> {
    const text = formatCheckpoint({
      origin: ORIGIN,
      size: log.size(),
      rootHash: log.rootHash(),
      extensions: [],
    });
    await log.publishCheckpoint(signNote(text, [signer, ...cosigners]));
  }
  const receiptOf = (batch: number) => s.dataset.batches.find((b) => b.view.batchId === batch)!;

  before(async function () {
    s = await serveDataset({
      logBundle: (id) => source(id),
      trustPolicy: policyText,
    });
    dir = mkdtempSync(path.join(tmpdir(), "shafaf-log-bundle-"));
    batches = (await indexedLogBatches(s.index)).sort((a, b) => a.batchId - b.batchId);
    log = await openTiledLog({ dir, origin: ORIGIN, signer: logSigner });
    await log.append(batches.slice(0, 2).map(ledgerLogEntry));
    await publish(witnesses.map((w) => w.signer));
    source = createLogBundleSource({ log, policy });
  });
  after(async function () {
    await s?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("hands out a logged batch's receipt with a bundle that verifies offline, within the schema", async function () {
    const { code, receipt } = receiptOf(2).receipts[0]!;
    const r = await call(`${s.url}/api/v1/receipts/${code}`);
    expect(r.status).to.equal(200);
    expect(r.headers.get("cache-control")).to.equal("private, max-age=3600");
    const { log: bundle, ...rest } = r.json as Record<string, unknown>;
    expect(rest).to.deep.equal(receipt);
    expect(bundle).to.have.property("format", "shafaf-log-bundle/1");
    const verified = await verifyDocumentWithPolicy(r.json, { policy });
    expect(verified.status, JSON.stringify(verified.checks.filter((c) => !c.ok))).to.equal(
      "verified",
    );
    expect(verified.log?.cosigners.map((c) => c.name)).to.deep.equal(witnesses.map((w) => w.short));
    expect(verified.log?.index).to.equal(1);
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    const schema = JSON.parse(
      readFileSync(
        path.resolve(import.meta.dirname, "../../schemas/receipt-1.schema.json"),
        "utf8",
      ),
    ) as object;
    expect(ajv.validate(schema, r.json), ajv.errorsText()).to.equal(true);
  });

  it("hands out a receipt of a batch the log has not reached yet without a bundle, cached briefly", async function () {
    const { code, receipt } = receiptOf(3).receipts[0]!;
    const r = await call(`${s.url}/api/v1/receipts/${code}`);
    expect(r.status).to.equal(200);
    expect(r.json).to.deep.equal(receipt);
    expect(r.headers.get("cache-control")).to.equal("private, max-age=60");
  });

  it("withholds the bundle while the checkpoint lacks the quorum, and says so in the log", async function () {
    await log.append(batches.slice(2).map(ledgerLogEntry));
    await publish(witnesses.slice(0, 2).map((w) => w.signer));
    const { code } = receiptOf(3).receipts[0]!;
    const r = await call(`${s.url}/api/v1/receipts/${code}`);
    expect(r.status).to.equal(200);
    expect(r.json).to.not.have.property("log");
    expect(
      s.logs.some((l) => l.event === "log-bundle-withheld" && l.fields.batchId === 3),
    ).to.equal(true);
    await publish(witnesses.slice(1).map((w) => w.signer));
    const again = await call(`${s.url}/api/v1/receipts/${code}`);
    expect(again.json).to.have.property("log");
    expect((await verifyDocumentWithPolicy(again.json, { policy })).status).to.equal("verified");
  });

  it("never attaches a bundle whose entry names another root than the receipt", async function () {
    const forkDir = mkdtempSync(path.join(tmpdir(), "shafaf-log-fork-"));
    try {
      const fork = await openTiledLog({ dir: forkDir, origin: ORIGIN, signer: logSigner });
      await fork.append(
        batches.map((b) =>
          ledgerLogEntry(b.batchId === 1 ? { ...b, root: `0x${"ee".repeat(32)}` } : b),
        ),
      );
      await fork.signCheckpoint();
      const saved = source;
      source = createLogBundleSource({ log: fork });
      try {
        const { code, receipt } = receiptOf(1).receipts[0]!;
        const r = await call(`${s.url}/api/v1/receipts/${code}`);
        expect(r.status).to.equal(200);
        expect(r.json).to.deep.equal(receipt);
        expect(
          s.logs.some((l) => l.event === "log-bundle-mismatch" && l.fields.batchId === 1),
        ).to.equal(true);
      } finally {
        source = saved;
      }
    } finally {
      rmSync(forkDir, { recursive: true, force: true });
    }
  });

  it("serves the trust policy at /trust-policy.txt", async function () {
    const r = await fetch(`${s.url}/trust-policy.txt`);
    expect(r.status).to.equal(200);
    expect(r.headers.get("content-type")).to.match(/^text\/plain/);
    expect(await r.text()).to.equal(policyText);
  });
});
