/**
 * Governance on the Hardhat network: a 3-of-4 council of institutions in front of a timelock that
 * administers the ledger. Driven through src/chain/governance.ts and deployLedger, as the CLI does.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { Interface, ZeroHash, id, type Signer } from "ethers";
import {
  COUNCIL_ABI,
  approveProposal,
  cancelProposal,
  deployGovernance,
  describeCall,
  encodeRoleChange,
  executeProposal,
  findGovernance,
  listProposals,
  proposeRoleChanges,
  type GovernanceAddresses,
} from "../../src/chain/governance.ts";
import { deployLedger } from "../../src/chain/deploy-ledger.ts";
import { loadCouncilArtifact } from "../../src/chain/artifact.ts";
import { LEDGER_METHODS, typed } from "./typed-contract.ts";

const { ethers, networkHelpers } = await network.create();
const { time } = networkHelpers;

const DELAY = 2 * 24 * 3600;
const ANCHORER_ROLE = id("ANCHORER_ROLE");
const AUDITOR_ROLE = id("AUDITOR_ROLE");
const PAUSER_ROLE = id("PAUSER_ROLE");
const COUNCIL_METHODS = [
  "propose",
  "approve",
  "revokeApproval",
  "cancel",
  "execute",
  "addMember",
  "removeMember",
  "setThreshold",
  "timelock",
  "members",
  "isMember",
  "threshold",
  "epoch",
  "proposalCount",
  "getProposal",
  "proposalState",
  "hasApproved",
] as const;
const TIMELOCK_METHODS = [
  "hasRole",
  "isOperation",
  "getMinDelay",
  "council",
  "schedule",
  "PROPOSER_ROLE",
  "EXECUTOR_ROLE",
  "CANCELLER_ROLE",
  "DEFAULT_ADMIN_ROLE",
] as const;
const State = { None: 0, Pending: 1, Stale: 2, Scheduled: 3, Ready: 4, Executed: 5, Cancelled: 6 };

async function governedFixture() {
  const [deployer, sso, court, ministry, bank, finance, auditor, outsider] =
    await ethers.getSigners();
  const institutions = [sso!, court!, ministry!, bank!];
  const gov = await deployGovernance({
    signer: deployer!,
    institutions: institutions.map((s) => s.address),
    threshold: 3,
    minDelaySeconds: DELAY,
  });
  const deployed = await deployLedger({
    signer: deployer!,
    admin: gov.timelock,
    adminDelaySeconds: 86_400,
    pausers: [court!.address, ministry!.address],
  });
  const ledger = typed(
    await ethers.getContractAt("TransparencyLedger", deployed.address),
    LEDGER_METHODS,
  );
  const council = typed(await ethers.getContractAt("ShafafCouncil", gov.council), COUNCIL_METHODS);
  const timelock = typed(
    await ethers.getContractAt("ShafafTimelock", gov.timelock),
    TIMELOCK_METHODS,
  );
  const governance: GovernanceAddresses = {
    ledger: deployed.address,
    timelock: gov.timelock,
    council: gov.council,
  };
  return {
    gov,
    governance,
    ledger,
    council,
    timelock,
    deployer: deployer!,
    sso: sso!,
    court: court!,
    ministry: ministry!,
    bank: bank!,
    finance: finance!,
    auditor: auditor!,
    outsider: outsider!,
  };
}

/** Awaits `promise` and checks that it rejects with a message matching `pattern`. */
async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect((error as Error).message).to.match(pattern);
    return;
  }
  expect.fail(`expected a rejection matching ${String(pattern)}`);
}

function anchorArgs(n: number) {
  return [id(`root ${n}`), 0, 140307, 10n, 1000n, id("m"), 0n, id(`key ${n}`)] as const;
}

describe("Governance (ShafafCouncil + timelock as the ledger's admin)", function () {
  describe("deployment", function () {
    it("the council is the timelock's only proposer, canceller and executor; nobody else holds a role", async function () {
      const { gov, council, timelock, ledger, deployer, sso, court, ministry, bank } =
        await networkHelpers.loadFixture(governedFixture);
      expect(await council.members()).to.deep.equal([
        sso.address,
        court.address,
        ministry.address,
        bank.address,
      ]);
      expect(await council.threshold()).to.equal(3n);
      expect(await council.timelock()).to.equal(gov.timelock);
      expect(await timelock.council()).to.equal(gov.council);
      expect(await timelock.getMinDelay()).to.equal(BigInt(DELAY));
      for (const role of ["PROPOSER_ROLE", "EXECUTOR_ROLE", "CANCELLER_ROLE"] as const) {
        const hash = (await timelock[role]()) as string;
        expect(await timelock.hasRole(hash, gov.council)).to.equal(true);
        for (const who of [deployer, sso, court]) {
          expect(await timelock.hasRole(hash, who.address)).to.equal(false);
        }
      }
      // the timelock administers itself; the deployer holds nothing
      expect(await timelock.hasRole(ZeroHash, gov.timelock)).to.equal(true);
      expect(await timelock.hasRole(ZeroHash, deployer.address)).to.equal(false);
      expect(await ledger.defaultAdmin()).to.equal(gov.timelock);
      expect(await ledger.hasRole(PAUSER_ROLE, court.address)).to.equal(true);
      for (const role of [ZeroHash, ANCHORER_ROLE, AUDITOR_ROLE, PAUSER_ROLE]) {
        expect(await ledger.hasRole(role, deployer.address)).to.equal(false);
      }
    });

    it("findGovernance goes from the ledger to its timelock and council", async function () {
      const { governance, deployer } = await networkHelpers.loadFixture(governedFixture);
      expect(await findGovernance(deployer, governance.ledger)).to.deep.equal(governance);
    });

    it("findGovernance refuses a ledger whose admin is a plain account", async function () {
      const { deployer } = await networkHelpers.loadFixture(governedFixture);
      const plain = await deployLedger({
        signer: deployer,
        admin: deployer.address,
        adminDelaySeconds: 0,
      });
      await rejects(findGovernance(deployer, plain.address), /not a governance timelock/);
    });

    it("refuses bad council parameters (helper and contract)", async function () {
      const { deployer, sso, court } = await networkHelpers.loadFixture(governedFixture);
      const base = {
        signer: deployer as Signer,
        institutions: [sso.address, court.address],
        threshold: 2,
        minDelaySeconds: 60,
      };
      await rejects(deployGovernance({ ...base, threshold: 3 }), /threshold 3/);
      await rejects(deployGovernance({ ...base, threshold: 0 }), /threshold 0/);
      await rejects(
        deployGovernance({ ...base, institutions: [sso.address, sso.address] }),
        /listed twice/,
      );
      await rejects(deployGovernance({ ...base, institutions: ["0x1234"] }), /not an address/);
      await rejects(deployGovernance({ ...base, minDelaySeconds: -1 }), /minDelaySeconds/);
      const factory = await ethers.getContractFactory("ShafafCouncil");
      await expect(factory.deploy([sso.address], 2, 0))
        .to.be.revertedWithCustomError(factory, "CouncilInvalidThreshold")
        .withArgs(2, 1);
      await expect(factory.deploy([sso.address], 0, 0))
        .to.be.revertedWithCustomError(factory, "CouncilInvalidThreshold")
        .withArgs(0, 1);
      await expect(factory.deploy([sso.address, sso.address], 1, 0))
        .to.be.revertedWithCustomError(factory, "CouncilInvalidMember")
        .withArgs(sso.address);
      await expect(factory.deploy([ethers.ZeroAddress], 1, 0))
        .to.be.revertedWithCustomError(factory, "CouncilInvalidMember")
        .withArgs(ethers.ZeroAddress);
    });

    it("COUNCIL_ABI matches the compiled council", async function () {
      const compiled = new Interface((await loadCouncilArtifact()).abi);
      const ours = new Interface(COUNCIL_ABI);
      ours.forEachFunction((f) =>
        expect(compiled.getFunction(f.format())?.selector).to.equal(f.selector),
      );
      ours.forEachEvent((e) =>
        expect(compiled.getEvent(e.format())?.topicHash).to.equal(e.topicHash),
      );
      ours.forEachError((e) =>
        expect(compiled.getError(e.format())?.selector).to.equal(e.selector),
      );
    });
  });

  describe("a role grant", function () {
    it("nobody, including the deployer and the institutions, can anchor without the role", async function () {
      const { ledger, deployer, sso, court, finance, gov } =
        await networkHelpers.loadFixture(governedFixture);
      for (const who of [deployer, sso, court, finance]) {
        await expect(ledger.connect(who).anchorBatch(...anchorArgs(1)))
          .to.be.revertedWithCustomError(ledger, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, ANCHORER_ROLE);
        await expect(ledger.connect(who).grantRole(ANCHORER_ROLE, finance.address))
          .to.be.revertedWithCustomError(ledger, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, ZeroHash);
      }
      // nor can anyone go around the council to the timelock
      const timelock = typed(await ethers.getContractAt("ShafafTimelock", gov.timelock), [
        "schedule",
      ]);
      const payload = encodeRoleChange({
        action: "grant",
        role: "ANCHORER_ROLE",
        account: finance.address,
      }).payload;
      await expect(
        timelock
          .connect(sso)
          .schedule(await ledger.getAddress(), 0, payload, ZeroHash, ZeroHash, DELAY),
      ).to.be.revertedWithCustomError(timelock, "AccessControlUnauthorizedAccount");
    });

    it("takes effect only after 3 of 4 approvals and the delay, with an event at every step", async function () {
      const { governance, ledger, council, timelock, sso, court, ministry, finance, outsider } =
        await networkHelpers.loadFixture(governedFixture);
      const change = { action: "grant", role: "ANCHORER_ROLE", account: finance.address } as const;

      const first = await proposeRoleChanges({ signer: sso, governance, changes: [change] });
      expect(first).to.include({ proposalId: 1n, approvals: 1, threshold: 3 });
      expect(first.readyAt).to.equal(undefined);
      expect(await council.proposalState(1n)).to.equal(BigInt(State.Pending));
      const proposal = await council.getProposal(1n);
      expect(proposal.description).to.equal(`grantRole(ANCHORER_ROLE, ${finance.address})`);

      await expect(council.connect(sso).approve(1n))
        .to.be.revertedWithCustomError(council, "CouncilAlreadyApproved")
        .withArgs(1n, sso.address);
      await expect(council.connect(outsider).approve(1n))
        .to.be.revertedWithCustomError(council, "CouncilNotMember")
        .withArgs(outsider.address);

      const second = await approveProposal({ signer: court, governance, proposalId: 1n });
      expect(second).to.include({ approvals: 2, threshold: 3 });
      expect(await ledger.hasRole(ANCHORER_ROLE, finance.address)).to.equal(false);

      await expect(council.connect(ministry).approve(1n))
        .to.emit(council, "ProposalApproved")
        .withArgs(1n, ministry.address, 3n, 3n)
        .and.to.emit(council, "ProposalScheduled")
        .and.to.emit(timelock, "CallScheduled");
      expect(await council.proposalState(1n)).to.equal(BigInt(State.Scheduled));
      await expect(council.connect(court).approve(1n))
        .to.be.revertedWithCustomError(council, "CouncilUnexpectedState")
        .withArgs(1n, State.Scheduled);

      // not before the delay
      await rejects(
        executeProposal({ signer: sso, governance, proposalId: 1n }),
        /CouncilUnexpectedState|reverted/,
      );
      await expect(council.connect(sso).execute(1n))
        .to.be.revertedWithCustomError(council, "CouncilUnexpectedState")
        .withArgs(1n, State.Scheduled);
      await time.increase(DELAY - 5);
      await expect(council.connect(sso).execute(1n)).to.be.revertedWithCustomError(
        council,
        "CouncilUnexpectedState",
      );
      expect(await ledger.hasRole(ANCHORER_ROLE, finance.address)).to.equal(false);

      await time.increase(10);
      expect(await council.proposalState(1n)).to.equal(BigInt(State.Ready));
      await expect(council.connect(outsider).execute(1n))
        .to.be.revertedWithCustomError(council, "CouncilNotMember")
        .withArgs(outsider.address);
      await expect(council.connect(ministry).execute(1n))
        .to.emit(council, "ProposalExecuted")
        .withArgs(1n, proposal.operationId, ministry.address)
        .and.to.emit(timelock, "CallExecuted")
        .and.to.emit(ledger, "RoleGranted")
        .withArgs(ANCHORER_ROLE, finance.address, governance.timelock);
      expect(await ledger.hasRole(ANCHORER_ROLE, finance.address)).to.equal(true);
      expect(await council.proposalState(1n)).to.equal(BigInt(State.Executed));
      await expect(council.connect(sso).execute(1n))
        .to.be.revertedWithCustomError(council, "CouncilUnexpectedState")
        .withArgs(1n, State.Executed);

      await ledger.connect(finance).anchorBatch(...anchorArgs(1));
      expect(await ledger.batchCount()).to.equal(1n);
    });

    it("a withdrawn approval does not count", async function () {
      const { governance, council, sso, court, ministry, bank, auditor, ledger } =
        await networkHelpers.loadFixture(governedFixture);
      await proposeRoleChanges({
        signer: sso,
        governance,
        changes: [{ action: "grant", role: "AUDITOR_ROLE", account: auditor.address }],
        description: "the audit court's new auditor",
      });
      await approveProposal({ signer: court, governance, proposalId: 1n });
      await expect(council.connect(court).revokeApproval(1n))
        .to.emit(council, "ProposalApprovalRevoked")
        .withArgs(1n, court.address, 1n);
      await expect(council.connect(court).revokeApproval(1n))
        .to.be.revertedWithCustomError(council, "CouncilNotApproved")
        .withArgs(1n, court.address);
      const third = await approveProposal({ signer: ministry, governance, proposalId: 1n });
      expect(third.approvals).to.equal(2);
      expect(third.readyAt).to.equal(undefined);
      const fourth = await approveProposal({ signer: bank, governance, proposalId: 1n });
      expect(fourth.approvals).to.equal(3);
      expect(fourth.readyAt).to.equal((await time.latest()) + DELAY);
      await time.increase(DELAY);
      await executeProposal({ signer: bank, governance, proposalId: 1n });
      expect(await ledger.hasRole(AUDITOR_ROLE, auditor.address)).to.equal(true);
    });

    it("revoking a role goes the same way and stops the account", async function () {
      const { governance, ledger, sso, court, ministry, finance } =
        await networkHelpers.loadFixture(governedFixture);
      const pass = async (changes: Parameters<typeof proposeRoleChanges>[0]["changes"]) => {
        const { proposalId } = await proposeRoleChanges({ signer: sso, governance, changes });
        await approveProposal({ signer: court, governance, proposalId });
        await approveProposal({ signer: ministry, governance, proposalId });
        await time.increase(DELAY);
        await executeProposal({ signer: court, governance, proposalId });
      };
      await pass([{ action: "grant", role: "ANCHORER_ROLE", account: finance.address }]);
      await ledger.connect(finance).anchorBatch(...anchorArgs(1));
      await pass([{ action: "revoke", role: "ANCHORER_ROLE", account: finance.address }]);
      await expect(ledger.connect(finance).anchorBatch(...anchorArgs(2)))
        .to.be.revertedWithCustomError(ledger, "AccessControlUnauthorizedAccount")
        .withArgs(finance.address, ANCHORER_ROLE);
    });
  });

  describe("cancel", function () {
    it("threshold members cancel a scheduled change during the delay; it never executes", async function () {
      const {
        governance,
        ledger,
        council,
        timelock,
        sso,
        court,
        ministry,
        bank,
        finance,
        outsider,
      } = await networkHelpers.loadFixture(governedFixture);
      const { proposalId } = await proposeRoleChanges({
        signer: sso,
        governance,
        changes: [{ action: "grant", role: "ANCHORER_ROLE", account: finance.address }],
      });
      await approveProposal({ signer: court, governance, proposalId });
      await approveProposal({ signer: ministry, governance, proposalId });
      const { operationId } = (await council.getProposal(proposalId)) as { operationId: string };
      expect(await timelock.isOperation(operationId)).to.equal(true);

      await expect(council.connect(outsider).cancel(proposalId))
        .to.be.revertedWithCustomError(council, "CouncilNotMember")
        .withArgs(outsider.address);
      const first = await cancelProposal({ signer: bank, governance, proposalId });
      expect(first).to.include({ votes: 1, threshold: 3, cancelled: false });
      await expect(council.connect(bank).cancel(proposalId))
        .to.be.revertedWithCustomError(council, "CouncilAlreadyVotedCancel")
        .withArgs(proposalId, bank.address);
      await cancelProposal({ signer: court, governance, proposalId });
      expect(await council.proposalState(proposalId)).to.equal(BigInt(State.Scheduled));
      await expect(council.connect(sso).cancel(proposalId))
        .to.emit(council, "ProposalCancelled")
        .withArgs(proposalId, operationId)
        .and.to.emit(timelock, "Cancelled")
        .withArgs(operationId);
      expect(await council.proposalState(proposalId)).to.equal(BigInt(State.Cancelled));
      expect(await timelock.isOperation(operationId)).to.equal(false);

      await time.increase(DELAY + 1);
      await expect(council.connect(sso).execute(proposalId))
        .to.be.revertedWithCustomError(council, "CouncilUnexpectedState")
        .withArgs(proposalId, State.Cancelled);
      await expect(council.connect(ministry).cancel(proposalId))
        .to.be.revertedWithCustomError(council, "CouncilUnexpectedState")
        .withArgs(proposalId, State.Cancelled);
      expect(await ledger.hasRole(ANCHORER_ROLE, finance.address)).to.equal(false);
      const view = await listProposals(sso, governance);
      expect(view.proposals[0]!.state).to.equal("cancelled");
    });

    it("cancel votes from an earlier membership epoch do not count", async function () {
      const { governance, council, sso, court, ministry, bank, finance, outsider } =
        await networkHelpers.loadFixture(governedFixture);
      const iface = new Interface(COUNCIL_ABI);
      // proposal 1: add a member (will change the epoch); proposal 2: a grant, scheduled later
      await council
        .connect(sso)
        .propose(
          [governance.council],
          [iface.encodeFunctionData("addMember", [outsider.address])],
          "",
        );
      await council.connect(court).approve(1n);
      await council.connect(ministry).approve(1n);
      await proposeRoleChanges({
        signer: sso,
        governance,
        changes: [{ action: "grant", role: "AUDITOR_ROLE", account: finance.address }],
      });
      await council.connect(court).approve(2n);
      await council.connect(ministry).approve(2n);
      await council.connect(bank).cancel(2n);
      await council.connect(court).cancel(2n);
      await time.increase(DELAY);
      await council.connect(sso).execute(1n); // epoch 0 → 1
      const after = await cancelProposal({ signer: sso, governance, proposalId: 2n });
      expect(after).to.include({ votes: 1, cancelled: false });
      // the same member may vote again in the new epoch
      expect((await cancelProposal({ signer: bank, governance, proposalId: 2n })).votes).to.equal(
        2,
      );
      expect(await council.proposalState(2n)).to.equal(BigInt(State.Ready));
    });

    it("a pending proposal can be cancelled too; executed and unknown ones cannot", async function () {
      const { governance, council, sso, court, ministry } =
        await networkHelpers.loadFixture(governedFixture);
      await proposeRoleChanges({ signer: sso, governance, changes: [{ action: "unpause" }] });
      for (const who of [sso, court, ministry]) await council.connect(who).cancel(1n);
      expect(await council.proposalState(1n)).to.equal(BigInt(State.Cancelled));
      await expect(council.connect(court).approve(1n))
        .to.be.revertedWithCustomError(council, "CouncilUnexpectedState")
        .withArgs(1n, State.Cancelled);
      await expect(council.connect(sso).cancel(9n))
        .to.be.revertedWithCustomError(council, "CouncilUnknownProposal")
        .withArgs(9n);
      const iface = new Interface(COUNCIL_ABI);
      await council
        .connect(sso)
        .propose([governance.council], [iface.encodeFunctionData("setThreshold", [2])], "2 of 4");
      await council.connect(court).approve(2n);
      await council.connect(ministry).approve(2n);
      await time.increase(DELAY);
      await council.connect(sso).execute(2n);
      await expect(council.connect(sso).cancel(2n))
        .to.be.revertedWithCustomError(council, "CouncilUnexpectedState")
        .withArgs(2n, State.Executed);
      expect(await council.threshold()).to.equal(2n);
    });
  });

  describe("pause", function () {
    it("an emergency pause works at once; unpausing goes through governance", async function () {
      const { governance, ledger, council, court, sso, ministry, bank } =
        await networkHelpers.loadFixture(governedFixture);
      await expect(ledger.connect(court).pause()).to.emit(ledger, "Paused").withArgs(court.address);
      expect(await ledger.paused()).to.equal(true);
      for (const who of [court, sso]) {
        await expect(ledger.connect(who).unpause())
          .to.be.revertedWithCustomError(ledger, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, ZeroHash);
      }
      const { proposalId } = await proposeRoleChanges({
        signer: bank,
        governance,
        changes: [{ action: "unpause" }],
      });
      await approveProposal({ signer: sso, governance, proposalId });
      await approveProposal({ signer: ministry, governance, proposalId });
      expect(await ledger.paused()).to.equal(true);
      await time.increase(DELAY);
      await expect(council.connect(bank).execute(proposalId))
        .to.emit(ledger, "Unpaused")
        .withArgs(governance.timelock);
      expect(await ledger.paused()).to.equal(false);
    });
  });

  describe("membership", function () {
    it("changes only through the timelock, and makes pending proposals stale", async function () {
      const { governance, council, sso, court, ministry, bank, outsider } =
        await networkHelpers.loadFixture(governedFixture);
      await expect(council.connect(sso).addMember(outsider.address))
        .to.be.revertedWithCustomError(council, "CouncilOnlyTimelock")
        .withArgs(sso.address);
      await expect(council.connect(sso).setThreshold(1))
        .to.be.revertedWithCustomError(council, "CouncilOnlyTimelock")
        .withArgs(sso.address);

      // proposal 1: pending, will go stale
      await proposeRoleChanges({
        signer: bank,
        governance,
        changes: [{ action: "grant", role: "PAUSER_ROLE", account: outsider.address }],
      });
      // proposal 2: rotate the ministry's key to `outsider`, raise nothing
      const iface = new Interface(COUNCIL_ABI);
      await council
        .connect(sso)
        .propose(
          [governance.council, governance.council],
          [
            iface.encodeFunctionData("addMember", [outsider.address]),
            iface.encodeFunctionData("removeMember", [ministry.address]),
          ],
          "key rotation: the ministry",
        );
      await council.connect(court).approve(2n);
      await council.connect(ministry).approve(2n);
      await time.increase(DELAY);
      await expect(council.connect(court).execute(2n))
        .to.emit(council, "MemberAdded")
        .withArgs(outsider.address, 1n)
        .and.to.emit(council, "MemberRemoved")
        .withArgs(ministry.address, 2n);
      expect(await council.isMember(outsider.address)).to.equal(true);
      expect(await council.isMember(ministry.address)).to.equal(false);
      expect(await council.epoch()).to.equal(2n);
      expect(await council.proposalState(1n)).to.equal(BigInt(State.Stale));
      await expect(council.connect(sso).approve(1n))
        .to.be.revertedWithCustomError(council, "CouncilUnexpectedState")
        .withArgs(1n, State.Stale);
      await expect(council.connect(ministry).propose([governance.ledger], ["0x"], ""))
        .to.be.revertedWithCustomError(council, "CouncilNotMember")
        .withArgs(ministry.address);

      const view = await listProposals(sso, governance);
      expect(view.members).to.have.members([
        sso.address,
        court.address,
        outsider.address,
        bank.address,
      ]);
      expect(view.proposals.map((p) => p.state)).to.deep.equal(["stale", "executed"]);
      expect(view.proposals[1]!.calls.map((c) => c.call)).to.deep.equal([
        `addMember(${outsider.address})`,
        `removeMember(${ministry.address})`,
      ]);
    });

    it("cannot remove members below the threshold", async function () {
      const { governance, council, sso, court, ministry, bank } =
        await networkHelpers.loadFixture(governedFixture);
      const iface = new Interface(COUNCIL_ABI);
      await council
        .connect(sso)
        .propose(
          [governance.council, governance.council],
          [
            iface.encodeFunctionData("removeMember", [bank.address]),
            iface.encodeFunctionData("removeMember", [ministry.address]),
          ],
          "too many",
        );
      await council.connect(court).approve(1n);
      await council.connect(ministry).approve(1n);
      await time.increase(DELAY);
      await expect(council.connect(sso).execute(1n))
        .to.be.revertedWithCustomError(council, "CouncilInvalidThreshold")
        .withArgs(3n, 2n);
      await council
        .connect(sso)
        .propose(
          [governance.council],
          [iface.encodeFunctionData("setThreshold", [5])],
          "impossible threshold",
        );
      await council.connect(court).approve(2n);
      await council.connect(ministry).approve(2n);
      await time.increase(DELAY);
      await expect(council.connect(sso).execute(2n))
        .to.be.revertedWithCustomError(council, "CouncilInvalidThreshold")
        .withArgs(5n, 4n);
    });
  });

  describe("proposals", function () {
    it("refuses empty, mismatched and unknown proposals", async function () {
      const { governance, council, sso } = await networkHelpers.loadFixture(governedFixture);
      await expect(council.connect(sso).propose([], [], "")).to.be.revertedWithCustomError(
        council,
        "CouncilEmptyProposal",
      );
      await expect(council.connect(sso).propose([governance.ledger], [], ""))
        .to.be.revertedWithCustomError(council, "CouncilLengthMismatch")
        .withArgs(1n, 0n);
      for (const unknown of [0n, 1n]) {
        await expect(council.getProposal(unknown))
          .to.be.revertedWithCustomError(council, "CouncilUnknownProposal")
          .withArgs(unknown);
        await expect(council.connect(sso).approve(unknown))
          .to.be.revertedWithCustomError(council, "CouncilUnknownProposal")
          .withArgs(unknown);
        expect(await council.proposalState(unknown)).to.equal(BigInt(State.None));
      }
      await expect(council.connect(sso).execute(1n))
        .to.be.revertedWithCustomError(council, "CouncilUnexpectedState")
        .withArgs(1n, State.None);
      await rejects(
        proposeRoleChanges({ signer: sso, governance, changes: [] }),
        /at least one change/,
      );
      expect(() =>
        encodeRoleChange({ action: "grant", role: "OWNER_ROLE" as never, account: sso.address }),
      ).to.throw(/unknown role/);
    });

    it("lists proposals with their state, approvals, ready time and decoded calls", async function () {
      const { governance, sso, court, ministry, finance } =
        await networkHelpers.loadFixture(governedFixture);
      await proposeRoleChanges({
        signer: sso,
        governance,
        changes: [
          { action: "grant", role: "ANCHORER_ROLE", account: finance.address },
          { action: "unpause" },
        ],
        description: "finance system goes live",
      });
      await approveProposal({ signer: court, governance, proposalId: 1n });
      let view = await listProposals(sso, governance);
      expect(view.threshold).to.equal(3);
      expect(view.minDelaySeconds).to.equal(DELAY);
      expect(view.proposals).to.have.length(1);
      const p = view.proposals[0]!;
      expect(p).to.include({
        state: "pending",
        approvals: 2,
        description: "finance system goes live",
      });
      expect(p.approvedBy).to.deep.equal([sso.address, court.address]);
      expect(p.readyAt).to.equal(undefined);
      expect(p.calls).to.deep.equal([
        { target: governance.ledger, call: `grantRole(ANCHORER_ROLE, ${finance.address})` },
        { target: governance.ledger, call: "unpause()" },
      ]);
      await approveProposal({ signer: ministry, governance, proposalId: 1n });
      view = await listProposals(sso, governance);
      expect(view.proposals[0]!.state).to.equal("scheduled");
      expect(view.proposals[0]!.readyAt).to.equal((await time.latest()) + DELAY);
      expect(describeCall("0xdeadbeef")).to.equal("unknown call 0xdeadbeef");
    });
  });
});
