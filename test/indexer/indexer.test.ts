import { expect } from "chai";
import { keccak256, toUtf8Bytes } from "ethers";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import { ChainMismatchError, ReorgTooDeepError } from "../../src/chain/errors.ts";
import { createRpc } from "../../src/chain/rpc.ts";
import { createIndexer, type CreateIndexerOptions } from "../../src/indexer/create-indexer.ts";
import type { WritableIndexStore } from "../../src/store/index-store.ts";
import {
  anchor,
  deployFixture,
  rawRpc,
  ROLES,
  send,
  startProxy,
  tempStores,
  viewDump,
  type LedgerFixture,
} from "./ledger-fixture.ts";

function recorder() {
  const lines: { level: string; message: string }[] = [];
  return {
    lines,
    log: {
      info: (message: string) => lines.push({ level: "info", message }),
      warn: (message: string) => lines.push({ level: "warn", message }),
      error: (message: string) => lines.push({ level: "error", message }),
    },
  };
}

function manifestBytes(m: object): Uint8Array {
  return toUtf8Bytes(JSON.stringify(m));
}

describe("createIndexer", function () {
  this.timeout(120_000);
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

  function indexer(
    f: LedgerFixture,
    store: WritableIndexStore,
    more: Partial<CreateIndexerOptions> = {},
    url = chain.url,
  ) {
    return createIndexer({
      rpc: createRpc({ url, retries: 1, backoffMs: 10 }),
      store,
      address: f.address,
      confirmations: 0,
      ...more,
    });
  }

  describe("syncOnce", function () {
    it("builds every view from events and agrees with the contract's own reads", async function () {
      const f = await deployFixture(chain.url);
      const p1 = manifestBytes({
        byProvince: { "IR-23": { count: 7, total: "100" }, "IR-01": { count: 5, total: "23" } },
      });
      const p2 = manifestBytes({
        byProvince: { "IR-23": { count: 6, total: "90" } },
        reason: "late rows",
      });
      const pension = manifestBytes({
        byProvince: { "IR-05": { count: 40, total: "4000" } },
        byCategory: {
          retirement: { count: 30, total: "3500" },
          survivors: { count: 10, total: "500" },
        },
        onTime: 38,
        late: 2,
      });
      const manifests = new Map([p1, p2, pension].map((b) => [keccak256(b), b]));
      await anchor(f, { manifestHash: keccak256(p1), recordCount: 12, total: 123n });
      await anchor(f, {
        kind: 1,
        period: 140307,
        manifestHash: keccak256(pension),
        recordCount: 40,
        total: 4000n,
      });
      await anchor(f, { supersedes: 1, manifestHash: keccak256(p2), recordCount: 6, total: 90n });
      await anchor(f, { period: 140308, recordCount: 3, total: 7n }); // manifest not held: missing
      await send(f.auditor, "attest", 2, 1, keccak256(toUtf8Bytes("report a")));
      await send(f.auditor2, "attest", 2, 2, keccak256(toUtf8Bytes("report b")));
      await send(f.auditor2, "attest", 2, 1, keccak256(toUtf8Bytes("report c"))); // replaces its dispute
      await send(f.auditor, "attest", 4, 2, keccak256(toUtf8Bytes("report d")));
      await send(f.admin, "grantRole", ROLES.AUDITOR, f.accounts.pauser);
      await send(f.admin, "revokeRole", ROLES.AUDITOR, f.accounts.auditor2);
      await send(f.pauser, "pause");

      const store = await stores.open("a");
      const updates: number[] = [];
      const r = await indexer(f, store, {
        manifestSource: (_id, hash) => manifests.get(hash),
        onUpdate: (u) => updates.push(u.toBlock),
      }).syncOnce();
      const head = Number(await rawRpc(chain.url, "eth_blockNumber"));
      expect(r.lastIndexedBlock).to.equal(head);
      expect(updates.at(-1)).to.equal(head);

      const info = (await store.getChainInfo())!;
      expect(info).to.include({
        chainId: 31337,
        contract: f.address.toLowerCase(),
        batchCount: 4,
        paused: true,
      });
      expect(info.deployBlock).to.equal(f.deployBlock);
      expect(info.lastIndexedBlock).to.equal(head);
      expect(info.headCheck).to.deep.include({ status: "ok", atBlock: head });
      expect(info.headCheck.onChain).to.equal(await f.admin.getFunction("head")());

      for (let id = 1; id <= 4; id++) {
        const view = (await store.getBatch(id))!;
        const onChain = await f.admin.getFunction("getBatch")(id);
        expect(view.root).to.equal(onChain.root);
        expect(view.manifestHash).to.equal(onChain.manifestHash);
        expect(view.headAfter).to.equal(onChain.headAfter);
        expect(view.total).to.equal(onChain.totalAmount.toString());
        expect(view.recordCount).to.equal(Number(onChain.recordCount));
        expect(view.anchoredAt).to.equal(Number(onChain.anchoredAt));
        expect(view.anchorer).to.equal(f.accounts.anchorer);
        expect(view.supersededBy).to.equal(Number(onChain.supersededBy) || null);
      }
      const b1 = (await store.getBatch(1))!;
      expect(b1).to.include({
        status: "superseded",
        supersededBy: 3,
        kind: "premium",
        period: "1403-07",
      });
      expect(b1.manifest.status).to.equal("verified");
      const b2 = (await store.getBatch(2))!;
      expect(b2.status).to.equal("attested");
      expect(b2.attestations.map((a) => [a.auditor, a.verdict])).to.deep.equal([
        [f.accounts.auditor, "confirmed"],
        [f.accounts.auditor2, "confirmed"],
      ]);
      expect(b2.manifest).to.deep.include({ status: "verified", onTime: 38, late: 2 });
      expect(b2.manifest.byCategory).to.deep.equal({
        retirement: { count: 30, total: "3500" },
        survivors: { count: 10, total: "500" },
      });
      const b3 = (await store.getBatch(3))!;
      expect(b3).to.include({ status: "anchored", supersedes: 1 });
      expect(b3.manifest).to.deep.include({ status: "verified", reason: "late rows" });
      const b4 = (await store.getBatch(4))!;
      expect(b4.status).to.equal("disputed");
      expect(b4.manifest).to.deep.equal({ status: "missing" });
      expect(b4.sealedBy).to.equal(undefined); // Hardhat offers no qbft_ API

      const stats = await store.getStats();
      expect(stats.periods).to.deep.equal([
        {
          period: "1403-07",
          kind: "premium",
          batches: 1,
          recordCount: 6,
          total: "90",
          corrections: 1,
        },
        {
          period: "1403-07",
          kind: "pension",
          batches: 1,
          recordCount: 40,
          total: "4000",
          corrections: 0,
          onTime: 38,
          late: 2,
        },
        {
          period: "1403-08",
          kind: "premium",
          batches: 1,
          recordCount: 3,
          total: "7",
          corrections: 0,
        },
      ]);
      // only current batches with verified manifests; superseded batch 1's IR-01 row is gone
      expect(stats.provinces).to.deep.equal([
        { period: "1403-07", kind: "premium", province: "IR-23", count: 6, total: "90" },
        { period: "1403-07", kind: "pension", province: "IR-05", count: 40, total: "4000" },
      ]);

      const members = await store.listRoleMembers();
      const has = (role: string, account: string) =>
        members.some((m) => m.role === role && m.account === account);
      expect(has(ROLES.AUDITOR, f.accounts.pauser)).to.equal(true);
      expect(has(ROLES.AUDITOR, f.accounts.auditor2)).to.equal(false);
      expect(has(ROLES.ANCHORER, f.accounts.anchorer)).to.equal(true);
      expect(members.find((m) => m.account === f.accounts.anchorer)?.roleName).to.equal(
        "ANCHORER_ROLE",
      );

      const events = await store.listEvents({ limit: 3 });
      expect(events.items.map((e) => e.type)).to.deep.equal([
        "Paused",
        "RoleRevoked",
        "RoleGranted",
      ]);
      expect(events.items[0]!.args).to.deep.equal({ account: f.accounts.pauser });
    });

    it("holds back the last `confirmations` blocks", async function () {
      const f = await deployFixture(chain.url);
      await anchor(f);
      await anchor(f);
      await anchor(f);
      const head = Number(await rawRpc(chain.url, "eth_blockNumber"));
      const store = await stores.open("c");
      const r = await indexer(f, store, { confirmations: 2 }).syncOnce();
      expect(r.lastIndexedBlock).to.equal(head - 2);
      expect((await store.getChainInfo())!).to.include({
        batchCount: 1,
        headBlock: head,
        confirmations: 2,
      });
    });
  });

  describe("resuming and reindexing", function () {
    it("continues after a crash mid-sync and ends byte-identical to a reindex from scratch", async function () {
      const f = await deployFixture(chain.url);
      for (let i = 0; i < 6; i++)
        await anchor(f, { period: 140301 + (i % 3), kind: (i % 2) as 0 | 1 });
      await send(f.auditor, "attest", 3, 1, keccak256(toUtf8Bytes("r")));
      await anchor(f, { supersedes: 1, period: 140301, kind: 0 });

      const resumed = await stores.open("resumed");
      let commits = 0;
      let error: unknown;
      await indexer(f, resumed, {
        blocksPerCommit: 2,
        onUpdate: () => {
          if (++commits === 3) throw new Error("crash after the third commit");
        },
      })
        .syncOnce()
        .catch((e: unknown) => (error = e));
      expect((error as Error).message).to.match(/crash/);
      const partial = (await resumed.getChainInfo())!.lastIndexedBlock;
      expect(partial).to.equal(f.deployBlock + 5); // three commits of two blocks from the deploy block
      await anchor(f, { period: 140302 }); // the chain moves on meanwhile
      const r = await indexer(f, resumed, { blocksPerCommit: 3 }).syncOnce();

      const fresh = await stores.open("fresh");
      const r2 = await indexer(f, fresh).syncOnce();
      expect(r2.lastIndexedBlock).to.equal(r.lastIndexedBlock);
      const a = await viewDump(resumed);
      const b = await viewDump(fresh);
      expect(a.length).to.be.greaterThan(20);
      expect(a).to.deep.equal(b);

      // --reindex: clear and rebuild in the same store
      await resumed.clear();
      await indexer(f, resumed).syncOnce();
      expect(await viewDump(resumed)).to.deep.equal(b);
    });
  });

  describe("reorgs", function () {
    it("rolls back to the common ancestor and indexes the new branch (snapshot → anchor → revert → other branch)", async function () {
      const f = await deployFixture(chain.url);
      await anchor(f, { tag: "shared" });
      const snapshot = (await rawRpc(chain.url, "evm_snapshot")) as string;
      await anchor(f, { tag: "old", period: 140301 });
      await anchor(f, { tag: "old", period: 140302 });
      await send(f.auditor, "attest", 2, 2, keccak256(toUtf8Bytes("old report")));

      const store = await stores.open("reorg");
      const log = recorder();
      const ix = indexer(f, store, { log: log.log });
      await ix.syncOnce();
      expect((await store.getChainInfo())!.batchCount).to.equal(3);
      expect((await store.getBatch(2))!.status).to.equal("disputed");

      expect(await rawRpc(chain.url, "evm_revert", [snapshot])).to.equal(true);
      await rawRpc(chain.url, "evm_mine"); // a different block at the old height
      await anchor(f, { tag: "new", period: 140305, kind: 1 });
      const r = await ix.syncOnce();
      expect(r.rolledBack).to.be.greaterThan(0);
      expect(log.lines.some((l) => l.level === "warn" && /reorg/.test(l.message))).to.equal(true);

      const info = (await store.getChainInfo())!;
      expect(info.batchCount).to.equal(2);
      expect(info.headCheck.status).to.equal("ok");
      expect((await store.getBatch(2))!).to.include({
        period: "1403-05",
        kind: "pension",
        status: "anchored",
      });
      expect(await store.getBatch(3)).to.equal(undefined);

      const fresh = await stores.open("reorg-fresh");
      await indexer(f, fresh).syncOnce();
      expect(await viewDump(store)).to.deep.equal(await viewDump(fresh));
    });

    it("rolls back when the chain is reverted to below the indexed block", async function () {
      const f = await deployFixture(chain.url);
      const snapshot = (await rawRpc(chain.url, "evm_snapshot")) as string;
      await anchor(f);
      await anchor(f);
      const store = await stores.open("shorter");
      const ix = indexer(f, store);
      await ix.syncOnce();
      await rawRpc(chain.url, "evm_revert", [snapshot]);
      const r = await ix.syncOnce();
      expect(r.lastIndexedBlock).to.equal(f.deployBlock);
      expect((await store.getChainInfo())!.batchCount).to.equal(0);
      expect(await store.listBatches({ limit: 10 })).to.deep.equal({ items: [] });
    });
    it("refuses a reorg deeper than the blocks kept for rollback, and says to --reindex", async function () {
      const f = await deployFixture(chain.url);
      const snapshot = (await rawRpc(chain.url, "evm_snapshot")) as string;
      await anchor(f, { tag: "deep-old" });
      await anchor(f, { tag: "deep-old" });
      await anchor(f, { tag: "deep-old" });
      const store = await stores.open("deep");
      const ix = indexer(f, store, { reorgWindow: 1, blocksPerCommit: 1 });
      await ix.syncOnce();
      expect((await store.listBlocks()).length).to.equal(1);
      await rawRpc(chain.url, "evm_revert", [snapshot]);
      await anchor(f, { tag: "deep-new" });
      await anchor(f, { tag: "deep-new" });
      await anchor(f, { tag: "deep-new" });
      let error: unknown;
      await ix.syncOnce().catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(ReorgTooDeepError);
      expect((error as ReorgTooDeepError).details).to.match(/--reindex/);
      expect((await store.getChainInfo())!.batchCount).to.equal(3); // untouched, not half rolled back
    });
  });

  describe("refusing to mix histories", function () {
    it("stops on another genesis, and on another chain id, with a hint to --reindex", async function () {
      const f = await deployFixture(chain.url);
      for (const [name, change] of [
        ["genesis", { genesisHash: "0x" + "42".repeat(32) }],
        ["chain id", { chainId: 1 }],
      ] as const) {
        const store = await stores.open(`other-${name}`);
        await store.initialize({
          chainId: 31337,
          contract: f.address.toLowerCase(),
          genesisHash: (
            (await rawRpc(chain.url, "eth_getBlockByNumber", ["0x0", false])) as { hash: string }
          ).hash,
          deployBlock: f.deployBlock,
          confirmations: 0,
          ...change,
        });
        let error: unknown;
        await indexer(f, store)
          .syncOnce()
          .catch((e: unknown) => (error = e));
        expect(error, name).to.be.instanceOf(ChainMismatchError);
        expect((error as Error).message).to.include("--reindex");
        expect(await store.readCursor()).to.equal(undefined);
      }
    });

    it("stops when the address holds no contract", async function () {
      const f = await deployFixture(chain.url);
      const store = await stores.open("nocode");
      let error: unknown;
      await indexer({ ...f, address: "0x000000000000000000000000000000000000dEaD" }, store)
        .syncOnce()
        .catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(ChainMismatchError);
      expect((error as ChainMismatchError).shortMessage).to.match(/no contract at 0x0{36}dead/);
      expect(await store.getChainInfo()).to.equal(undefined);
    });
  });

  describe("not trusting the node", function () {
    it("raises the head-check alarm when the node withholds one BatchAnchored event", async function () {
      const f = await deployFixture(chain.url);
      const anchored = [await anchor(f), await anchor(f), await anchor(f)];
      const dropTx = anchored[1]!.hash.toLowerCase();
      const proxy = await startProxy(chain.url, async (req, forward) => {
        const answer = await forward();
        if (req.method === "eth_getLogs" && Array.isArray(answer.result)) {
          answer.result = answer.result.filter(
            (l: { transactionHash: string }) => l.transactionHash.toLowerCase() !== dropTx,
          );
        }
        return answer;
      });
      try {
        const store = await stores.open("alarm");
        const log = recorder();
        await indexer(f, store, { log: log.log }, proxy.url).syncOnce();
        const check = (await store.getChainInfo())!.headCheck;
        expect(check.status).to.equal("mismatch");
        expect(check.onChain).to.equal(await f.admin.getFunction("head")());
        expect(check.recomputed).to.not.equal(check.onChain);
        expect(log.lines.some((l) => l.level === "error" && /ALARM/.test(l.message))).to.equal(
          true,
        );
      } finally {
        await proxy.close();
      }
    });

    /** Indexes through a proxy that withholds the logs of `hidden`'s transaction; returns the head check. */
    async function withholding(
      f: LedgerFixture,
      hidden: { hash: string },
    ): Promise<{ status: string; detail?: string; alarms: string[] }> {
      const drop = hidden.hash.toLowerCase();
      const proxy = await startProxy(chain.url, async (req, forward) => {
        const answer = await forward();
        if (req.method === "eth_getLogs" && Array.isArray(answer.result)) {
          answer.result = answer.result.filter(
            (l: { transactionHash: string }) => l.transactionHash.toLowerCase() !== drop,
          );
        }
        return answer;
      });
      try {
        const store = await stores.open(`governance-${drop.slice(2, 10)}`);
        const log = recorder();
        await indexer(f, store, { log: log.log }, proxy.url).syncOnce();
        const check = (await store.getChainInfo())!.headCheck;
        return {
          status: check.status,
          ...(check.detail === undefined ? {} : { detail: check.detail }),
          alarms: log.lines.filter((l) => l.level === "error").map((l) => l.message),
        };
      } finally {
        await proxy.close();
      }
    }

    it("raises the alarm when the node withholds a RoleGranted log (hasRole at the indexed block)", async function () {
      const f = await deployFixture(chain.url);
      await anchor(f);
      const grant = await send(f.admin, "grantRole", ROLES.AUDITOR, f.accounts.pauser);
      await anchor(f);
      const check = await withholding(f, grant);
      expect(check.status).to.equal("mismatch");
      expect(check.detail).to.match(
        new RegExp(`^RoleGranted missing: .*${f.accounts.pauser} holds AUDITOR_ROLE`),
      );
      expect(check.alarms.some((m) => /^ALARM governance check/.test(m))).to.equal(true);
    });

    it("raises the alarm when the node withholds a RoleRevoked log", async function () {
      const f = await deployFixture(chain.url);
      const revoke = await send(f.admin, "revokeRole", ROLES.AUDITOR, f.accounts.auditor2);
      const check = await withholding(f, revoke);
      expect(check.status).to.equal("mismatch");
      expect(check.detail).to.match(
        new RegExp(`^RoleRevoked missing .*${f.accounts.auditor2} does not hold AUDITOR_ROLE`),
      );
    });

    it("raises the alarm when the node withholds a Paused log (paused() at the indexed block)", async function () {
      const f = await deployFixture(chain.url);
      await anchor(f);
      const pause = await send(f.pauser, "pause");
      const check = await withholding(f, pause);
      expect(check.status).to.equal("mismatch");
      expect(check.detail).to.match(/^Paused\/Unpaused events missing .* is paused/);
    });

    it("reads again when a log's block hash is not its block's, and refuses a node that keeps lying", async function () {
      const f = await deployFixture(chain.url);
      await anchor(f);
      let lies = 1;
      const proxy = await startProxy(chain.url, async (req, forward) => {
        const answer = await forward();
        if (req.method === "eth_getLogs" && Array.isArray(answer.result) && lies > 0) {
          lies--;
          for (const l of answer.result as { blockHash: string }[])
            l.blockHash = "0x" + "99".repeat(32);
        }
        return answer;
      });
      try {
        const store = await stores.open("lies");
        const log = recorder();
        await indexer(f, store, { log: log.log }, proxy.url).syncOnce();
        expect(log.lines.some((l) => /claims block hash 0x9999/.test(l.message))).to.equal(true);
        expect((await store.getChainInfo())!.headCheck.status).to.equal("ok");

        lies = 1_000;
        const store2 = await stores.open("lies2");
        let error: unknown;
        await indexer(f, store2, {}, proxy.url)
          .syncOnce()
          .catch((e: unknown) => (error = e));
        expect((error as Error).message).to.match(/claims block hash/);
        expect(await store2.readCursor()).to.equal(undefined);
      } finally {
        await proxy.close();
      }
    });

    it("indexes through a node that limits eth_getLogs ranges, in hex block numbers", async function () {
      const f = await deployFixture(chain.url);
      for (let i = 0; i < 5; i++) await anchor(f);
      const ranges: number[] = [];
      const proxy = await startProxy(chain.url, async (req, forward) => {
        if (req.method === "eth_getLogs") {
          const q = req.params[0] as { fromBlock: string; toBlock: string };
          expect(q.fromBlock).to.match(/^0x[0-9a-f]+$/);
          const span = Number(q.toBlock) - Number(q.fromBlock) + 1;
          ranges.push(span);
          if (span > 3)
            return {
              error: { code: -32005, message: "Requested range exceeds maximum RPC range limit" },
            };
        }
        return forward();
      });
      try {
        const store = await stores.open("limited");
        await indexer(f, store, {}, proxy.url).syncOnce();
        expect((await store.getChainInfo())!.batchCount).to.equal(5);
        expect(ranges.some((s) => s > 3)).to.equal(true);
        const fresh = await stores.open("limited-ref");
        await indexer(f, fresh).syncOnce();
        expect(await viewDump(store)).to.deep.equal(await viewDump(fresh));
      } finally {
        await proxy.close();
      }
    });

    it("flags a manifest whose bytes do not hash to the anchored manifestHash, and never counts it", async function () {
      const f = await deployFixture(chain.url);
      const real = manifestBytes({ byProvince: { "IR-23": { count: 12, total: "500" } } });
      const forged = manifestBytes({ byProvince: { "IR-23": { count: 12, total: "999" } } });
      await anchor(f, { manifestHash: keccak256(real), recordCount: 12, total: 500n });
      const store = await stores.open("forged");
      const log = recorder();
      await indexer(f, store, { log: log.log, manifestSource: () => forged }).syncOnce();
      const b = (await store.getBatch(1))!;
      expect(b.manifest).to.deep.equal({ status: "mismatch" });
      expect((await store.getStats()).provinces).to.deep.equal([]);
      expect(log.lines.some((l) => /flagged mismatch/.test(l.message))).to.equal(true);
    });

    it("records the QBFT validators of each anchoring block when the node offers them", async function () {
      const f = await deployFixture(chain.url);
      await anchor(f);
      const validators = [
        "0xB000000000000000000000000000000000000002",
        "0xa000000000000000000000000000000000000001",
      ];
      const asked: string[] = [];
      const proxy = await startProxy(chain.url, async (req, forward) => {
        if (req.method === "qbft_getValidatorsByBlockNumber") {
          asked.push(req.params[0] as string);
          return { result: validators };
        }
        return forward();
      });
      try {
        const store = await stores.open("qbft");
        await indexer(f, store, {}, proxy.url).syncOnce();
        const b = (await store.getBatch(1))!;
        expect(b.sealedBy).to.deep.equal(validators.map((v) => v.toLowerCase()).sort());
        expect(asked).to.deep.equal(["0x" + b.blockNumber.toString(16)]);
      } finally {
        await proxy.close();
      }
    });
  });

  describe("start / stop", function () {
    it("follows new blocks, calls onUpdate, and stop() resolves when idle", async function () {
      const f = await deployFixture(chain.url);
      const store = await stores.open("follow");
      let resolveSeen: () => void;
      const seen = new Promise<void>((r) => (resolveSeen = r));
      const ix = indexer(f, store, {
        pollIntervalMs: 50,
        onUpdate: (u) => {
          if (u.anchored.includes(1)) resolveSeen();
        },
      });
      const following = ix.start();
      expect(ix.running).to.equal(true);
      await anchor(f);
      await seen;
      await ix.stop();
      await following;
      expect(ix.running).to.equal(false);
      expect((await store.getChainInfo())!.batchCount).to.equal(1);
    });

    it("start() rejects on an error retrying cannot fix", async function () {
      const f = await deployFixture(chain.url);
      const store = await stores.open("fatal");
      let error: unknown;
      await indexer({ ...f, address: "0x000000000000000000000000000000000000bEEF" }, store, {
        pollIntervalMs: 10,
      })
        .start()
        .catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(ChainMismatchError);
    });
  });
});
