import { expect } from "chai";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { network } from "hardhat";
import { Wallet, ZeroAddress, id } from "ethers";
import { deployLedger } from "../../src/chain/deploy-ledger.ts";
import {
  loadArtifact,
  loadCouncilArtifact,
  loadLedgerArtifact,
  loadTimelockArtifact,
} from "../../src/chain/artifact.ts";
import { LEDGER_METHODS, typed } from "./typed-contract.ts";

const { ethers } = await network.create();

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  return expect.fail("expected a rejection");
}

describe("deployLedger", function () {
  it("deploys with the roles in the constructor and reports where", async function () {
    const [deployer, admin, anchorer, auditor, pauser] = await ethers.getSigners();
    const result = await deployLedger({
      signer: deployer!,
      admin: admin!.address.toLowerCase(),
      adminDelaySeconds: 3600,
      anchorers: [anchorer!.address],
      auditors: [auditor!.address],
      pausers: [pauser!.address],
    });
    expect(result.chainId).to.equal(31337);
    const receipt = await ethers.provider.getTransactionReceipt(result.txHash);
    expect(receipt!.contractAddress).to.equal(result.address);
    expect(receipt!.blockNumber).to.equal(result.blockNumber);
    const ledger = typed(
      await ethers.getContractAt("TransparencyLedger", result.address),
      LEDGER_METHODS,
    );
    expect(await ledger.defaultAdmin()).to.equal(admin!.address);
    expect(await ledger.defaultAdminDelay()).to.equal(3600n);
    expect(await ledger.hasRole(id("ANCHORER_ROLE"), anchorer!.address)).to.equal(true);
    expect(await ledger.hasRole(id("AUDITOR_ROLE"), auditor!.address)).to.equal(true);
    expect(await ledger.hasRole(id("PAUSER_ROLE"), pauser!.address)).to.equal(true);
    for (const role of ["ANCHORER_ROLE", "AUDITOR_ROLE", "PAUSER_ROLE"]) {
      expect(await ledger.hasRole(id(role), deployer!.address)).to.equal(false);
    }
  });

  it("refuses bad options before sending anything", async function () {
    const [deployer, a] = await ethers.getSigners();
    const base = { signer: deployer!, admin: a!.address, adminDelaySeconds: 0 };
    const nonceBefore = await ethers.provider.getTransactionCount(deployer!.address);
    const cases: [Parameters<typeof deployLedger>[0], RegExp][] = [
      [{ ...base, admin: ZeroAddress }, /admin is the zero address/],
      [{ ...base, admin: "0x1234" }, /admin: "0x1234" is not an address/],
      [{ ...base, adminDelaySeconds: -1 }, /adminDelaySeconds -1/],
      [{ ...base, adminDelaySeconds: 2 ** 48 }, /adminDelaySeconds/],
      [{ ...base, adminDelaySeconds: 1.5 }, /adminDelaySeconds 1.5/],
      [
        { ...base, anchorers: [a!.address, a!.address.toLowerCase()] },
        /anchorers\[1\]: .* listed twice/,
      ],
      [{ ...base, pausers: ["nope"] }, /pausers\[0\]: "nope" is not an address/],
      [{ ...base, signer: Wallet.createRandom() }, /not connected to a chain/],
    ];
    for (const [options, message] of cases) {
      expect((await rejection(deployLedger(options))).message).to.match(message);
    }
    expect(await ethers.provider.getTransactionCount(deployer!.address)).to.equal(nonceBefore);
  });
});

describe("artifacts", function () {
  it("loads the ledger, council and timelock with ABI and creation bytecode", async function () {
    for (const load of [loadLedgerArtifact, loadCouncilArtifact, loadTimelockArtifact]) {
      const artifact = await load();
      expect(artifact.abi.length).to.be.greaterThan(5);
      expect(artifact.bytecode).to.match(/^0x[0-9a-f]{200,}$/);
    }
    expect((await loadLedgerArtifact()).abi.some((f) => f.name === "anchorBatch")).to.equal(true);
  });

  it("says to run `npx hardhat build` when the artifact is missing, and refuses a corrupt one", async function () {
    const root = await mkdtemp(path.join(tmpdir(), "shafaf-artifacts-"));
    try {
      const missing = await rejection(loadLedgerArtifact({ root }));
      expect(missing.message).to.contain("npx hardhat build");
      expect(missing.message).to.contain("TransparencyLedger");
      const dir = path.join(root, "artifacts/contracts/X.sol");
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, "X.json"), "{");
      expect((await rejection(loadArtifact("contracts/X.sol", "X", { root }))).message).to.match(
        /is not JSON/,
      );
      await writeFile(
        path.join(dir, "X.json"),
        JSON.stringify({ contractName: "Y", abi: [], bytecode: "0x00" }),
      );
      expect((await rejection(loadArtifact("contracts/X.sol", "X", { root }))).message).to.match(
        /not a compiled X artifact/,
      );
      await writeFile(
        path.join(dir, "X.json"),
        JSON.stringify({ contractName: "X", abi: [], bytecode: "0x" }),
      );
      expect((await rejection(loadArtifact("contracts/X.sol", "X", { root }))).message).to.match(
        /not a compiled X artifact/,
      );
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
