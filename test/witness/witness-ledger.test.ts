/**
 * Issue #16 item 2: a witness told to follow the ledger (`shafaf witness --rpc … --contract …`)
 * cosigns only checkpoints that match the ledger contract at the finalized block: no more entries
 * than the ledger has batches, and the ledger's recorded checkpoint root at that size. A real
 * Hardhat chain and ledger, a real tiled log, the real witness and its LevelDB store.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { id } from "ethers";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import { recordLogCheckpoint } from "../../src/chain/record-log-checkpoint.ts";
import { connectProvider, devWallet } from "../../src/chain/signer.ts";
import { ledgerCheckpointCheck } from "../../src/cli/witness-ledger-check.ts";
import {
  cosignatureV1Signer,
  ed25519NoteSigner,
  ed25519PublicKey,
  formatVerifierKey,
  noteVerifier,
  SIG_TYPE_ED25519,
} from "../../src/core/signed-note.ts";
import { openTiledLog, type TiledLog } from "../../src/log/tiled-log.ts";
import { formatAddCheckpointBody } from "../../src/log/witness-client.ts";
import { createWitness } from "../../src/witness/witness.ts";
import { openWitnessStore, type WitnessStore } from "../../src/witness/witness-store.ts";
import { anchor, deployFixture, type LedgerFixture } from "../indexer/ledger-fixture.ts";

const ORIGIN = "sso.example/ledger-log";
const logSeed = new Uint8Array(32).fill(7);
const logVkey = formatVerifierKey(ORIGIN, SIG_TYPE_ED25519, ed25519PublicKey(logSeed));
const entry = (text: string) => new TextEncoder().encode(text);

describe("a witness that follows the ledger (--rpc, --contract)", function () {
  this.timeout(120_000);
  let chain: DevChain;
  let work: string;
  let f: LedgerFixture;
  const stores: WitnessStore[] = [];

  before(async function () {
    chain = await startDevChain();
    work = await mkdtemp(path.join(os.tmpdir(), "shafaf-witness-ledger-"));
    f = await deployFixture(chain.url);
    await anchor(f, { recordCount: 3, total: 100n });
    await anchor(f, { recordCount: 4, total: 200n });
  });
  after(async function () {
    for (const s of stores) await s.close();
    await chain?.stop();
    await rm(work, { recursive: true, force: true });
  });

  async function logOf(name: string, entries: string[]): Promise<TiledLog> {
    const log = await openTiledLog({
      dir: path.join(work, name),
      origin: ORIGIN,
      signer: ed25519NoteSigner(ORIGIN, logSeed),
    });
    await log.append(entries.map(entry));
    return log;
  }
  async function witnessOf(name: string) {
    const store = await openWitnessStore(path.join(work, `witness-${name}`));
    stores.push(store);
    return createWitness({
      cosigner: cosignatureV1Signer("court.example/witness", new Uint8Array(32).fill(9)),
      logs: [noteVerifier(logVkey)],
      store,
      ledgerCheck: ledgerCheckpointCheck({
        rpcUrls: [chain.url],
        contract: f.address,
        tag: "finalized",
      }),
    });
  }

  it("refuses a checkpoint with more entries than the ledger has batches, cosigns one within", async function () {
    const witness = await witnessOf("count");
    const ahead = await logOf("ahead", ["b1", "b2", "b3"]);
    const refused = await witness.addCheckpoint(
      formatAddCheckpointBody(0, [], await ahead.signCheckpoint()),
    );
    expect(refused.status).to.equal(422);
    expect(refused.body).to.match(
      /has 3 entries, the ledger only 2 batch\(es\) at the finalized block/,
    );
    const within = await logOf("within", ["b1", "b2"]);
    const ok = await witness.addCheckpoint(
      formatAddCheckpointBody(0, [], await within.signCheckpoint()),
    );
    expect(ok.status, ok.body).to.equal(200);
  });

  it("refuses a log whose root differs from the checkpoint the ledger recorded at that size", async function () {
    const recorded = await logOf("recorded", ["e1", "e2"]);
    const recorder = devWallet(5).connect(connectProvider(chain.url, 31337));
    await (await f.admin.getFunction("grantRole")(id("LOG_ROLE"), recorder.address)).wait();
    const r = await recordLogCheckpoint({
      wallet: recorder,
      address: f.address,
      size: recorded.size(),
      root: recorded.rootHash(),
      rootAt: (n) => recorded.rootHash(n),
      consistencyProof: (n) => recorded.consistencyProof(n),
    });
    expect(r.status).to.equal("recorded");
    const witness = await witnessOf("fork");
    const forked = await logOf("forked", ["e1", "another e2"]);
    const refused = await witness.addCheckpoint(
      formatAddCheckpointBody(0, [], await forked.signCheckpoint()),
    );
    expect(refused.status).to.equal(422);
    expect(refused.body).to.match(/the ledger recorded another root for the log's first 2 entries/);
    const same = await witness.addCheckpoint(
      formatAddCheckpointBody(0, [], await recorded.signCheckpoint()),
    );
    expect(same.status, same.body).to.equal(200);
    recorder.provider?.destroy();
  });

  it("refuses when the ledger cannot be read (the check fails closed)", async function () {
    const store = await openWitnessStore(path.join(work, "witness-down"));
    stores.push(store);
    const witness = createWitness({
      cosigner: cosignatureV1Signer("court.example/witness", new Uint8Array(32).fill(9)),
      logs: [noteVerifier(logVkey)],
      store,
      ledgerCheck: ledgerCheckpointCheck({
        rpcUrls: ["http://127.0.0.1:9"],
        contract: f.address,
        tag: "finalized",
      }),
    });
    const log = await logOf("down", ["x"]);
    const r = await witness.addCheckpoint(
      formatAddCheckpointBody(0, [], await log.signCheckpoint()),
    );
    expect(r.status).to.equal(422);
    expect(r.body).to.match(/could not be read/);
  });
});
