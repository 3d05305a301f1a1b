import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { parseCheckpoint } from "../../src/core/checkpoint.ts";
import { InvariantError } from "../../src/core/errors.ts";
import {
  ledgerLogEntry,
  parseLedgerLogEntry,
  type LedgerLogBatch,
} from "../../src/core/ledger-log-entry.ts";
import {
  cosignatureV1Signer,
  ed25519NoteSigner,
  ed25519PublicKey,
  formatVerifierKey,
  noteVerifier,
  openNote,
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
} from "../../src/core/signed-note.ts";
import { openTiledLog } from "../../src/log/tiled-log.ts";
import { syncLedgerLog } from "../../src/log/sync-ledger-log.ts";
import type { WitnessEndpoint } from "../../src/log/witness-client.ts";
import { createWitness } from "../../src/witness/witness.ts";
import { createWitnessApp } from "../../src/witness/witness-app.ts";
import { openWitnessStore, type WitnessStore } from "../../src/witness/witness-store.ts";

const ORIGIN = "sso.example/ledger-log";
const logSeed = new Uint8Array(32).fill(21);
const h = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;

function batch(id: number, over: Partial<LedgerLogBatch> = {}): LedgerLogBatch {
  return {
    chainId: 31337,
    contract: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
    batchId: id,
    scheme: "shafaf-tree/1",
    kind: "premium",
    period: "1403-07",
    root: h(id),
    manifestHash: h(1000 + id),
    idempotencyKey: h(2000 + id),
    recordCount: id,
    total: String(id * 1000),
    supersedes: null,
    txHash: h(3000 + id),
    ...over,
  };
}

describe("syncLedgerLog", function () {
  this.timeout(60_000);
  let dir: string;
  const open = (sub: string) =>
    openTiledLog({
      dir: path.join(dir, sub),
      origin: ORIGIN,
      signer: ed25519NoteSigner(ORIGIN, logSeed),
    });
  const logVerifier = noteVerifier(
    formatVerifierKey(ORIGIN, SIG_TYPE_ED25519, ed25519PublicKey(logSeed)),
  );
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "shafaf-synclog-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("logs batches in batch-id order and signs a checkpoint of the new size", async () => {
    const log = await open("a");
    const r = await syncLedgerLog({ log, batches: [batch(3), batch(1), batch(2)] });
    expect(r).to.include({ appended: 3, size: 3 });
    expect([0, 1, 2].map((i) => parseLedgerLogEntry(log.entry(i)).batchId)).to.deep.equal([
      1, 2, 3,
    ]);
    const opened = openNote(r.checkpoint!, [logVerifier]);
    expect(opened.ok).to.equal(true);
    const cp = parseCheckpoint(r.checkpoint!.split("\n\n")[0]! + "\n");
    expect(cp.size).to.equal(3);
    expect(Buffer.from(cp.rootHash).equals(Buffer.from(log.rootHash(3)))).to.equal(true);
    expect(await log.checkpoint()).to.equal(r.checkpoint);
  });

  it("is idempotent, appends only batches beyond its size, and survives reopening", async () => {
    const log = await open("b");
    await syncLedgerLog({ log, batches: [batch(1), batch(2)] });
    const first = await log.checkpoint();
    const again = await syncLedgerLog({ log, batches: [batch(1), batch(2)] });
    expect(again).to.include({ appended: 0, size: 2 });
    expect(await log.checkpoint()).to.equal(first);
    const reopened = await open("b");
    const more = await syncLedgerLog({ log: reopened, batches: [1, 2, 3, 4].map((i) => batch(i)) });
    expect(more).to.include({ appended: 2, size: 4 });
    // A log rebuilt from scratch from the same batches has the same entries and root.
    const rebuilt = await open("b2");
    await syncLedgerLog({ log: rebuilt, batches: [4, 3, 2, 1].map((i) => batch(i)) });
    expect(Buffer.from(rebuilt.rootHash()).equals(Buffer.from(reopened.rootHash()))).to.equal(true);
    expect(Buffer.from(reopened.entry(3)).equals(Buffer.from(ledgerLogEntry(batch(4))))).to.equal(
      true,
    );
  });

  it("stops at a gap in batch ids and says which batch it waits for", async () => {
    const log = await open("c");
    const r = await syncLedgerLog({ log, batches: [batch(1), batch(2), batch(4)] });
    expect(r).to.include({ appended: 2, size: 2, waitingBefore: 3 });
    const r2 = await syncLedgerLog({ log, batches: [1, 2, 3, 4].map((i) => batch(i)) });
    expect(r2).to.include({ appended: 2, size: 4 });
    expect(r2.waitingBefore).to.equal(undefined);
  });

  it("refuses a fork: a logged batch that the chain now shows differently", async () => {
    const log = await open("d");
    await syncLedgerLog({ log, batches: [batch(1), batch(2)] });
    const before = await log.checkpoint();
    let caught: unknown;
    try {
      await syncLedgerLog({ log, batches: [batch(1), batch(2, { root: h(99) }), batch(3)] });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(InvariantError);
    expect((caught as InvariantError).code).to.equal("log.fork");
    expect(log.size()).to.equal(2);
    expect(await log.checkpoint()).to.equal(before);
  });

  describe("with witnesses over HTTP", function () {
    const servers: Server[] = [];
    const stores: WitnessStore[] = [];
    afterEach(async () => {
      for (const s of servers.splice(0))
        await new Promise<void>((resolve) => s.close(() => resolve()));
      for (const s of stores.splice(0)) await s.close();
    });

    it("publishes the checkpoint cosigned by every witness that answers, and a later append is cosigned from the witness's size", async () => {
      const logKey = formatVerifierKey(ORIGIN, SIG_TYPE_ED25519, ed25519PublicKey(logSeed));
      const witnesses: WitnessEndpoint[] = [];
      const verifiers = [];
      for (let i = 1; i <= 3; i++) {
        const seed = new Uint8Array(32).fill(60 + i);
        const name = `auditor-${i}.example/witness`;
        const store = await openWitnessStore(path.join(dir, `w${i}`));
        stores.push(store);
        const witness = createWitness({
          cosigner: cosignatureV1Signer(name, seed),
          logs: [noteVerifier(logKey)],
          store,
        });
        const server = createServer(createWitnessApp({ witness }));
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        servers.push(server);
        const verifier = noteVerifier(
          formatVerifierKey(name, SIG_TYPE_COSIGNATURE_V1, ed25519PublicKey(seed)),
        );
        verifiers.push(verifier);
        witnesses.push({
          name,
          url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          verifier,
        });
      }
      // One more witness that is down.
      witnesses.push({
        name: "down.example/witness",
        url: "http://127.0.0.1:9",
        verifier: verifiers[0]!,
      });
      const log = await open("e");
      const knownSizes = new Map<string, number>();
      const r = await syncLedgerLog({
        log,
        batches: [batch(1), batch(2)],
        witnesses,
        knownSizes,
        timeoutMs: 5000,
      });
      expect(r.cosign.map((o) => o.ok)).to.deep.equal([true, true, true, false]);
      const opened = openNote(r.checkpoint!, [logVerifier, ...verifiers]);
      expect(opened.ok && opened.verified.length).to.equal(4);
      expect(await log.checkpoint()).to.equal(r.checkpoint);
      // A new process (empty knownSizes) learns each witness's size from its 409 and proves consistency.
      const r2 = await syncLedgerLog({
        log,
        batches: [1, 2, 3].map((i) => batch(i)),
        witnesses: witnesses.slice(0, 3),
        knownSizes: new Map(),
      });
      expect(r2.cosign.every((o) => o.ok)).to.equal(true);
      const opened2 = openNote(r2.checkpoint!, [logVerifier, ...verifiers]);
      expect(opened2.ok && opened2.verified.length).to.equal(4);
    });
  });
});
