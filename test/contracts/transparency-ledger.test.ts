import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, ZeroAddress, ZeroHash, getCreateAddress, id, keccak256, toBeHex } from "ethers";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { LEDGER_METHODS, typed } from "./typed-contract.ts";

const { ethers, networkHelpers } = await network.create();
const loadFixture = networkHelpers.loadFixture.bind(networkHelpers);
const { time } = networkHelpers;

const PREMIUM = 0;
const PENSION = 1;
const NONE = 0;
const CONFIRMED = 1;
const DISPUTED = 2;
const ANCHORER_ROLE = id("ANCHORER_ROLE");
const AUDITOR_ROLE = id("AUDITOR_ROLE");
const PAUSER_ROLE = id("PAUSER_ROLE");
const DEFAULT_ADMIN_ROLE = ZeroHash;
const ADMIN_DELAY = 3 * 24 * 3600;
const abi = AbiCoder.defaultAbiCoder();

const hash = (label: string): string => id(label);

interface AnchorArgs {
  root: string;
  kind: number;
  period: number;
  recordCount: bigint;
  totalAmount: bigint;
  manifestHash: string;
  supersedes: bigint;
  idempotencyKey: string;
}

function batch(n: number, overrides: Partial<AnchorArgs> = {}): AnchorArgs {
  return {
    root: hash(`root ${n}`),
    kind: PREMIUM,
    period: 140307,
    recordCount: BigInt(1000 + n),
    totalAmount: 12_345_678_900n * BigInt(n),
    manifestHash: hash(`manifest ${n}`),
    supersedes: 0n,
    idempotencyKey: hash(`key ${n}`),
    ...overrides,
  };
}

const argsOf = (a: AnchorArgs) =>
  [
    a.root,
    a.kind,
    a.period,
    a.recordCount,
    a.totalAmount,
    a.manifestHash,
    a.supersedes,
    a.idempotencyKey,
  ] as const;

/** The spec's head formula, computed off-chain. */
function nextHead(previous: string, batchId: bigint, a: AnchorArgs): string {
  return keccak256(
    abi.encode(
      ["bytes32", "uint64", "bytes32", "uint8", "uint32", "uint64", "uint128", "bytes32"],
      [previous, batchId, a.root, a.kind, a.period, a.recordCount, a.totalAmount, a.manifestHash],
    ),
  );
}

async function deployLedgerFixture() {
  const [admin, anchorer, auditor, auditor2, pauser, outsider] = await ethers.getSigners();
  const ledger = typed(
    await ethers.deployContract("TransparencyLedger", [
      admin!.address,
      ADMIN_DELAY,
      [anchorer!.address],
      [auditor!.address, auditor2!.address],
      [pauser!.address],
    ]),
    LEDGER_METHODS,
  );
  return {
    ledger,
    admin: admin!,
    anchorer: anchorer!,
    auditor: auditor!,
    auditor2: auditor2!,
    pauser: pauser!,
    outsider: outsider!,
  };
}

async function anchoredFixture() {
  const f = await deployLedgerFixture();
  const anchor = f.ledger.connect(f.anchorer);
  await anchor.anchorBatch(...argsOf(batch(1)));
  await anchor.anchorBatch(...argsOf(batch(2, { kind: PENSION, period: 140308 })));
  return f;
}

describe("TransparencyLedger", function () {
  describe("constructor", function () {
    it("grants the admin and the listed roles, and nothing to the deployer beyond them", async function () {
      const { ledger, admin, anchorer, auditor, auditor2, pauser, outsider } =
        await loadFixture(deployLedgerFixture);
      expect(await ledger.defaultAdmin()).to.equal(admin.address);
      expect(await ledger.defaultAdminDelay()).to.equal(ADMIN_DELAY);
      expect(await ledger.hasRole(ANCHORER_ROLE, anchorer.address)).to.equal(true);
      expect(await ledger.hasRole(AUDITOR_ROLE, auditor.address)).to.equal(true);
      expect(await ledger.hasRole(AUDITOR_ROLE, auditor2.address)).to.equal(true);
      expect(await ledger.hasRole(PAUSER_ROLE, pauser.address)).to.equal(true);
      expect(await ledger.hasRole(ANCHORER_ROLE, admin.address)).to.equal(false);
      expect(await ledger.hasRole(DEFAULT_ADMIN_ROLE, outsider.address)).to.equal(false);
      expect(await ledger.ANCHORER_ROLE()).to.equal(ANCHORER_ROLE);
      expect(await ledger.AUDITOR_ROLE()).to.equal(AUDITOR_ROLE);
      expect(await ledger.PAUSER_ROLE()).to.equal(PAUSER_ROLE);
      expect(await ledger.batchCount()).to.equal(0n);
      expect(await ledger.head()).to.equal(ZeroHash);
      expect(await ledger.paused()).to.equal(false);
    });

    it("refuses the zero admin", async function () {
      const factory = await ethers.getContractFactory("TransparencyLedger");
      await expect(factory.deploy(ZeroAddress, 0, [], [], []))
        .to.be.revertedWithCustomError(factory, "AccessControlInvalidDefaultAdmin")
        .withArgs(ZeroAddress);
    });

    it("supports ERC-165 for the ledger and access-control interfaces", async function () {
      const { ledger } = await loadFixture(deployLedgerFixture);
      const iface = ledger.interface;
      let ledgerId = 0n;
      for (const fragment of (await ethers.getContractAt("ITransparencyLedger", ZeroAddress))
        .interface.fragments) {
        if (fragment.type === "function") {
          ledgerId ^= BigInt(
            iface.getFunction((fragment as { format(): string }).format())!.selector,
          );
        }
      }
      expect(await ledger.supportsInterface(toBeHex(ledgerId, 4))).to.equal(true);
      expect(await ledger.supportsInterface("0x7965db0b")).to.equal(true); // IAccessControl
      expect(await ledger.supportsInterface("0x01ffc9a7")).to.equal(true); // IERC165
      expect(await ledger.supportsInterface("0xffffffff")).to.equal(false);
    });
  });

  describe("anchorBatch", function () {
    it("numbers batches from 1, stores every field and emits them all", async function () {
      const { ledger, anchorer } = await loadFixture(deployLedgerFixture);
      const a = batch(1);
      const asAnchorer = ledger.connect(anchorer);
      expect(await asAnchorer.anchorBatch.staticCall(...argsOf(a))).to.equal(1n);
      const head1 = nextHead(ZeroHash, 1n, a);
      await expect(asAnchorer.anchorBatch(...argsOf(a)))
        .to.emit(ledger, "BatchAnchored")
        .withArgs(
          1n,
          a.root,
          a.period,
          a.kind,
          a.recordCount,
          a.totalAmount,
          a.manifestHash,
          0n,
          a.idempotencyKey,
          head1,
          anchorer.address,
        );
      const anchoredAt = await time.latest();
      const stored = await ledger.getBatch(1n);
      expect(stored.toObject()).to.deep.equal({
        root: a.root,
        manifestHash: a.manifestHash,
        idempotencyKey: a.idempotencyKey,
        headAfter: head1,
        totalAmount: a.totalAmount,
        recordCount: a.recordCount,
        period: BigInt(a.period),
        kind: BigInt(a.kind),
        supersedes: 0n,
        supersededBy: 0n,
        anchorer: anchorer.address,
        anchoredAt: BigInt(anchoredAt),
      });
      expect(await ledger.batchCount()).to.equal(1n);
      expect(await ledger.head()).to.equal(head1);
      expect(await ledger.batchIdOfRoot(a.root)).to.equal(1n);
      expect(await ledger.batchIdOfIdempotencyKey(a.idempotencyKey)).to.equal(1n);
      expect(await ledger.batchIdOfRoot(hash("unknown root"))).to.equal(0n);
      expect(await ledger.batchIdOfIdempotencyKey(hash("unknown key"))).to.equal(0n);

      const b = batch(2, { kind: PENSION, period: 140312 });
      expect(await asAnchorer.anchorBatch.staticCall(...argsOf(b))).to.equal(2n);
      await asAnchorer.anchorBatch(...argsOf(b));
      expect(await ledger.head()).to.equal(nextHead(head1, 2n, b));
      expect((await ledger.getBatch(2n)).kind).to.equal(BigInt(PENSION));
      expect((await ledger.getBatch(1n)).headAfter).to.equal(head1);
    });

    it("stores extreme values exactly (max amount, count, period; min period)", async function () {
      const { ledger, anchorer } = await loadFixture(deployLedgerFixture);
      const a = batch(1, {
        totalAmount: 2n ** 128n - 1n,
        recordCount: 2n ** 64n - 1n,
        period: 999912,
      });
      const b = batch(2, { totalAmount: 0n, recordCount: 1n, period: 130001, kind: PENSION });
      await ledger.connect(anchorer).anchorBatch(...argsOf(a));
      await ledger.connect(anchorer).anchorBatch(...argsOf(b));
      const sa = await ledger.getBatch(1n);
      expect([sa.totalAmount, sa.recordCount, sa.period]).to.deep.equal([
        2n ** 128n - 1n,
        2n ** 64n - 1n,
        999912n,
      ]);
      const sb = await ledger.getBatch(2n);
      expect([sb.totalAmount, sb.recordCount, sb.period, sb.kind]).to.deep.equal([
        0n,
        1n,
        130001n,
        1n,
      ]);
    });

    it("keeps each batch's fields in the code of its own data contract (CREATE nonce = batch id)", async function () {
      const { ledger } = await loadFixture(anchoredFixture);
      const address = await ledger.getAddress();
      for (const n of [1, 2]) {
        const code = await ethers.provider.getCode(getCreateAddress({ from: address, nonce: n }));
        expect(code.length).to.equal(2 + 2 * 194);
        expect(code.slice(0, 4)).to.equal("0x00"); // STOP: calling it does nothing
        expect("0x" + code.slice(4, 68)).to.equal(batch(n).root);
      }
    });

    for (const period of [0, 129912, 130000, 130013, 140300, 140399, 1000001, 4294967295]) {
      it(`rejects period ${period} with LedgerInvalidPeriod`, async function () {
        const { ledger, anchorer } = await loadFixture(deployLedgerFixture);
        await expect(ledger.connect(anchorer).anchorBatch(...argsOf(batch(1, { period }))))
          .to.be.revertedWithCustomError(ledger, "LedgerInvalidPeriod")
          .withArgs(period);
      });
    }

    it("rejects a zero record count, a zero root and a zero idempotency key", async function () {
      const { ledger, anchorer } = await loadFixture(deployLedgerFixture);
      const asAnchorer = ledger.connect(anchorer);
      await expect(
        asAnchorer.anchorBatch(...argsOf(batch(1, { recordCount: 0n }))),
      ).to.be.revertedWithCustomError(ledger, "LedgerZeroRecordCount");
      await expect(
        asAnchorer.anchorBatch(...argsOf(batch(1, { root: ZeroHash }))),
      ).to.be.revertedWithCustomError(ledger, "LedgerZeroRoot");
      await expect(
        asAnchorer.anchorBatch(...argsOf(batch(1, { idempotencyKey: ZeroHash }))),
      ).to.be.revertedWithCustomError(ledger, "LedgerZeroIdempotencyKey");
      expect(await ledger.batchCount()).to.equal(0n);
    });

    it("rejects a kind outside the enum without storing anything", async function () {
      const { ledger, anchorer } = await loadFixture(deployLedgerFixture);
      const data = ledger.interface
        .encodeFunctionData("anchorBatch", argsOf(batch(1)))
        .replace(/(^0x.{8}.{64}).{64}/, `$1${"00".repeat(31)}02`);
      await expect(
        anchorer.sendTransaction({ to: await ledger.getAddress(), data }),
      ).to.be.revertedWithoutReason(ethers);
      expect(await ledger.batchCount()).to.equal(0n);
    });

    it("re-using an idempotency key reverts with the batch it anchored, even with another root", async function () {
      const { ledger, anchorer } = await loadFixture(anchoredFixture);
      const again = batch(9, { idempotencyKey: batch(2).idempotencyKey });
      await expect(ledger.connect(anchorer).anchorBatch(...argsOf(again)))
        .to.be.revertedWithCustomError(ledger, "LedgerDuplicateIdempotencyKey")
        .withArgs(batch(2).idempotencyKey, 2n);
      // the same retry of the same batch: the key is reported first, so a client resumes from it
      await expect(ledger.connect(anchorer).anchorBatch(...argsOf(batch(1))))
        .to.be.revertedWithCustomError(ledger, "LedgerDuplicateIdempotencyKey")
        .withArgs(batch(1).idempotencyKey, 1n);
    });

    it("re-using a root reverts with the batch that anchored it", async function () {
      const { ledger, anchorer } = await loadFixture(anchoredFixture);
      await expect(
        ledger.connect(anchorer).anchorBatch(...argsOf(batch(9, { root: batch(1).root }))),
      )
        .to.be.revertedWithCustomError(ledger, "LedgerDuplicateRoot")
        .withArgs(batch(1).root, 1n);
    });

    it("only ANCHORER_ROLE may anchor: not the admin, an auditor, a pauser or anyone else", async function () {
      const { ledger, admin, auditor, pauser, outsider } = await loadFixture(deployLedgerFixture);
      for (const who of [admin, auditor, pauser, outsider]) {
        await expect(ledger.connect(who).anchorBatch(...argsOf(batch(1))))
          .to.be.revertedWithCustomError(ledger, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, ANCHORER_ROLE);
      }
    });

    it("works for an anchorer granted later and stops when the role is revoked", async function () {
      const { ledger, admin, outsider } = await loadFixture(deployLedgerFixture);
      await ledger.connect(admin).grantRole(ANCHORER_ROLE, outsider.address);
      await ledger.connect(outsider).anchorBatch(...argsOf(batch(1)));
      await ledger.connect(admin).revokeRole(ANCHORER_ROLE, outsider.address);
      await expect(ledger.connect(outsider).anchorBatch(...argsOf(batch(2))))
        .to.be.revertedWithCustomError(ledger, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, ANCHORER_ROLE);
    });
  });

  describe("supersession", function () {
    it("a correction of the same kind and period marks the old batch, which stays readable", async function () {
      const { ledger, anchorer } = await loadFixture(anchoredFixture);
      const fix = batch(3, { supersedes: 1n });
      await expect(ledger.connect(anchorer).anchorBatch(...argsOf(fix)))
        .to.emit(ledger, "BatchSuperseded")
        .withArgs(1n, 3n)
        .and.to.emit(ledger, "BatchAnchored");
      const old = await ledger.getBatch(1n);
      expect(old.supersededBy).to.equal(3n);
      expect(old.root).to.equal(batch(1).root);
      expect(old.recordCount).to.equal(batch(1).recordCount);
      const fresh = await ledger.getBatch(3n);
      expect(fresh.supersedes).to.equal(1n);
      expect(fresh.supersededBy).to.equal(0n);
      expect((await ledger.getBatch(2n)).supersededBy).to.equal(0n);
    });

    it("corrections of corrections are allowed; each batch is superseded once", async function () {
      const { ledger, anchorer } = await loadFixture(anchoredFixture);
      const asAnchorer = ledger.connect(anchorer);
      await asAnchorer.anchorBatch(...argsOf(batch(3, { supersedes: 1n })));
      await asAnchorer.anchorBatch(...argsOf(batch(4, { supersedes: 3n })));
      expect((await ledger.getBatch(1n)).supersededBy).to.equal(3n);
      expect((await ledger.getBatch(3n)).supersededBy).to.equal(4n);
      await expect(asAnchorer.anchorBatch(...argsOf(batch(5, { supersedes: 1n }))))
        .to.be.revertedWithCustomError(ledger, "LedgerAlreadySuperseded")
        .withArgs(1n, 3n);
      await expect(asAnchorer.anchorBatch(...argsOf(batch(5, { supersedes: 3n }))))
        .to.be.revertedWithCustomError(ledger, "LedgerAlreadySuperseded")
        .withArgs(3n, 4n);
    });

    it("a correction must have the kind and period of the batch it supersedes", async function () {
      const { ledger, anchorer } = await loadFixture(anchoredFixture);
      const asAnchorer = ledger.connect(anchorer);
      await expect(asAnchorer.anchorBatch(...argsOf(batch(3, { supersedes: 1n, kind: PENSION }))))
        .to.be.revertedWithCustomError(ledger, "LedgerSupersedeMismatch")
        .withArgs(1n, PREMIUM, 140307);
      await expect(asAnchorer.anchorBatch(...argsOf(batch(3, { supersedes: 1n, period: 140308 }))))
        .to.be.revertedWithCustomError(ledger, "LedgerSupersedeMismatch")
        .withArgs(1n, PREMIUM, 140307);
      await expect(asAnchorer.anchorBatch(...argsOf(batch(3, { supersedes: 2n }))))
        .to.be.revertedWithCustomError(ledger, "LedgerSupersedeMismatch")
        .withArgs(2n, PENSION, 140308);
      expect((await ledger.getBatch(1n)).supersededBy).to.equal(0n);
    });

    it("a correction of an unknown batch reverts", async function () {
      const { ledger, anchorer } = await loadFixture(anchoredFixture);
      await expect(ledger.connect(anchorer).anchorBatch(...argsOf(batch(3, { supersedes: 3n }))))
        .to.be.revertedWithCustomError(ledger, "LedgerUnknownBatch")
        .withArgs(3n);
      await expect(
        ledger.connect(anchorer).anchorBatch(...argsOf(batch(3, { supersedes: 2n ** 64n - 1n }))),
      )
        .to.be.revertedWithCustomError(ledger, "LedgerUnknownBatch")
        .withArgs(2n ** 64n - 1n);
    });
  });

  describe("attest", function () {
    it("records a verdict, replaces it, and keeps the counts per auditor", async function () {
      const { ledger, auditor, auditor2 } = await loadFixture(anchoredFixture);
      const report1 = hash("report 1");
      const report2 = hash("report 2");
      await expect(ledger.connect(auditor).attest(1n, CONFIRMED, report1))
        .to.emit(ledger, "BatchAttested")
        .withArgs(1n, auditor.address, CONFIRMED, NONE, report1);
      expect(await ledger.attestationCounts(1n)).to.deep.equal([1n, 0n]);
      expect(await ledger.attestationOf(1n, auditor.address)).to.deep.equal([
        BigInt(CONFIRMED),
        report1,
      ]);

      await ledger.connect(auditor2).attest(1n, DISPUTED, report2);
      expect(await ledger.attestationCounts(1n)).to.deep.equal([1n, 1n]);

      await expect(ledger.connect(auditor).attest(1n, DISPUTED, report2))
        .to.emit(ledger, "BatchAttested")
        .withArgs(1n, auditor.address, DISPUTED, CONFIRMED, report2);
      expect(await ledger.attestationCounts(1n)).to.deep.equal([0n, 2n]);

      // same verdict again: a new report, counts unchanged, the event still says what it replaced
      await expect(ledger.connect(auditor).attest(1n, DISPUTED, report1))
        .to.emit(ledger, "BatchAttested")
        .withArgs(1n, auditor.address, DISPUTED, DISPUTED, report1);
      expect(await ledger.attestationCounts(1n)).to.deep.equal([0n, 2n]);
      expect(await ledger.attestationOf(1n, auditor.address)).to.deep.equal([
        BigInt(DISPUTED),
        report1,
      ]);

      await ledger.connect(auditor2).attest(1n, CONFIRMED, report2);
      expect(await ledger.attestationCounts(1n)).to.deep.equal([1n, 1n]);
      // other batches are untouched
      expect(await ledger.attestationCounts(2n)).to.deep.equal([0n, 0n]);
      expect(await ledger.attestationOf(2n, auditor.address)).to.deep.equal([0n, ZeroHash]);
    });

    it("may attest a superseded batch", async function () {
      const { ledger, anchorer, auditor } = await loadFixture(anchoredFixture);
      await ledger.connect(anchorer).anchorBatch(...argsOf(batch(3, { supersedes: 1n })));
      await ledger.connect(auditor).attest(1n, CONFIRMED, hash("late report"));
      expect(await ledger.attestationCounts(1n)).to.deep.equal([1n, 0n]);
    });

    it("rejects the None verdict, a zero report hash and unknown batches", async function () {
      const { ledger, auditor } = await loadFixture(anchoredFixture);
      const asAuditor = ledger.connect(auditor);
      await expect(asAuditor.attest(1n, NONE, hash("r")))
        .to.be.revertedWithCustomError(ledger, "LedgerInvalidVerdict")
        .withArgs(NONE);
      await expect(asAuditor.attest(1n, CONFIRMED, ZeroHash)).to.be.revertedWithCustomError(
        ledger,
        "LedgerZeroReportHash",
      );
      for (const unknown of [0n, 3n]) {
        await expect(asAuditor.attest(unknown, CONFIRMED, hash("r")))
          .to.be.revertedWithCustomError(ledger, "LedgerUnknownBatch")
          .withArgs(unknown);
      }
      const data = ledger.interface
        .encodeFunctionData("attest", [1n, CONFIRMED, hash("r")])
        .replace(/(^0x.{8}.{64}).{64}/, `$1${"00".repeat(31)}03`);
      await expect(
        auditor.sendTransaction({ to: await ledger.getAddress(), data }),
      ).to.be.revertedWithoutReason(ethers);
    });

    it("only AUDITOR_ROLE may attest", async function () {
      const { ledger, admin, anchorer, pauser, outsider } = await loadFixture(anchoredFixture);
      for (const who of [admin, anchorer, pauser, outsider]) {
        await expect(ledger.connect(who).attest(1n, CONFIRMED, hash("r")))
          .to.be.revertedWithCustomError(ledger, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, AUDITOR_ROLE);
      }
    });
  });

  describe("pause and unpause", function () {
    it("a pauser stops anchoring and attesting at once; reads and verification go on", async function () {
      const { ledger, anchorer, auditor, pauser } = await loadFixture(anchoredFixture);
      const leaves = [[hash("a")], [hash("b")], [hash("c")]];
      const tree = StandardMerkleTree.of(leaves, ["bytes32"]);
      await ledger.connect(anchorer).anchorBatch(...argsOf(batch(3, { root: tree.root })));
      const headBefore = await ledger.head();

      await expect(ledger.connect(pauser).pause())
        .to.emit(ledger, "Paused")
        .withArgs(pauser.address);
      expect(await ledger.paused()).to.equal(true);
      await expect(
        ledger.connect(anchorer).anchorBatch(...argsOf(batch(4))),
      ).to.be.revertedWithCustomError(ledger, "LedgerEnforcedPause");
      await expect(
        ledger.connect(auditor).attest(1n, CONFIRMED, hash("r")),
      ).to.be.revertedWithCustomError(ledger, "LedgerEnforcedPause");

      expect(await ledger.batchCount()).to.equal(3n);
      expect(await ledger.head()).to.equal(headBefore);
      expect((await ledger.getBatch(1n)).root).to.equal(batch(1).root);
      expect(await ledger.batchIdOfRoot(tree.root)).to.equal(3n);
      expect(await ledger.verifyRecord(3n, tree.leafHash(leaves[1]!), tree.getProof(1))).to.equal(
        true,
      );
      const multi = tree.getMultiProof([0, 2]);
      expect(
        await ledger.verifyRecords(
          3n,
          multi.leaves.map((l) => tree.leafHash(l)),
          multi.proof,
          multi.proofFlags,
        ),
      ).to.equal(true);
    });

    it("pausing twice reverts; unpausing a running ledger reverts", async function () {
      const { ledger, admin, pauser } = await loadFixture(deployLedgerFixture);
      await expect(ledger.connect(admin).unpause()).to.be.revertedWithCustomError(
        ledger,
        "LedgerExpectedPause",
      );
      await ledger.connect(pauser).pause();
      await expect(ledger.connect(pauser).pause()).to.be.revertedWithCustomError(
        ledger,
        "LedgerEnforcedPause",
      );
    });

    it("only PAUSER_ROLE pauses; only the admin unpauses (not the pauser)", async function () {
      const { ledger, admin, anchorer, pauser, outsider } = await loadFixture(deployLedgerFixture);
      for (const who of [admin, anchorer, outsider]) {
        await expect(ledger.connect(who).pause())
          .to.be.revertedWithCustomError(ledger, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, PAUSER_ROLE);
      }
      await ledger.connect(pauser).pause();
      for (const who of [pauser, anchorer, outsider]) {
        await expect(ledger.connect(who).unpause())
          .to.be.revertedWithCustomError(ledger, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, DEFAULT_ADMIN_ROLE);
      }
      await expect(ledger.connect(admin).unpause())
        .to.emit(ledger, "Unpaused")
        .withArgs(admin.address);
      expect(await ledger.paused()).to.equal(false);
      await ledger.connect(anchorer).anchorBatch(...argsOf(batch(1)));
      expect(await ledger.batchCount()).to.equal(1n);
    });
  });

  describe("reads", function () {
    it("getBatch, verifyRecord and verifyRecords reject ids outside 1..batchCount", async function () {
      const { ledger } = await loadFixture(anchoredFixture);
      for (const unknown of [0n, 3n, 2n ** 64n - 1n]) {
        await expect(ledger.getBatch(unknown))
          .to.be.revertedWithCustomError(ledger, "LedgerUnknownBatch")
          .withArgs(unknown);
        await expect(ledger.verifyRecord(unknown, hash("leaf"), []))
          .to.be.revertedWithCustomError(ledger, "LedgerUnknownBatch")
          .withArgs(unknown);
        await expect(ledger.verifyRecords(unknown, [hash("leaf")], [], []))
          .to.be.revertedWithCustomError(ledger, "LedgerUnknownBatch")
          .withArgs(unknown);
      }
    });

    it("verifyRecords: an empty leaf set or mismatched lengths prove nothing", async function () {
      const { ledger, anchorer } = await loadFixture(deployLedgerFixture);
      const leaves = [[hash("a")], [hash("b")]];
      const tree = StandardMerkleTree.of(leaves, ["bytes32"]);
      await ledger.connect(anchorer).anchorBatch(...argsOf(batch(1, { root: tree.root })));
      // OpenZeppelin accepts (leaves = [], proof = [root]); the ledger does not
      expect(await ledger.verifyRecords(1n, [], [tree.root], [])).to.equal(false);
      const multi = tree.getMultiProof([0]);
      const leaf = tree.leafHash(multi.leaves[0]!);
      expect(await ledger.verifyRecords(1n, [leaf], multi.proof, multi.proofFlags)).to.equal(true);
      expect(
        await ledger.verifyRecords(1n, [leaf], multi.proof, [...multi.proofFlags, false]),
      ).to.equal(false);
      expect(
        await ledger.verifyRecords(1n, [leaf], [...multi.proof, ZeroHash], multi.proofFlags),
      ).to.equal(false);
      // a single-leaf tree: the leaf is the root and the proof is empty
      const single = StandardMerkleTree.of([[hash("only")]], ["bytes32"]);
      await ledger.connect(anchorer).anchorBatch(...argsOf(batch(2, { root: single.root })));
      expect(await ledger.verifyRecord(2n, single.leafHash([hash("only")]), [])).to.equal(true);
      expect(await ledger.verifyRecords(2n, [single.leafHash([hash("only")])], [], [])).to.equal(
        true,
      );
      expect(await ledger.verifyRecord(2n, single.leafHash([hash("other")]), [])).to.equal(false);
    });

    it("the head recomputed from all BatchAnchored events equals head() and every headAfter", async function () {
      const { ledger, anchorer } = await loadFixture(deployLedgerFixture);
      const asAnchorer = ledger.connect(anchorer);
      const plan: AnchorArgs[] = [
        batch(1),
        batch(2, { kind: PENSION }),
        batch(3, { supersedes: 1n }),
        batch(4, { period: 140401, totalAmount: 0n }),
        batch(5, { supersedes: 3n }),
        batch(6, { kind: PENSION, supersedes: 2n }),
      ];
      for (const a of plan) await asAnchorer.anchorBatch(...argsOf(a));
      const events = await ledger.queryFilter(ledger.filters.BatchAnchored!(), 0, "latest");
      expect(events).to.have.length(plan.length);
      let head = ZeroHash;
      for (const [i, event] of events.entries()) {
        const e = (event as unknown as { args: Record<string, unknown> }).args;
        expect(e.batchId).to.equal(BigInt(i + 1));
        head = keccak256(
          abi.encode(
            ["bytes32", "uint64", "bytes32", "uint8", "uint32", "uint64", "uint128", "bytes32"],
            [
              head,
              e.batchId,
              e.root,
              e.kind,
              e.period,
              e.recordCount,
              e.totalAmount,
              e.manifestHash,
            ],
          ),
        );
        expect(e.headAfter).to.equal(head);
        expect((await ledger.getBatch(BigInt(i + 1))).headAfter).to.equal(head);
      }
      expect(await ledger.head()).to.equal(head);
    });

    it("rebuilds the supersession state from BatchAnchored and BatchSuperseded events alone", async function () {
      const { ledger, anchorer } = await loadFixture(deployLedgerFixture);
      const asAnchorer = ledger.connect(anchorer);
      await asAnchorer.anchorBatch(...argsOf(batch(1)));
      await asAnchorer.anchorBatch(...argsOf(batch(2, { supersedes: 1n })));
      await asAnchorer.anchorBatch(...argsOf(batch(3, { supersedes: 2n })));
      const superseded = await ledger.queryFilter(ledger.filters.BatchSuperseded!(), 0, "latest");
      const view = new Map<bigint, bigint>();
      for (const e of superseded) {
        const args = (e as unknown as { args: { batchId: bigint; supersededBy: bigint } }).args;
        view.set(args.batchId, args.supersededBy);
      }
      for (const n of [1n, 2n, 3n]) {
        expect((await ledger.getBatch(n)).supersededBy).to.equal(view.get(n) ?? 0n);
      }
    });
  });

  describe("admin rules (AccessControlDefaultAdminRules)", function () {
    it("the admin role cannot be granted directly; a handover is two-step and delayed", async function () {
      const { ledger, admin, outsider } = await loadFixture(deployLedgerFixture);
      await expect(
        ledger.connect(admin).grantRole(DEFAULT_ADMIN_ROLE, outsider.address),
      ).to.be.revertedWithCustomError(ledger, "AccessControlEnforcedDefaultAdminRules");
      await ledger.connect(admin).beginDefaultAdminTransfer(outsider.address);
      await expect(ledger.connect(outsider).acceptDefaultAdminTransfer())
        .to.be.revertedWithCustomError(ledger, "AccessControlEnforcedDefaultAdminDelay")
        .withArgs((await time.latest()) + ADMIN_DELAY);
      await time.increase(ADMIN_DELAY + 1);
      await ledger.connect(outsider).acceptDefaultAdminTransfer();
      expect(await ledger.defaultAdmin()).to.equal(outsider.address);
    });
  });
});
