/**
 * The indexer and the public API on a real Hardhat network with `shafaf-tree/2` batches: a v1
 * batch, a registered VRF key, v2 batches (the vectors' premium-12 root, superseding the v1 batch
 * across schemes; a pension batch), the head recomputed with both formulas, reindex byte-identity
 * and a reorg across a v2 batch.
 */
import { readFileSync } from "node:fs";
import { expect } from "chai";
import { id, keccak256, toUtf8Bytes, type TransactionReceipt } from "ethers";
import { createApp } from "../../src/api/create-app.ts";
import { startServer, type RunningServer } from "../../src/api/start-server.ts";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import { createRpc } from "../../src/chain/rpc.ts";
import { verifyReceipt } from "../../src/core/verify-receipt.ts";
import { createIndexer } from "../../src/indexer/create-indexer.ts";
import type { WritableIndexStore } from "../../src/store/index-store.ts";
import { call } from "../api/http.ts";
import {
  anchor,
  deployFixture,
  rawRpc,
  send,
  tempStores,
  viewDump,
  type LedgerFixture,
} from "./ledger-fixture.ts";

const VRF_KEY_ROLE = id("VRF_KEY_ROLE");
const vectors = JSON.parse(
  readFileSync(new URL("../vectors/tree-v2.json", import.meta.url), "utf8"),
) as { trees: Record<string, { kind: string; root: string; lanes: string[] }> };

/** The six lanes of a vectors tree (a premium tree has five; lane 5 is 0 on chain). */
function totalsOf(tree: { lanes: string[] }): bigint[] {
  const lanes = tree.lanes.map(BigInt);
  while (lanes.length < 6) lanes.push(0n);
  return lanes;
}

let salt = 0;
async function anchorV2(
  f: LedgerFixture,
  args: {
    root: string;
    kind: 0 | 1;
    period: number;
    totals: bigint[];
    supersedes?: number;
    vrfKeyId: string;
  },
): Promise<TransactionReceipt> {
  const n = ++salt;
  const tx = await f.anchorer.getFunction("anchorBatchV2")({
    root: args.root,
    kind: args.kind,
    period: args.period,
    totals: args.totals,
    manifestHash: keccak256(toUtf8Bytes(`manifest v2 ${n} ${Date.now()}`)),
    supersedes: args.supersedes ?? 0,
    idempotencyKey: keccak256(toUtf8Bytes(`key v2 ${n} ${Date.now()}`)),
    vrfKeyId: args.vrfKeyId,
  });
  return (await tx.wait()) as TransactionReceipt;
}

async function registerKey(f: LedgerFixture, fill: number): Promise<string> {
  const publicKey = "0x" + fill.toString(16).padStart(2, "0").repeat(32);
  await send(f.admin, "registerVrfKey", publicKey);
  return keccak256(publicKey);
}

describe("indexer with shafaf-tree/2 batches (real Hardhat network)", function () {
  this.timeout(180_000);
  let chain: DevChain;
  let stores: Awaited<ReturnType<typeof tempStores>>;

  before(async function () {
    chain = await startDevChain();
  });
  after(async function () {
    await chain?.stop();
  });
  beforeEach(async function () {
    stores = await tempStores();
  });
  afterEach(async function () {
    await stores.cleanup();
  });

  function indexer(f: LedgerFixture, store: WritableIndexStore) {
    return createIndexer({
      rpc: createRpc({ url: chain.url, retries: 1, backoffMs: 10 }),
      store,
      address: f.address,
      confirmations: 0,
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
  }

  async function serve(store: WritableIndexStore): Promise<RunningServer> {
    const api = createApp({
      index: store,
      ledger: {
        getReceiptByCode: () => Promise.resolve(undefined),
        listReceiptsBySubject: () => Promise.resolve([]),
      },
      verify: verifyReceipt,
      apiKeys: [],
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
      rateLimit: false,
    });
    return startServer({ api, port: 0, graceMs: 1_000 });
  }

  it("indexes v1 and v2 batches and VRF keys; head check ok; the API serves both; reindex is byte-identical", async function () {
    const f = await deployFixture(chain.url);
    const premium12 = vectors.trees["premium-12"]!;
    await anchor(f, { kind: 0, period: 140307, recordCount: 12, total: 277_000_000n });
    await send(f.admin, "grantRole", VRF_KEY_ROLE, f.accounts.admin);
    const keyId = await registerKey(f, 0x42);
    const v2 = await anchorV2(f, {
      root: premium12.root,
      kind: 0,
      period: 140307,
      totals: totalsOf(premium12),
      supersedes: 1,
      vrfKeyId: keyId,
    });
    const keyId2 = await registerKey(f, 0x43);
    // a pension batch covering 40 persons (synthetic root: the contract does not check the lanes)
    const pensionTotals = [48n, 40n, 9_000_000n, 1_000_000n, 8_000_000n, 45n];
    await anchorV2(f, {
      root: keccak256(toUtf8Bytes("pension v2 root")),
      kind: 1,
      period: 140307,
      totals: pensionTotals,
      vrfKeyId: keyId2,
    });

    const store = await stores.open("v2");
    await indexer(f, store).syncOnce();
    const info = (await store.getChainInfo())!;
    expect(info.batchCount).to.equal(3);
    expect(info.headCheck.status).to.equal("ok");
    expect(info.headCheck.recomputed).to.equal(await f.admin.getFunction("head")());

    expect(await store.getBatch(1)).to.deep.include({
      status: "superseded",
      supersededBy: 2,
      recordCount: 12,
    });
    expect((await store.getBatch(1))!.scheme).to.equal(undefined);
    expect(await store.getBatch(2)).to.deep.include({
      scheme: "shafaf-tree/2",
      root: premium12.root,
      recordCount: 12,
      total: premium12.lanes[4],
      supersedes: 1,
      status: "anchored",
      vrfKeyId: keyId,
      txHash: v2.hash,
    });
    expect((await store.getBatch(2))!.totals).to.deep.equal([...premium12.lanes, "0"]);
    expect(await store.getBatch(3)).to.deep.include({
      kind: "pension",
      recordCount: 48,
      total: "8000000",
    });
    // the period stat counts the current batches only: the v1 batch left when v2 replaced it
    const { periods } = await store.getStats();
    expect(periods).to.deep.equal([
      {
        period: "1403-07",
        kind: "premium",
        batches: 1,
        recordCount: 12,
        total: premium12.lanes[4],
        corrections: 1,
      },
      {
        period: "1403-07",
        kind: "pension",
        batches: 1,
        recordCount: 48,
        total: "8000000",
        corrections: 0,
      },
    ]);
    const keys = await store.listVrfKeys();
    expect(keys.map((k) => [k.index, k.keyId, k.registrar])).to.deep.equal([
      [0, keyId, f.accounts.admin],
      [1, keyId2, f.accounts.admin],
    ]);
    expect(keys[0]!.publicKey).to.equal("0x" + "42".repeat(32));

    const server = await serve(store);
    try {
      const list = await call(`${server.url}/api/v1/batches`);
      expect(list.status).to.equal(200);
      expect(list.json.items.map((b: { scheme: string }) => b.scheme)).to.deep.equal([
        "shafaf-tree/2",
        "shafaf-tree/2",
        "shafaf-tree/1",
      ]);
      const v1 = (await call(`${server.url}/api/v1/batches/1`)).json;
      expect(v1).to.not.have.any.keys("persons", "lanes", "vrfKeyId");
      // premium-12 covers 9 persons: its amount lanes are suppressed, the persons count is not
      const small = (await call(`${server.url}/api/v1/batches/2`)).json;
      expect(small).to.deep.include({ scheme: "shafaf-tree/2", persons: 9, vrfKeyId: keyId });
      expect(small.lanes).to.deep.equal({ suppressed: true });
      const large = (await call(`${server.url}/api/v1/batches/3`)).json;
      expect(large).to.deep.include({ persons: 40 });
      expect(large.lanes).to.deep.equal({
        gross: "9000000",
        deductions: "1000000",
        net: "8000000",
        onTime: "45",
      });
      const vrf = await call(`${server.url}/api/v1/vrf-keys`);
      expect(vrf.status).to.equal(200);
      expect(vrf.json.items.map((k: { keyId: string }) => k.keyId)).to.deep.equal([keyId, keyId2]);
      const chainView = (await call(`${server.url}/api/v1/chain`)).json;
      expect(chainView.headCheck.status).to.equal("ok");
    } finally {
      await server.close();
    }

    const fresh = await stores.open("v2-fresh");
    await indexer(f, fresh).syncOnce();
    const a = await viewDump(store);
    expect(a).to.deep.equal(await viewDump(fresh));
    await fresh.clear();
    await indexer(f, fresh).syncOnce();
    expect(await viewDump(fresh)).to.deep.equal(a);
  });

  it("rolls back a reorg across a v2 batch and its key, restoring the superseded v1 batch", async function () {
    const f = await deployFixture(chain.url);
    await anchor(f, { kind: 0, period: 140307, tag: "shared" });
    await send(f.admin, "grantRole", VRF_KEY_ROLE, f.accounts.admin);
    const snapshot = (await rawRpc(chain.url, "evm_snapshot")) as string;
    const keyId = await registerKey(f, 0x51);
    const premium12 = vectors.trees["premium-12"]!;
    await anchorV2(f, {
      root: premium12.root,
      kind: 0,
      period: 140307,
      totals: totalsOf(premium12),
      supersedes: 1,
      vrfKeyId: keyId,
    });

    const store = await stores.open("reorg-v2");
    const ix = indexer(f, store);
    await ix.syncOnce();
    expect((await store.getBatch(2))!.scheme).to.equal("shafaf-tree/2");
    expect((await store.getBatch(1))!.status).to.equal("superseded");
    expect(await store.listVrfKeys()).to.have.length(1);

    expect(await rawRpc(chain.url, "evm_revert", [snapshot])).to.equal(true);
    await rawRpc(chain.url, "evm_mine"); // a different block at the old height
    await anchor(f, { tag: "new", period: 140305, kind: 1 });
    const r = await ix.syncOnce();
    expect(r.rolledBack).to.be.greaterThan(0);

    const info = (await store.getChainInfo())!;
    expect(info.batchCount).to.equal(2);
    expect(info.headCheck.status).to.equal("ok");
    expect((await store.getBatch(1))!).to.deep.include({ status: "anchored", supersededBy: null });
    expect((await store.getBatch(2))!.scheme).to.equal(undefined);
    expect(await store.listVrfKeys()).to.deep.equal([]);

    const fresh = await stores.open("reorg-v2-fresh");
    await indexer(f, fresh).syncOnce();
    expect(await viewDump(store)).to.deep.equal(await viewDump(fresh));
  });
});
