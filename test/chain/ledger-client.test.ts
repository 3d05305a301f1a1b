import { expect } from "chai";
import { keccak256, toUtf8Bytes } from "ethers";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import { ChainMismatchError } from "../../src/chain/errors.ts";
import { ContractRevertError, createLedgerClient } from "../../src/chain/ledger-client.ts";
import { createRpc } from "../../src/chain/rpc.ts";
import { anchor, deployFixture, ROLES, send } from "../indexer/ledger-fixture.ts";

describe("createLedgerClient", function () {
  this.timeout(120_000);
  let chain: DevChain;
  before(async function () {
    chain = await startDevChain();
  });
  after(async function () {
    await chain?.stop();
  });

  it("reads batches, heads, attestations, roles and pause state, now and at past blocks", async function () {
    const f = await deployFixture(chain.url);
    const ledger = createLedgerClient({ rpc: createRpc({ url: chain.url }), address: f.address });
    await ledger.assertDeployed();
    expect(await ledger.batchCount()).to.equal(0);
    expect(await ledger.head()).to.equal("0x" + "00".repeat(32));

    const r1 = await anchor(f, { kind: 1, period: 140212, recordCount: 40, total: 2n ** 100n });
    await anchor(f, { supersedes: 0 });
    await send(f.auditor, "attest", 1, 2, keccak256(toUtf8Bytes("report")));
    await send(f.pauser, "pause");

    const b = await ledger.getBatch(1);
    const onChain = await f.admin.getFunction("getBatch")(1);
    expect(b).to.deep.equal({
      batchId: 1,
      root: onChain.root,
      manifestHash: onChain.manifestHash,
      idempotencyKey: onChain.idempotencyKey,
      headAfter: onChain.headAfter,
      totalAmount: 2n ** 100n,
      recordCount: 40,
      period: 140212,
      kind: 1,
      supersedes: 0,
      supersededBy: 0,
      anchorer: f.accounts.anchorer,
      anchoredAt: Number(onChain.anchoredAt),
    });
    expect(await ledger.batchCount()).to.equal(2);
    expect(await ledger.batchCount(r1.blockNumber)).to.equal(1);
    expect(await ledger.head(r1.blockNumber)).to.equal(b.headAfter);
    expect(await ledger.batchIdOfRoot(b.root)).to.equal(1);
    expect(await ledger.attestationOf(1, f.accounts.auditor)).to.deep.equal({
      verdict: 2,
      reportHash: keccak256(toUtf8Bytes("report")),
    });
    expect(await ledger.attestationCounts(1)).to.deep.equal({ confirmations: 0, disputes: 1 });
    expect(await ledger.hasRole(ROLES.ANCHORER, f.accounts.anchorer)).to.equal(true);
    expect(await ledger.hasRole(ROLES.ANCHORER, f.accounts.auditor)).to.equal(false);
    expect(await ledger.paused()).to.equal(true);
    expect(await ledger.paused(r1.blockNumber)).to.equal(false);
  });

  it("decodes the contract's custom errors", async function () {
    const f = await deployFixture(chain.url);
    const ledger = createLedgerClient({ rpc: createRpc({ url: chain.url }), address: f.address });
    let error: unknown;
    await ledger.getBatch(7).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(ContractRevertError);
    expect((error as ContractRevertError).errorName).to.equal("LedgerUnknownBatch");
    expect((error as ContractRevertError).args.map(String)).to.deep.equal(["7"]);
  });

  it("says there is no contract at an empty address, for calls and for assertDeployed", async function () {
    const ledger = createLedgerClient({
      rpc: createRpc({ url: chain.url }),
      address: "0x000000000000000000000000000000000000dEaD",
    });
    for (const p of [ledger.assertDeployed(), ledger.batchCount()]) {
      let error: unknown;
      await p.catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(ChainMismatchError);
    }
    expect(() =>
      createLedgerClient({ rpc: createRpc({ url: chain.url }), address: "0x12" }),
    ).to.throw(/not a contract address/);
  });
});
