/**
 * explainChainError on the errors a real Hardhat node and ethers actually produce: not enough
 * ETH, a used nonce, an underpriced replacement (with automining off), a contract's custom error.
 */
import { expect } from "chai";
import { Contract, JsonRpcProvider, Wallet, id } from "ethers";
import { LEDGER_ABI } from "../../src/core/ledger-abi.ts";
import { deployLedger } from "../../src/chain/deploy-ledger.ts";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import {
  ContractRefusedError,
  InsufficientFundsError,
  NonceTooLowError,
  ReplacementUnderpricedError,
  explainChainError,
} from "../../src/chain/explain-error.ts";
import { devWallet } from "../../src/chain/signer.ts";
import { ShafafError } from "../../src/core/errors.ts";

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("explainChainError (real Hardhat node)", function () {
  this.timeout(120_000);
  let chain: DevChain;
  let provider: JsonRpcProvider;

  before(async function () {
    chain = await startDevChain();
    provider = new JsonRpcProvider(chain.url, 31337, { staticNetwork: true, cacheTimeout: -1 });
  });
  after(async function () {
    provider?.destroy();
    await chain?.stop();
  });

  it("not enough ETH: the account, the node's words, and shafaf dev fund on chain 31337", async function () {
    const poor = Wallet.createRandom().connect(provider);
    const raw = await rejection(poor.sendTransaction({ to: devWallet(0).address, value: 1n }));
    const e = explainChainError(raw, { account: poor.address, chainId: 31337, rpcUrl: chain.url });
    expect(e).to.be.instanceOf(InsufficientFundsError);
    const err = e as InsufficientFundsError;
    expect(err.code).to.equal("chain.tx.insufficient-funds");
    expect(err.shortMessage).to.equal(
      `the account ${poor.address} has not enough ETH to pay for gas`,
    );
    expect(err.details).to.include(`shafaf dev fund --rpc ${chain.url} --to ${poor.address}`);
    const other = explainChainError(raw, { account: poor.address, chainId: 1337 }) as ShafafError;
    expect(other.details).to.include("ask the chain's operator");
    expect(other.details).not.to.include("dev fund");
  });

  it("nonce too low: another process used the account", async function () {
    const w = devWallet(7).connect(provider);
    const nonce = await provider.getTransactionCount(w.address, "latest");
    await (await w.sendTransaction({ to: w.address, value: 0n, nonce })).wait();
    const raw = await rejection(w.sendTransaction({ to: w.address, value: 1n, nonce }));
    const e = explainChainError(raw, { account: w.address, chainId: 31337 });
    expect(e).to.be.instanceOf(NonceTooLowError);
    expect((e as ShafafError).code).to.equal("chain.tx.nonce-too-low");
    expect((e as ShafafError).details).to.include("another process");
  });

  it("replacement underpriced: a pending transaction with the same nonce", async function () {
    const w = devWallet(8).connect(provider);
    await provider.send("evm_setAutomine", [false]);
    try {
      const nonce = await provider.getTransactionCount(w.address, "pending");
      const fees = {
        maxFeePerGas: 2_000_000_000n,
        maxPriorityFeePerGas: 1_000_000_000n,
        gasLimit: 21_000n,
      };
      await w.sendTransaction({ to: w.address, value: 0n, nonce, ...fees });
      const raw = await rejection(w.sendTransaction({ to: w.address, value: 1n, nonce, ...fees }));
      const e = explainChainError(raw, { account: w.address, chainId: 31337 });
      expect(e).to.be.instanceOf(ReplacementUnderpricedError);
      expect((e as ShafafError).code).to.equal("chain.tx.replacement-underpriced");
    } finally {
      await provider.send("evm_setAutomine", [true]);
      await provider.send("evm_mine", []);
    }
  });

  it("a contract revert: the custom error by name with its arguments, and what to do", async function () {
    const { address } = await deployLedger({
      signer: devWallet(0).connect(provider),
      admin: devWallet(0).address,
      adminDelaySeconds: 0,
      anchorers: [devWallet(1).address],
      auditors: [],
      pausers: [],
    });
    const outsider = devWallet(9).connect(provider);
    const ledger = new Contract(address, LEDGER_ABI, outsider);
    const raw = await rejection(
      ledger.getFunction("anchorBatch")(
        "0x" + "11".repeat(32),
        0,
        140307,
        1,
        1n,
        "0x" + "22".repeat(32),
        0,
        "0x" + "33".repeat(32),
      ),
    );
    const e = explainChainError(raw, {
      account: outsider.address,
      chainId: 31337,
      action: "anchoring",
    });
    expect(e).to.be.instanceOf(ContractRefusedError);
    const err = e as ContractRefusedError;
    expect(err.errorName).to.equal("AccessControlUnauthorizedAccount");
    expect(err.args).to.deep.equal([outsider.address, id("ANCHORER_ROLE")]);
    expect(err.code).to.equal("chain.tx.revert.AccessControlUnauthorizedAccount");
    expect(err.shortMessage).to.match(
      /^anchoring: the contract refused: AccessControlUnauthorizedAccount\(0x/,
    );
    expect(err.details).to.include("lacks ANCHORER_ROLE");
  });

  it("leaves Shafaf's own errors and unrelated errors as they are", function () {
    const own = new ShafafError("x", { code: "y" });
    expect(explainChainError(own)).to.equal(own);
    const plain = new Error("ENOENT: no such file");
    expect(explainChainError(plain)).to.equal(plain);
  });
});
