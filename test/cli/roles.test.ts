/**
 * `shafaf roles` end to end against a real JSON-RPC node (the embedded dev chain): propose,
 * approve, execute after the delay, list; and its usage errors.
 */
import { expect } from "chai";
import { id, type JsonRpcProvider } from "ethers";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import { connectProvider, devWallet } from "../../src/chain/signer.ts";
import { deployGovernance } from "../../src/chain/governance.ts";
import { LEDGER_ABI } from "../../src/core/ledger-abi.ts";
import { deployLedger } from "../../src/chain/deploy-ledger.ts";
import { command } from "../../src/cli/commands/roles.ts";
import { Contract } from "ethers";

const DELAY = 600;

/** Runs `shafaf roles …` in-process and captures what it prints. */
async function roles(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const write = {
    out: process.stdout.write.bind(process.stdout),
    err: process.stderr.write.bind(process.stderr),
  };
  process.stdout.write = (chunk: string) => ((out += chunk), true);
  process.stderr.write = (chunk: string) => ((err += chunk), true);
  try {
    const code = await command.run(argv);
    return { code, out, err };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}

describe("shafaf roles", function () {
  let chain: DevChain;
  let provider: JsonRpcProvider;
  let ledger: string;
  const finance = devWallet(5).address;

  before(async function () {
    chain = await startDevChain();
    // No response cache: back-to-back deployments from one account must see fresh nonces.
    provider = connectProvider(chain.url, 31337);
    const deployer = devWallet(0).connect(provider);
    const gov = await deployGovernance({
      signer: deployer,
      institutions: [1, 2, 3, 4].map((n) => devWallet(n).address),
      threshold: 2,
      minDelaySeconds: DELAY,
    });
    ledger = (
      await deployLedger({
        signer: deployer,
        admin: gov.timelock,
        adminDelaySeconds: 0,
        pausers: [devWallet(1).address],
      })
    ).address;
  });

  after(async function () {
    provider?.destroy();
    await chain?.stop();
  });

  it("grants a role: propose, approve, wait the delay, execute, list", async function () {
    const base = ["--rpc", chain.url, "--contract", ledger];
    const proposed = await roles(
      "propose",
      ...base,
      "--signer",
      "dev:1",
      "--grant",
      `anchorer:${finance}`,
    );
    expect(proposed.err).to.equal("");
    expect(proposed.code).to.equal(0);
    expect(proposed.out).to.contain("proposal 1 created");
    expect(proposed.out).to.contain("1 of 2 approvals so far");
    expect(proposed.out).to.contain(
      `shafaf roles approve --proposal 1 --rpc ${chain.url} --contract ${ledger}`,
    );

    const approved = await roles("approve", ...base, "--signer", "dev:2", "--proposal", "1");
    expect(approved.code).to.equal(0);
    expect(approved.out).to.match(
      /2 of 2 approvals: scheduled in the timelock, executable from \d{4}-/,
    );

    const early = await roles("execute", ...base, "--signer", "dev:3", "--proposal", "1");
    expect(early.code).to.equal(1);
    expect(early.err).to.contain("shafaf roles:");
    const ledgerContract = new Contract(ledger, LEDGER_ABI, provider);
    expect(await ledgerContract.getFunction("hasRole")(id("ANCHORER_ROLE"), finance)).to.equal(
      false,
    );

    await provider.send("evm_increaseTime", [DELAY + 1]);
    await provider.send("evm_mine", []);
    const executed = await roles("execute", ...base, "--signer", "dev:3", "--proposal", "1");
    expect(executed.code).to.equal(0);
    expect(executed.out).to.contain("executed proposal 1");
    expect(await ledgerContract.getFunction("hasRole")(id("ANCHORER_ROLE"), finance)).to.equal(
      true,
    );

    const listed = await roles("list", ...base, "--json");
    expect(listed.code).to.equal(0);
    const view = JSON.parse(listed.out) as {
      threshold: number;
      minDelaySeconds: number;
      members: string[];
      proposals: {
        proposalId: number;
        state: string;
        calls: { call: string }[];
        approvedBy: string[];
      }[];
    };
    expect(view.threshold).to.equal(2);
    expect(view.minDelaySeconds).to.equal(DELAY);
    expect(view.members).to.have.length(4);
    expect(view.proposals).to.have.length(1);
    expect(view.proposals[0]).to.include({ proposalId: 1, state: "executed" });
    expect(view.proposals[0]!.calls[0]!.call).to.equal(`grantRole(ANCHORER_ROLE, ${finance})`);
    expect(view.proposals[0]!.approvedBy).to.deep.equal([
      devWallet(1).address,
      devWallet(2).address,
    ]);

    const text = await roles("list", ...base);
    expect(text.out).to.contain("#1 executed: 2 of 2 approvals");
  });

  it("cancels a proposal by votes of threshold members", async function () {
    const base = ["--rpc", chain.url, "--contract", ledger];
    const proposed = await roles(
      "propose",
      ...base,
      "--signer",
      "dev:4",
      "--revoke",
      `anchorer:${finance}`,
    );
    expect(proposed.code).to.equal(0);
    const id = /proposal (\d+) created/.exec(proposed.out)![1]!;
    const first = await roles("cancel", ...base, "--signer", "dev:2", "--proposal", id);
    expect(first.code).to.equal(0);
    expect(first.out).to.contain(`voted to cancel proposal ${id}: 1 of 2 votes so far`);
    const second = await roles("cancel", ...base, "--signer", "dev:3", "--proposal", id);
    expect(second.out).to.contain(`cancelled proposal ${id} (2 of 2 votes`);
    const listed = JSON.parse((await roles("list", ...base, "--json")).out) as {
      proposals: { proposalId: number; state: string }[];
    };
    expect(listed.proposals.find((p) => p.proposalId === Number(id))!.state).to.equal("cancelled");
  });

  it("refuses a signer that is not a member, and bad command lines with exit 64", async function () {
    const base = ["--rpc", chain.url, "--contract", ledger];
    const outsider = await roles("propose", ...base, "--signer", "dev:6", "--unpause");
    expect(outsider.code).to.equal(64);
    expect(outsider.err).to.contain("is not a member of the council");
    for (const argv of [
      [],
      ["frobnicate", ...base],
      ["propose", ...base, "--signer", "dev:1"],
      [
        "propose",
        ...base,
        "--signer",
        "dev:1",
        "--grant",
        "owner:0x0000000000000000000000000000000000000001",
      ],
      ["propose", ...base, "--signer", "dev:1", "--grant", "anchorer:0x12"],
      ["approve", ...base, "--signer", "dev:1"],
      ["approve", ...base, "--signer", "dev:1", "--proposal", "0"],
      ["approve", ...base, "--signer", "dev:1", "--proposal", "1", "--unpause"],
      ["list", "--rpc", chain.url],
      ["list", "--rpc", chain.url, "--contract", "0x12"],
      ["list", "--contract", ledger],
      ["list", ...base, "--bogus"],
    ]) {
      const r = await roles(...argv);
      expect(r.code, argv.join(" ")).to.equal(64);
      expect(r.err, argv.join(" ")).to.contain("usage: shafaf roles");
    }
    expect((await roles("--help")).code).to.equal(0);
  });

  it("says clearly when the contract is not a governed ledger", async function () {
    const plain = await deployLedger({
      signer: devWallet(0).connect(provider),
      admin: devWallet(0).address,
      adminDelaySeconds: 0,
    });
    const r = await roles("list", "--rpc", chain.url, "--contract", plain.address);
    expect(r.code).to.equal(65);
    expect(r.err).to.contain("is not a governance timelock");
  });
});
